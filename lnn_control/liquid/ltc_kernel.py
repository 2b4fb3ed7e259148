"""The fused LTC time loop: the recurrent ODE unfolds as one autograd node with a derived backward.

The LTC of ncps spends its time in the time loop: per step and per unfold it builds (B, N, N)
tensors and records a dozen autograd nodes. Here the synapses are an edge list, the sensory part
(which depends only on the input) is computed for all steps at once by the caller, and the loop
below runs with autograd off, five small ATen calls per unfold, writing into preallocated
buffers. Its backward is derived by hand and runs the loop in reverse; the parameter gradients are
then a few large matrix products over all steps at once. The loops are compiled with TorchScript
when it is available (it removes most of the Python overhead per call) and run as plain Python
otherwise; both give the same numbers. `gradcheck` tests the backward against autograd.

Per step t (time-major), with `v` the membrane potentials (B, N) and for each of U unfolds:

    x   = v @ G + b                     (B, E)   G[src_e, e] = sigma_e, b_e = -sigma_e * mu_e
    s   = sigmoid(x)                    (B, E)
    nd  = c2_t + s @ M                  (B, 2N)  M[e, dst_e] = w_e * erev_e, M[e, N + dst_e] = w_e
    v  <- (nd[:, :N] + cm_t * v) / nd[:, N:]

where c2_t = [gleak * vleak + sensory numerator, gleak + sensory denominator + eps + cm_t] and
cm_t = cm / (dt / U). This is exactly the semi-implicit Euler update of ncps' LTCCell.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import torch

_F = TypeVar("_F", bound=Callable[..., Any])


def ltc_unfold(
    v: torch.Tensor,
    c2_t: torch.Tensor,
    cm_t: torch.Tensor,
    G: torch.Tensor,
    b: torch.Tensor,
    M: torch.Tensor,
    unfolds: int,
) -> torch.Tensor:
    """One control step: `unfolds` semi-implicit Euler updates of v (B, N). Differentiable.

    c2_t (B, 2N) and cm_t (B, N) or (N,) are the step's constants (see the module docstring).
    """
    n = v.size(1)
    for _ in range(unfolds):
        s = torch.addmm(b, v, G).sigmoid_()
        nd = torch.addmm(c2_t, s, M)
        v = torch.addcmul(nd[:, :n], cm_t, v).div_(nd[:, n:])
    return v


def ltc_step(
    x: torch.Tensor,
    v: torch.Tensor,
    cm_t: torch.Tensor,
    in_w: torch.Tensor,
    in_b: torch.Tensor,
    sensory_G: torch.Tensor,
    sensory_b: torch.Tensor,
    sensory_M_num: torch.Tensor,
    sensory_M_den: torch.Tensor,
    c_num: torch.Tensor,
    c_den: torch.Tensor,
    G: torch.Tensor,
    b: torch.Tensor,
    M_num: torch.Tensor,
    M_den: torch.Tensor,
    out_w: torch.Tensor,
    out_b: torch.Tensor,
    motor: int,
    unfolds: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole cell step for x (B, S), v (B, N), cm_t = cm / (dt / U) as (B, N) or (N,).

    The numerator and denominator halves of M (and of the sensory M and c_base) come split and
    contiguous, which saves two slicing calls per unfold at batch 1. Returns (y (B, motor),
    v (B, N)). Differentiable; this is what a robot runs per frame.
    """
    u = torch.addcmul(in_b, x, in_w)
    s = torch.addmm(sensory_b, u, sensory_G).sigmoid_()
    num0 = torch.addmm(c_num, s, sensory_M_num)
    den0 = torch.addmm(c_den, s, sensory_M_den).add_(cm_t)
    for _ in range(unfolds):
        s = torch.addmm(b, v, G).sigmoid_()
        v = torch.addmm(num0, s, M_num).addcmul_(cm_t, v).div_(torch.addmm(den0, s, M_den))
    return torch.addcmul(out_b, v[:, :motor], out_w), v


def ltc_sequence_inference(
    v: torch.Tensor,
    c2: torch.Tensor,
    cmt: torch.Tensor,
    G: torch.Tensor,
    b: torch.Tensor,
    M: torch.Tensor,
    keep: torch.Tensor | None,
    unfolds: int,
) -> torch.Tensor:
    """All steps without saving anything for backward; returns the states (T, B, N).

    Shapes: v (B, N); c2 (T, B, 2N); cmt (T, B, N); keep (T, B, 1), 0 where the state resets
    to zero before step t, or None.
    """
    out = torch.empty(c2.size(0), v.size(0), v.size(1), dtype=v.dtype, device=v.device)
    for t in range(c2.size(0)):
        if keep is not None:
            v = v * keep[t]
        v = ltc_unfold(v, c2[t], cmt[t], G, b, M, unfolds)
        out[t].copy_(v)
    return out


def ltc_forward_loop(
    v0: torch.Tensor,
    c2: torch.Tensor,
    cmt: torch.Tensor,
    G: torch.Tensor,
    b: torch.Tensor,
    M: torch.Tensor,
    keep: torch.Tensor | None,
    VS: torch.Tensor,
    S: torch.Tensor,
    ND: torch.Tensor,
) -> None:
    """The loop, saving what backward needs into preallocated buffers.

    VS (T, U+1, B, N): the state entering each unfold, and the step's result at index U;
    S (T, U, B, E): synapse activations; ND (T, U, B, 2N): numerator | denominator.
    """
    n, U = v0.size(1), S.size(1)
    v = v0
    for t in range(c2.size(0)):
        vs_t, s_t, nd_t, c2_t, cm_t = VS[t], S[t], ND[t], c2[t], cmt[t]
        if keep is not None:
            torch.mul(v, keep[t], out=vs_t[0])
        else:
            vs_t[0].copy_(v)
        v = vs_t[0]
        for k in range(U):
            s = torch.addmm(b, v, G, out=s_t[k]).sigmoid_()
            nd = torch.addmm(c2_t, s, M, out=nd_t[k])
            v = torch.addcmul(nd[:, :n], cm_t, v, out=vs_t[k + 1]).div_(nd[:, n:])


def ltc_backward_loop(
    g_hs: torch.Tensor,
    VS: torch.Tensor,
    ND: torch.Tensor,
    DS: torch.Tensor,
    cmt: torch.Tensor,
    m_signed: torch.Tensor,
    g_t: torch.Tensor,
    keep: torch.Tensor | None,
    GND: torch.Tensor,
    GX: torch.Tensor,
) -> torch.Tensor:
    """The loop in reverse. Fills GND ([g_num, g_num * v'], den half still to negate) and GX
    (grad wrt x) for all steps and unfolds; returns the grad wrt the initial state (B, N).

    m_signed is M^T with its denominator rows negated; g_t is G^T; DS = s (1 - s).
    """
    n, U = VS.size(-1), DS.size(1)
    g = torch.zeros_like(g_hs[0])
    for t in range(g_hs.size(0) - 1, -1, -1):
        g = g + g_hs[t]
        vs_t, nd_t, ds_t, gnd_t, gx_t, cm_t = VS[t], ND[t], DS[t], GND[t], GX[t], cmt[t]
        for k in range(U - 1, -1, -1):
            gnd = gnd_t[k]
            g_num = torch.div(g, nd_t[k][:, n:], out=gnd[:, :n])
            torch.mul(g_num, vs_t[k + 1], out=gnd[:, n:])
            gx = torch.mul(torch.mm(gnd, m_signed), ds_t[k], out=gx_t[k])
            g = torch.mm(gx, g_t).addcmul_(g_num, cm_t)
        if keep is not None:
            g = g * keep[t]
    return g


def _compile(fn: _F) -> _F:
    """TorchScript `fn` when this torch still supports it; otherwise the plain Python function."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(fn)
    except Exception:  # TorchScript removed or unable to compile: Python gives the same numbers
        return fn


PYTHON: dict[str, Callable[..., Any]] = {
    "step": ltc_step,
    "inference": ltc_sequence_inference,
    "forward": ltc_forward_loop,
    "backward": ltc_backward_loop,
}
COMPILED = {name: _compile(fn) for name, fn in PYTHON.items()}
_loops: dict[str, Any] = COMPILED


def use_torchscript(enabled: bool) -> None:
    """Switch the loops between TorchScript (default where available) and plain Python."""
    global _loops
    _loops = COMPILED if enabled else PYTHON


def step(*args: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """`ltc_step` through the active implementation (TorchScript or Python).

    While tracing (ONNX export) the Python version runs, so the unfolds are unrolled into plain
    graph operations rather than a TorchScript loop.
    """
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        return ltc_step(*args)
    return _loops["step"](*args)


def sequence_inference(
    v: torch.Tensor,
    c2: torch.Tensor,
    cmt: torch.Tensor,
    G: torch.Tensor,
    b: torch.Tensor,
    M: torch.Tensor,
    keep: torch.Tensor | None,
    unfolds: int,
) -> torch.Tensor:
    """`ltc_sequence_inference` through the active implementation."""
    return _loops["inference"](v, c2, cmt, G, b, M, keep, unfolds)


class LTCUnfold(torch.autograd.Function):
    """Autograd node for the whole LTC time loop. See the module docstring for the maths.

    Inputs: v0 (B, N), c2 (T, B, 2N), cmt (T, B, N), G (N, E), b (E,), M (E, 2N),
    keep (T, B, 1) or None, unfolds. Output: states (T, B, N).
    """

    @staticmethod
    def forward(
        ctx: Any,
        v0: torch.Tensor,
        c2: torch.Tensor,
        cmt: torch.Tensor,
        G: torch.Tensor,
        b: torch.Tensor,
        M: torch.Tensor,
        keep: torch.Tensor | None,
        unfolds: int,
    ) -> torch.Tensor:
        T, B, n2 = c2.shape
        VS = v0.new_empty(T, unfolds + 1, B, n2 // 2)
        S = v0.new_empty(T, unfolds, B, b.shape[0])
        ND = v0.new_empty(T, unfolds, B, n2)
        _loops["forward"](v0, c2, cmt, G, b, M, keep, VS, S, ND)
        ctx.has_keep = keep is not None
        ctx.save_for_backward(VS, S, ND, cmt, G, M, *([keep] if keep is not None else []))
        return VS[:, unfolds].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g_hs: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        VS, S, ND, cmt, G, M, *rest = ctx.saved_tensors
        keep = rest[0] if ctx.has_keep else None
        n, e, U = VS.shape[-1], S.shape[-1], S.shape[1]
        GND, GX = torch.empty_like(ND), torch.empty_like(S)
        DS = torch.addcmul(S, S, S, value=-1.0)  # sigmoid'(x) = s (1 - s)
        m_signed = M.t().contiguous()
        m_signed[n:].neg_()  # [g_num, g_num v'] @ m_signed = g_num M_num^T + g_den M_den^T
        g_v0 = _loops["backward"](
            g_hs.contiguous(), VS, ND, DS, cmt, m_signed, G.t().contiguous(), keep, GND, GX
        )
        GND[..., n:].neg_()
        v_in = VS[:, :U]
        need = ctx.needs_input_grad
        g_c2 = GND.sum(1) if need[1] else None
        g_cmt = (GND[..., :n] * v_in).sum(1) if need[2] else None
        g_G = v_in.reshape(-1, n).t() @ GX.reshape(-1, e) if need[3] else None
        g_b = GX.sum((0, 1, 2)) if need[4] else None
        g_M = S.reshape(-1, e).t() @ GND.reshape(-1, 2 * n) if need[5] else None
        return g_v0 if need[0] else None, g_c2, g_cmt, g_G, g_b, g_M, None, None
