"""Saliency maps: which camera pixels drive a policy's decision (issue 7).

Two methods, both returning one (H, W) map per frame in [0, 1] (each map divided by its own
maximum; an all-zero map stays zero):

- `visual_backprop`: VisualBackProp (Bojarski et al., "VisualBackProp: efficient visualization of
  CNNs", 2016), the method of the NCP paper. It reads only the conv head's activations, so it is
  the same for every policy kind with the same head weights, and needs no gradients.
- `gradient_saliency`: |d steering / d pixel| of one policy step (max over colour channels),
  which also sees the recurrent core and its state.

`overlay` blends a map onto its frame as a heat map for figures and videos.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from lnn_control.policies.base import Policy
from lnn_control.policies.perception import UINT8_MAX

RGB_CHANNELS = 3


def _frames_tensor(policy: Policy, frames: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 tensor on the policy's device from one frame or a batch."""
    arr = np.asarray(frames)
    if arr.ndim == 3:
        arr = arr[None]
    shape = ", ".join(map(str, policy.image_shape))
    if arr.dtype != np.uint8 or arr.ndim != 4 or tuple(arr.shape[1:]) != policy.image_shape:
        raise ValueError(
            f"frames must be uint8 ({shape}) or (N, {shape}), got {arr.dtype} {arr.shape}"
        )
    return torch.from_numpy(np.ascontiguousarray(arr)).to(policy.head.map_weight.device)


def _normalise(maps: torch.Tensor) -> np.ndarray:
    """(N, H, W) non-negative maps -> float32 numpy, each divided by its max (zero maps stay 0)."""
    peak = maps.flatten(1).amax(dim=1).clamp_min(torch.finfo(maps.dtype).tiny)
    return (maps / peak[:, None, None]).clamp(0.0, 1.0).float().cpu().numpy()


def _upscale(
    x: torch.Tensor, kernel: int, stride: int, padding: int, size: tuple[int, int]
) -> torch.Tensor:
    """Map a conv layer's (N, 1, h, w) output grid back onto its (N, 1, *size) input grid.

    A transposed convolution with an all-ones kernel of the layer's geometry: every output pixel
    spreads its value over the input pixels of its receptive field. Rows and columns that the
    forward conv never reached (floor division of the stride) come back as zeros.
    """
    ones = x.new_ones(1, 1, kernel, kernel)
    up = F.conv_transpose2d(x, ones, stride=stride, padding=padding)
    up = up[:, :, : size[0], : size[1]]
    return F.pad(up, (0, size[1] - up.shape[3], 0, size[0] - up.shape[2]))


def visual_backprop(policy: Policy, frames: np.ndarray) -> np.ndarray:
    """VisualBackProp saliency of the policy's conv head.

    Each conv layer's post-ReLU feature maps are averaged over channels; from the deepest, the
    running map is upscaled onto the previous layer's grid (`_upscale`) and multiplied pointwise
    by that layer's average, down to the first layer, then upscaled onto the input image.

    Args:
        policy: any policy with a `ConvHead` as `policy.head`.
        frames: camera images uint8 (H, W, 3) or (N, H, W, 3), (H, W, 3) = `policy.image_shape`.

    Returns:
        (N, H, W) float32 in [0, 1] (N = 1 for a single frame), one map per frame.
    """
    head = policy.head
    images = _frames_tensor(policy, frames)
    averages: list[torch.Tensor] = []

    def record(_module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        averages.append(F.relu(output).mean(dim=1, keepdim=True))

    hooks = [conv.register_forward_hook(record) for conv in head.convs]
    was_training = policy.training
    policy.eval()
    try:
        with torch.no_grad():
            head.feature_maps(images)
    finally:
        for hook in hooks:
            hook.remove()
        policy.train(was_training)
    sizes = [(m.shape[2], m.shape[3]) for m in averages]
    sizes.insert(0, (images.shape[1], images.shape[2]))  # sizes[i]: input grid of layer i
    mask = averages[-1]
    for i in range(len(averages) - 1, -1, -1):
        _, kernel, stride, padding = head.conv_layers[i]
        mask = _upscale(mask, kernel, stride, padding, sizes[i])
        if i > 0:
            mask = mask * averages[i - 1]
    return _normalise(mask[:, 0])


def gradient_saliency(
    policy: Policy,
    frames: np.ndarray,
    state: torch.Tensor | None = None,
    dt_s: float | None = None,
    action_index: int = 0,
) -> np.ndarray:
    """|d action / d pixel| of one policy step, max over colour channels, per frame.

    Pixels are in [0, 1] units (uint8 / 255), the action is after the tanh squash, so the raw
    gradient is in action units per full-scale pixel change before the per-frame normalisation.

    Args:
        policy: the policy (any kind).
        frames: camera images uint8 (H, W, 3) or (N, H, W, 3), (H, W, 3) = `policy.image_shape`.
        state: (N, S) recurrent state before the step; None for `policy.initial_state(N)`.
        dt_s: seconds since the previous frame; None for the policy's nominal period.
        action_index: which action to explain (0: steering).

    Returns:
        (N, H, W) float32 in [0, 1] (N = 1 for a single frame), one map per frame.
    """
    images = _frames_tensor(policy, frames)
    batch = images.shape[0]
    if not 0 <= action_index < policy.action_dim:
        raise ValueError(f"action_index must be in [0, {policy.action_dim}), got {action_index}")
    if state is None:
        state = policy.initial_state(batch)
    elif not torch.is_tensor(state) or tuple(state.shape) != (batch, policy.state_size):
        got = tuple(state.shape) if torch.is_tensor(state) else type(state).__name__
        raise ValueError(f"state must be a ({batch}, {policy.state_size}) tensor, got {got}")
    period_s = policy.nominal_dt_s if dt_s is None else float(dt_s)
    if not (np.isfinite(period_s) and period_s > 0):
        raise ValueError(f"dt_s must be finite and > 0 seconds, got {dt_s}")
    dt_steps = torch.full((batch, 1), period_s / policy.nominal_dt_s, device=images.device)
    pixels = (images.float() / UINT8_MAX).requires_grad_(True)
    was_training = policy.training
    policy.eval()
    try:
        with torch.enable_grad():
            features = policy.head(pixels)[:, None]
            pre, _ = policy.core(features, dt_steps, None, state.detach())
            action = policy.squash(pre[:, 0, action_index])
            # Frames are independent, so the gradient of the sum is each frame's own gradient.
            (grad,) = torch.autograd.grad(action.sum(), pixels)
    finally:
        policy.train(was_training)
    return _normalise(grad.abs().amax(dim=3))


def overlay(frame: np.ndarray, saliency: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a saliency heat map (JET colour map: blue low, red high) onto an RGB frame.

    Args:
        frame: (H, W, 3) uint8 RGB image.
        saliency: (H, W) map in [0, 1], e.g. one map of `visual_backprop`.
        alpha: weight of the heat map in [0, 1] (0: the frame, 1: only the heat map).

    Returns:
        (H, W, 3) uint8 RGB image.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != RGB_CHANNELS:
        raise ValueError(f"frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
    sal = np.asarray(saliency, dtype=np.float64)
    if sal.shape != frame.shape[:2]:
        raise ValueError(f"saliency must be ({frame.shape[0]}, {frame.shape[1]}), got {sal.shape}")
    if not (np.isfinite(sal).all() and sal.min() >= 0.0 and sal.max() <= 1.0):
        raise ValueError("saliency values must be finite and in [0, 1]")
    levels = np.round(sal * UINT8_MAX).astype(np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blend = (1.0 - alpha) * frame.astype(np.float64) + alpha * heat.astype(np.float64)
    return np.clip(np.round(blend), 0, UINT8_MAX).astype(np.uint8)
