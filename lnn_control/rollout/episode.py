"""The one closed loop: a policy drives one episode of a world, recorders watch every step.

    record = run_episode(policy, world("lnn_control/LaneKeeping-v0"), 1_000_000, steps=300)
    record.actions            # (T, A) float32 actions sent, in [-1, 1]
    record.trace["lateral_offset_m"]   # the world's `trace_keys`, one value per step
    record.result             # the world's episode result (LaneEpisode, DroneEpisode)
    record.record()           # its per-episode CSV row

Every closed loop in the package (evaluation, demonstration collection and DAgger, stress
cells, neuron recording for interpretability, videos) is this loop with different recorders.
A `Recorder` sees the reset, each step before the policy acts (`before_step`: an expert's label
comes from the same state the policy sees) and each step after the env moved (`on_step`).

The loop itself lives in `EpisodeSlot` (one env and its bookkeeping), so that a batched engine
can step K slots in lockstep with one batched policy call without changing what callers see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from lnn_control.envs.world import World, world

Wrapper = Callable[[Any], Any]


class StepPolicy(Protocol):
    """What the closed loop needs of a policy (torch policies, `OnnxStepPolicy`, experts)."""

    def initial_state(self, batch_size: int = 1) -> Any:
        """The (B, S) state of B fresh episodes."""
        ...

    def step(self, obs: np.ndarray, state: Any, dt_s: float | np.ndarray) -> tuple[Any, Any]:
        """obs uint8 (H, W, 3) or (B, H, W, 3), state (B, S), dt_s seconds (a number or (B,))
        -> (action (A,) or (B, A), state)."""
        ...


@dataclass
class Step:
    """One control step as recorders see it (after `env.step`).

    Attributes:
        index: 0-based step number in the episode.
        env: the (wrapped) env.
        obs: uint8 (H, W, 3) image the policy acted on.
        action: (A,) float32 action sent to the env.
        state: the policy state after the step (as the policy returns it).
        next_obs: the image after the step.
        info: the env's info after the step.
        reward, terminated, truncated: as `env.step` returned them.
    """

    index: int
    env: Any
    obs: np.ndarray
    action: np.ndarray
    state: Any
    next_obs: np.ndarray
    info: dict[str, Any]
    reward: float
    terminated: bool
    truncated: bool


class Recorder:
    """Watches one episode; override what you need (all no-ops here)."""

    def on_reset(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        """After `env.reset(seed)`."""

    def before_step(self, env: Any, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Before the policy acts on `obs` (e.g. an expert labels the same state)."""

    def on_step(self, step: Step) -> None:
        """After `env.step`."""


@dataclass
class EpisodeRecord:
    """One closed-loop episode (T control steps of `dt_s` seconds).

    Attributes:
        world: the World driven.
        seed: the env seed.
        dt_s: control period (s).
        actions: (T, A) float32 actions sent.
        trace: the world's `trace_keys` -> (T,) values after each step.
        final_info: the env's info after the last step.
        terminated, truncated: how the episode ended (both False when `steps` ran out).
    """

    world: World
    seed: int
    dt_s: float
    actions: np.ndarray
    trace: dict[str, np.ndarray]
    final_info: dict[str, Any]
    terminated: bool = False
    truncated: bool = False
    _result: Any = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        """Control steps T."""
        return len(self.actions)

    @property
    def result(self) -> Any:
        """The world's per-episode result (`LaneEpisode`, `DroneEpisode`)."""
        if self._result is None:
            self._result = self.world.episode(self)
        return self._result

    def record(self) -> dict[str, float]:
        """The per-episode CSV row (the world's episode result)."""
        return dict(self.result.record())


class EpisodeSlot:
    """One env of a rollout: reset, before/after each step, and the finished record.

    `run_episode` drives one slot; a batched engine drives several in lockstep.
    """

    def __init__(
        self,
        the_world: World,
        seed: int,
        *,
        env_kwargs: Mapping[str, Any] | None = None,
        wrappers: Sequence[Wrapper] = (),
        recorders: Sequence[Recorder] = (),
    ) -> None:
        self.world, self.seed, self.recorders = the_world, int(seed), tuple(recorders)
        env = the_world.make_env(**dict(env_kwargs or {}))
        for wrap in wrappers:
            env = wrap(env)
        self.env = env
        self.obs, self.info = env.reset(seed=self.seed)
        self.dt_s = the_world.period_s(env)
        self.done = False
        self._terminated = self._truncated = False
        self._actions: list[np.ndarray] = []
        self._trace: dict[str, list[Any]] = {key: [] for key in the_world.trace_keys}
        for recorder in self.recorders:
            recorder.on_reset(env, self.obs, self.info)

    @property
    def steps(self) -> int:
        """Steps taken so far."""
        return len(self._actions)

    def before_step(self) -> None:
        """Let the recorders see the state the policy is about to act on."""
        for recorder in self.recorders:
            recorder.before_step(self.env, self.obs, self.info)

    def advance(self, action: Any, state: Any) -> None:
        """Send `action` (the policy's output for this env), record, and mark the end."""
        sent = np.asarray(action, dtype=np.float32).reshape(-1)
        next_obs, reward, terminated, truncated, info = self.env.step(sent)
        self._actions.append(sent)
        for key, values in self._trace.items():
            values.append(info[key])
        step = Step(
            len(self._actions) - 1, self.env, self.obs, sent, state, next_obs, info,
            float(reward), bool(terminated), bool(truncated),
        )  # fmt: skip
        for recorder in self.recorders:
            recorder.on_step(step)
        self.obs, self.info = next_obs, info
        self._terminated, self._truncated = bool(terminated), bool(truncated)
        self.done = self._terminated or self._truncated

    def finish(self) -> EpisodeRecord:
        """Close the env and return the record."""
        self.env.close()
        size = self.world.action_size
        actions = np.asarray(self._actions, dtype=np.float32).reshape(-1, size)
        return EpisodeRecord(
            world=self.world,
            seed=self.seed,
            dt_s=self.dt_s,
            actions=actions,
            trace={key: np.asarray(values) for key, values in self._trace.items()},
            final_info=dict(self.info),
            terminated=self._terminated,
            truncated=self._truncated,
        )

    def close(self) -> None:
        """Close the env without a record (after an error)."""
        self.env.close()


def run_episode(
    policy: StepPolicy,
    env_world: World | str,
    seed: int,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    wrappers: Sequence[Wrapper] = (),
    steps: int | None = None,
    recorders: Sequence[Recorder] = (),
) -> EpisodeRecord:
    """Drive one episode of `env_world` (a World or its env id) from `seed`.

    Args:
        policy: anything with `initial_state(batch_size)` and `step(obs, state, dt_s)`.
        env_world: the world; its evaluation protocol applies (lane keeping: interventions).
        seed: the env seed (held-out seeds start at 1,000,000).
        env_kwargs: keyword arguments of `World.make_env`, e.g. {"scenario": {...}}.
        wrappers: callables gym.Env -> gym.Env applied in order (perturbations).
        steps: at most this many control steps; None runs until the env ends the episode.
        recorders: see `Recorder`.
    """
    if steps is not None and steps < 0:
        raise ValueError(f"steps must be >= 0 or None, got {steps}")
    slot = EpisodeSlot(
        world(env_world), seed, env_kwargs=env_kwargs, wrappers=wrappers, recorders=recorders
    )
    try:
        state = policy.initial_state(1)
        while not slot.done and (steps is None or slot.steps < steps):
            slot.before_step()
            action, state = policy.step(slot.obs, state, slot.dt_s)
            slot.advance(action, state)
    except BaseException:
        slot.close()
        raise
    return slot.finish()
