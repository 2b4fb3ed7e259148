"""Demonstration shards: one compressed `.npz` per episode plus an `index.json`.

A shard holds, for T control steps of one episode:

    obs        uint8   (T, H, W, 3)  camera frames, as the policy sees them
    label      float32 (T, A)        the expert's clean action for that frame (what we learn)
    executed   float32 (T, A)        the action actually applied (label + injected noise)
    dt_s       float32 (T,)          seconds since the previous frame (first: nominal period)
    curvature  float32 (T,)          road curvature ahead (1/m), for loss weighting
    lateral_m  float32 (T,)          lateral offset from the lane centre (m), for diagnostics

Episode boundaries are the shard boundaries. Files are read with `allow_pickle=False`. While a
dataset is collected, each finished episode also gets `seed_<seed>.json` (its index entry, the
shard's SHA-256 and what made it), so an interrupted collection resumes per episode; index.json
is written last and marks the dataset done.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes

INDEX_FILE = "index.json"
FIELDS = ("obs", "label", "executed", "dt_s", "curvature", "lateral_m")


@dataclass
class Episode:
    """One episode's arrays (see the module docstring for shapes)."""

    obs: NDArray[np.uint8]
    label: NDArray[np.float32]
    executed: NDArray[np.float32]
    dt_s: NDArray[np.float32]
    curvature: NDArray[np.float32]
    lateral_m: NDArray[np.float32]
    seed: int

    def __len__(self) -> int:
        return int(self.obs.shape[0])


def write_episode(directory: Path, name: str, episode: Episode) -> dict[str, Any]:
    """Write `directory/name.npz` atomically; returns its index entry (with the file's
    SHA-256)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{f: getattr(episode, f) for f in FIELDS})
    atomic_write_bytes(directory / f"{name}.npz", buffer.getvalue())
    return {
        "file": f"{name}.npz",
        "steps": len(episode),
        "seed": episode.seed,
        "sha256": sha256_bytes(buffer.getvalue()),
    }


def read_episode(path: Path, seed: int = -1) -> Episode:
    """Load one shard; ValueError naming the file when it is unreadable or incomplete."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {f: data[f] for f in FIELDS}
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"demonstration shard {path} is unreadable: {err}") from None
    return Episode(seed=seed, **arrays)


def write_index(directory: Path, entries: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Write (or replace) the dataset index."""
    atomic_write_json(directory / INDEX_FILE, {"format_version": 1, "episodes": entries, **meta})


def read_index(directory: Path) -> dict[str, Any]:
    """The dataset index of `directory`."""
    return read_json(directory / INDEX_FILE, "dataset index")


@dataclass
class FrameStream:
    """Many episodes as one flat stream, for windowed sequence training.

    obs (N, H, W, 3) uint8; label (N, A); dt_s (N,); curvature (N,); episode_start (N,) bool,
    True at the first frame of every episode.
    """

    obs: NDArray[np.uint8]
    label: NDArray[np.float32]
    dt_s: NDArray[np.float32]
    curvature: NDArray[np.float32]
    episode_start: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.obs.shape[0])

    @property
    def episodes(self) -> int:
        """Number of episodes in the stream."""
        return int(self.episode_start.sum())


def load_stream(directories: list[Path]) -> FrameStream:
    """Concatenate every episode listed in the indexes of `directories`."""
    episodes = [
        read_episode(d / e["file"], int(e["seed"]))
        for d in directories
        for e in read_index(d)["episodes"]
    ]
    if not episodes:
        raise ValueError(f"no demonstration episodes in {[str(d) for d in directories]}")
    starts = np.zeros(sum(len(e) for e in episodes), dtype=bool)
    starts[np.cumsum([0] + [len(e) for e in episodes[:-1]])] = True
    return FrameStream(
        obs=np.concatenate([e.obs for e in episodes]),
        label=np.concatenate([e.label for e in episodes]).astype(np.float32),
        dt_s=np.concatenate([e.dt_s for e in episodes]).astype(np.float32),
        curvature=np.concatenate([e.curvature for e in episodes]).astype(np.float32),
        episode_start=starts,
    )
