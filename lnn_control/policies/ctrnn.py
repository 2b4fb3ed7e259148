"""A continuous-time RNN (CT-RNN), the NCP paper's continuous-time baseline.

    dh/dt = (-h + tanh(W x + U h + b)) / tau,       tau = tau_min + softplus(tau_raw) > 0

Each step of elapsed time `dt` (nominal steps) is solved by `ode_unfolds` Euler steps of
dt / ode_unfolds, semi-implicit in the leak (as the LTC solver does):

    h <- (h + s tanh(W x + U h + b)) / (1 + s),     s = (dt / ode_unfolds) / tau

which is stable for any dt > 0 (explicit Euler diverges once s > 2, e.g. after a frame drop).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lnn_control.liquid import reset_state

ODE_UNFOLDS = 6
TAU_MIN_STEPS = 0.1
"""Smallest time constant, in nominal steps."""
TAU_INIT_STEPS = 1.0
"""Initial time constant of every neuron, in nominal steps."""


class CTRNN(nn.Module):
    """CT-RNN over sequences: `CTRNN(input_size, hidden_size)(x, h0, dt, episode_start)`.

    Args:
        input_size: features per step I.
        hidden_size: neurons H.
        ode_unfolds: Euler steps per input step.
    """

    def __init__(self, input_size: int, hidden_size: int, ode_unfolds: int = ODE_UNFOLDS) -> None:
        super().__init__()
        if min(input_size, hidden_size, ode_unfolds) < 1:
            raise ValueError(
                f"input_size, hidden_size and ode_unfolds must be >= 1, "
                f"got {input_size}, {hidden_size}, {ode_unfolds}"
            )
        self.hidden_size = int(hidden_size)
        self.ode_unfolds = int(ode_unfolds)
        self.input = nn.Linear(input_size, hidden_size)  # W, b
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)  # U
        raw = math.log(math.expm1(TAU_INIT_STEPS - TAU_MIN_STEPS))  # softplus^-1
        self.tau_raw = nn.Parameter(torch.full((hidden_size,), raw))

    def tau(self) -> torch.Tensor:
        """(H,) time constants in nominal steps, > TAU_MIN_STEPS."""
        return F.softplus(self.tau_raw) + TAU_MIN_STEPS

    def forward(
        self,
        x: torch.Tensor,
        h0: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run a sequence.

        Args:
            x: (B, T, I) inputs.
            h0: (B, H) state before the first step.
            dt: (B, T) elapsed time per step in nominal steps (> 0).
            episode_start: (B, T) bool; the state resets to zeros before those steps.

        Returns:
            states (B, T, H) and the last state (B, H).
        """
        drive = self.input(x)  # (B, T, H): the input part for all steps at once
        u_t = self.recurrent.weight.t()
        rate = 1.0 / (self.tau() * self.ode_unfolds)  # (H,)
        h, states = h0, []
        for t in range(x.shape[1]):
            if episode_start is not None:
                h = reset_state(h, episode_start[:, t])
            s = dt[:, t : t + 1] * rate  # (B, H)
            keep = 1.0 / (1.0 + s)
            for _ in range(self.ode_unfolds):
                h = (h + s * torch.tanh(torch.addmm(drive[:, t], h, u_t))) * keep
            states.append(h)
        return torch.stack(states, dim=1), h
