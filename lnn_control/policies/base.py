"""The `Policy` contract: camera image + recurrent state -> action in [-1, 1].

Every policy is conv head (`ConvHead`, per-image normalisation inside) -> recurrent core ->
action. Subclasses implement only the core (`core`, `state_size`, `rnn_config`); this module owns
input checks, time units and resets so that every kind behaves the same:

    state = policy.initial_state(batch_size=1)          # (B, state_size) float32
    action, state = policy.step(obs, state, dt_s=None)  # obs uint8 (H, W, 3) or (B, H, W, 3)
    pre, last = policy.forward_sequence(obs, dt_s, episode_start)   # training, truncated BPTT

Time: `step` and `forward_sequence` take elapsed time in **seconds**; the policy divides by its
`nominal_dt_s` (default 0.05 s, 20 Hz control) before the core sees it, so a core's unit is one
nominal control period (the liquid modules' convention).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from lnn_control.liquid import reset_state as _reset_state
from lnn_control.policies.perception import DEFAULT_IMAGE_SHAPE, ConvHead

NOMINAL_DT_S = 0.05
"""Default nominal control period in seconds (20 Hz), the core's unit of time."""

ImageShape = tuple[int, int, int]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block under `torch.manual_seed(seed)` without touching the global CPU generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class Policy(nn.Module, ABC):
    """Base class: conv head -> recurrent core -> action (tanh squashed in `step`).

    Args:
        kind: registry name of the policy ("ncp", "lstm", ...).
        image_shape: (H, W, 3) of the camera images.
        action_dim: A, actions per step.
        seed: seeds the initial weights (the global torch generator is left untouched).
        nominal_dt_s: the control period in seconds that counts as one core time unit.
        head: `ConvHead` keyword arguments (see `ConvHead.config()`); None for the defaults.
    """

    def __init__(
        self,
        kind: str,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if action_dim < 1:
            raise ValueError(f"action_dim must be >= 1, got {action_dim}")
        if not (math.isfinite(nominal_dt_s) and nominal_dt_s > 0):
            raise ValueError(f"nominal_dt_s must be finite and > 0 seconds, got {nominal_dt_s}")
        self.kind = kind
        self.action_dim = int(action_dim)
        self.seed = int(seed)
        self.nominal_dt_s = float(nominal_dt_s)
        with seeded(self.seed):
            self.head = ConvHead(image_shape, **(head or {}))
        self.image_shape: ImageShape = self.head.image_shape

    # ------------------------------------------------------------------ the core (subclasses)
    @property
    @abstractmethod
    def state_size(self) -> int:
        """Size S of the packed recurrent state (0 for a feedforward policy)."""

    @abstractmethod
    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Recurrent part over a sequence.

        Args:
            features: (B, T, F) head features.
            dt: (B, T) elapsed time in nominal steps (validated, > 0).
            episode_start: (B, T) bool or None; reset the state to zeros before those steps.
            state: (B, S) state before the first step.

        Returns:
            actions before the squash (B, T, A) and the last state (B, S).
        """

    @abstractmethod
    def rnn_config(self) -> dict[str, Any]:
        """JSON-ready keyword arguments that rebuild the core (see `from_spec`)."""

    @classmethod
    def rnn_kwargs(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Constructor keyword arguments from `rnn_config()` output (identity by default)."""
        return dict(config)

    # ------------------------------------------------------------------ spec
    def spec(self) -> dict[str, Any]:
        """JSON-ready architecture from which `from_spec` rebuilds the policy (fresh weights)."""
        return {
            "kind": self.kind,
            "image_shape": list(self.image_shape),
            "action_dim": self.action_dim,
            "nominal_dt_s": self.nominal_dt_s,
            "seed": self.seed,
            "head": self.head.config(),
            "rnn": self.rnn_config(),
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Policy:
        """A freshly initialised policy of this class from `spec()` output."""
        return cls(
            image_shape=tuple(spec["image_shape"]),
            action_dim=int(spec["action_dim"]),
            seed=int(spec["seed"]),
            nominal_dt_s=float(spec["nominal_dt_s"]),
            head=dict(spec["head"]),
            **cls.rnn_kwargs(spec["rnn"]),
        )

    # ------------------------------------------------------------------ state
    def initial_state(self, batch_size: int = 1) -> torch.Tensor:
        """(B, state_size) zeros on the parameters' device."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        return self.head.map_weight.new_zeros(batch_size, self.state_size)

    def reset_state(
        self, state: torch.Tensor, episode_start: torch.Tensor | np.ndarray | list[bool]
    ) -> torch.Tensor:
        """(B, S) state with the rows where `episode_start` (B,) bool is True set to zeros.

        Use it in rollouts before `step` (e.g. with the vector env's done flags of the previous
        step); it is `lnn_control.liquid.reset_state` with zeros as the initial state.
        """
        if not torch.is_tensor(episode_start):
            episode_start = torch.from_numpy(np.asarray(episode_start, dtype=bool))
        start = episode_start.to(state.device).reshape(-1).bool()
        return _reset_state(state, start)

    @staticmethod
    def squash(pre: torch.Tensor) -> torch.Tensor:
        """Map actions before the squash to [-1, 1] (tanh)."""
        return torch.tanh(pre)

    # ------------------------------------------------------------------ acting
    def step(
        self,
        obs: np.ndarray | torch.Tensor,
        state: torch.Tensor | None,
        dt_s: float | np.ndarray | torch.Tensor | None = None,
        *,
        dt: float | np.ndarray | torch.Tensor | None = None,
    ) -> tuple[np.ndarray, torch.Tensor]:
        """One control step, without gradients, in eval mode.

        Args:
            obs: camera image uint8 (or float) (H, W, 3), or a batch (B, H, W, 3).
            state: (B, S) from `initial_state` or the previous step; None for zeros.
            dt_s: seconds since the previous frame: None (nominal), a number, or (B,) per sample.
            dt: the old name of `dt_s` (deprecated: a DeprecationWarning, same meaning).

        Returns:
            action float32 numpy (A,) for a single image or (B, A), in [-1, 1], and the new state.
        """
        if dt is not None:
            if dt_s is not None:
                raise ValueError("pass the time step once: dt_s (seconds), not also dt")
            warnings.warn(
                "Policy.step(..., dt=) is deprecated: use dt_s= (seconds)",
                DeprecationWarning,
                stacklevel=2,
            )
            dt_s = dt
        images, single = self._check_obs(obs)
        batch = images.shape[0]
        state = self.initial_state(batch) if state is None else self._check_state(state, batch)
        dt_steps = self._dt_steps(dt_s, batch, 1)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                features = self.head(images.to(state.device))[:, None]
                pre, state = self.core(features, dt_steps.to(state.device), None, state)
        finally:
            self.train(was_training)
        action = self.squash(pre[:, 0]).float().cpu().numpy()
        return (action[0] if single else action), state

    def forward_sequence(
        self,
        obs: torch.Tensor,
        dt_s: torch.Tensor | None = None,
        episode_start: torch.Tensor | None = None,
        state0: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training forward over sequences (truncated BPTT); the head sees all B*T frames at once.

        Args:
            obs: (B, T, H, W, 3) uint8 (or float) images.
            dt_s: (B, T) seconds since the previous frame, or None (nominal).
            episode_start: (B, T) bool; the state resets to zeros before those steps.
            state0: (B, S) state before the first step; None for zeros.

        Returns:
            actions before the squash (B, T, A) (apply `squash` for [-1, 1]) and the last state.
        """
        if not torch.is_tensor(obs) or obs.dim() != 5:
            raise ValueError(f"obs must be a (B, T, H, W, 3) tensor, got {_describe(obs)}")
        batch, steps = obs.shape[:2]
        images, _ = self._check_obs(obs.flatten(0, 1))
        device = self.head.map_weight.device
        state = self.initial_state(batch) if state0 is None else self._check_state(state0, batch)
        dt_steps = self._dt_steps(dt_s, batch, steps).to(device)
        start = None
        if episode_start is not None:
            if tuple(episode_start.shape) != (batch, steps):
                raise ValueError(
                    f"episode_start must be ({batch}, {steps}) bool, "
                    f"got {tuple(episode_start.shape)}"
                )
            start = episode_start.to(device).bool()
        features = self.head(images.to(device)).unflatten(0, (batch, steps))
        return self.core(features, dt_steps, start, state)

    # ------------------------------------------------------------------ input checks
    def _check_obs(self, obs: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
        """(N, H, W, 3) tensor from a single image or a batch; True when it was a single one."""
        if isinstance(obs, np.ndarray):
            obs = torch.from_numpy(np.ascontiguousarray(obs))
        if not torch.is_tensor(obs):
            raise ValueError(f"obs must be a numpy array or torch tensor, got {type(obs).__name__}")
        if obs.dtype != torch.uint8 and not obs.dtype.is_floating_point:
            raise ValueError(f"obs dtype must be uint8 (or float), got {obs.dtype}")
        single = obs.dim() == len(self.image_shape)
        if single:
            obs = obs[None]
        if obs.dim() != 4 or tuple(obs.shape[1:]) != self.image_shape:
            shape = ", ".join(map(str, self.image_shape))
            raise ValueError(f"obs must be ({shape}) or (B, {shape}), got {tuple(obs.shape)}")
        return obs, single

    def _check_state(self, state: torch.Tensor, batch: int) -> torch.Tensor:
        if not torch.is_tensor(state) or tuple(state.shape) != (batch, self.state_size):
            raise ValueError(
                f"state must be a ({batch}, {self.state_size}) tensor from initial_state(), "
                f"got {_describe(state)}"
            )
        return state

    def _dt_steps(
        self, dt: float | np.ndarray | torch.Tensor | None, batch: int, steps: int
    ) -> torch.Tensor:
        """Elapsed seconds -> (B, T) float32 nominal steps; ValueError if not finite and > 0."""
        if dt is None:
            return torch.ones(batch, steps)
        seconds = torch.as_tensor(dt, dtype=torch.float32).detach().cpu()
        if seconds.dim() == 1 and seconds.shape[0] == batch and steps == 1:
            seconds = seconds[:, None]
        if seconds.dim() != 0 and tuple(seconds.shape) != (batch, steps):
            allowed = "a number or (B,)" if steps == 1 else "a number or (B, T)"
            raise ValueError(
                f"dt must be {allowed} seconds with B={batch}, T={steps}; "
                f"got shape {tuple(seconds.shape)}"
            )
        bad = ~(torch.isfinite(seconds) & (seconds > 0))
        if bool(bad.any()):
            raise ValueError(
                f"dt must be finite and > 0 seconds (time since the previous frame), "
                f"got {float(seconds[bad].flatten()[0])}"
            )
        return (seconds / self.nominal_dt_s).expand(batch, steps)


def _describe(value: object) -> str:
    if torch.is_tensor(value) or isinstance(value, np.ndarray):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__
