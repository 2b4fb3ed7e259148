"""TBPTT windows: coverage, burn-in masking, resets, curvature weights, augmentation."""

from __future__ import annotations

import numpy as np
import torch

from lnn_control.training.config import AugmentSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.windows import augment, iterate_batches, loss_weights, window_starts


def _stream(lengths: list[int], curvature: float = 0.0) -> FrameStream:
    n = sum(lengths)
    starts = np.zeros(n, dtype=bool)
    starts[np.cumsum([0, *lengths[:-1]])] = True
    return FrameStream(
        obs=np.arange(n, dtype=np.uint8)[:, None, None, None]
        .repeat(4, 1)
        .repeat(6, 2)
        .repeat(3, 3),
        label=np.linspace(-1, 1, n, dtype=np.float32)[:, None],
        dt_s=np.full(n, 0.05, np.float32),
        curvature=np.full(n, curvature, np.float32),
        episode_start=starts,
    )


def test_window_starts_cover_the_stream_once() -> None:
    starts = window_starts(100, window=10, burn_in=2, rng=np.random.default_rng(0))
    assert len(set(starts.tolist())) == len(starts)
    assert starts.max() <= 90
    covered = np.zeros(100, bool)
    for s in starts:
        covered[s + 2 : s + 10] = True
    assert covered[10:90].all()


def test_burn_in_is_masked_unless_the_window_begins_or_crosses_an_episode() -> None:
    stream = _stream([10, 20])
    weights = loss_weights(stream, np.array([0, 3, 8]), window=6, burn_in=3, curvature_weight=0.0)
    assert weights[0].tolist() == [1.0] * 6  # starts an episode: no burn-in
    assert weights[1].tolist() == [0, 0, 0, 1, 1, 1]  # mid-episode: first 3 masked
    assert weights[2].tolist() == [0, 0, 1, 1, 1, 1]  # an episode starts at index 10 (step 2)


def test_curvature_weighting_as_in_the_paper() -> None:
    flat, curvy = _stream([20]), _stream([20], curvature=0.4)
    starts = np.array([0])
    assert loss_weights(flat, starts, 5, 0, 2.0).tolist() == [[1.0] * 5]
    assert np.allclose(loss_weights(curvy, starts, 5, 0, 2.0), 3.0)


def test_batches_have_the_expected_shapes_and_resets() -> None:
    stream = _stream([12, 12])
    batches = list(iterate_batches(stream, 3, 8, 2, 0.0, np.random.default_rng(1)))
    assert sum(b.obs.shape[0] for b in batches) == len(
        window_starts(24, 8, 2, np.random.default_rng(1))
    )
    first = batches[0]
    assert first.obs.shape[1:] == (8, 4, 6, 3)
    assert first.obs.dtype == torch.uint8
    assert first.label.shape == (first.obs.shape[0], 8, 1)
    frame_ids = first.obs[:, :, 0, 0, 0].long()
    assert torch.equal(first.episode_start, (frame_ids == 0) | (frame_ids == 12))


def test_augmentation_is_seeded_consistent_in_time_and_bounded() -> None:
    obs = torch.randint(0, 256, (2, 4, 8, 10, 3), dtype=torch.uint8)
    cfg = AugmentSection(gamma=0.3, colour=0.1, noise_std=0.0)
    a = augment(obs, cfg, torch.Generator().manual_seed(3))
    b = augment(obs, cfg, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert a.dtype == torch.uint8
    assert not torch.equal(a, obs)
    same = obs.clone()
    same[:, 1:] = same[:, :1]
    c = augment(same, cfg, torch.Generator().manual_seed(4))
    assert torch.equal(c[:, 0], c[:, 3])  # the same jitter for every frame of a window
    off = AugmentSection(gamma=0.0, colour=0.0, noise_std=0.0)
    assert augment(obs, off, torch.Generator()) is obs
