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

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

import lnn_control
from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes
from lnn_control.policies.base import Policy
from lnn_control.policies.registry import policy_from_spec

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
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
    directory = Path(directory)
    payload = {
        "format_version": FORMAT_VERSION,
        "package_version": lnn_control.__version__,
        "architecture": policy.spec(),
        "preprocessing": preprocessing(policy),
        "env_id": str(env_id),
        "action_scaling": dict(action_scaling or DEFAULT_ACTION_SCALING),
        "provenance": dict(provenance or {}),
        "metrics": dict(metrics or {}),
        "extra": dict(extra or {}),
    }
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"checkpoint config for {directory} is not JSON-serialisable: {err}"
        ) from None
    tensors = {k: v.detach().contiguous().cpu() for k, v in policy.state_dict().items()}
    blob = save_safetensors(tensors)
    payload["weights_sha256"] = sha256_bytes(blob)
    atomic_write_bytes(directory / WEIGHTS_FILE, blob)
    atomic_write_json(directory / CONFIG_FILE, payload)
    return directory


def load_checkpoint(directory: str | Path) -> tuple[Policy, dict[str, Any]]:
    """Load what `save_checkpoint` wrote.

    Returns:
        The policy (eval mode, CPU) and the parsed config.json.

    Raises:
        FileNotFoundError: the directory or one of its files is missing (one line).
        ValueError: wrong format version, hash mismatch, unreadable weights, malformed
            architecture, or a missing / extra / misshapen tensor (one line, naming the file).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"checkpoint directory not found: {directory}")
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    config = read_json(config_path, "checkpoint config")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{config_path}: format_version {version!r} is not supported "
            f"(lnn-control {lnn_control.__version__} reads version {FORMAT_VERSION})"
        )
    if not weights_path.is_file():
        raise FileNotFoundError(f"checkpoint weights not found: {weights_path}")
    blob = weights_path.read_bytes()
    if sha256_bytes(blob) != config.get("weights_sha256"):
        raise ValueError(
            f"{weights_path}: content hash does not match {CONFIG_FILE} (corrupt or replaced)"
        )
    try:
        tensors = load_safetensors(blob)
    except SafetensorError as err:
        raise ValueError(f"{weights_path}: not a readable safetensors file ({err})") from None
    architecture = config.get("architecture")
    if not isinstance(architecture, dict):
        raise ValueError(f"{config_path}: 'architecture' must be a JSON object")
    try:
        policy = policy_from_spec(architecture)
    except ValueError as err:
        raise ValueError(f"{config_path}: {err}") from None
    _check_tensors(policy.state_dict(), tensors, weights_path)
    policy.load_state_dict(tensors)
    return policy.eval(), config


def _check_tensors(
    expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor], path: Path
) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: missing tensors {missing}, unexpected tensors {extra}")
    for name, tensor in expected.items():
        if tuple(found[name].shape) != tuple(tensor.shape) or found[name].dtype != tensor.dtype:
            raise ValueError(
                f"{path}: tensor {name!r} is {found[name].dtype} {tuple(found[name].shape)}, "
                f"the architecture needs {tensor.dtype} {tuple(tensor.shape)}"
            )


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
