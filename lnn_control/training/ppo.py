"""Reinforcement learning of liquid policies with sb3-contrib's RecurrentPPO.

    lnn-control train --config lane_keeping_ppo_finetune   # from the imitation NCP
    lnn-control train --config lane_keeping_ppo_scratch    # new core, frozen head

Run directory: sb3_model.zip (resume point, sb3's format), tb/ (TensorBoard), eval.csv (held-out
evaluations during training), policy/ (the result as an lnn_control checkpoint + MODEL_CARD.md),
stage.json (the recipe keys and init weights that made it: a rerun under another recipe is
refused in one line, except for a larger ppo.total_steps, which continues the run; `retrain_from:
ppo` starts over).

Reward (LaneKeeping-v0's own, `lnn_control.envs.lane.task`): per 50 ms step, progress along the road
(1 at target speed) - 0.5 (lateral / half lane width)^2 - 1.0 heading_error_rad^2, and -10 when
the car leaves the lane or flips (the episode ends there in training: no intervention protocol).
Training episodes use seeds < 1,000,000; evaluations run held-out seeds under the intervention
protocol, as every other evaluation does.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START
from lnn_control.training.config import EnvSection, EvalSection, FiniteModel, PolicyKind


class PPOSection(FiniteModel):
    """RecurrentPPO hyper-parameters (sb3 names); steps are control steps (50 ms)."""

    total_steps: int = Field(50_000, ge=1)
    n_envs: int = Field(2, ge=1, le=64, description="environments in subprocesses")
    n_steps: int = Field(256, ge=8, description="steps per env per rollout")
    batch_size: int = Field(128, ge=8)
    n_epochs: int = Field(4, ge=1)
    lr: float = Field(1e-4, gt=0)
    gamma: float = Field(0.99, gt=0, le=1)
    gae_lambda: float = Field(0.95, ge=0, le=1)
    clip_range: float = Field(0.1, gt=0)
    ent_coef: float = Field(0.0, ge=0)
    vf_coef: float = Field(0.5, ge=0)
    max_grad_norm: float = Field(0.5, gt=0)
    log_std_init: float = Field(-2.0, description="initial log std of the Gaussian (action units)")
    threads: int = Field(1, ge=1, description="torch threads in the learner")


class PPOEvalSection(EvalSection):
    """Held-out evaluations during training."""

    every_steps: int = Field(10_000, ge=1, description="evaluate every this many steps")


class TrainPerturbation(FiniteModel):
    """An image perturbation (`lnn_control.envs.perturb`) on a share of the training episodes;
    held-out evaluations then also run under it (probability 1), next to the clean ones."""

    name: str
    severity: int = Field(1, ge=1, le=5)
    params: dict[str, float] = Field(default_factory=dict, description="the wrapper's arguments")
    probability: float = Field(1.0, gt=0, le=1, description="share of training episodes")

    @model_validator(mode="after")
    def _known(self) -> TrainPerturbation:
        from lnn_control.envs.perturb import make_wrapper

        make_wrapper(self.name, self.severity, **self.params)  # raises on unknown names
        return self


class PPOConfig(FiniteModel):
    """A PPO recipe: where the policy starts, what is trained, how long, how it is checked."""

    algorithm: Literal["ppo"] = "ppo"
    run_dir: str = "runs/lane_ppo"
    env: EnvSection = Field(default_factory=EnvSection)
    init: str | None = Field(
        "pretrained:lane_keeping_ncp",
        description="checkpoint to start from (directory or pretrained:<name>); None: a new "
        "policy of kind `policy`",
    )
    policy: PolicyKind = "ncp"
    reinit_core: bool = Field(False, description="keep the init's head, draw a new core")
    freeze_head: bool = Field(True, description="train the recurrent core (and readout) only")
    seed: int = Field(0, ge=0)
    perturbation: TrainPerturbation | None = Field(
        None, description="train under this image perturbation (None: clean episodes only)"
    )
    ppo: PPOSection = Field(default_factory=PPOSection)
    eval: PPOEvalSection = Field(default_factory=PPOEvalSection)
    retrain_from: Literal["ppo"] | None = Field(
        None,
        description="start the run over (its resume point, evaluations and policy/ removed); "
        "a run directory otherwise refuses a changed recipe",
    )


def initial_policy(config: PPOConfig) -> Any:
    """The policy PPO starts from (see `PPOConfig.init`, `reinit_core`)."""
    from lnn_control.policies import build_policy, load_policy

    if config.init is None:
        return build_policy(
            config.policy,
            image_shape=config.env.image_shape(),
            action_dim=config.env.action_dim,
            seed=config.seed,
        )
    policy = load_policy(config.init)
    if config.reinit_core:
        fresh = build_policy(
            policy.kind, image_shape=policy.image_shape, action_dim=policy.action_dim,
            seed=config.seed + 1,
        )  # fmt: skip
        fresh.head.load_state_dict(policy.head.state_dict())
        policy = fresh
    return policy


def _make_env(config: PPOConfig) -> Any:
    def build() -> Any:
        import gymnasium as gym

        import lnn_control  # noqa: F401  (registers the envs)
        from lnn_control.envs.perturb import PerturbedEpisodes

        # sb3 seeds the first reset (seed + rank); later resets draw training seeds (< 1e6).
        env = gym.make(config.env.env_id, scenario=dict(config.env.scenario))
        mix = config.perturbation
        if mix is not None:
            env = PerturbedEpisodes(env, _wrapper(mix), mix.probability)
        return env

    return build


def _wrapper(perturbation: TrainPerturbation) -> Any:
    from lnn_control.envs.perturb import make_wrapper

    return make_wrapper(perturbation.name, perturbation.severity, **perturbation.params)


def _vec_env(config: PPOConfig) -> Any:
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    builders = [_make_env(config) for _ in range(config.ppo.n_envs)]
    if config.ppo.n_envs == 1:
        return DummyVecEnv(builders)
    return SubprocVecEnv(builders, start_method="spawn")


def _model(config: PPOConfig, venv: Any, run_dir: Path) -> Any:
    from sb3_contrib import RecurrentPPO

    from lnn_control.training.rl_policy import (
        LiquidRecurrentPolicy,
        liquid_policy_kwargs,
        load_weights,
    )

    saved = run_dir / "sb3_model.zip"
    if saved.is_file():
        print(f"[ppo] resuming from {saved}")
        return RecurrentPPO.load(saved, env=venv, tensorboard_log=str(run_dir / "tb"))
    p = config.ppo
    policy = initial_policy(config)
    kwargs = liquid_policy_kwargs(policy, freeze_head=config.freeze_head)
    kwargs["log_std_init"] = p.log_std_init
    model = RecurrentPPO(
        LiquidRecurrentPolicy, venv, learning_rate=p.lr, n_steps=p.n_steps,
        batch_size=p.batch_size, n_epochs=p.n_epochs, gamma=p.gamma, gae_lambda=p.gae_lambda,
        clip_range=p.clip_range, ent_coef=p.ent_coef, vf_coef=p.vf_coef,
        max_grad_norm=p.max_grad_norm, policy_kwargs=kwargs, seed=config.seed,
        tensorboard_log=str(run_dir / "tb"), verbose=0,
    )  # fmt: skip
    load_weights(model.policy, policy)
    return model


def held_out_summary(policy: Any, config: PPOConfig) -> dict[str, float]:
    """The policy's summary on the config's held-out seeds (intervention protocol); with a
    training perturbation also under it, as `perturbed_<key>`."""
    from lnn_control.envs.world import world
    from lnn_control.rollout.evaluate import evaluate

    ev = config.eval
    scenario = world(config.env.env_id).scenario_for(config.env.scenario, ev.distance_m)
    seeds = range(ev.seed_start, ev.seed_start + ev.seeds)
    conditions: list[tuple[str, list[Any]]] = [("", [])]
    if config.perturbation is not None:
        conditions.append(("perturbed_", [_wrapper(config.perturbation)]))
    summary: dict[str, float] = {}
    for prefix, wrappers in conditions:
        result = evaluate(
            policy, config.env.env_id, seeds=seeds, wrappers=wrappers,
            env_kwargs={"scenario": scenario}, workers=ev.workers, progress=False,
        )  # fmt: skip
        summary.update({prefix + key: value for key, value in result.summary.items()})
    return summary


def main(config: PPOConfig, command: str) -> dict[str, Any]:
    """Train (resuming if run_dir holds a model), evaluate, save policy/ + MODEL_CARD.md."""
    import torch

    from lnn_control.config_io import dump_config
    from lnn_control.io_utils import atomic_write_bytes, atomic_write_json
    from lnn_control.policies import save_checkpoint
    from lnn_control.training.model_card import write_model_card
    from lnn_control.training.ppo_callbacks import EvalCallback, ProgressCallback
    from lnn_control.training.rl_policy import extract_policy
    from lnn_control.training.stages import STAGE_FILE, prepare_ppo_run

    torch.set_num_threads(config.ppo.threads)
    run_dir = Path(config.run_dir)
    record = prepare_ppo_run(config)  # before anything is written: refuses a stale run
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / STAGE_FILE, record)
    atomic_write_bytes(run_dir / "config.yaml", dump_config(config).encode())
    clock = TrainClock(run_dir)
    venv = _vec_env(config)
    try:
        model = _model(config, venv, run_dir)
        untimed_steps = int(model.num_timesteps) if clock.untimed_resume else 0
        remaining = config.ppo.total_steps - int(model.num_timesteps)
        evaluations = EvalCallback(config, run_dir, held_out_summary, on_save=clock.save)
        if remaining > 0:
            model.learn(
                remaining, callback=[ProgressCallback(remaining), evaluations],
                reset_num_timesteps=False, tb_log_name="ppo",
            )  # fmt: skip
            model.save(run_dir / "sb3_model.zip")
            clock.save()
    finally:
        venv.close()
    policy = extract_policy(model.policy)
    summary = held_out_summary(policy, config)
    seconds = clock.total()
    ev = config.eval
    provenance = {
        "command": command,
        "config": config.model_dump(mode="json"),
        "algorithm": "RecurrentPPO (sb3-contrib)",
        "training_seeds": [[0, HELD_OUT_SEED_START - 1]],
        "data_frames": int(model.num_timesteps),
        "train_seconds": seconds,
        **_untimed_note(untimed_steps),
        "augmentation": _augmentation(config),
    }
    metrics = {"eval_seed_range": [ev.seed_start, ev.seed_start + ev.seeds - 1], **summary}
    out = run_dir / "policy"
    save_checkpoint(policy, out, env_id=config.env.env_id, provenance=provenance, metrics=metrics)
    write_model_card(policy, out, provenance, metrics)
    print("[ppo] held out: " + json.dumps(summary))
    return {"policy_dir": out, "summary": summary, "steps": int(model.num_timesteps)}


class TrainClock:
    """Wall seconds of a PPO run over all its invocations, kept in run_dir/train_seconds.json
    and written with every resume point."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "train_seconds.json"
        self.before_s = 0.0
        if self.path.is_file():
            self.before_s = float(json.loads(self.path.read_text())["seconds"])
        #: A resume point exists but no time record (a run started before the clock existed).
        self.untimed_resume = (run_dir / "sb3_model.zip").is_file() and not self.path.is_file()
        self.started = time.perf_counter()

    def total(self) -> float:
        """Seconds in earlier invocations plus this one so far."""
        return self.before_s + time.perf_counter() - self.started

    def save(self) -> None:
        """Record the total so far (called with every save of sb3_model.zip)."""
        from lnn_control.io_utils import atomic_write_bytes

        atomic_write_bytes(self.path, json.dumps({"seconds": self.total()}).encode())


def _untimed_note(steps: int) -> dict[str, str]:
    if steps <= 0:
        return {}
    return {
        "train_seconds_note": f"the first {steps} steps ran in an earlier invocation that kept no "
        "time record; the time counts the later invocations only"
    }


def _augmentation(config: PPOConfig) -> dict[str, Any]:
    """The init checkpoint's imitation augmentation (when recorded) plus the RL perturbation,
    as the stress report's "in training" column reads them."""
    from lnn_control.policies.checkpoint import load_checkpoint, resolve_checkpoint

    augmentation: dict[str, Any] = {}
    if config.init is not None:
        _, saved = load_checkpoint(resolve_checkpoint(config.init))
        augmentation.update((saved.get("provenance") or {}).get("augmentation") or {})
    if config.perturbation is not None:
        augmentation["rl_perturbations"] = [config.perturbation.model_dump(mode="json")]
    return augmentation


def read_eval_log(run_dir: Path) -> list[dict[str, str]]:
    """The rows of run_dir/eval.csv (step, and the summary keys)."""
    with (run_dir / "eval.csv").open() as handle:
        return list(csv.DictReader(handle))
