"""Structural similarity (SSIM) of 2-D maps, e.g. saliency maps of two policies.

After Wang, Bovik, Sheikh and Simoncelli, "Image quality assessment: from error visibility to
structural similarity" (IEEE TIP 2004): local means, variances and covariance under an 11x11
Gaussian window (sigma 1.5 pixels), stabilised by C1 = (K1 L)^2 and C2 = (K2 L)^2 with K1 = 0.01,
K2 = 0.03 and L the data range; the index is the mean of the SSIM map over all window positions
that fit inside the maps (the paper's "valid" filtering, no padding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

WINDOW_SIZE_PX = 11
"""Side of the Gaussian window in pixels; maps must be at least this large on both axes."""
WINDOW_SIGMA_PX = 1.5
"""Standard deviation of the Gaussian window in pixels."""
K1 = 0.01
K2 = 0.03


def _gaussian_window() -> np.ndarray:
    """(WINDOW_SIZE_PX,) 1-D Gaussian weights summing to 1 (the 2-D window is its outer product)."""
    offsets = np.arange(WINDOW_SIZE_PX, dtype=np.float64) - (WINDOW_SIZE_PX - 1) / 2.0
    weights = np.exp(-(offsets**2) / (2.0 * WINDOW_SIGMA_PX**2))
    return weights / weights.sum()


def _local_mean(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Gaussian-weighted mean over every fully contained window: (H, W) -> (H-10, W-10)."""
    rows = sliding_window_view(x, WINDOW_SIZE_PX, axis=0) @ window  # (H-10, W)
    return sliding_window_view(rows, WINDOW_SIZE_PX, axis=1) @ window  # (H-10, W-10)


def _check_map(name: str, x: np.ndarray) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) map, got shape {arr.shape}")
    if min(arr.shape) < WINDOW_SIZE_PX:
        raise ValueError(
            f"{name} must be at least {WINDOW_SIZE_PX}x{WINDOW_SIZE_PX} pixels, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity of two maps (1.0 for identical maps, lower when they differ).

    Args:
        a: (H, W) float map, H and W >= 11 pixels, values in units of `data_range`.
        b: (H, W) float map of the same shape.
        data_range: L, the span of possible values (1.0 for maps in [0, 1], 255 for uint8).

    Returns:
        The mean of the SSIM map, in [-1, 1].
    """
    if not (math.isfinite(data_range) and data_range > 0):
        raise ValueError(f"data_range must be finite and > 0, got {data_range}")
    x, y = _check_map("a", a), _check_map("b", b)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    window = _gaussian_window()
    mu_x, mu_y = _local_mean(x, window), _local_mean(y, window)
    var_x = np.maximum(_local_mean(x * x, window) - mu_x**2, 0.0)
    var_y = np.maximum(_local_mean(y * y, window) - mu_y**2, 0.0)
    cov_xy = _local_mean(x * y, window) - mu_x * mu_y
    numerator = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return float(np.mean(numerator / denominator))


def mean_ssim(
    maps_a: Sequence[np.ndarray] | np.ndarray,
    maps_b: Sequence[np.ndarray] | np.ndarray,
    data_range: float = 1.0,
) -> float:
    """Average `ssim` over pairs of maps, e.g. (N, H, W) saliency maps of two policies.

    Args:
        maps_a: N >= 1 maps (H, W) (a sequence or an (N, H, W) array).
        maps_b: N maps, paired with `maps_a` by index.
        data_range: L, the span of possible map values (see `ssim`).

    Returns:
        The mean over the N pairs of their SSIM, in [-1, 1].
    """
    if len(maps_a) != len(maps_b) or len(maps_a) == 0:
        raise ValueError(
            f"maps_a and maps_b must hold the same number (>= 1) of maps, "
            f"got {len(maps_a)} and {len(maps_b)}"
        )
    scores = [ssim(a, b, data_range) for a, b in zip(maps_a, maps_b, strict=True)]
    return float(np.mean(scores))
