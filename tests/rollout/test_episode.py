"""The one closed loop: steps, traces, recorders and their order, both worlds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lnn_control.envs import world
from lnn_control.rollout import EpisodeRecord, Recorder, Step, run_episode
from tests.rollout.fakes import CountingPolicy

LANE = {"scenario": {"image_height": 24, "image_width": 48, "distractor_kind": "none"}}
DRONE = {"scenario": {"image_height": 24, "image_width": 36, "time_limit_s": 2.0}}
SEED = 1_000_000


class Log(Recorder):
    """Remembers every call, with the observation it was shown."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_reset(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.events.append(("reset", obs.copy()))

    def before_step(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.events.append(("before", obs.copy()))

    def on_step(self, step: Step) -> None:
        self.events.append(("step", step))


def test_lane_episode_records_every_step_and_the_recorders_see_them_in_order() -> None:
    log = Log()
    record = run_episode(CountingPolicy(), world("lnn_control/LaneKeeping-v0"), SEED,
                         env_kwargs=LANE, steps=12, recorders=[log])  # fmt: skip
    assert isinstance(record, EpisodeRecord)
    assert record.steps == 12
    assert record.actions.shape == (12, 1)
    assert record.dt_s == pytest.approx(0.05)
    assert set(record.trace) == set(world("lnn_control/LaneKeeping-v0").trace_keys)
    assert all(len(v) == 12 for v in record.trace.values())
    kinds = [kind for kind, _ in log.events]
    assert kinds == ["reset"] + ["before", "step"] * 12
    steps = [payload for kind, payload in log.events if kind == "step"]
    befores = [payload for kind, payload in log.events if kind == "before"]
    assert [s.index for s in steps] == list(range(12))
    for shown, step in zip(befores, steps, strict=True):
        np.testing.assert_array_equal(shown, step.obs)  # the expert sees what the policy saw
    np.testing.assert_array_equal(steps[0].obs, log.events[0][1])  # first obs is the reset one
    np.testing.assert_array_equal(steps[1].obs, steps[0].next_obs)
    np.testing.assert_array_equal(np.stack([s.action for s in steps]), record.actions)
    assert record.trace["lateral_offset_m"][-1] == steps[-1].info["lateral_offset_m"]
    assert record.record()["steps"] == 12.0


def test_drone_episode_has_four_actions_and_its_own_result() -> None:
    record = run_episode(CountingPolicy(4), "lnn_control/DroneNav-v0", SEED, env_kwargs=DRONE,
                         steps=5)  # fmt: skip
    assert record.actions.shape == (5, 4)
    assert set(record.record()) >= {"success", "collision", "final_distance_m"}


def test_episode_runs_to_the_env_end_without_a_step_limit() -> None:
    short = {"scenario": {**LANE["scenario"], "time_limit_s": 0.5, "road_length_m": 30.0}}
    record = run_episode(CountingPolicy(), "lnn_control/LaneKeeping-v0", SEED, env_kwargs=short)
    assert record.truncated or record.terminated
    assert record.steps == 10  # 0.5 s at 20 Hz


def test_same_seed_same_record_and_bad_steps_refused() -> None:
    first = run_episode(
        CountingPolicy(), "lnn_control/LaneKeeping-v0", SEED, env_kwargs=LANE, steps=6
    )
    again = run_episode(
        CountingPolicy(), "lnn_control/LaneKeeping-v0", SEED, env_kwargs=LANE, steps=6
    )
    np.testing.assert_array_equal(first.actions, again.actions)
    np.testing.assert_array_equal(first.trace["lateral_offset_m"], again.trace["lateral_offset_m"])
    none = run_episode(
        CountingPolicy(), "lnn_control/LaneKeeping-v0", SEED, env_kwargs=LANE, steps=0
    )
    assert none.steps == 0
    assert none.actions.shape == (0, 1)
    with pytest.raises(ValueError, match="steps must be >= 0"):
        run_episode(CountingPolicy(), "lnn_control/LaneKeeping-v0", SEED, steps=-1)
    with pytest.raises(ValueError, match="unknown world 'Nope-v0'"):
        run_episode(CountingPolicy(), "Nope-v0", SEED)
