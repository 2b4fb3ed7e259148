"""Callbacks of the PPO recipe: a progress bar, and held-out evaluations with a resume point."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm


class ProgressCallback(BaseCallback):
    """A tqdm bar over the environment steps of this `learn` call."""

    def __init__(self, total_steps: int) -> None:
        super().__init__()
        self.total_steps = max(0, total_steps)
        self._bar: Any = None

    def _on_training_start(self) -> None:
        self._bar = tqdm(total=self.total_steps, desc="ppo", unit="step", dynamic_ncols=True)

    def _on_step(self) -> bool:
        self._bar.update(self.training_env.num_envs)
        return True

    def _on_training_end(self) -> None:
        self._bar.close()


class EvalCallback(BaseCallback):
    """Every `config.eval.every_steps`: evaluate the current policy on held-out seeds, append
    the summary to run_dir/eval.csv, log it to TensorBoard, save run_dir/sb3_model.zip, then call
    `on_save` (the run's clock)."""

    def __init__(
        self,
        config: Any,
        run_dir: Path,
        summarise: Callable[[Any, Any], dict[str, float]],
        on_save: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self.config, self.run_dir, self.summarise = config, run_dir, summarise
        self.on_save = on_save
        self.every = int(config.eval.every_steps)
        self._next = 0

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.every
        from lnn_control.training.rl_policy import extract_policy

        summary = self.summarise(extract_policy(self.model.policy), self.config)
        for key, value in summary.items():
            self.logger.record(f"eval/{key}", value)
        path = self.run_dir / "eval.csv"
        new = not path.is_file()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["step", *summary])
            if new:
                writer.writeheader()
            writer.writerow({"step": self.num_timesteps, **summary})
        self.model.save(self.run_dir / "sb3_model.zip")
        self.on_save()
        return True
