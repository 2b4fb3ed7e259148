"""Truncated-BPTT windows over a frame stream, the photometric augmentation, and a prefetcher.

A window is `window` consecutive frames of the stream (it may cross episode boundaries: the
state resets there). A window that starts mid-episode starts from a zero state that the real
policy would never have; its first `burn_in` steps (up to the next episode start) get zero loss
weight while the state warms up.

Training uses `augment_float`: the same images as `augment`, as float32 in [0, 1], converted from
uint8 once, with gamma and gain through a lookup table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from lnn_control.training.config import AugmentSection
from lnn_control.training.shards import FrameStream

CURVATURE_SCALE_PER_M = 0.4  # the default scenario's sharpest curvature (1/m)
UINT8_LEVELS = 256
UINT8_MAX = 255.0
MIN_GAMMA_BASE = 1e-4  # pixels are clamped to this before the gamma power (0 ** gamma is flat)
RGB = 3


@dataclass
class Batch:
    """One batch of windows: obs (B, L, H, W, 3) uint8 (float32 in [0, 1] once augmented by
    `augment_float`), label (B, L, A), dt_s (B, L), episode_start (B, L) bool, weight (B, L)
    float (0 on burn-in steps)."""

    obs: torch.Tensor
    label: torch.Tensor
    dt_s: torch.Tensor
    episode_start: torch.Tensor
    weight: torch.Tensor


def window_starts(
    n_frames: int, window: int, burn_in: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Shuffled window starts covering the stream about once: stride window - burn_in."""
    if n_frames < window:
        raise ValueError(f"the dataset has {n_frames} frames, fewer than one window of {window}")
    stride = max(1, window - burn_in)
    offset = int(rng.integers(0, stride))
    starts = np.arange(offset, n_frames - window + 1, stride, dtype=np.int64)
    return rng.permutation(starts)


def loss_weights(
    stream: FrameStream,
    starts: NDArray[np.int64],
    window: int,
    burn_in: int,
    curvature_weight: float,
) -> NDArray[np.float32]:
    """(B, L) weights: burn-in masked, curvature-weighted as 1 + c |kappa| / 0.4 (NCP paper)."""
    idx = starts[:, None] + np.arange(window)[None, :]
    episode_start = stream.episode_start[idx]
    since_reset = np.maximum.accumulate(np.where(episode_start, 1, 0), axis=1).astype(bool)
    warm = np.arange(window)[None, :] >= burn_in
    mask = since_reset | warm  # a window that begins an episode is "since reset" throughout
    weight = 1.0 + curvature_weight * np.abs(stream.curvature[idx]) / CURVATURE_SCALE_PER_M
    return (mask * weight).astype(np.float32)


def iterate_batches(
    stream: FrameStream,
    batch_size: int,
    window: int,
    burn_in: int,
    curvature_weight: float,
    rng: np.random.Generator,
) -> Iterator[Batch]:
    """One epoch of batches in random order."""
    starts = window_starts(len(stream), window, burn_in, rng)
    for first in range(0, len(starts), batch_size):
        chunk = starts[first : first + batch_size]
        idx = chunk[:, None] + np.arange(window)[None, :]
        yield Batch(
            obs=torch.from_numpy(stream.obs[idx]),
            label=torch.from_numpy(stream.label[idx]),
            dt_s=torch.from_numpy(stream.dt_s[idx]),
            episode_start=torch.from_numpy(stream.episode_start[idx]),
            weight=torch.from_numpy(loss_weights(stream, chunk, window, burn_in, curvature_weight)),
        )


def augment(obs: torch.Tensor, cfg: AugmentSection, generator: torch.Generator) -> torch.Tensor:
    """Photometric jitter, the same for every frame of a window (temporally consistent).

    obs (B, L, H, W, 3) uint8 -> uint8. Gamma (|log gamma| <= cfg.gamma), per-channel gain
    (<= cfg.colour) and mild Gaussian pixel noise (std cfg.noise_std on [0, 1]). The policy
    normalises each image, so plain brightness and contrast changes would be no-ops.
    Training uses `augment_float`, which gives the same images faster.
    """
    if cfg.gamma == 0 and cfg.colour == 0 and cfg.noise_std == 0:
        return obs
    b = obs.shape[0]
    x = obs.float().div_(UINT8_MAX)
    log_gamma = (torch.rand(b, 1, 1, 1, 1, generator=generator) * 2 - 1) * cfg.gamma
    x = x.clamp_(MIN_GAMMA_BASE, 1.0).pow_(torch.exp(log_gamma))
    gain = 1.0 + (torch.rand(b, 1, 1, 1, 3, generator=generator) * 2 - 1) * cfg.colour
    x = x.mul_(gain)
    if cfg.noise_std > 0:
        x = x.add_(torch.randn(x.shape, generator=generator) * cfg.noise_std)
    return x.clamp_(0.0, 1.0).mul_(UINT8_MAX).round_().to(torch.uint8)


def augment_float(
    obs: torch.Tensor, cfg: AugmentSection, generator: torch.Generator
) -> torch.Tensor:
    """`augment` with the result as float32 in [0, 1]: bit for bit `augment(...).float() / 255`.

    obs (B, ..., 3) uint8 -> float32 of the same shape, the same random draws in the same order
    as `augment`. Gamma and gain map each uint8 level, so they are computed once per window and
    channel on the 256 levels (a (B, 3, 256) table, the same float operations as `augment`'s) and
    looked up per pixel instead of a power per pixel; uint8 becomes float once, here.
    """
    if obs.dtype != torch.uint8 or obs.dim() < 2 or obs.shape[-1] != RGB:
        raise ValueError(f"obs must be (B, ..., 3) uint8, got {obs.dtype} {tuple(obs.shape)}")
    if cfg.gamma == 0 and cfg.colour == 0 and cfg.noise_std == 0:
        return obs.float().div_(UINT8_MAX)
    b = obs.shape[0]
    levels = torch.arange(UINT8_LEVELS, dtype=torch.float32).div_(UINT8_MAX)
    log_gamma = (torch.rand(b, 1, generator=generator) * 2 - 1) * cfg.gamma
    table = levels.clamp_(MIN_GAMMA_BASE, 1.0).expand(b, -1).pow(torch.exp(log_gamma))
    gain = 1.0 + (torch.rand(b, RGB, generator=generator) * 2 - 1) * cfg.colour
    table = (table[:, None, :] * gain[:, :, None]).flatten()  # [window, channel, level]
    row = torch.arange(b * RGB, dtype=torch.int32).view(b, *[1] * (obs.dim() - 2), RGB)
    index = torch.add(obs, row * UINT8_LEVELS)  # int32: uint8 level + its table row offset
    x = table.index_select(0, index.reshape(-1)).view(obs.shape)
    del index
    if cfg.noise_std > 0:
        x = x.add_(torch.randn(x.shape, generator=generator).mul_(cfg.noise_std))
    return x.clamp_(0.0, 1.0).mul_(UINT8_MAX).round_().div_(UINT8_MAX)
