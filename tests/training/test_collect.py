"""Demonstration collection resumes per finished episode and never reuses a stale one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lnn_control.training.collect as collect
from lnn_control.training.config import CollectSection, EnvSection
from lnn_control.training.shards import FIELDS, load_stream, read_episode

RUN_EPISODE = collect.run_episode
ENV = EnvSection(scenario={"image_height": 24, "image_width": 32, "distractor_kind": "none"})


def _cfg(**kw: Any) -> CollectSection:
    return CollectSection(**{"episodes": 4, "episode_steps": 10, "workers": 1, **kw})


class Killed(BaseException):
    """The collection process dies (not an Exception: nothing catches it on the way)."""


def _spy(monkeypatch: pytest.MonkeyPatch, kill_after: int | None = None) -> list[int]:
    """Record the seed of every episode driven; raise Killed after `kill_after` episodes."""
    seeds: list[int] = []

    def spied(job: collect.EpisodeJob) -> dict[str, Any]:
        if kill_after is not None and len(seeds) >= kill_after:
            raise Killed
        seeds.append(job.seed)
        return RUN_EPISODE(job)

    monkeypatch.setattr(collect, "run_episode", spied)
    return seeds


def _without_hashes(index: dict[str, Any]) -> dict[str, Any]:
    episodes = [{k: v for k, v in e.items() if k != "sha256"} for e in index["episodes"]]
    return {**index, "episodes": episodes}


@pytest.mark.slow
def test_a_killed_collection_recollects_only_the_missing_episodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = collect.collect_demonstrations(ENV, _cfg(), tmp_path / "reference")
    out = tmp_path / "resumed"
    first = _spy(monkeypatch, kill_after=2)
    with pytest.raises(Killed):
        collect.collect_demonstrations(ENV, _cfg(), out)
    assert first == [0, 1]
    assert not (out / "index.json").exists()  # the dataset is not done
    again = _spy(monkeypatch)
    collect.collect_demonstrations(ENV, _cfg(), out)
    assert again == [2, 3]  # episodes 0 and 1 were finished: kept, not driven again
    want, got = load_stream([reference]), load_stream([out])
    for field in ("obs", "label", "dt_s", "curvature", "episode_start"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    index = json.loads((out / "index.json").read_text())
    assert _without_hashes(index) == _without_hashes(
        json.loads((reference / "index.json").read_text())
    )  # the shards' own hashes differ: .npz files carry their write time
    (out / "index.json").unlink()  # stopped just before the index: every episode is there
    none = _spy(monkeypatch)
    collect.collect_demonstrations(ENV, _cfg(), out)
    assert none == []
    assert json.loads((out / "index.json").read_text()) == index


@pytest.mark.slow
def test_an_episode_from_another_recipe_or_a_damaged_shard_is_collected_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "data"
    collect.collect_demonstrations(ENV, _cfg(episodes=2), out)
    (out / "index.json").unlink()  # as if the run had stopped before the index
    shard = out / "seed_0000001.npz"
    shard.write_bytes(shard.read_bytes()[:-10])  # damaged (an old, non-atomic copy, a disk fault)
    seeds = _spy(monkeypatch)
    collect.collect_demonstrations(ENV, _cfg(episodes=2, noise_std=0.1), out)
    assert seeds == [0, 1]  # another noise level: both recollected
    seeds.clear()
    (out / "index.json").unlink()
    shard.write_bytes(shard.read_bytes()[:-10])
    collect.collect_demonstrations(ENV, _cfg(episodes=2, noise_std=0.1), out)
    assert seeds == [1]  # only the damaged one
    episode = read_episode(shard)
    assert all(len(getattr(episode, f)) == len(episode) for f in FIELDS)
