"""Liquid time-constant (LTC) neurons on a wiring: `LTCCell` (one step) and `LTC` (a sequence).

The equations are those of ncps' `LTCCell` (Hasani et al., AAAI 2021; Lechner et al., 2020):
membrane potentials v (B, N) follow

    cm dv/dt = gleak (vleak - v) + sum_i w_ij sigmoid(sigma_ij (v_i - mu_ij)) (erev_ij - v_j)

(sensory synapses alike, on the mapped input), solved by `ode_unfolds` semi-implicit Euler steps
of size dt / ode_unfolds. w, sensory_w, cm and gleak go through softplus (ncps'
`implicit_param_constraints=True`, its LTC default). Inputs are mapped by `x * input_w + input_b`
and the motor neurons (the first `wiring.n_motor`) by `v * output_w + output_b`.

Parameters are stored densely with ncps' names and shapes, so `from_ncps` copies them one to one;
the computation uses only the wiring's synapses (an edge list).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from lnn_control.liquid.ltc_kernel import LTCUnfold, sequence_inference, step
from lnn_control.liquid.timing import DtLike, dt_sequence, dt_step, reset_state
from lnn_control.liquid.wiring import Wiring

# ncps' initialisation ranges (uniform) for each parameter.
INIT_RANGES: dict[str, tuple[float, float]] = {
    "gleak": (0.001, 1.0),
    "vleak": (-0.2, 0.2),
    "cm": (0.4, 0.6),
    "w": (0.001, 1.0),
    "sigma": (3.0, 8.0),
    "mu": (0.3, 0.8),
    "sensory_w": (0.001, 1.0),
    "sensory_sigma": (3.0, 8.0),
    "sensory_mu": (0.3, 0.8),
}
MAPPINGS = ("affine", "linear", None)
IMPLEMENTATIONS = ("fused", "reference")


class Derived(NamedTuple):
    """Per-synapse tensors derived from the dense parameters (see ltc_kernel for the maths)."""

    G: torch.Tensor  # (N, E)
    b: torch.Tensor  # (E,)
    M: torch.Tensor  # (E, 2N)
    sensory_G: torch.Tensor  # (S, Es)
    sensory_b: torch.Tensor  # (Es,)
    sensory_M: torch.Tensor  # (Es, 2N)
    c_base: torch.Tensor  # (2N,) [gleak * vleak, gleak + eps]
    cm: torch.Tensor  # (N,) positive membrane capacitance
    in_w: torch.Tensor  # (S,) input mapping (ones when there is none)
    in_b: torch.Tensor  # (S,)
    out_w: torch.Tensor  # (motor,) output mapping (ones when there is none)
    out_b: torch.Tensor  # (motor,)


class LTCCell(nn.Module):
    """One LTC step on a wiring: `cell(x_t, h, dt) -> (y_t, h)`.

    Args:
        wiring: the synapses (see `Wiring`); its `n_sensory` must equal the input size.
        ode_unfolds: semi-implicit Euler steps per call (ncps default 6).
        input_mapping, output_mapping: "affine", "linear" or None, as in ncps.
        epsilon: added to the denominator, as in ncps.
    """

    gleak: nn.Parameter
    vleak: nn.Parameter
    cm: nn.Parameter
    sigma: nn.Parameter
    mu: nn.Parameter
    w: nn.Parameter
    sensory_sigma: nn.Parameter
    sensory_mu: nn.Parameter
    sensory_w: nn.Parameter
    src: torch.Tensor  # (E,) source neuron of each synapse
    dst: torch.Tensor  # (E,) target neuron
    src_hot: torch.Tensor  # (N, E) one-hot of src
    dst_hot: torch.Tensor  # (E, N) one-hot of dst
    sensory_src: torch.Tensor
    sensory_dst: torch.Tensor
    sensory_src_hot: torch.Tensor
    sensory_dst_hot: torch.Tensor

    def __init__(
        self,
        wiring: Wiring,
        ode_unfolds: int = 6,
        input_mapping: str | None = "affine",
        output_mapping: str | None = "affine",
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__()
        if input_mapping not in MAPPINGS or output_mapping not in MAPPINGS:
            raise ValueError(f"input/output mapping must be one of {MAPPINGS}")
        if ode_unfolds < 1:
            raise ValueError(f"ode_unfolds must be >= 1, got {ode_unfolds}")
        self.wiring = wiring
        self.ode_unfolds = int(ode_unfolds)
        self.input_mapping = input_mapping
        self.output_mapping = output_mapping
        self.epsilon = float(epsilon)
        s, n, m = wiring.n_sensory, wiring.n_neurons, wiring.n_motor
        for name, shape in (("gleak", (n,)), ("vleak", (n,)), ("cm", (n,))):
            self.register_parameter(name, nn.Parameter(_uniform(shape, name)))
        for name in ("sigma", "mu", "w"):
            self.register_parameter(name, nn.Parameter(_uniform((n, n), name)))
        self.erev = nn.Parameter(torch.tensor(wiring.adjacency, dtype=torch.float32))
        for name in ("sensory_sigma", "sensory_mu", "sensory_w"):
            self.register_parameter(name, nn.Parameter(_uniform((s, n), name)))
        self.sensory_erev = nn.Parameter(
            torch.tensor(wiring.sensory_adjacency, dtype=torch.float32)
        )
        if input_mapping is not None:
            self.input_w = nn.Parameter(torch.ones(s))
        if input_mapping == "affine":
            self.input_b = nn.Parameter(torch.zeros(s))
        if output_mapping is not None:
            self.output_w = nn.Parameter(torch.ones(m))
        if output_mapping == "affine":
            self.output_b = nn.Parameter(torch.zeros(m))
        self._register_edges("", wiring.adjacency)
        self._register_edges("sensory_", wiring.sensory_adjacency)
        self._cache: tuple[tuple[int, ...], Derived] | None = None
        self._step_cache: tuple[Derived, float | torch.Tensor, tuple[torch.Tensor, ...]] | None = (
            None
        )

    def _register_edges(self, prefix: str, adjacency: object) -> None:
        src, dst = torch.nonzero(torch.as_tensor(adjacency) != 0, as_tuple=True)
        rows, cols = torch.as_tensor(adjacency).shape
        self.register_buffer(f"{prefix}src", src, persistent=False)
        self.register_buffer(f"{prefix}dst", dst, persistent=False)
        self.register_buffer(f"{prefix}src_hot", F.one_hot(src, rows).t().float(), persistent=False)
        self.register_buffer(f"{prefix}dst_hot", F.one_hot(dst, cols).float(), persistent=False)

    # ------------------------------------------------------------------ sizes
    @property
    def input_size(self) -> int:
        """Sensory inputs S."""
        return self.wiring.n_sensory

    @property
    def state_size(self) -> int:
        """Neurons N (hidden state size)."""
        return self.wiring.n_neurons

    @property
    def motor_size(self) -> int:
        """Outputs (motor neurons)."""
        return self.wiring.n_motor

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """(B, N) zeros, on the parameters' device and dtype."""
        return self.cm.new_zeros(batch_size, self.state_size)

    # ------------------------------------------------------------------ derived tensors
    def derived(self) -> Derived:
        """Edge-list tensors from the dense parameters; differentiable."""
        sp = F.softplus
        sig, mu = self.sigma[self.src, self.dst], self.mu[self.src, self.dst]
        w = sp(self.w)[self.src, self.dst]
        erev = self.erev[self.src, self.dst]
        s_sig = self.sensory_sigma[self.sensory_src, self.sensory_dst]
        s_mu = self.sensory_mu[self.sensory_src, self.sensory_dst]
        s_w = sp(self.sensory_w)[self.sensory_src, self.sensory_dst]
        s_erev = self.sensory_erev[self.sensory_src, self.sensory_dst]
        gleak = sp(self.gleak)
        return Derived(
            G=self.src_hot * sig,
            b=-(sig * mu),
            M=_num_den_matrix(self.dst_hot, w * erev, w),
            sensory_G=self.sensory_src_hot * s_sig,
            sensory_b=-(s_sig * s_mu),
            sensory_M=_num_den_matrix(self.sensory_dst_hot, s_w * s_erev, s_w),
            c_base=torch.cat([gleak * self.vleak, gleak + self.epsilon]),
            cm=sp(self.cm),
            in_w=self._mapping_param("input_w", self.input_size, 1.0),
            in_b=self._mapping_param("input_b", self.input_size, 0.0),
            out_w=self._mapping_param("output_w", self.motor_size, 1.0),
            out_b=self._mapping_param("output_b", self.motor_size, 0.0),
        )

    def _mapping_param(self, name: str, size: int, default: float) -> torch.Tensor:
        param = self._parameters.get(name)
        return param if param is not None else self.cm.new_full((size,), default)

    def derived_for_inference(self) -> Derived:
        """`derived()`, cached while no parameter changes (for fast stepping without grad)."""
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()):
            return self.derived()
        params = [p for p in self._parameters.values() if p is not None]
        key = tuple(p._version for p in params) + tuple(p.data_ptr() for p in params)
        if self._cache is None or self._cache[0] != key:
            with torch.no_grad():
                self._cache = (key, self.derived())
        return self._cache[1]

    # ------------------------------------------------------------------ mappings
    def map_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """(..., S) raw input -> mapped sensory input."""
        if self.input_mapping == "affine":
            return torch.addcmul(self.input_b, x, self.input_w)
        if self.input_mapping == "linear":
            return x * self.input_w
        return x

    def map_outputs(self, v: torch.Tensor) -> torch.Tensor:
        """(..., N) potentials -> (..., motor) outputs."""
        motor = v[..., : self.motor_size]
        if self.output_mapping == "affine":
            return torch.addcmul(self.output_b, motor, self.output_w)
        if self.output_mapping == "linear":
            return motor * self.output_w
        return motor

    def sensory_drive(self, u: torch.Tensor, d: Derived) -> torch.Tensor:
        """(..., S) mapped input -> (..., 2N) [numerator, denominator] before cm_t."""
        s = torch.sigmoid(F.linear(u, d.sensory_G.t(), d.sensory_b))
        return F.linear(s, d.sensory_M.t(), d.c_base)

    # ------------------------------------------------------------------ one step
    def forward(
        self, x: torch.Tensor, h: torch.Tensor | None = None, dt: DtLike = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        Args:
            x: (B, S) input at this step.
            h: (B, N) state, or None for zeros.
            dt: elapsed time since the previous step: None (1.0), a number, or (B,) per sample.

        Returns:
            y (B, motor) and the new state h (B, N).
        """
        batch = x.shape[0]
        step_dt = dt_step(dt, batch)
        v = self.initial_state(batch) if h is None else h
        return step(x, v, *self.step_constants(step_dt), self.motor_size, self.ode_unfolds)

    def step_constants(self, dt: float | torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tensors `ltc_kernel.ltc_step` needs after (x, v), for elapsed time `dt`.

        Without grad and with a number `dt` they are cached until a parameter or `dt` changes.
        """
        d = self.derived_for_inference()
        cached = self._step_cache
        if cached is not None and cached[0] is d and cached[1] == dt:
            return cached[2]
        n = self.state_size
        constants = (
            d.cm / (dt / self.ode_unfolds),
            d.in_w,
            d.in_b,
            d.sensory_G,
            d.sensory_b,
            d.sensory_M[:, :n].contiguous(),
            d.sensory_M[:, n:].contiguous(),
            d.c_base[:n],
            d.c_base[n:],
            d.G,
            d.b,
            d.M[:, :n].contiguous(),
            d.M[:, n:].contiguous(),
            d.out_w,
            d.out_b,
        )
        if isinstance(dt, float) and self._cache is not None and self._cache[1] is d:
            self._step_cache = (d, dt, constants)
        return constants


class LTC(nn.Module):
    """An LTC network over sequences: `LTC(input_size, wiring)(x, h0, dt) -> (y, h)`.

    Args:
        input_size: features per step C; must equal `wiring.n_sensory`.
        wiring: a `Wiring` (e.g. `NCPWiring.paper()`), or an int N for a fully connected network
            of N neurons whose outputs are all N neurons.
        implementation: "fused" (the fast kernel, default) or "reference" (ncps' equations with
            plain autograd; slow, kept as the test oracle and for reading).
        ode_unfolds, input_mapping, output_mapping, epsilon: see `LTCCell`.
    """

    def __init__(
        self,
        input_size: int,
        wiring: Wiring | int,
        ode_unfolds: int = 6,
        input_mapping: str | None = "affine",
        output_mapping: str | None = "affine",
        epsilon: float = 1e-8,
        implementation: str = "fused",
    ) -> None:
        super().__init__()
        if isinstance(wiring, int):
            wiring = Wiring.fully_connected(input_size, wiring)
        if wiring.n_sensory != input_size:
            raise ValueError(
                f"input_size {input_size} does not match the wiring's {wiring.n_sensory} "
                "sensory inputs; build the wiring with n_sensory=input_size"
            )
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}"
            )
        self.implementation = implementation
        self.cell = LTCCell(wiring, ode_unfolds, input_mapping, output_mapping, epsilon)
        self._hyper = {
            "ode_unfolds": ode_unfolds,
            "input_mapping": input_mapping,
            "output_mapping": output_mapping,
            "epsilon": epsilon,
            "implementation": implementation,
        }

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (the wiring as adjacency matrices)."""
        return {
            "kind": "ltc",
            "input_size": self.cell.input_size,
            "wiring": self.wiring.to_dict(),
            **self._hyper,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LTC:
        """Inverse of `config()`."""
        kwargs = {k: v for k, v in config.items() if k not in ("kind", "input_size", "wiring")}
        return cls(int(config["input_size"]), Wiring.from_dict(config["wiring"]), **kwargs)

    @property
    def wiring(self) -> Wiring:
        """The cell's wiring."""
        return self.cell.wiring

    def forward(
        self,
        x: torch.Tensor,
        h0: torch.Tensor | None = None,
        dt: DtLike = None,
        episode_start: torch.Tensor | None = None,
        return_states: bool = False,
    ) -> tuple[torch.Tensor, ...]:
        """Run a sequence.

        Args:
            x: (B, T, C) inputs.
            h0: (B, N) state before the first step; zeros when None.
            dt: elapsed time per step: None (1.0), a number, (B,) or (B, T).
            episode_start: (B, T) bool; where True the state resets to zeros before that step.
            return_states: also return all states (B, T, N).

        Returns:
            y (B, T, motor), the last state h (B, N) [, states (B, T, N)].
        """
        if x.dim() != 3 or x.shape[-1] != self.cell.input_size:
            raise ValueError(
                f"x must be (B, T, {self.cell.input_size}), got {tuple(x.shape)}; "
                "use LTCCell (model.cell) for single steps"
            )
        B, T, _ = x.shape
        dts = dt_sequence(dt, B, T, device=x.device, dtype=x.dtype)
        v0 = self.cell.initial_state(B) if h0 is None else h0
        if self.implementation == "reference":
            states = self._reference(x, v0, dts, episode_start)
        else:
            states = self._fused(x, v0, dts, episode_start)
        y = self.cell.map_outputs(states)
        return (y, states[:, -1], states) if return_states else (y, states[:, -1])

    def _fused(
        self, x: torch.Tensor, v0: torch.Tensor, dts: torch.Tensor, start: torch.Tensor | None
    ) -> torch.Tensor:
        cell, n = self.cell, self.cell.state_size
        d = cell.derived_for_inference()
        cmt = d.cm / (dts[..., None] / cell.ode_unfolds)  # (B, T, N)
        c2 = cell.sensory_drive(cell.map_inputs(x), d)
        c2 = torch.cat([c2[..., :n], c2[..., n:] + cmt], dim=-1)
        c2_tm, cmt_tm = c2.transpose(0, 1).contiguous(), cmt.transpose(0, 1).contiguous()
        keep = None if start is None else (~start.bool()).to(x.dtype).t()[..., None].contiguous()
        args = (v0, c2_tm, cmt_tm, d.G, d.b, d.M, keep, cell.ode_unfolds)
        if torch.is_grad_enabled() and any(a.requires_grad for a in args[:6]):
            states = LTCUnfold.apply(*args)
        else:
            states = sequence_inference(*args)
        return states.transpose(0, 1)

    def _reference(
        self, x: torch.Tensor, v: torch.Tensor, dts: torch.Tensor, start: torch.Tensor | None
    ) -> torch.Tensor:
        states = []
        for t in range(x.shape[1]):
            if start is not None:
                v = reset_state(v, start[:, t])
            v = ltc_reference_step(self.cell, x[:, t], v, dts[:, t : t + 1])
            states.append(v)
        return torch.stack(states, dim=1)


def ltc_reference_step(
    cell: LTCCell, x: torch.Tensor, v: torch.Tensor, dt: torch.Tensor | float
) -> torch.Tensor:
    """ncps' dense LTC update, written out plainly (the oracle for the fused kernel).

    x (B, S) raw input, v (B, N) state, dt a number or (B, 1). Returns the new state (B, N).
    """
    sp = F.softplus
    u = cell.map_inputs(x)
    s_act = sp(cell.sensory_w) * torch.sigmoid(
        cell.sensory_sigma * (u[..., None] - cell.sensory_mu)
    )
    s_act = s_act * _mask(cell.wiring.sensory_adjacency, x)
    num_s, den_s = (s_act * cell.sensory_erev).sum(1), s_act.sum(1)
    cm_t = sp(cell.cm) / (dt / cell.ode_unfolds)
    gleak = sp(cell.gleak)
    mask = _mask(cell.wiring.adjacency, x)
    for _ in range(cell.ode_unfolds):
        act = sp(cell.w) * torch.sigmoid(cell.sigma * (v[..., None] - cell.mu)) * mask
        num = cm_t * v + gleak * cell.vleak + (act * cell.erev).sum(1) + num_s
        den = cm_t + gleak + act.sum(1) + den_s
        v = num / (den + cell.epsilon)
    return v


def _mask(adjacency: object, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(adjacency, device=like.device).abs().to(like.dtype)


def _num_den_matrix(dst_hot: torch.Tensor, num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """(E, 2N): row e holds num_e at column dst_e and den_e at column N + dst_e."""
    return torch.cat([dst_hot * num[:, None], dst_hot * den[:, None]], dim=1)


def _uniform(shape: tuple[int, ...], name: str) -> torch.Tensor:
    low, high = INIT_RANGES[name]
    return torch.rand(*shape) * (high - low) + low
