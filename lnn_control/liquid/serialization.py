"""Save and load liquid networks: `model.safetensors` (weights) + `config.json` (architecture).

The format is `lnn_control.checkpoint_io`'s: no pickle, a format version, the package version,
the constructor arguments (the wiring as adjacency matrices) and the SHA-256 of the weights;
loading checks all of them and says in one line what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lnn_control.checkpoint_io import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_into,
    read_checkpoint,
    write_checkpoint,
)
from lnn_control.liquid.cfc import CfC
from lnn_control.liquid.ltc import LTC

KINDS: dict[str, type[LTC] | type[CfC]] = {"ltc": LTC, "cfc": CfC}
LiquidModule = LTC | CfC

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "build_liquid", "load_liquid", "save_liquid"]


def build_liquid(config: dict[str, Any]) -> LiquidModule:
    """A freshly initialised LTC or CfC from `module.config()`."""
    kind = config.get("kind")
    if kind not in KINDS:
        raise ValueError(f"liquid config 'kind' must be one of {sorted(KINDS)}, got {kind!r}")
    return KINDS[kind].from_config(config)


def save_liquid(module: LiquidModule, directory: str | Path) -> Path:
    """Write `directory/model.safetensors` and `directory/config.json` atomically."""
    return write_checkpoint(directory, module, {"architecture": module.config()})


def load_liquid(directory: str | Path) -> LiquidModule:
    """Load what `save_liquid` wrote; ValueError/FileNotFoundError in one line on any mismatch."""
    config, tensors = read_checkpoint(directory, "liquid checkpoint")
    module = build_liquid(config.get("architecture") or {})
    load_into(module, tensors, directory)
    return module
