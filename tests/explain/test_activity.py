"""Neuron activity in closed loop: recording, clamping, PCA, names and plots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnn_control.explain.activity import (
    ActivityTrace,
    neuron_indices,
    neuron_names,
    pca_explained_variance,
    plot_neuron_traces,
    plot_wiring_activity,
    record_activity,
)
from lnn_control.policies import LiquidPolicy, build_policy

LANE = "lnn_control/LaneKeeping-v0"
SMALL = {"image_height": 32, "image_width": 48, "distractor_kind": "none"}
SEED = 1_000_000
DRIVE_M = 3.0
CLAMP_V = 1.0


@pytest.fixture(scope="module")
def ncp() -> LiquidPolicy:
    policy = build_policy("ncp", image_shape=(32, 48, 3), action_dim=1, seed=0)
    assert isinstance(policy, LiquidPolicy)
    return policy


@pytest.fixture(scope="module")
def trace(ncp: LiquidPolicy) -> ActivityTrace:
    return record_activity(ncp, LANE, SEED, scenario=SMALL, distance_m=DRIVE_M, keep_frames=True)


def test_clamping_the_motor_neuron_changes_the_action_of_one_step(ncp: LiquidPolicy) -> None:
    obs = np.random.default_rng(0).integers(0, 256, size=(32, 48, 3), dtype=np.uint8)
    state = ncp.initial_state(1)
    for _ in range(3):
        _, state = ncp.step(obs, state, dt_s=0.05)
    clamped = state.clone()
    clamped[0, 0] = state[0, 0] + CLAMP_V
    action, _ = ncp.step(obs, state, dt_s=0.05)
    action_clamped, _ = ncp.step(obs, clamped, dt_s=0.05)
    assert not np.allclose(action, action_clamped)


def test_record_activity_shapes_and_frames(ncp: LiquidPolicy, trace: ActivityTrace) -> None:
    steps = trace.steps
    assert steps > 1
    assert trace.states.shape == (steps, ncp.state_size)
    assert trace.states.dtype == np.float32
    assert trace.actions.shape == (steps, 1)
    lateral, curvature = trace.trace["lateral_offset_m"], trace.trace["curvature_ahead"]
    for series in (curvature, lateral, trace.time_s):
        assert series.shape == (steps,)
    assert np.all(np.abs(trace.actions) <= 1.0)
    assert trace.time_s[-1] == pytest.approx(steps * trace.control_dt_s)
    assert trace.frames is not None
    assert trace.frames.shape == (steps, 32, 48, 3)
    assert trace.frames.dtype == np.uint8
    assert trace.record.final_info["interventions"] >= 0
    assert trace.snapshot_step() == int(np.argmax(np.abs(curvature)))  # the sharpest bend
    # the last recorded state is what one more policy step would start from: replaying the
    # frames through policy.step reproduces the recorded states and actions
    state = ncp.initial_state(1)
    for t in range(steps):
        action, state = ncp.step(trace.frames[t], state, dt_s=trace.control_dt_s)
        assert action[0] == pytest.approx(trace.actions[t, 0], abs=1e-6)
    np.testing.assert_allclose(state[0].numpy(), trace.states[-1], atol=1e-6)


def test_record_activity_is_deterministic(ncp: LiquidPolicy, trace: ActivityTrace) -> None:
    again = record_activity(ncp, LANE, SEED, scenario=SMALL, distance_m=DRIVE_M)
    assert again.frames is None
    np.testing.assert_array_equal(again.states, trace.states)
    np.testing.assert_array_equal(again.actions, trace.actions)
    lateral = "lateral_offset_m"
    np.testing.assert_array_equal(again.trace[lateral], trace.trace[lateral])


def test_clamped_motor_neuron_changes_the_drive(ncp: LiquidPolicy, trace: ActivityTrace) -> None:
    clamped = record_activity(
        ncp, LANE, SEED, scenario=SMALL, distance_m=DRIVE_M, clamp={0: CLAMP_V}
    )
    assert np.all(clamped.states[:, 0] == CLAMP_V)
    assert not np.all(trace.states[:, 0] == CLAMP_V)
    steps = min(clamped.steps, trace.steps)
    assert not np.allclose(clamped.actions[:steps], trace.actions[:steps])


def test_record_activity_rejects_bad_arguments(ncp: LiquidPolicy) -> None:
    with pytest.raises(ValueError, match="clamp indices"):
        record_activity(ncp, LANE, SEED, scenario=SMALL, distance_m=DRIVE_M, clamp={19: 0.0})
    with pytest.raises(ValueError, match="clamp values"):
        record_activity(
            ncp, LANE, SEED, scenario=SMALL, distance_m=DRIVE_M, clamp={0: float("nan")}
        )
    with pytest.raises(ValueError, match="distance_m"):
        record_activity(ncp, LANE, SEED, scenario=SMALL, distance_m=0.0)
    with pytest.raises(ValueError, match="image size"):
        record_activity(ncp, LANE, SEED, scenario={**SMALL, "image_width": 64}, distance_m=DRIVE_M)
    with pytest.raises(ValueError, match="unknown world"):
        record_activity(ncp, "lnn_control/Nowhere-v0", SEED, scenario=SMALL)


def test_neuron_names(ncp: LiquidPolicy) -> None:
    names = neuron_names(ncp)
    assert len(names) == ncp.state_size == 19
    assert [n for n in names if n.startswith("motor")] == ["motor 0"]
    assert names[0] == "motor 0"
    commands = ncp.wiring.neurons_of_type("command")
    assert [names[i] for i in commands] == [f"command {k}" for k in range(len(commands))]
    assert neuron_indices(ncp) == list(range(19))
    gru = build_policy("gru", image_shape=(32, 48, 3))
    assert neuron_names(gru) == [f"unit {i}" for i in range(gru.state_size)]
    lstm = build_policy("lstm", image_shape=(32, 48, 3))
    hidden = lstm.state_size // 2
    lstm_names = neuron_names(lstm)
    assert len(lstm_names) == lstm.state_size
    assert lstm_names[hidden - 1] == f"unit {hidden - 1}"
    assert lstm_names[hidden] == "cell 0"
    assert neuron_indices(lstm) == list(range(hidden))


def _orthonormal(size: int, count: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(size, count)))
    return q.T


def test_pca_of_a_rank_two_signal() -> None:
    t = np.arange(200) / 200
    a = 2.0 * np.cos(2 * np.pi * 3 * t)  # var(a) = 4 var(b), a and b orthogonal, zero mean
    b = np.sin(2 * np.pi * 3 * t)
    u, v = _orthonormal(6, 2)
    states = np.outer(a, u) + np.outer(b, v) + 5.0  # the offset must be centred away
    ratios = pca_explained_variance(states)
    assert ratios.shape == (6,)
    np.testing.assert_allclose(ratios, [0.8, 0.2, 0, 0, 0, 0], atol=1e-9)
    assert ratios.sum() == pytest.approx(1.0)
    assert np.all(np.diff(ratios) <= 1e-12)


def test_pca_of_a_rank_one_signal() -> None:
    t = np.linspace(0.0, 1.0, 50)
    (u,) = _orthonormal(4, 1)
    ratios = pca_explained_variance(np.outer(t**2, u))
    assert ratios[0] == pytest.approx(1.0)
    assert ratios.shape == (4,)


@pytest.mark.parametrize(
    ("states", "match"),
    [
        (np.zeros((1, 3)), "T >= 2"),
        (np.zeros(5), r"\(T, S\)"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "finite"),
        (np.ones((4, 3)), "vary"),
    ],
)
def test_pca_rejects_bad_input(states: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pca_explained_variance(states)


def test_plots_return_figures(ncp: LiquidPolicy, trace: ActivityTrace) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    names = neuron_names(ncp)
    fig = plot_neuron_traces(trace, names)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == names
    assert [ax.get_ylabel() for ax in fig.axes[1:]] == ["steering", "curvature (1/m)"]
    plt.close(fig)
    fig = plot_neuron_traces(trace, names, neurons=[0, 5])
    assert len(fig.axes[0].get_lines()) == 2
    plt.close(fig)
    fig = plot_wiring_activity(ncp.wiring, trace.states[-1])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # the diagram and its colour bar
    plt.close(fig)
    with pytest.raises(ValueError, match="one entry per state entry"):
        plot_neuron_traces(trace, names[:-1])
    with pytest.raises(ValueError, match="neurons must be"):
        plot_neuron_traces(trace, names, neurons=[19])
    with pytest.raises(ValueError, match="19 finite values"):
        plot_wiring_activity(ncp.wiring, np.zeros(18))
    plt.close("all")


def test_clamp_holds_the_state_through_a_drive(ncp: LiquidPolicy) -> None:
    trace = record_activity(ncp, LANE, SEED, scenario=SMALL, distance_m=1.0, clamp={3: -2.0})
    assert np.all(trace.states[:, 3] == np.float32(-2.0))
    assert torch.count_nonzero(ncp.initial_state(1)) == 0  # the policy itself is untouched
