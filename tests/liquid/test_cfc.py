"""CfC: parity with ncps (fully connected), the wired CfC honours every synapse, stepping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ncps import wirings as ncps_wirings
from ncps.torch import CfC as NcpsCfC

from lnn_control.liquid import CfC, NCPWiring, from_ncps

S = 32


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
@pytest.mark.parametrize(
    ("layers", "activation"), [(1, "lecun_tanh"), (2, "relu"), (0, "lecun_tanh")]
)
def test_fully_connected_parity_with_ncps(mode: str, layers: int, activation: str) -> None:
    theirs = NcpsCfC(
        S, 24, mode=mode, backbone_layers=layers, backbone_units=40, activation=activation
    )
    ours = from_ncps(theirs)
    assert isinstance(ours, CfC)
    x = torch.randn(4, 64, S)
    with torch.no_grad():
        y_ref, h_ref = theirs(x)
        y, h = ours(x)
    assert (y - y_ref).abs().max() <= 1e-5
    assert (h - h_ref).abs().max() <= 1e-5


def test_per_sample_dt_parity_with_ncps_cell() -> None:
    theirs = NcpsCfC(S, 16)
    ours = from_ncps(theirs)
    x = torch.randn(3, 20, S)
    dt = torch.rand(3, 20) + 0.1
    with torch.no_grad():
        h = torch.zeros(3, 16)
        for t in range(20):
            _, h = theirs.rnn_cell(x[:, t], h, dt[:, t : t + 1])
        _, h_ours = ours(x, dt=dt)
    assert (h_ours - h).abs().max() <= 1e-5


def test_wired_ncps_cfc_is_refused_with_a_reason() -> None:
    wired = NcpsCfC(S, ncps_wirings.NCP(12, 6, 1, 6, 4, 6, 6))
    with pytest.raises(ValueError, match="layers one after another"):
        from_ncps(wired)


def _input_jacobian(model: CfC, x: torch.Tensor, h: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """d h' / d x and d h' / d h for one step, as (N, S) and (N, N) matrices."""
    jx, jh = torch.autograd.functional.jacobian(lambda a, b: model.cell(a, b)[1], (x, h))
    return jx[0, :, 0].abs().numpy(), jh[0, :, 0].abs().numpy()


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
def test_wired_cfc_follows_the_synapses_exactly(mode: str) -> None:
    wiring = NCPWiring.paper(seed=3)
    model = CfC(S, wiring, mode=mode)
    jx, jh = _input_jacobian(model, torch.randn(1, S), torch.randn(1, 19))
    sensory = wiring.sensory_adjacency.T != 0  # (N, S): neuron j reads input i
    recurrent = (wiring.adjacency.T != 0) | np.eye(19, dtype=bool)
    assert (jx[~sensory] == 0).all()
    assert (jh[~recurrent] == 0).all()
    assert (jx[sensory] > 0).mean() > 0.95  # the synapses that exist do carry signal
    # recurrent command synapses (which ncps' wired CfC does not follow) carry signal here
    command = wiring.neurons_of_type("command")
    pairs = [(i, j) for i in command for j in command if wiring.adjacency[i, j] and i != j]
    assert pairs
    assert all(jh[j, i] > 0 for i, j in pairs)


def test_wired_cfc_without_self_connections() -> None:
    wiring = NCPWiring.paper(seed=3)
    model = CfC(S, wiring, self_connections=False)
    _, jh = _input_jacobian(model, torch.randn(1, S), torch.randn(1, 19))
    own = np.diag(jh)
    expected = np.diag(wiring.adjacency) != 0
    assert ((own > 0) == expected).all()


def test_wired_output_is_the_motor_neurons() -> None:
    model = CfC(S, NCPWiring.drone(seed=0))
    y, h, states = model(torch.randn(2, 5, S), return_states=True)
    assert y.shape == (2, 5, 4)
    assert torch.equal(y, states[..., :4])
    assert torch.equal(h, states[:, -1])


def test_stepping_equals_sequence_with_resets_and_dt() -> None:
    model = CfC(S, NCPWiring.paper(seed=0))
    x = torch.randn(2, 8, S)
    dt = torch.rand(2, 8) + 0.3
    start = torch.zeros(2, 8, dtype=torch.bool)
    start[1, 4] = True
    with torch.no_grad():
        y_seq, _ = model(x, dt=dt, episode_start=start)
        h = model.cell.initial_state(2)
        for t in range(8):
            h = torch.where(start[:, t : t + 1], torch.zeros_like(h), h)
            y_t, h = model.cell(x[:, t], h, dt[:, t])
            assert torch.allclose(y_t, y_seq[:, t], atol=1e-6)


def test_dt_changes_the_output_and_bad_dt_raises() -> None:
    model = CfC(S, NCPWiring.paper(seed=0))
    x = torch.randn(1, 6, S)
    with torch.no_grad():
        a, _ = model(x, dt=1.0)
        b, _ = model(x, dt=0.2)
    assert (a - b).abs().max() > 1e-4
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        model(x, dt=-1.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        CfC(S, 8, mode="fast")
    with pytest.raises(ValueError, match="no backbone"):
        CfC(S, NCPWiring.paper(), backbone_layers=2)
    with pytest.raises(ValueError, match="activation must be one of"):
        CfC(S, 8, activation="swish")
