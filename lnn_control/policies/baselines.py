"""The NCP paper's baselines behind the same conv head and `Policy` interface.

| kind    | core after the head                                      | state (B, S)        |
|---------|----------------------------------------------------------|---------------------|
| "cnn"   | MLP 32 -> 64 -> A (feedforward, ignores dt)              | S = 0               |
| "lstm"  | LSTM-64 -> linear readout                                | S = 128, [h, c]     |
| "gru"   | GRU-64 -> linear readout                                 | S = 64              |
| "ctrnn" | CT-RNN-64 (learnable tau, Euler unfolds honour dt)       | S = 64              |
| "cfc"   | fully connected CfC-64 (`lnn_control.liquid.CfC`)        | S = 64              |

LSTM and GRU are discrete-time: they ignore dt (as in the paper). Episode resets inside a
sequence split it at the reset steps, so each piece still runs as one fused `nn.LSTM`/`nn.GRU`.
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from lnn_control.liquid import CfC, reset_state
from lnn_control.policies.base import NOMINAL_DT_S, ImageShape, Policy, seeded
from lnn_control.policies.ctrnn import CTRNN, ODE_UNFOLDS
from lnn_control.policies.perception import DEFAULT_IMAGE_SHAPE

HIDDEN_SIZE = 64

RnnFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def run_in_segments(
    run: RnnFn, x: torch.Tensor, state: torch.Tensor, episode_start: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `run(x_piece, state) -> (out, state)` over pieces of x (B, T, F) cut at resets.

    The sequence is cut before every step where any sample starts an episode; there the state of
    those samples is reset to zeros (`lnn_control.liquid.reset_state`). Returns (B, T, H), state.
    """
    if episode_start is None:
        return run(x, state)
    cuts = (torch.nonzero(episode_start[:, 1:].any(dim=0)).flatten() + 1).tolist()
    outs = []
    for a, b in itertools.pairwise([0, *cuts, x.shape[1]]):
        state = reset_state(state, episode_start[:, a])
        out, state = run(x[:, a:b], state)
        outs.append(out)
    return torch.cat(outs, dim=1), state


class _BaselinePolicy(Policy):
    """Shared constructor: head, then a core built by `build_core` under the policy's seed."""

    def __init__(
        self,
        kind: str,
        image_shape: ImageShape,
        action_dim: int,
        seed: int,
        nominal_dt_s: float,
        head: dict[str, Any] | None,
        hidden_size: int,
    ) -> None:
        super().__init__(kind, image_shape, action_dim, seed, nominal_dt_s, head)
        if hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size}")
        self.hidden_size = int(hidden_size)
        with seeded(self.seed):
            self.build_core(self.head.features_dim)
            self.readout = nn.Linear(self.hidden_size, self.action_dim)

    @abstractmethod
    def build_core(self, features_dim: int) -> None:
        """Create the recurrent modules (the readout is added after)."""

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size": H}."""
        return {"hidden_size": self.hidden_size}


class FeedforwardPolicy(_BaselinePolicy):
    """Head -> MLP (F -> H, ReLU) -> readout. No state; ignores dt and resets."""

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
    ) -> None:
        super().__init__("cnn", image_shape, action_dim, seed, nominal_dt_s, head, hidden_size)

    def build_core(self, features_dim: int) -> None:
        """One hidden ReLU layer."""
        self.mlp = nn.Sequential(nn.Linear(features_dim, self.hidden_size), nn.ReLU())

    @property
    def state_size(self) -> int:
        """0: feedforward."""
        return 0

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) -> (B, T, A) pre-squash; the (B, 0) state passes through."""
        return self.readout(self.mlp(features)), state


class LSTMPolicy(_BaselinePolicy):
    """Head -> LSTM-H -> readout. State (B, 2H): h and c side by side."""

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
    ) -> None:
        super().__init__("lstm", image_shape, action_dim, seed, nominal_dt_s, head, hidden_size)

    def build_core(self, features_dim: int) -> None:
        """One `nn.LSTM` layer."""
        self.rnn = nn.LSTM(features_dim, self.hidden_size, batch_first=True)

    @property
    def state_size(self) -> int:
        """2H: [h, c]."""
        return 2 * self.hidden_size

    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state.split(self.hidden_size, dim=1)
        out, (h_n, c_n) = self.rnn(x, (h[None].contiguous(), c[None].contiguous()))
        return out, torch.cat([h_n[0], c_n[0]], dim=1)

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) -> (B, T, A) pre-squash, (B, 2H). Ignores dt (discrete time)."""
        out, state = run_in_segments(self._run, features, state, episode_start)
        return self.readout(out), state


class GRUPolicy(_BaselinePolicy):
    """Head -> GRU-H -> readout. State (B, H)."""

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
    ) -> None:
        super().__init__("gru", image_shape, action_dim, seed, nominal_dt_s, head, hidden_size)

    def build_core(self, features_dim: int) -> None:
        """One `nn.GRU` layer."""
        self.rnn = nn.GRU(features_dim, self.hidden_size, batch_first=True)

    @property
    def state_size(self) -> int:
        """H."""
        return self.hidden_size

    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, h_n = self.rnn(x, state[None].contiguous())
        return out, h_n[0]

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) -> (B, T, A) pre-squash, (B, H). Ignores dt (discrete time)."""
        out, state = run_in_segments(self._run, features, state, episode_start)
        return self.readout(out), state


class CTRNNPolicy(_BaselinePolicy):
    """Head -> CT-RNN-H (see `ctrnn.CTRNN`, honours dt) -> readout. State (B, H)."""

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
        ode_unfolds: int = ODE_UNFOLDS,
    ) -> None:
        self.ode_unfolds = int(ode_unfolds)
        super().__init__("ctrnn", image_shape, action_dim, seed, nominal_dt_s, head, hidden_size)

    def build_core(self, features_dim: int) -> None:
        """The CT-RNN."""
        self.rnn = CTRNN(features_dim, self.hidden_size, self.ode_unfolds)

    @property
    def state_size(self) -> int:
        """H."""
        return self.hidden_size

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size", "ode_unfolds"}."""
        return {"hidden_size": self.hidden_size, "ode_unfolds": self.ode_unfolds}

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F), dt (B, T) nominal steps -> (B, T, A) pre-squash, (B, H)."""
        states, last = self.rnn(features, state, dt, episode_start)
        return self.readout(states), last


class CfCPolicy(_BaselinePolicy):
    """Head -> fully connected CfC-H (ncps' backbone MLP, honours dt) -> readout. State (B, H).

    `cell_kwargs` go to `lnn_control.liquid.CfC` (e.g. mode, backbone_units).
    """

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
        **cell_kwargs: Any,
    ) -> None:
        self.cell_kwargs = dict(cell_kwargs)
        super().__init__("cfc", image_shape, action_dim, seed, nominal_dt_s, head, hidden_size)

    def build_core(self, features_dim: int) -> None:
        """The fully connected CfC."""
        self.rnn = CfC(features_dim, self.hidden_size, **self.cell_kwargs)

    @property
    def state_size(self) -> int:
        """H."""
        return self.hidden_size

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size", **cell_kwargs}."""
        return {"hidden_size": self.hidden_size, **self.cell_kwargs}

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F), dt (B, T) nominal steps -> (B, T, A) pre-squash, (B, H)."""
        states, last = self.rnn(features, state, dt=dt, episode_start=episode_start)[:2]
        return self.readout(states), last
