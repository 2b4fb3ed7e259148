"""One recipe, several training seeds: local processes or Ray tasks, then mean and spread.

    lnn-control train --config lane_keeping_ppo_finetune --seeds 0 1 2 \
        [--backend ray [--address auto]] [--workers 2]

Each seed runs the recipe with its seed set (`train.seed` for imitation, `seed` for PPO) in
`<run_dir>_s<seed>` (every run resumes as usual). Afterwards `<run_dir>_seeds.md` and `.json`
give, for every held-out summary key, the mean, standard deviation and 95 % CI over the seeds.
Ray tasks receive the config's text, so a cluster needs the package and a shared run directory
(or `--set run_dir=` on shared storage), not the config file itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json
from lnn_control.rollout.parallel import map_ordered
from lnn_control.stress.stats import mean_ci


def seed_overrides(algorithm: str, seed: int, run_dir: str) -> list[str]:
    """The --set overrides that make one seed's run."""
    key = "seed" if algorithm == "ppo" else "train.seed"
    return [f"{key}={seed}", f"run_dir={run_dir}_s{seed}"]


def train_one(config_text: str, overrides: list[str], command: str) -> dict[str, Any]:
    """Run one recipe from its YAML text; returns {"run_dir", "summary"}."""
    import torch

    from lnn_control.config_io import apply_overrides, parse_yaml, validate_config

    data = apply_overrides(parse_yaml(config_text, "recipe") or {}, overrides)
    if data.get("algorithm") == "ppo":
        from lnn_control.training.ppo import PPOConfig
        from lnn_control.training.ppo import main as ppo_main

        ppo_config = validate_config(PPOConfig, data)
        torch.set_num_threads(ppo_config.ppo.threads)
        outcome = ppo_main(ppo_config, command)
    else:
        from lnn_control.training.config import ILConfig
        from lnn_control.training.imitation import main as il_main

        outcome = il_main(validate_config(ILConfig, data), command=command)
    return {"run_dir": str(Path(outcome["policy_dir"]).parent), "summary": outcome["summary"]}


def _task(args: tuple[str, list[str], str]) -> dict[str, Any]:
    return train_one(*args)


def seed_table(results: Sequence[dict[str, Any]], seeds: Sequence[int]) -> dict[str, Any]:
    """{key: {"mean", "std", "ci95", "values"}} over seeds for every summary key."""
    keys = list(results[0]["summary"]) if results else []
    table: dict[str, Any] = {}
    for key in keys:
        values = [float(r["summary"][key]) for r in results]
        mean, ci = mean_ci(values)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
        table[key] = {"mean": mean, "std": std, "ci95": ci, "values": values}
    return {"seeds": list(seeds), "runs": [r["run_dir"] for r in results], "metrics": table}


def seed_markdown(table: dict[str, Any], command: str) -> str:
    """The table as markdown."""
    lines = [
        f"# {len(table['seeds'])} training seeds: {table['seeds']}",
        "",
        f"`{command}`; held-out summary of each run's final policy.",
        "",
        "| metric | mean | std | 95 % CI | per seed |",
        "|---|---:|---:|---:|---|",
    ]
    for key, row in table["metrics"].items():
        values = ", ".join(f"{v:.4g}" for v in row["values"])
        lines.append(
            f"| {key} | {row['mean']:.4g} | {row['std']:.2g} | ± {row['ci95']:.2g} | {values} |"
        )
    return "\n".join(lines) + "\n"


def run_seeds(
    config_path: str | Path,
    overrides: Sequence[str],
    seeds: Sequence[int],
    *,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    command: str = "",
) -> dict[str, Any]:
    """Train every seed (see the module docstring); returns the seed table."""
    if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise ValueError(f"--seeds must be distinct non-negative integers, got {list(seeds)}")
    from lnn_control.config_io import apply_overrides, read_yaml_mapping
    from lnn_control.configs import resolve_config

    data = apply_overrides(read_yaml_mapping(config_path), list(overrides))
    text = resolve_config(config_path).read_text()
    algorithm = str(data.get("algorithm", "imitation"))
    base = str(data.get("run_dir", "runs/run"))
    jobs = [(text, [*overrides, *seed_overrides(algorithm, s, base)], command) for s in seeds]
    # Local workers are non-daemonic processes, so a run may start its own collection and
    # evaluation pools.
    results = map_ordered(_task, jobs, workers=workers, backend=backend, address=address)
    table = seed_table(results, seeds)
    atomic_write_json(Path(f"{base}_seeds.json"), table)
    atomic_write_bytes(Path(f"{base}_seeds.md"), seed_markdown(table, command).encode())
    print(seed_markdown(table, command))
    return table
