"""LTC: parity with ncps, the fused kernel against autograd, dt handling and resets."""

from __future__ import annotations

import pytest
import torch
from ncps import wirings as ncps_wirings
from ncps.torch import LTC as NcpsLTC

from lnn_control.liquid import LTC, NCPWiring, Wiring, from_ncps, ltc_kernel
from lnn_control.liquid.ltc import LTCCell

B, T, S = 4, 64, 32


def _ncps_models() -> list[NcpsLTC]:
    ncp = NcpsLTC(S, ncps_wirings.NCP(12, 6, 1, 6, 4, 6, 6, seed=5))
    full = NcpsLTC(S, 8)
    for model in (ncp, full):
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.add_(0.3 * torch.randn_like(p))  # away from the initial ranges
    return [ncp, full]


@pytest.mark.parametrize("index", [0, 1], ids=["ncp19", "fully_connected"])
def test_sequence_parity_with_ncps(index: int) -> None:
    theirs = _ncps_models()[index]
    ours = from_ncps(theirs)
    assert isinstance(ours, LTC)
    x = torch.randn(B, T, S)
    with torch.no_grad():
        y_ref, h_ref = theirs(x, timespans=None)
        y, h = ours(x)
    assert (y - y_ref).abs().max() <= 1e-5
    assert (h - h_ref).abs().max() <= 1e-5


@pytest.mark.parametrize("index", [0, 1], ids=["ncp19", "fully_connected"])
def test_irregular_dt_parity_with_ncps_cell(index: int) -> None:
    """Per-sample, per-step dt (ncps' batched timespans are broken, so drive its cell)."""
    theirs = _ncps_models()[index]
    ours = from_ncps(theirs)
    x = torch.randn(B, T, S)
    dt = torch.rand(B, T) * 1.5 + 0.05
    with torch.no_grad():
        h = torch.zeros(B, theirs.state_size)
        ys = []
        for t in range(T):
            y_t, h = theirs.rnn_cell(x[:, t], h, dt[:, t : t + 1])
            ys.append(y_t)
        y, h_ours = ours(x, dt=dt)
    assert (y - torch.stack(ys, 1)).abs().max() <= 1e-5
    assert (h_ours - h).abs().max() <= 1e-5


def test_cell_step_matches_ncps_cell_at_batch_one() -> None:
    theirs = _ncps_models()[0]
    ours = from_ncps(theirs.rnn_cell)
    assert isinstance(ours, LTCCell)
    x, h = torch.randn(1, S), torch.randn(1, 19) * 0.1
    with torch.no_grad():
        y_ref, h_ref = theirs.rnn_cell(x, h, 0.5)
        y, h_new = ours(x, h, 0.5)
    assert (y - y_ref).abs().max() <= 1e-6
    assert (h_new - h_ref).abs().max() <= 1e-6


def _small_ltc(dtype: torch.dtype) -> LTC:
    wiring = NCPWiring(
        n_sensory=5,
        inter=4,
        command=3,
        motor=2,
        sensory_fanout=2,
        inter_fanout=2,
        recurrent_command_synapses=3,
        motor_fanin=2,
        seed=1,
    )
    return LTC(5, wiring).to(dtype)


def test_fused_gradients_match_reference_autograd() -> None:
    model = LTC(S, NCPWiring.paper(seed=2))
    reference = LTC(S, NCPWiring.paper(seed=2), implementation="reference")
    reference.load_state_dict(model.state_dict())
    x = torch.randn(B, 16, S)
    dt = torch.rand(B, 16) + 0.1
    start = torch.zeros(B, 16, dtype=torch.bool)
    start[1, 7] = True
    grads = []
    for m in (model, reference):
        xg = x.clone().requires_grad_()
        h0 = (0.1 * torch.randn(B, 19, generator=torch.Generator().manual_seed(3))).requires_grad_()
        y, h = m(xg, h0=h0, dt=dt, episode_start=start)
        (y.square().sum() + h.sum()).backward()
        grads.append([xg.grad, h0.grad] + [p.grad for p in m.parameters()])
        m.zero_grad()
    for ours, ref in zip(*grads, strict=True):
        assert torch.allclose(ours, ref, rtol=1e-4, atol=1e-5)


def test_fused_kernel_gradcheck_float64() -> None:
    torch.manual_seed(1)
    T_, B_, N, E = 5, 2, 4, 7
    G = torch.randn(N, E, dtype=torch.float64)
    b = torch.randn(E, dtype=torch.float64)
    M = torch.rand(E, 2 * N, dtype=torch.float64)
    c2 = torch.rand(T_, B_, 2 * N, dtype=torch.float64) + 2.0
    cmt = torch.rand(T_, B_, N, dtype=torch.float64) + 0.5
    v0 = torch.randn(B_, N, dtype=torch.float64)
    keep = torch.ones(T_, B_, 1, dtype=torch.float64)
    keep[2, 1] = 0.0
    inputs = tuple(t.requires_grad_() for t in (v0, c2, cmt, G, b, M))
    assert torch.autograd.gradcheck(
        lambda *a: ltc_kernel.LTCUnfold.apply(*a, keep, 3), inputs, eps=1e-6, atol=1e-6
    )


def test_whole_model_gradcheck_float64() -> None:
    model = _small_ltc(torch.float64)
    x = torch.randn(2, 4, 5, dtype=torch.float64, requires_grad=True)
    dt = torch.rand(2, 4, dtype=torch.float64) + 0.2
    assert torch.autograd.gradcheck(lambda inp: model(inp, dt=dt)[0], (x,), eps=1e-6, atol=1e-6)


def test_torchscript_and_python_loops_agree() -> None:
    model = LTC(S, NCPWiring.paper(seed=4))
    x = torch.randn(B, 20, S, requires_grad=True)
    dt = torch.rand(B, 20) + 0.5
    results = []
    for enabled in (True, False):
        ltc_kernel.use_torchscript(enabled)
        try:
            y, _ = model(x, dt=dt)
            (g,) = torch.autograd.grad(y.sum(), x)
            results.append((y.detach(), g))
        finally:
            ltc_kernel.use_torchscript(True)
    assert torch.equal(results[0][0], results[1][0])
    assert torch.allclose(results[0][1], results[1][1], atol=1e-7)


def test_stepping_the_cell_equals_the_sequence() -> None:
    model = LTC(S, NCPWiring.paper(seed=0))
    x = torch.randn(3, 10, S)
    dt = torch.rand(3, 10) + 0.2
    with torch.no_grad():
        y_seq, h_seq = model(x, dt=dt)
        h = model.cell.initial_state(3)
        for t in range(10):
            y_t, h = model.cell(x[:, t], h, dt[:, t])
            assert torch.allclose(y_t, y_seq[:, t], atol=1e-6)
    assert torch.allclose(h, h_seq, atol=1e-6)


def test_irregular_dt_changes_the_output() -> None:
    model = LTC(S, NCPWiring.paper(seed=0))
    x = torch.randn(2, 12, S)
    with torch.no_grad():
        y_regular, _ = model(x, dt=1.0)
        irregular = torch.ones(2, 12)
        irregular[0, 3] = 3.0
        y_irregular, _ = model(x, dt=irregular)
    assert torch.equal(y_irregular[1], y_regular[1])  # sample 1 saw the same dt
    assert torch.equal(y_irregular[0, :3], y_regular[0, :3])  # before the long gap
    assert (y_irregular[0, 3:] - y_regular[0, 3:]).abs().max() > 1e-4


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf")])
def test_invalid_dt_raises(bad: float) -> None:
    model = LTC(S, NCPWiring.paper(seed=0))
    x = torch.randn(2, 3, S)
    dt = torch.ones(2, 3)
    dt[1, 2] = bad
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        model(x, dt=dt)
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        model(x, dt=bad)
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        model.cell(x[:, 0], None, torch.tensor([1.0, bad]))


def test_bad_shapes_raise_one_line_errors() -> None:
    model = LTC(S, NCPWiring.paper(seed=0))
    with pytest.raises(ValueError, match=r"x must be \(B, T, 32\)"):
        model(torch.randn(2, S))
    with pytest.raises(ValueError, match="dt must be a number or a tensor"):
        model(torch.randn(2, 3, S), dt=torch.ones(5))
    with pytest.raises(ValueError, match="does not match the wiring"):
        LTC(16, NCPWiring.paper(seed=0))


def test_episode_start_resets_state_per_sample() -> None:
    model = LTC(S, NCPWiring.paper(seed=0))
    x = torch.randn(2, 10, S)
    start = torch.zeros(2, 10, dtype=torch.bool)
    start[0, 6] = True
    h0 = torch.randn(2, 19) * 0.5
    with torch.no_grad():
        y, _ = model(x, h0=h0, episode_start=start)
        y_fresh, _ = model(x[:, 6:])  # a new episode from zero state
        y_plain, _ = model(x, h0=h0)
    assert torch.allclose(y[0, 6:], y_fresh[0], atol=1e-6)
    assert torch.equal(y[1], y_plain[1])  # the other sample is untouched
    assert not torch.allclose(y[0, 6:], y_plain[0, 6:], atol=1e-4)


def test_int_units_build_a_fully_connected_network() -> None:
    model = LTC(6, 5)
    assert isinstance(model.wiring, Wiring)
    assert model.wiring.synapse_count == 25
    y, h = model(torch.randn(2, 3, 6))
    assert y.shape == (2, 3, 5)
    assert h.shape == (2, 5)
