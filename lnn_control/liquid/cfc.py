"""Closed-form continuous-time (CfC) neurons: `CfCCell` (one step) and `CfC` (a sequence).

The CfC of Hasani et al. (Nature Machine Intelligence 2022), as in ncps' `CfCCell`. From
z = backbone([x, h]) four heads give ff1, ff2, time_a, time_b and, with elapsed time t:

    default:  h' = tanh(ff1) (1 - sigma(t_a t + t_b)) + sigma(t_a t + t_b) tanh(ff2)
    no_gate:  h' = tanh(ff1) + sigma(t_a t + t_b) tanh(ff2)
    pure:     h' = -A exp(-t (|w_tau| + |ff1|)) ff1 + A          (ff1 only, no tanh)

Fully connected (`units` an int): a backbone MLP (lecun_tanh by default) feeds the heads, and the
output is the whole state. Wired (`units` a `Wiring`): no backbone, and every head weight is
masked by the wiring, so neuron j reads sensory input i only through a sensory synapse i -> j and
neuron i only through a synapse i -> j (recurrent command synapses included) or, with
`self_connections=True` (default), its own state. The output is the motor neurons. Unlike ncps'
wired CfC, which updates the inter, command and motor layers one after another and gives each
layer all-to-all recurrence, this cell updates all neurons at once from the previous state, so
information flows only along the drawn synapses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from lnn_control.liquid.timing import DtLike, dt_sequence, dt_step, reset_state
from lnn_control.liquid.wiring import Wiring

MODES = ("default", "no_gate", "pure")
LECUN_GAIN, LECUN_SLOPE = 1.7159, 0.666  # LeCun et al. (1998) scaled tanh, as in ncps


def lecun_tanh(x: torch.Tensor) -> torch.Tensor:
    """1.7159 tanh(0.666 x)."""
    return LECUN_GAIN * torch.tanh(LECUN_SLOPE * x)


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "lecun_tanh": lecun_tanh,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "silu": F.silu,
    "gelu": F.gelu,
}


class CfCCell(nn.Module):
    """One CfC step: `cell(x_t, h, dt) -> (y_t, h)`.

    Args:
        input_size: features per step S.
        units: hidden size N (fully connected) or a `Wiring` (wired, masked heads).
        mode: "default", "no_gate" or "pure".
        backbone_units, backbone_layers, backbone_dropout: the MLP before the heads (fully
            connected only; defaults 128 units, 1 layer, no dropout, as in ncps).
        activation: backbone activation, one of ACTIVATIONS.
        self_connections: wired only; each neuron also reads its own state.
    """

    mask: torch.Tensor | None
    w_tau: nn.Parameter
    A: nn.Parameter

    def __init__(
        self,
        input_size: int,
        units: int | Wiring,
        mode: str = "default",
        backbone_units: int | None = None,
        backbone_layers: int | None = None,
        backbone_dropout: float | None = None,
        activation: str = "lecun_tanh",
        self_connections: bool = True,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.wiring = units if isinstance(units, Wiring) else None
        if self.wiring is not None:
            if (backbone_units, backbone_layers, backbone_dropout) != (None, None, None):
                raise ValueError("a wired CfC has no backbone: leave backbone_* unset")
            if self.wiring.n_sensory != input_size:
                raise ValueError(
                    f"input_size {input_size} does not match the wiring's "
                    f"{self.wiring.n_sensory} sensory inputs"
                )
        n = self.wiring.n_neurons if self.wiring is not None else int(units)  # type: ignore[arg-type]
        self.input_size, self.state_size, self.mode = input_size, n, mode
        self.motor_size = self.wiring.n_motor if self.wiring is not None else n
        self.activation = activation
        layers = (
            0 if self.wiring is not None else (1 if backbone_layers is None else backbone_layers)
        )
        width = 128 if backbone_units is None else backbone_units
        self.dropout = 0.0 if backbone_dropout is None else float(backbone_dropout)
        sizes = [input_size + n] + [width] * layers
        self.backbone = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        n_heads = 1 if mode == "pure" else 4
        self.heads = nn.Linear(sizes[-1], n_heads * n)  # rows: ff1 | ff2 | time_a | time_b
        if mode == "pure":
            self.w_tau = nn.Parameter(torch.zeros(n))
            self.A = nn.Parameter(torch.ones(n))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.xavier_uniform_(p)
        mask = None if self.wiring is None else _head_mask(self.wiring, self_connections, n_heads)
        self.register_buffer("mask", mask, persistent=False)

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """(B, N) zeros on the parameters' device and dtype."""
        return self.heads.weight.new_zeros(batch_size, self.state_size)

    def head_weight(self) -> torch.Tensor:
        """The heads' weight with the wiring mask applied (unmasked when fully connected)."""
        return self.heads.weight if self.mask is None else self.heads.weight * self.mask

    def first_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of the layer that reads [x, h]: backbone[0], or the heads if none."""
        if len(self.backbone) > 0:
            first = cast(nn.Linear, self.backbone[0])
            return first.weight, first.bias
        return self.head_weight(), self.heads.bias

    def after_first(
        self, a: torch.Tensor, ts: torch.Tensor | float, head_w: torch.Tensor
    ) -> torch.Tensor:
        """From the first layer's pre-activation a (B, H) to the new state (B, N)."""
        if len(self.backbone) > 0:
            act = ACTIVATIONS[self.activation]
            z = act(a)
            for layer in list(self.backbone)[1:]:
                z = act(layer(z))
                if self.dropout > 0:
                    z = F.dropout(z, self.dropout, self.training)
            a = F.linear(z, head_w, self.heads.bias)
        return self.gate(a, ts)

    def gate(self, heads: torch.Tensor, ts: torch.Tensor | float) -> torch.Tensor:
        """The closed-form solution from head outputs (B, kN) and elapsed time ts."""
        n = self.state_size
        if self.mode == "pure":
            decay = torch.exp(-ts * (self.w_tau.abs() + heads.abs()))
            return -self.A * decay * heads + self.A
        ff = torch.tanh(heads[:, : 2 * n])
        ff1, ff2 = ff[:, :n], ff[:, n:]
        t_a, t_b = heads[:, 2 * n : 3 * n], heads[:, 3 * n :]
        if isinstance(ts, torch.Tensor):
            t_interp = torch.sigmoid(torch.addcmul(t_b, t_a, ts))
        else:
            t_interp = torch.sigmoid(torch.add(t_b, t_a, alpha=ts))
        if self.mode == "no_gate":
            return torch.addcmul(ff1, t_interp, ff2)
        return ff1 * (1.0 - t_interp) + t_interp * ff2

    def forward(
        self, x: torch.Tensor, h: torch.Tensor | None = None, dt: DtLike = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: x (B, S), h (B, N) or None, dt None/number/(B,). Returns y (B, motor), h."""
        ts = dt_step(dt, x.shape[0])
        h = self.initial_state(x.shape[0]) if h is None else h
        w, bias = self.first_layer()
        a = F.linear(torch.cat([x, h], dim=1), w, bias)
        h = self.after_first(a, ts, self.head_weight())
        return h[:, : self.motor_size], h


class CfC(nn.Module):
    """A CfC network over sequences: `CfC(input_size, units)(x, h0, dt) -> (y, h)`.

    Arguments are those of `CfCCell`. The input half of the first layer is applied to all steps
    at once; the loop does only the recurrent half.
    """

    def __init__(self, input_size: int, units: int | Wiring, **cell_kwargs: object) -> None:
        super().__init__()
        self.cell = CfCCell(input_size, units, **cell_kwargs)  # type: ignore[arg-type]
        self._units = units.to_dict() if isinstance(units, Wiring) else int(units)
        self._kwargs = dict(cell_kwargs)

    @property
    def wiring(self) -> Wiring | None:
        """The wiring of a wired CfC; None when fully connected."""
        return self.cell.wiring

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments."""
        return {
            "kind": "cfc",
            "input_size": self.cell.input_size,
            "units": self._units,
            **self._kwargs,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CfC:
        """Inverse of `config()`."""
        units = config["units"]
        kwargs = {k: v for k, v in config.items() if k not in ("kind", "input_size", "units")}
        wired = Wiring.from_dict(units) if isinstance(units, dict) else int(units)
        return cls(int(config["input_size"]), wired, **kwargs)

    def forward(
        self,
        x: torch.Tensor,
        h0: torch.Tensor | None = None,
        dt: DtLike = None,
        episode_start: torch.Tensor | None = None,
        return_states: bool = False,
    ) -> tuple[torch.Tensor, ...]:
        """x (B, T, S); h0 (B, N); dt None/number/(B,)/(B, T); episode_start (B, T) bool resets
        the state to zeros before that step. Returns y (B, T, motor), h (B, N) [, states]."""
        cell = self.cell
        if x.dim() != 3 or x.shape[-1] != cell.input_size:
            raise ValueError(f"x must be (B, T, {cell.input_size}), got {tuple(x.shape)}")
        B, T, S = x.shape
        dts = dt_sequence(dt, B, T, device=x.device, dtype=x.dtype)
        h = cell.initial_state(B) if h0 is None else h0
        w, bias = cell.first_layer()
        head_w = cell.head_weight()
        pre = F.linear(x, w[:, :S], bias)  # (B, T, H): input part of the first layer
        w_h = w[:, S:].t()
        states = []
        for t in range(T):
            if episode_start is not None:
                h = reset_state(h, episode_start[:, t])
            h = cell.after_first(torch.addmm(pre[:, t], h, w_h), dts[:, t : t + 1], head_w)
            states.append(h)
        hs = torch.stack(states, dim=1)
        y = hs[..., : cell.motor_size]
        return (y, h, hs) if return_states else (y, h)


def _head_mask(wiring: Wiring, self_connections: bool, n_heads: int) -> torch.Tensor:
    """(n_heads N, S + N) 0/1 mask: row j of each head reads only j's presynaptic partners."""
    recurrent = torch.as_tensor(wiring.adjacency != 0, dtype=torch.float32)
    if self_connections:
        recurrent = torch.clamp(recurrent + torch.eye(wiring.n_neurons), max=1.0)
    sensory = torch.as_tensor(wiring.sensory_adjacency != 0, dtype=torch.float32)
    per_head = torch.cat([sensory, recurrent], dim=0).t()  # (N, S + N)
    return per_head.repeat(n_heads, 1)
