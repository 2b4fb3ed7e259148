"""Resumable training state without pickle, committed in one atomic write.

`commit_train_state` writes ONE file, train_state.safetensors: the model's weights, the
optimizer's moments and (in its metadata) the counters and optimizer hyper-parameters, plus the
SHA-256 of the weights as a checkpoint would store them. Replacing that file is the commit point
of an epoch: a crash before it leaves the previous epoch's consistent state, a crash after it the
new one, whatever happened to the policy checkpoint written next to it. `restore_train_state`
puts weights and optimizer back together, so an epoch is never applied twice or lost.
train_state.json is a readable copy of the counters, written after the commit (for reports; it
is never read to resume).

`save_train_state` / `load_train_state` are the older optimizer-only format (optimizer.safetensors
plus train_state.json), kept for callers that manage the weights themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes

STATE_FILE = "train_state.safetensors"
STATE_TENSORS = "optimizer.safetensors"
STATE_JSON = "train_state.json"
COMMIT_FORMAT = "2"
_MODEL, _OPTIM = "model.", "optim."


def weights_blob(model: torch.nn.Module) -> bytes:
    """The model's weights as a checkpoint's model.safetensors holds them."""
    return save_safetensors(
        {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    )


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    return {
        f"{index}.{name}": value.detach().contiguous().cpu()
        for index, entry in optimizer.state_dict()["state"].items()
        for name, value in entry.items()
        if isinstance(value, torch.Tensor)
    }


def _param_groups(optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in g.items() if k != "params"} | {"params": g["params"]}
        for g in optimizer.state_dict()["param_groups"]
    ]


def commit_train_state(
    directory: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    counters: dict[str, Any],
) -> str:
    """Write weights + optimizer + counters as one atomic file; returns the weights' SHA-256."""
    weights = {_MODEL + k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    moments = {_OPTIM + k: v for k, v in _optimizer_tensors(optimizer).items()}
    digest = sha256_bytes(weights_blob(model))
    metadata = {
        "format_version": COMMIT_FORMAT,
        "weights_sha256": digest,
        "counters": json.dumps(counters),
        "param_groups": json.dumps(_param_groups(optimizer)),
    }
    atomic_write_bytes(directory / STATE_FILE, save_safetensors(weights | moments, metadata))
    readable = {"format_version": int(COMMIT_FORMAT), "weights_sha256": digest, **counters}
    atomic_write_json(directory / STATE_JSON, readable)
    return digest


def restore_train_state(
    directory: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any] | None:
    """Load the committed weights into `model` and moments into `optimizer`; returns the
    counters (epoch, step, ...), or None when `directory` holds no committed state.
    ValueError (one line) when the state is unreadable or does not fit the model."""
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        counters = json.loads(metadata["counters"])
        groups = json.loads(metadata["param_groups"])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: unreadable training state ({err})") from None
    weights = {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    _load_weights(model, weights, path)
    moments = {k[len(_OPTIM) :]: v for k, v in tensors.items() if k.startswith(_OPTIM)}
    _load_optimizer(optimizer, moments, groups, directory)
    return dict(counters)


def _load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    if set(weights) != set(expected):
        raise ValueError(f"{path}: training state does not fit this model (other tensor names)")
    for name, tensor in expected.items():
        if tuple(weights[name].shape) != tuple(tensor.shape):
            raise ValueError(
                f"{path}: training state does not fit this model (tensor {name!r} is "
                f"{tuple(weights[name].shape)}, the model needs {tuple(tensor.shape)})"
            )
    model.load_state_dict(weights)


def save_train_state(
    directory: Path, optimizer: torch.optim.Optimizer, counters: dict[str, Any]
) -> None:
    """Optimizer tensors -> safetensors; param groups (hyperparameters) and counters -> JSON."""
    atomic_write_bytes(directory / STATE_TENSORS, save_safetensors(_optimizer_tensors(optimizer)))
    atomic_write_json(
        directory / STATE_JSON,
        {"format_version": 1, "param_groups": _param_groups(optimizer), **counters},
    )


def load_train_state(directory: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer in place; returns the saved counters (epoch, step, ...)."""
    meta = read_json(directory / STATE_JSON, "training state")
    tensors = load_safetensors((directory / STATE_TENSORS).read_bytes())
    _load_optimizer(optimizer, tensors, meta["param_groups"], directory)
    return {k: v for k, v in meta.items() if k not in ("param_groups", "format_version")}


def _load_optimizer(
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, torch.Tensor],
    groups: list[dict[str, Any]],
    directory: Path,
) -> None:
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        position, name = key.split(".", 1)
        per_param.setdefault(int(position), {})[name] = value
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, entry in per_param.items():
        for name, value in entry.items():
            if value.dim() > 0 and (index >= len(params) or value.shape != params[index].shape):
                raise ValueError(
                    f"{directory}: training state does not fit this model "
                    f"(optimizer tensor {index}.{name} has shape {tuple(value.shape)})"
                )
    try:
        optimizer.load_state_dict({"state": per_param, "param_groups": groups})
    except (ValueError, KeyError) as err:
        raise ValueError(f"{directory}: training state does not fit this model ({err})") from None
