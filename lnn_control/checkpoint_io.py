"""The on-disk checkpoint format shared by liquid modules and policies.

A checkpoint is a directory holding `model.safetensors` (weights) and `config.json` (a format
version, the package version, whatever the caller describes, and the SHA-256 of the weights).
Writes are atomic; reads check the version, the hash and every tensor's name, shape and dtype,
and fail with one line naming the file and the problem. No pickle: loading never runs code.
A caller can check the architecture against the tensor names and shapes of the safetensors
header (`read_checkpoint(..., check=...)`) before any tensor is read or any model is built.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from lnn_control import __version__
from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
HEADER_LENGTH_BYTES = 8
"""A safetensors file starts with the length of its JSON header, a little-endian uint64."""

TensorShapes = dict[str, tuple[int, ...]]
"""Tensor name -> shape, as a safetensors header lists them."""
HeaderCheck = Callable[[dict[str, Any], TensorShapes], None]
"""(config, header shapes) -> None; raises a one-line ValueError on a mismatch."""


def write_checkpoint(
    directory: str | Path, module: torch.nn.Module, config: dict[str, Any]
) -> Path:
    """Write the module's state dict and `config` (plus version fields and the hash)."""
    directory = Path(directory)
    payload = {"format_version": FORMAT_VERSION, "package_version": __version__, **config}
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"checkpoint config for {directory} is not JSON-serialisable: {err}"
        ) from None
    tensors = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    blob = save_safetensors(tensors)
    payload["weights_sha256"] = sha256_bytes(blob)
    atomic_write_bytes(directory / WEIGHTS_FILE, blob)
    atomic_write_json(directory / CONFIG_FILE, payload)
    return directory


def header_shapes(blob: bytes, path: Path) -> TensorShapes:
    """Tensor names and shapes from the JSON header of safetensors bytes, without reading any
    tensor; one-line ValueError naming `path` when the header is malformed."""
    size = int.from_bytes(blob[:HEADER_LENGTH_BYTES], "little")
    if len(blob) < HEADER_LENGTH_BYTES or size > len(blob) - HEADER_LENGTH_BYTES:
        raise ValueError(f"{path}: not a readable safetensors file (header length {size})")
    try:
        header = json.loads(blob[HEADER_LENGTH_BYTES : HEADER_LENGTH_BYTES + size])
        return {
            name: tuple(int(n) for n in entry["shape"])
            for name, entry in header.items()
            if name != "__metadata__"
        }
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise ValueError(f"{path}: not a readable safetensors file (header: {err!r})") from None


def read_checkpoint(
    directory: str | Path, what: str, check: HeaderCheck | None = None
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(config, tensors) of a checkpoint directory, after the version and hash checks and
    `check(config, header_shapes)` (run before any tensor is read)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{what} directory not found: {directory}")
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    config = read_json(config_path, f"{what} config")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{config_path}: format_version {version!r} is not supported "
            f"(lnn-control {__version__} reads version {FORMAT_VERSION})"
        )
    if not weights_path.is_file():
        raise FileNotFoundError(f"{what} weights not found: {weights_path}")
    blob = weights_path.read_bytes()
    if sha256_bytes(blob) != config.get("weights_sha256"):
        raise ValueError(
            f"{weights_path}: content hash does not match {CONFIG_FILE} (corrupt or replaced)"
        )
    if check is not None:
        check(config, header_shapes(blob, weights_path))
    try:
        tensors = load_safetensors(blob)
    except SafetensorError as err:
        raise ValueError(f"{weights_path}: not a readable safetensors file ({err})") from None
    return config, tensors


def load_into(
    module: torch.nn.Module, tensors: dict[str, torch.Tensor], directory: str | Path
) -> None:
    """Check names, shapes and dtypes against `module`, then load the tensors into it."""
    path = Path(directory) / WEIGHTS_FILE
    expected = module.state_dict()
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: missing tensors {missing}, unexpected tensors {extra}")
    for name, tensor in expected.items():
        found = tensors[name]
        if tuple(found.shape) != tuple(tensor.shape) or found.dtype != tensor.dtype:
            raise ValueError(
                f"{path}: tensor {name!r} is {found.dtype} {tuple(found.shape)}, "
                f"the architecture needs {tensor.dtype} {tuple(tensor.shape)}"
            )
    module.load_state_dict(tensors)
