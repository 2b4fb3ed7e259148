"""MODEL_CARD.md for a trained policy: how it was made and what it measured."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from lnn_control.envs.world import env_ids
from lnn_control.io_utils import atomic_write_bytes


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _data_line(provenance: dict[str, Any], config: dict[str, Any]) -> str:
    if provenance.get("algorithm"):
        return (
            f"- Training data: {provenance.get('data_frames')} environment steps at 20 Hz of "
            f"{provenance['algorithm']} on training seeds {provenance.get('training_seeds')}, "
            f"starting from `{config.get('init')}` (head frozen: {config.get('freeze_head')})"
        )
    collect = config.get("collect", {})
    return (
        f"- Training data: {provenance.get('data_frames')} frames at 20 Hz from training seeds "
        f"{provenance.get('training_seeds')} (expert `{collect.get('expert')}` with noise "
        f"injection std {collect.get('noise_std')}, then DAgger rounds: "
        f"{config.get('dagger', {}).get('rounds')})"
    )


def write_model_card(
    policy: Any, directory: Path, provenance: dict[str, Any], metrics: dict[str, Any]
) -> Path:
    """Write `directory/MODEL_CARD.md` from the checkpoint's provenance and metrics."""
    from lnn_control.policies import parameter_counts

    config = provenance.get("config", {})
    train = config.get("train", {})
    seed = train.get("seed", config.get("seed"))
    counts = parameter_counts(policy)
    world = str((config.get("env") or {}).get("env_id") or env_ids()[0]).split("/")[-1]
    lines = [
        f"# Model card: {policy.kind} policy for {world}",
        "",
        f"Written {datetime.date.today().isoformat()} by `lnn-control` from the run's own records.",
        "",
        "## How it was made",
        "",
        f"- Command: `{provenance.get('command', '?')}`",
        f"- Policy: `{policy.kind}`, seed {seed}; parameters: "
        + ", ".join(f"{k} {v}" for k, v in counts.items()),
        _data_line(provenance, config),
        f"- Data directories: {provenance.get('data_dirs')}"
        + (
            f" (reused from `{config['data_from']}`: the same frames that run learned from, "
            "including the states its own learner visited in DAgger)"
            if config.get("data_from")
            else ""
        ),
        f"- Training time: {_format(float(provenance.get('train_seconds', 0.0)))} s of "
        "optimisation on this 2-core CPU machine"
        + (f" ({provenance['train_seconds_note']})" if "train_seconds_note" in provenance else ""),
        f"- Augmentation during training: {json.dumps(provenance.get('augmentation', {}))} "
        "(gamma, per-channel gain, Gaussian pixel noise std on [0, 1]); no blur, weather or "
        "geometric perturbations were seen in training",
        "",
        "## Measured (closed loop on held-out seeds, clean conditions)",
        "",
        *(
            ["`perturbed_*`: the same seeds under the RL training perturbation.", ""]
            if any(str(k).startswith("perturbed_") for k in metrics)
            else []
        ),
        "| metric | value |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {_format(v)} |" for k, v in metrics.items()]
    lines += ["", "## Config", "", "```json", json.dumps(config, indent=2), "```", ""]
    return atomic_write_bytes(directory / "MODEL_CARD.md", "\n".join(lines).encode())
