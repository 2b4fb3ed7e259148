"""Policy checkpoints: a directory with `model.safetensors` (weights) and `config.json`.

config.json holds the format version, the package version, the architecture (`Policy.spec()`,
including the NCP wiring as adjacency matrices), the preprocessing, the env id, the action
scaling, the training provenance, metrics, extra fields, and the SHA-256 of the weights file.
No pickle and no `torch.load`: loading never runs code from the files. Loading checks the format
version and the content hash, then, before any tensor is read or any weight allocated, the
architecture's sizes (bounds in `registry`) and the conv head's shapes against the safetensors
header, then every tensor shape; it says in one line what is wrong.

Writes are atomic per file (temp file, then rename), weights first: a crash between the two
leaves a config whose hash no longer matches, which loading reports instead of mixing versions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lnn_control.checkpoint_io import (
    CONFIG_FILE,
    FORMAT_VERSION,
    WEIGHTS_FILE,
    HeaderCheck,
    TensorShapes,
    load_into,
    read_checkpoint,
    write_checkpoint,
)
from lnn_control.policies.base import Policy
from lnn_control.policies.registry import check_spec_sizes, head_tensor_shapes, policy_from_spec

if TYPE_CHECKING:
    from lnn_control.policies.onnx_policy import OnnxStepPolicy

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "load_checkpoint",
    "load_policy",
    "load_step_policy",
    "pretrained_names",
    "resolve_checkpoint",
    "save_checkpoint",
    "training_scenario",
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
    config, tensors = read_checkpoint(directory, "checkpoint", check=_sizes_checker(directory))
    config_path = Path(directory) / CONFIG_FILE
    architecture = config["architecture"]
    try:
        policy = policy_from_spec(architecture)
    except ValueError as err:
        raise ValueError(f"{config_path}: {err}") from None
    load_into(policy, tensors, directory)
    return policy.eval(), config


def _sizes_checker(directory: str | Path) -> HeaderCheck:
    """The check `load_checkpoint` runs before reading tensors or building the model: the
    architecture's sizes are in bounds (`check_spec_sizes`) and its conv head has exactly the
    tensor shapes the safetensors header lists (so an edited image_shape allocates nothing)."""
    config_path, weights_path = Path(directory) / CONFIG_FILE, Path(directory) / WEIGHTS_FILE

    def check(config: dict[str, Any], shapes: TensorShapes) -> None:
        architecture = config.get("architecture")
        if not isinstance(architecture, dict):
            raise ValueError(f"{config_path}: 'architecture' must be a JSON object")
        try:
            check_spec_sizes(architecture)
            expected = head_tensor_shapes(architecture)
        except ValueError as err:
            raise ValueError(f"{config_path}: {err}") from None
        for name, shape in expected.items():
            if shapes.get(name) != shape:
                found = "no such tensor" if name not in shapes else f"shape {shapes[name]}"
                raise ValueError(
                    f"{config_path}: image_shape {architecture['image_shape']} and the head "
                    f"config need {name} of shape {shape}, {weights_path} has {found}"
                )

    return check


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


def training_scenario(checkpoint_config: dict[str, Any]) -> dict[str, Any]:
    """The scenario overrides the policy was trained with (clean conditions for it): image size,
    speed, road look. Empty for checkpoints without training provenance."""
    provenance = checkpoint_config.get("provenance") or {}
    env = (provenance.get("config") or {}).get("env") or {}
    return dict(env.get("scenario") or {})


def load_policy(name_or_dir: str | Path) -> Policy:
    """A ready policy (eval mode) from a checkpoint directory or "pretrained:<name>"."""
    policy, _ = load_checkpoint(resolve_checkpoint(name_or_dir))
    return policy


def load_step_policy(source: str | Path) -> Policy | OnnxStepPolicy:
    """`lnn_control.load_policy`: `load_policy`, or for a `.onnx` file the exported artefact
    (an `OnnxStepPolicy`, which `evaluate` runs like any other policy)."""
    if str(source).endswith(".onnx"):
        from lnn_control.policies.onnx_policy import OnnxStepPolicy

        return OnnxStepPolicy(source)
    return load_policy(source)
