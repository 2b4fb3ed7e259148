"""The batched engine equals the unbatched loop, resets per env, and is used by evaluate."""

from __future__ import annotations

import numpy as np
import pytest

import lnn_control
from lnn_control.rollout import run_episode
from lnn_control.rollout.batch import reset_rows, run_episodes
from tests.rollout.fakes import CountingPolicy

LANE_ID = "lnn_control/LaneKeeping-v0"
SCENARIO = {"image_height": 24, "image_width": 48, "distractor_kind": "none"}
SEEDS = [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]


def _kwargs(time_limit_s: float) -> dict[str, object]:
    return {"scenario": {**SCENARIO, "time_limit_s": time_limit_s, "road_length_m": 30.0}}


def test_batched_records_equal_unbatched_ones_with_resets_per_env() -> None:
    # Episodes of different lengths (seeds drive different roads; a step limit cuts some), so
    # slots finish at different times and are refilled mid-batch: a state row that is not reset
    # would change the refilled episode's actions (the policy counts steps since reset).
    kwargs = _kwargs(0.6)
    alone = [run_episode(CountingPolicy(), LANE_ID, s, env_kwargs=kwargs) for s in SEEDS]
    policy = CountingPolicy()
    batched = run_episodes(policy, LANE_ID, SEEDS, batch_size=2, env_kwargs=kwargs)
    assert [r.seed for r in batched] == SEEDS
    for one, many in zip(alone, batched, strict=True):
        np.testing.assert_array_equal(one.actions, many.actions)
        for key in one.trace:
            np.testing.assert_array_equal(one.trace[key], many.trace[key])
        assert one.record() == many.record()
    assert set(policy.calls) == {2}  # one policy call per step for the whole batch


def test_a_step_limit_and_more_slots_than_seeds() -> None:
    kwargs = _kwargs(2.0)
    batched = run_episodes(CountingPolicy(), LANE_ID, SEEDS[:3], batch_size=8, env_kwargs=kwargs,
                           steps=7)  # fmt: skip
    assert [r.steps for r in batched] == [7, 7, 7]
    alone = run_episode(CountingPolicy(), LANE_ID, SEEDS[2], env_kwargs=kwargs, steps=7)
    np.testing.assert_array_equal(alone.actions, batched[2].actions)


def test_reset_rows_touches_only_the_named_rows() -> None:
    policy = CountingPolicy()
    state = np.arange(8, dtype=np.float64).reshape(4, 2)
    fresh = reset_rows(policy, state, [1, 3])
    np.testing.assert_array_equal(fresh[[0, 2]], state[[0, 2]])
    np.testing.assert_array_equal(fresh[[1, 3]], np.zeros((2, 2)))
    assert state[1, 0] == 2.0  # the input is not modified


def test_bad_batch_size_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        run_episodes(CountingPolicy(), LANE_ID, SEEDS, batch_size=0)


@pytest.mark.slow
def test_evaluate_batched_matches_unbatched_for_a_batch_invariant_policy() -> None:
    kwargs = _kwargs(0.6)
    one = lnn_control.evaluate(CountingPolicy(), LANE_ID, seeds=SEEDS, env_kwargs=kwargs,
                               progress=False)  # fmt: skip
    many = lnn_control.evaluate(CountingPolicy(), LANE_ID, seeds=SEEDS, env_kwargs=kwargs,
                                batch_size=3, progress=False)  # fmt: skip
    assert one.episodes == many.episodes
    assert one.summary == many.summary


@pytest.mark.slow
def test_torch_policy_batch_of_one_is_bit_identical() -> None:
    policy = lnn_control.load_policy("pretrained:lane_keeping_ncp")
    kwargs = {"scenario": {"distractor_kind": "none", "time_limit_s": 2.0, "road_length_m": 30.0}}
    alone = [run_episode(policy, LANE_ID, s, env_kwargs=kwargs) for s in SEEDS[:2]]
    batched = run_episodes(policy, LANE_ID, SEEDS[:2], batch_size=1, env_kwargs=kwargs)
    for one, many in zip(alone, batched, strict=True):
        np.testing.assert_array_equal(one.actions, many.actions)
