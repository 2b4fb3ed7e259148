"""The Policy contract for every kind: shapes, stepping = sequences, resets, time, errors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from lnn_control.policies import POLICY_KINDS, LiquidPolicy, Policy, build_policy, policy_from_spec
from lnn_control.policies.base import NOMINAL_DT_S

SMALL_IMAGE = (48, 64, 3)
RECURRENT_KINDS = ("ncp", "ncp_cfc", "lstm", "gru", "ctrnn", "cfc")
CONTINUOUS_TIME_KINDS = ("ncp", "ncp_cfc", "ctrnn", "cfc")
MakeImages = Callable[..., torch.Tensor]


ALL_KINDS = tuple(POLICY_KINDS)


def _policy(kind: str, action_dim: int = 1, seed: int = 0) -> Policy:
    return build_policy(kind, image_shape=SMALL_IMAGE, action_dim=action_dim, seed=seed)


@pytest.mark.parametrize("action_dim", [1, 4])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_step_shapes_dtype_and_range(kind: str, action_dim: int, make_frames: MakeImages) -> None:
    policy = _policy(kind, action_dim)
    frames = make_frames(3, 1)[:, 0].numpy()  # (3, H, W, 3) uint8
    action, state = policy.step(frames[0], policy.initial_state(1))
    assert action.shape == (action_dim,)
    assert action.dtype == np.float32
    assert state.shape == (1, policy.state_size)
    actions, states = policy.step(frames, policy.initial_state(3), dt_s=0.05)
    assert actions.shape == (3, action_dim)
    assert actions.dtype == np.float32
    assert states.shape == (3, policy.state_size)
    assert np.all(np.abs(actions) <= 1.0)
    assert states.grad_fn is None


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_forward_sequence_shapes(kind: str, make_frames: MakeImages) -> None:
    policy = _policy(kind, 4)
    pre, last = policy.forward_sequence(make_frames(2, 5))
    assert pre.shape == (2, 5, 4)
    assert pre.dtype == torch.float32
    assert last.shape == (2, policy.state_size)
    assert policy.squash(pre).abs().max() <= 1.0


def test_state_sizes() -> None:
    sizes = {kind: _policy(kind).state_size for kind in ALL_KINDS}
    assert sizes == {
        "ncp": 19,
        "ncp_cfc": 19,
        "cnn": 0,
        "lstm": 128,
        "gru": 64,
        "ctrnn": 64,
        "cfc": 64,
    }


def test_ncp_uses_the_paper_and_drone_wirings() -> None:
    lane = _policy("ncp", 1)
    drone = _policy("ncp", 4)
    assert isinstance(lane, LiquidPolicy)
    assert isinstance(drone, LiquidPolicy)
    assert (lane.wiring.n_neurons, lane.wiring.n_motor, lane.wiring.n_sensory) == (19, 1, 32)
    assert (drone.wiring.n_neurons, drone.wiring.n_motor) == (19, 4)
    assert lane.wiring.synapse_count == 60
    assert lane.wiring.sensory_synapse_count == 192


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
def test_stepping_equals_forward_sequence_with_reset_and_irregular_dt(
    kind: str, make_frames: MakeImages
) -> None:
    batch, steps = 3, 8
    policy = _policy(kind)
    frames = make_frames(batch, steps)
    dt_s = torch.rand(batch, steps, generator=torch.Generator().manual_seed(1)) * 0.1 + 0.01
    start = torch.zeros(batch, steps, dtype=torch.bool)
    start[1, 4] = start[0, 6] = True
    state0 = torch.randn(batch, policy.state_size) * 0.1
    with torch.no_grad():
        pre, last = policy.forward_sequence(frames, dt_s, start, state0=state0)
    state, actions = state0, []
    for t in range(steps):
        state = policy.reset_state(state, start[:, t].numpy())
        action, state = policy.step(frames[:, t].numpy(), state, dt_s=dt_s[:, t].numpy())
        actions.append(action)
    np.testing.assert_allclose(np.stack(actions, 1), torch.tanh(pre).numpy(), atol=1e-5)
    torch.testing.assert_close(state, last, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
def test_reset_in_the_middle_forgets_the_past(kind: str, make_frames: MakeImages) -> None:
    """After a reset the actions equal those of a fresh run from that frame."""
    policy = _policy(kind)
    frames = make_frames(1, 6)
    start = torch.zeros(1, 6, dtype=torch.bool)
    start[0, 3] = True
    with torch.no_grad():
        with_reset, _ = policy.forward_sequence(frames, episode_start=start)
        fresh, _ = policy.forward_sequence(frames[:, 3:])
        without_reset, _ = policy.forward_sequence(frames)
    torch.testing.assert_close(with_reset[:, 3:], fresh, atol=1e-5, rtol=0)
    assert not torch.allclose(without_reset[:, 3:], fresh, atol=1e-4)


def test_reset_state_zeroes_only_the_started_rows() -> None:
    policy = _policy("lstm")
    state = torch.randn(3, policy.state_size)
    out = policy.reset_state(state, np.array([False, True, False]))
    assert torch.equal(out[1], torch.zeros(policy.state_size))
    assert torch.equal(out[[0, 2]], state[[0, 2]])


@pytest.mark.parametrize("kind", CONTINUOUS_TIME_KINDS)
def test_dt_changes_the_action_of_continuous_time_policies(
    kind: str, make_frames: MakeImages
) -> None:
    policy = _policy(kind)
    frames = make_frames(2, 3)
    with torch.no_grad():
        nominal, _ = policy.forward_sequence(frames, torch.full((2, 3), NOMINAL_DT_S))
        default, _ = policy.forward_sequence(frames)
        slow, _ = policy.forward_sequence(frames, torch.full((2, 3), 4 * NOMINAL_DT_S))
    torch.testing.assert_close(nominal, default)  # None means one nominal period
    assert (slow - nominal).abs().max() > 1e-4
    single = frames[0, 0].numpy()
    a_fast, _ = policy.step(single, None, dt_s=0.01)
    a_slow, _ = policy.step(single, None, dt_s=0.5)
    assert np.abs(a_fast - a_slow).max() > 1e-5


@pytest.mark.parametrize("kind", ["cnn", "lstm", "gru"])
def test_discrete_time_policies_ignore_dt(kind: str, make_frames: MakeImages) -> None:
    policy = _policy(kind)
    frames = make_frames(2, 3)
    with torch.no_grad():
        nominal, _ = policy.forward_sequence(frames)
        slow, _ = policy.forward_sequence(frames, torch.full((2, 3), 0.4))
    torch.testing.assert_close(nominal, slow)


@pytest.mark.parametrize("bad", [0.0, -0.05, float("nan"), float("inf"), np.array([0.05, 0.0])])
def test_invalid_dt_is_a_one_line_value_error(bad: object, make_frames: MakeImages) -> None:
    policy = _policy("ncp")
    frames = make_frames(2, 1)[:, 0].numpy()
    with pytest.raises(ValueError, match="dt") as err:
        policy.step(frames, None, dt_s=bad)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_invalid_sequence_dt_and_episode_start_are_rejected(make_frames: MakeImages) -> None:
    policy = _policy("ctrnn")
    frames = make_frames(2, 3)
    with pytest.raises(ValueError, match="dt"):
        policy.forward_sequence(frames, torch.full((2, 3), float("nan")))
    with pytest.raises(ValueError, match=r"dt must be .* \(B, T\)"):
        policy.forward_sequence(frames, torch.full((2, 4), 0.05))
    with pytest.raises(ValueError, match="episode_start"):
        policy.forward_sequence(frames, episode_start=torch.zeros(2, 4, dtype=torch.bool))


@pytest.mark.parametrize(
    ("obs", "match"),
    [
        (np.zeros((48, 60, 3), np.uint8), r"obs must be \(48, 64, 3\)"),
        (np.zeros((48, 64, 4), np.uint8), r"obs must be \(48, 64, 3\)"),
        (np.zeros((1, 1, 48, 64, 3), np.uint8), r"obs must be \(48, 64, 3\)"),
        (np.zeros((48, 64, 3), np.int64), "dtype must be uint8"),
        ([[0]], "numpy array or torch tensor"),
    ],
)
def test_bad_obs_is_a_one_line_value_error(obs: object, match: str) -> None:
    policy = _policy("gru")
    with pytest.raises(ValueError, match=match) as err:
        policy.step(obs, None)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_wrong_state_shape_is_rejected(make_frames: MakeImages) -> None:
    policy = _policy("gru")
    frame = make_frames(1, 1)[0, 0]
    with pytest.raises(ValueError, match=r"state must be a \(1, 64\) tensor"):
        policy.step(frame, torch.zeros(1, 19))


def test_step_restores_training_mode(make_frames: MakeImages) -> None:
    policy = _policy("ncp").train()
    policy.step(make_frames(1, 1)[0, 0], None)
    assert policy.training


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_gradient_flows_from_action_to_first_conv(kind: str, make_frames: MakeImages) -> None:
    policy = _policy(kind)
    pre, _ = policy.forward_sequence(make_frames(2, 3), episode_start=None)
    policy.squash(pre).sum().backward()
    conv = policy.head.convs[0]
    assert isinstance(conv, torch.nn.Conv2d)
    grad = conv.weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_same_seed_same_weights_and_spec_rebuilds_the_architecture(kind: str) -> None:
    a, b, c = _policy(kind, seed=3), _policy(kind, seed=3), _policy(kind, seed=4)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    rebuilt = policy_from_spec(a.spec())
    assert rebuilt.spec() == a.spec()
    assert type(rebuilt) is type(a)


def test_construction_does_not_touch_the_global_generator() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _policy("ncp")
    assert torch.equal(torch.rand(3), expected)


def test_build_policy_errors_name_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="must be one of") as err:
        build_policy("transformer")
    assert "'ncp'" in str(err.value)
    with pytest.raises(ValueError, match="bad arguments"):
        build_policy("lstm", image_shape=SMALL_IMAGE, hidden_sise=3)
    with pytest.raises(ValueError, match="turn kind 'ncp' into 'ncp_cfc'"):
        build_policy("ncp", image_shape=SMALL_IMAGE, cell="cfc")
    with pytest.raises(ValueError, match="no default NCP wiring for action_dim=2"):
        build_policy("ncp", image_shape=SMALL_IMAGE, action_dim=2)


def test_the_old_dt_keyword_still_works_with_a_deprecation_warning() -> None:
    policy = build_policy("ncp", image_shape=SMALL_IMAGE, seed=0)
    frame = np.zeros(SMALL_IMAGE, dtype=np.uint8)
    new, _ = policy.step(frame, None, dt_s=0.1)
    with pytest.warns(DeprecationWarning, match="use dt_s="):
        old, _ = policy.step(frame, None, dt=0.1)
    np.testing.assert_array_equal(new, old)
    with pytest.raises(ValueError, match="pass the time step once"):
        policy.step(frame, None, 0.1, dt=0.1)
