"""Real time for liquid cells: the elapsed time `dt` between frames, and episode resets.

`dt` is the time that passed since the previous input, in the cell's time unit (1.0 means one
nominal step, as in ncps; a policy passes seconds divided by its nominal control period). On a
robot frames arrive irregularly, so `dt` may differ per sample and per step. A `dt` that is zero,
negative, NaN or infinite is a bug upstream (a stalled clock, a duplicated timestamp) and raises
ValueError rather than silently producing a frozen or exploding state.
"""

from __future__ import annotations

import math

import torch

DtLike = float | int | torch.Tensor | None
"""None (1.0), a number, or a tensor of shape (), (B,), (B, 1), (B, T) or (B, T, 1)."""


def _tracing() -> bool:
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def check_dt(dt: float | torch.Tensor) -> None:
    """Raise ValueError if any `dt` is <= 0, NaN or infinite (a no-op while exporting)."""
    if isinstance(dt, torch.Tensor):
        if _tracing():
            return
        bad = ~(torch.isfinite(dt) & (dt > 0))
        if bool(bad.any()):
            value = float(dt[bad].flatten()[0])
            raise ValueError(f"dt must be finite and > 0 (elapsed time per step), got {value}")
    elif not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0 (elapsed time per step), got {dt}")


def dt_step(dt: DtLike, batch: int) -> float | torch.Tensor:
    """`dt` for one step of `batch` samples: a float, or a (B, 1) tensor. Validated."""
    if dt is None:
        return 1.0
    if not isinstance(dt, torch.Tensor):
        check_dt(float(dt))
        return float(dt)
    if dt.numel() == 1:
        out = dt.reshape(1, 1)
    elif dt.shape in ((batch,), (batch, 1)):
        out = dt.reshape(batch, 1)
    else:
        raise ValueError(
            f"dt for one step must be a number or shape ({batch},), got {tuple(dt.shape)}"
        )
    check_dt(out)
    return out


def dt_sequence(
    dt: DtLike, batch: int, steps: int, *, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """`dt` broadcast to a (B, T) tensor; validated. Accepts every shape of `DtLike`."""
    if dt is None:
        return torch.ones(batch, steps, device=device, dtype=dtype)
    if not isinstance(dt, torch.Tensor):
        check_dt(float(dt))
        return torch.full((batch, steps), float(dt), device=device, dtype=dtype)
    tensor = dt.to(device=device, dtype=dtype)
    if tensor.dim() == 3 and tensor.shape[-1] == 1:
        tensor = tensor.squeeze(-1)
    allowed = {(), (batch,), (batch, 1), (batch, steps), (1, steps)}
    if tuple(int(size) for size in tensor.shape) not in allowed:  # int(): sizes trace as tensors
        raise ValueError(
            f"dt must be a number or a tensor of shape (B,), (B, T) or (B, T, 1) with "
            f"B={batch}, T={steps}; got {tuple(dt.shape)}"
        )
    if tensor.dim() == 1:
        tensor = tensor[:, None]
    check_dt(tensor)
    return tensor.expand(batch, steps)


def reset_state(
    h: torch.Tensor, episode_start: torch.Tensor, h0: torch.Tensor | None = None
) -> torch.Tensor:
    """Reset the hidden state of the samples whose episode starts now.

    Args:
        h: (B, N) hidden state carried over from the previous step.
        episode_start: (B,) bool or {0, 1}: True where a new episode begins at this step.
        h0: (B, N) or (N,) initial state to reset to; zeros when None.

    Returns:
        (B, N) state: `h0` (or zeros) where `episode_start`, else `h`. Differentiable in `h`.
    """
    if episode_start.shape != h.shape[:1]:
        raise ValueError(
            f"episode_start must have shape ({h.shape[0]},), got {tuple(episode_start.shape)}"
        )
    keep = (~episode_start.bool()).to(h.dtype)[:, None]
    if h0 is None:
        return h * keep
    return h * keep + h0 * (1.0 - keep)
