"""`ClampedPolicy`: the ablation clamp on the initial state and after every step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from lnn_control.explain.activity import ClampedPolicy
from lnn_control.policies import build_policy

OBS = np.zeros((32, 48, 3), dtype=np.uint8)
DT_S = 0.05


class _Counting:
    """A 3-entry state that adds 1 to every entry per step; remembers the states it was given."""

    state_size = 3

    def __init__(self, as_numpy: bool = False) -> None:
        self.as_numpy = as_numpy
        self.given: list[Any] = []

    def initial_state(self, batch_size: int = 1) -> Any:
        state = torch.full((batch_size, 3), 5.0)
        return state.numpy() if self.as_numpy else state

    def step(self, obs: np.ndarray, state: Any, dt_s: float) -> tuple[np.ndarray, Any]:
        self.given.append(state.copy() if self.as_numpy else state.clone())
        return np.array([float(state[0, 1])], dtype=np.float32), state + 1.0


@pytest.mark.parametrize("as_numpy", [False, True])
def test_clamp_applies_to_the_initial_state_and_after_every_step(as_numpy: bool) -> None:
    inner = _Counting(as_numpy)
    policy = ClampedPolicy(inner, {1: -2.0})
    state = policy.initial_state(1)
    np.testing.assert_array_equal(np.asarray(state), [[5.0, -2.0, 5.0]])
    actions = []
    for _ in range(3):
        action, state = policy.step(OBS, state, DT_S)
        actions.append(float(action[0]))
        np.testing.assert_array_equal(np.asarray(state)[0, 1], -2.0)
    # every step started from the clamped state: the clamped entry never grew
    assert actions == [-2.0, -2.0, -2.0]
    np.testing.assert_array_equal(np.asarray(state), [[8.0, -2.0, 8.0]])
    assert [float(np.asarray(s)[0, 1]) for s in inner.given] == [-2.0, -2.0, -2.0]
    np.testing.assert_array_equal(np.asarray(inner.initial_state(1)), [[5.0, 5.0, 5.0]])


def test_clamp_does_not_modify_the_state_it_is_given() -> None:
    policy = ClampedPolicy(_Counting(), {0: 0.0})
    state = torch.ones(1, 3)
    policy.step(OBS, state, DT_S)
    assert torch.equal(state, torch.ones(1, 3))


def test_clamped_motor_neurons_of_a_drone_ncp_hold_their_values() -> None:
    drone = build_policy("ncp", image_shape=(32, 48, 3), action_dim=4, seed=0)
    motors = {0: 0.3, 1: -0.2, 2: 0.1, 3: 0.0}
    policy = ClampedPolicy(drone, motors)
    state = policy.initial_state(1)
    for _ in range(2):
        expected_action, expected_state = drone.step(OBS, state, DT_S)
        action, state = policy.step(OBS, state, DT_S)
        np.testing.assert_array_equal(action, expected_action)
        assert action.shape == (4,)
        assert state[0, :4].tolist() == pytest.approx(list(motors.values()))
        assert torch.equal(state[0, 4:], expected_state[0, 4:])


@pytest.mark.parametrize(
    ("clamp", "match"),
    [({3: 0.0}, r"clamp indices must be in \[0, 3\)"), ({0: float("inf")}, "finite")],
)
def test_clamp_rejects_bad_entries(clamp: dict[int, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ClampedPolicy(_Counting(), clamp)
