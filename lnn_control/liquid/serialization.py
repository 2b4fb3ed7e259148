"""Save and load liquid networks: `model.safetensors` (weights) + `config.json` (architecture).

No pickle: loading never runs code from the file. The config holds a format version, the
package version, the constructor arguments (the wiring as adjacency matrices) and the SHA-256 of
the weights file; loading checks all of them and says in one line what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from lnn_control import __version__
from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes
from lnn_control.liquid.cfc import CfC
from lnn_control.liquid.ltc import LTC

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
KINDS: dict[str, type[LTC] | type[CfC]] = {"ltc": LTC, "cfc": CfC}

LiquidModule = LTC | CfC


def build_liquid(config: dict[str, Any]) -> LiquidModule:
    """A freshly initialised LTC or CfC from `module.config()`."""
    kind = config.get("kind")
    if kind not in KINDS:
        raise ValueError(f"liquid config 'kind' must be one of {sorted(KINDS)}, got {kind!r}")
    return KINDS[kind].from_config(config)


def save_liquid(module: LiquidModule, directory: str | Path) -> Path:
    """Write `directory/model.safetensors` and `directory/config.json` atomically."""
    directory = Path(directory)
    tensors = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    blob = save_safetensors(tensors)
    atomic_write_bytes(directory / WEIGHTS_FILE, blob)
    atomic_write_json(
        directory / CONFIG_FILE,
        {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "architecture": module.config(),
            "weights_sha256": sha256_bytes(blob),
        },
    )
    return directory


def load_liquid(directory: str | Path) -> LiquidModule:
    """Load what `save_liquid` wrote; ValueError/FileNotFoundError in one line on any mismatch."""
    directory = Path(directory)
    config = read_json(directory / CONFIG_FILE, "liquid config")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{directory / CONFIG_FILE}: format_version {version!r} is not supported "
            f"(this lnn-control {__version__} reads version {FORMAT_VERSION})"
        )
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise FileNotFoundError(f"weights not found: {weights_path}")
    blob = weights_path.read_bytes()
    if sha256_bytes(blob) != config.get("weights_sha256"):
        raise ValueError(
            f"{weights_path}: content hash does not match config.json (corrupt or replaced)"
        )
    try:
        tensors = load_safetensors(blob)
    except SafetensorError as err:
        raise ValueError(f"{weights_path}: not a readable safetensors file ({err})") from None
    module = build_liquid(config.get("architecture") or {})
    _check_shapes(module.state_dict(), tensors, weights_path)
    module.load_state_dict(tensors)
    return module


def _check_shapes(
    expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor], path: Path
) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: missing tensors {missing}, unexpected tensors {extra}")
    for name, tensor in expected.items():
        if tuple(found[name].shape) != tuple(tensor.shape):
            raise ValueError(
                f"{path}: tensor {name!r} has shape {tuple(found[name].shape)}, "
                f"the architecture needs {tuple(tensor.shape)}"
            )
