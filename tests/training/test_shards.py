"""Demonstration shards: exact round trip, episode boundaries, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lnn_control.training.shards import (
    Episode,
    load_stream,
    read_episode,
    write_episode,
    write_index,
)


def _episode(n: int, seed: int) -> Episode:
    rng = np.random.default_rng(seed)
    return Episode(
        obs=rng.integers(0, 256, (n, 6, 8, 3), dtype=np.uint8),
        label=rng.uniform(-1, 1, (n, 1)).astype(np.float32),
        executed=rng.uniform(-1, 1, (n, 1)).astype(np.float32),
        dt_s=np.full(n, 0.05, np.float32),
        curvature=rng.normal(size=n).astype(np.float32),
        lateral_m=rng.normal(size=n).astype(np.float32),
        seed=seed,
    )


def test_round_trip_and_stream(tmp_path: Path) -> None:
    episodes = [_episode(5, 1), _episode(7, 2)]
    entries = [write_episode(tmp_path, f"e{i}", e) for i, e in enumerate(episodes)]
    write_index(tmp_path, entries, {"frames": 12})
    back = read_episode(tmp_path / "e1.npz", 2)
    assert np.array_equal(back.obs, episodes[1].obs)
    assert np.array_equal(back.label, episodes[1].label)
    stream = load_stream([tmp_path])
    assert len(stream) == 12
    assert stream.episodes == 2
    assert np.flatnonzero(stream.episode_start).tolist() == [0, 5]
    assert np.array_equal(stream.obs[5:], episodes[1].obs)


def test_corrupt_shard_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"bad.npz is unreadable"):
        read_episode(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="dataset index not found"):
        load_stream([tmp_path])
