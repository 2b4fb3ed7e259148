"""Shared fixtures for the policy tests: small structured images keep them fast on a 2-core CPU."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

SMALL_IMAGE = (48, 64, 3)

MakeImages = Callable[..., torch.Tensor]


def structured_images(
    n: int, shape: tuple[int, int, int] = SMALL_IMAGE, seed: int = 0
) -> torch.Tensor:
    """(n, H, W, 3) uint8 images in [20, 200]: random smooth blobs plus a little noise.

    Different per image (so features differ) and away from 0 and 255 (so a brightness offset of
    up to 55 does not clip).
    """
    gen = torch.Generator().manual_seed(seed)
    height, width, _ = shape
    coarse = torch.rand(n, 3, height // 8 + 1, width // 8 + 1, generator=gen)
    smooth = F.interpolate(coarse, size=(height, width), mode="bilinear")
    noise = 0.05 * torch.rand(n, 3, height, width, generator=gen)
    images = 20 + 180 * ((smooth + noise) / 1.05)
    return images.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


@pytest.fixture
def make_images() -> MakeImages:
    """`make_images(n, shape=(48, 64, 3), seed=0)` -> (n, H, W, 3) uint8."""
    return structured_images


@pytest.fixture
def make_frames() -> MakeImages:
    """`make_frames(B, T, seed=0)` -> (B, T, 48, 64, 3) uint8."""

    def frames(batch: int, steps: int, seed: int = 0) -> torch.Tensor:
        return structured_images(batch * steps, seed=seed).unflatten(0, (batch, steps))

    return frames
