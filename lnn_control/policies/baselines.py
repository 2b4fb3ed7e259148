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
from typing import Any, ClassVar

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
    """Shared constructor and core: head, then `recur` (built by `build_core` under the policy's
    seed), then a linear readout to the action. Subclasses set KIND and implement both."""

    KIND: ClassVar[str]

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        hidden_size: int = HIDDEN_SIZE,
    ) -> None:
        super().__init__(self.KIND, image_shape, action_dim, seed, nominal_dt_s, head)
        if hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size}")
        self.hidden_size = int(hidden_size)
        with seeded(self.seed):
            self.build_core(self.head.features_dim)
            self.readout = nn.Linear(self.hidden_size, self.action_dim)

    @abstractmethod
    def build_core(self, features_dim: int) -> None:
        """Create the recurrent modules (the readout is added after)."""

    @abstractmethod
    def recur(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F), dt (B, T) nominal steps -> hidden outputs (B, T, H), last state (B, S)."""

    @property
    def state_size(self) -> int:
        """H (the LSTM and the feedforward CNN override this)."""
        return self.hidden_size

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size": H}."""
        return {"hidden_size": self.hidden_size}

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) -> (B, T, A) pre-squash, last state."""
        out, state = self.recur(features, dt, episode_start, state)
        return self.readout(out), state


class FeedforwardPolicy(_BaselinePolicy):
    """Head -> MLP (F -> H, ReLU) -> readout. No state; ignores dt and resets."""

    KIND = "cnn"

    def build_core(self, features_dim: int) -> None:
        """One hidden ReLU layer."""
        self.mlp = nn.Sequential(nn.Linear(features_dim, self.hidden_size), nn.ReLU())

    @property
    def state_size(self) -> int:
        """0: feedforward."""
        return 0

    def recur(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The MLP per frame; the (B, 0) state passes through."""
        return self.mlp(features), state


class _DiscreteRNNPolicy(_BaselinePolicy):
    """LSTM and GRU: discrete time (dt is ignored, as in the paper); sequences are cut at
    episode resets so that each piece runs as one fused torch RNN call."""

    @abstractmethod
    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One uninterrupted piece: x (B, T, F), state (B, S) -> (B, T, H), (B, S)."""

    def recur(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Ignores dt."""
        return run_in_segments(self._run, features, state, episode_start)


class LSTMPolicy(_DiscreteRNNPolicy):
    """Head -> LSTM-H -> readout. State (B, 2H): h and c side by side."""

    KIND = "lstm"

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


class GRUPolicy(_DiscreteRNNPolicy):
    """Head -> GRU-H -> readout. State (B, H)."""

    KIND = "gru"

    def build_core(self, features_dim: int) -> None:
        """One `nn.GRU` layer."""
        self.rnn = nn.GRU(features_dim, self.hidden_size, batch_first=True)

    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, h_n = self.rnn(x, state[None].contiguous())
        return out, h_n[0]


class CTRNNPolicy(_BaselinePolicy):
    """Head -> CT-RNN-H (see `ctrnn.CTRNN`, honours dt) -> readout. State (B, H)."""

    KIND = "ctrnn"

    def __init__(self, *args: Any, ode_unfolds: int = ODE_UNFOLDS, **kwargs: Any) -> None:
        self.ode_unfolds = int(ode_unfolds)
        super().__init__(*args, **kwargs)

    def build_core(self, features_dim: int) -> None:
        """The CT-RNN."""
        self.rnn = CTRNN(features_dim, self.hidden_size, self.ode_unfolds)

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size", "ode_unfolds"}."""
        return {"hidden_size": self.hidden_size, "ode_unfolds": self.ode_unfolds}

    def recur(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Integrates over dt."""
        out, last = self.rnn(features, state, dt, episode_start)
        return out, last


class CfCPolicy(_BaselinePolicy):
    """Head -> fully connected CfC-H (ncps' backbone MLP, honours dt) -> readout. State (B, H).

    `cell_kwargs` go to `lnn_control.liquid.CfC` (e.g. mode, backbone_units).
    """

    KIND = "cfc"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        base = ("image_shape", "action_dim", "seed", "nominal_dt_s", "head", "hidden_size")
        self.cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k not in base}
        super().__init__(*args, **kwargs)

    def build_core(self, features_dim: int) -> None:
        """The fully connected CfC."""
        self.rnn = CfC(features_dim, self.hidden_size, **self.cell_kwargs)

    def rnn_config(self) -> dict[str, Any]:
        """{"hidden_size", **cell_kwargs}."""
        return {"hidden_size": self.hidden_size, **self.cell_kwargs}

    def recur(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Integrates over dt."""
        out, last = self.rnn(features, state, dt=dt, episode_start=episode_start)[:2]
        return out, last
