"""Policy checkpoints: a directory with `model.safetensors` (weights) and `config.json`.

config.json holds the format version, the package version, the architecture (`Policy.spec()`,
including the NCP wiring as adjacency matrices), the preprocessing, the env id, the action
scaling, the training provenance, metrics, extra fields, and the SHA-256 of the weights file.
No pickle and no `torch.load`: loading never runs code from the files. Loading checks the format
version, the content hash and every tensor shape, and says in one line what is wrong.

Writes are atomic per file (temp file, then rename), weights first: a crash between the two
leaves a config whose hash no longer matches, which loading reports instead of mixing versions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lnn_control.checkpoint_io import (
    CONFIG_FILE,
    FORMAT_VERSION,
    WEIGHTS_FILE,
    load_into,
    read_checkpoint,
    write_checkpoint,
)
from lnn_control.policies.base import Policy
from lnn_control.policies.registry import policy_from_spec

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "load_checkpoint",
    "load_policy",
    "pretrained_names",
    "resolve_checkpoint",
    "save_checkpoint",
]
PRETRAINED_PREFIX = "pretrained:"
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
"""Package data folder: `pretrained:<name>` is the checkpoint directory PRETRAINED_DIR/<name>."""
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

DEFAULT_ACTION_SCALING: dict[str, Any] = {"squash": "tanh", "low": -1.0, "high": 1.0}
"""Policy outputs are tanh-squashed to [-1, 1]; the env maps that range to physical limits."""


def preprocessing(policy: Policy) -> dict[str, Any]:
    """What the model expects as input (the normalisation is inside the model)."""
    return {
        "input": "RGB image, uint8, channels-last (H, W, 3) or (B, H, W, 3)",
        "image_shape": list(policy.image_shape),
        "normalisation": "per-image per-channel standardisation inside the model",
        "eps": policy.head.eps,
        "dt_unit": "seconds; divided by nominal_dt_s inside the policy",
        "nominal_dt_s": policy.nominal_dt_s,
    }


def save_checkpoint(
    policy: Policy,
    directory: str | Path,
    *,
    env_id: str,
    provenance: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    action_scaling: dict[str, Any] | None = None,
) -> Path:
    """Write `directory/model.safetensors` and `directory/config.json` atomically.

    Args:
        policy: any `Policy`.
        directory: created if missing; existing checkpoint files are replaced.
        env_id: the gymnasium id the policy was trained for, e.g. "lnn_control/LaneKeeping-v0".
        provenance: training provenance (config, seeds, git commit, dataset, ...), JSON-able.
        metrics: evaluation results, JSON-able.
        extra: anything else JSON-able.
        action_scaling: how actions map to the robot; default `DEFAULT_ACTION_SCALING`.

    Returns:
        The directory.
    """
    payload = {
        "architecture": policy.spec(),
        "preprocessing": preprocessing(policy),
        "env_id": str(env_id),
        "action_scaling": dict(action_scaling or DEFAULT_ACTION_SCALING),
        "provenance": dict(provenance or {}),
        "metrics": dict(metrics or {}),
        "extra": dict(extra or {}),
    }
    return write_checkpoint(directory, policy, payload)


def load_checkpoint(directory: str | Path) -> tuple[Policy, dict[str, Any]]:
    """Load what `save_checkpoint` wrote.

    Returns:
        The policy (eval mode, CPU) and the parsed config.json.

    Raises:
        FileNotFoundError: the directory or one of its files is missing (one line).
        ValueError: wrong format version, hash mismatch, unreadable weights, malformed
            architecture, or a missing / extra / misshapen tensor (one line, naming the file).
    """
    config, tensors = read_checkpoint(directory, "checkpoint")
    config_path = Path(directory) / CONFIG_FILE
    architecture = config.get("architecture")
    if not isinstance(architecture, dict):
        raise ValueError(f"{config_path}: 'architecture' must be a JSON object")
    try:
        policy = policy_from_spec(architecture)
    except ValueError as err:
        raise ValueError(f"{config_path}: {err}") from None
    load_into(policy, tensors, directory)
    return policy.eval(), config


def pretrained_names() -> list[str]:
    """Names `pretrained:<name>` can resolve to: folders of PRETRAINED_DIR with a config.json."""
    if not PRETRAINED_DIR.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / CONFIG_FILE).is_file())


def resolve_checkpoint(name_or_dir: str | Path) -> Path:
    """A checkpoint directory from a path or "pretrained:<name>"; one-line error if unknown."""
    text = str(name_or_dir)
    if not text.startswith(PRETRAINED_PREFIX):
        return Path(name_or_dir)
    name = text[len(PRETRAINED_PREFIX) :]
    available = pretrained_names()
    if not _NAME_PATTERN.match(name) or name not in available:
        listed = ", ".join(available) if available else "none shipped yet"
        raise FileNotFoundError(
            f"unknown pretrained policy {name!r}; available: {listed} (in {PRETRAINED_DIR})"
        )
    return PRETRAINED_DIR / name


def load_policy(name_or_dir: str | Path) -> Policy:
    """A ready policy (eval mode) from a checkpoint directory or "pretrained:<name>"."""
    policy, _ = load_checkpoint(resolve_checkpoint(name_or_dir))
    return policy
