"""Resumable training state without pickle: optimizer moments in safetensors, counters in JSON.

Written next to the policy checkpoint after every epoch; `load_train_state` restores an
optimizer built over the same parameters in the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json

STATE_TENSORS = "optimizer.safetensors"
STATE_JSON = "train_state.json"


def save_train_state(
    directory: Path, optimizer: torch.optim.Optimizer, counters: dict[str, Any]
) -> None:
    """Optimizer tensors -> safetensors; param groups (hyperparameters) and counters -> JSON."""
    state = optimizer.state_dict()
    tensors = {
        f"{index}.{name}": value.detach().contiguous().cpu()
        for index, entry in state["state"].items()
        for name, value in entry.items()
        if isinstance(value, torch.Tensor)
    }
    atomic_write_bytes(directory / STATE_TENSORS, save_safetensors(tensors))
    groups = [
        {k: v for k, v in g.items() if k != "params"} | {"params": g["params"]}
        for g in state["param_groups"]
    ]
    atomic_write_json(
        directory / STATE_JSON, {"format_version": 1, "param_groups": groups, **counters}
    )


def load_train_state(directory: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer in place; returns the saved counters (epoch, step, ...)."""
    meta = read_json(directory / STATE_JSON, "training state")
    tensors = load_safetensors((directory / STATE_TENSORS).read_bytes())
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
        optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as err:
        raise ValueError(f"{directory}: training state does not fit this model ({err})") from None
    return {k: v for k, v in meta.items() if k not in ("param_groups", "format_version")}
