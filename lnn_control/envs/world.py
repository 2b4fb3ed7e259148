"""The World record and registry: everything the rest of the package knows about a world.

    from lnn_control.envs import world
    w = world("lnn_control/DroneNav-v0")
    w.action_size, w.action_names, w.control_dt_s, w.experts, w.summary_keys
    env = w.make_env({"scenery": "winter"})          # gymnasium.Env, evaluation protocol
    expert = w.make_expert()                          # the default expert (privileged state)
    w.summary(episodes)                               # the world's summary keys (DESIGN.md)

A world's facts (action size, control period, experts, metrics, shifts) live in
`lnn_control/envs/<world>/` and reach rollouts, training, stress tests, interpretability and
reports only through this record: no code outside envs/ branches on an env id. Adding a world is
one package under envs/ and one line in `_WORLD_MODULES`.

Importing this module is light (no pybullet, no torch): every hook imports its simulator only
when called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

#: env id -> the module that defines its `WORLD` record (the registry: one line per world).
_WORLD_MODULES: dict[str, str] = {
    "lnn_control/LaneKeeping-v0": "lnn_control.envs.lane.world",
    "lnn_control/DroneNav-v0": "lnn_control.envs.drone.world",
}

Scenario = dict[str, Any]


class EpisodeData(Protocol):
    """What a world's `episode` hook reads of a rollout (`lnn_control.rollout.EpisodeRecord`)."""

    @property
    def seed(self) -> int:
        """The env seed."""
        ...

    @property
    def dt_s(self) -> float:
        """Control period (s)."""
        ...

    @property
    def actions(self) -> np.ndarray:
        """(T, A) actions sent."""
        ...

    @property
    def trace(self) -> Mapping[str, np.ndarray]:
        """The world's `trace_keys` -> (T,) values."""
        ...

    @property
    def final_info(self) -> Mapping[str, Any]:
        """The env's info after the last step."""
        ...

    @property
    def steps(self) -> int:
        """Control steps T."""
        ...


@dataclass(frozen=True)
class World:
    """One world: its identity, action meaning and hooks (see the module docstring).

    Attributes:
        env_id: the gymnasium id, e.g. "lnn_control/LaneKeeping-v0".
        name: short name for file names and tables, e.g. "lane_keeping".
        entry_point: "module:Class" of the gymnasium.Env (registered on `import lnn_control`).
        action_names: meaning of each action entry, all in [-1, 1] (A = len(action_names)).
        control_dt_s: the nominal control period (s) of the default scenario.
        experts: expert names; the first is the default.
        summary_keys: the keys of `summary` (DESIGN.md), in order.
        trace_keys: info entries recorded per step by `run_episode` (scalars).
        eval_env_kwargs: env keyword arguments of the evaluation protocol (lane keeping:
            interventions instead of ending the episode).
        shifts: names of the world's scenario shifts (`shift_scenario`).
        unsupported_perturbations: image perturbations the world cannot render (e.g. fog needs
            a depth buffer the drone camera does not return).
        image_shape: (H, W, 3) of the default scenario's camera (pixels).
        video_recorder: "module:Class" of the world's video recorder (a rollout `Recorder`
            made with `Class(max_steps)`, whose `write(path)` renders the video), resolved by
            the caller so that envs/ imports nothing above it.
        quality_key: the summary key that says how well the world's task is done (neuron
            ablation ranks neurons by how much clamping each one worsens it).
        quality_higher_is_better: True if a larger `quality_key` is better.
        explain_trace_key: the trace key (one of `trace_keys`) drawn under neuron activity in
            interpretability figures; the step where its |value| peaks is the one shown in the
            saliency and wiring snapshots.
        explain_trace_label: axis label of `explain_trace_key`, with its unit.
    """

    env_id: str
    name: str
    entry_point: str
    action_names: tuple[str, ...]
    control_dt_s: float
    experts: tuple[str, ...]
    summary_keys: tuple[str, ...]
    trace_keys: tuple[str, ...]
    eval_env_kwargs: Mapping[str, Any]
    shifts: tuple[str, ...]
    unsupported_perturbations: tuple[str, ...]
    image_shape: tuple[int, int, int]
    video_recorder: str
    quality_key: str
    quality_higher_is_better: bool
    explain_trace_key: str
    explain_trace_label: str
    _scenario_for: Callable[[Mapping[str, Any], float | None], Scenario]
    _period_s: Callable[[Any], float]
    _make_expert: Callable[[str, float, float], Any]
    _episode: Callable[[EpisodeData], Any]
    _summary: Callable[[Sequence[Any]], dict[str, float]]
    _shift_scenario: Callable[[str, int, Mapping[str, Any] | None], Scenario]

    @property
    def action_size(self) -> int:
        """A: entries of an action."""
        return len(self.action_names)

    def make_env(
        self, scenario: Mapping[str, Any] | None = None, *, evaluation: bool = True, **kwargs: Any
    ) -> Any:
        """A gymnasium env of this world (`gym.make`, env checker off) with `scenario`
        overrides; `evaluation` applies the world's evaluation protocol (`eval_env_kwargs`)."""
        import gymnasium as gym

        self.register()  # also without `import lnn_control` first
        options = {**(self.eval_env_kwargs if evaluation else {}), **kwargs}
        if scenario is not None:
            options["scenario"] = dict(scenario)
        return gym.make(self.env_id, disable_env_checker=True, **options)

    def register(self) -> None:
        """Register the env id with gymnasium (string entry point); a no-op if it is there."""
        import gymnasium as gym

        if self.env_id not in gym.registry:
            gym.register(id=self.env_id, entry_point=self.entry_point)

    def scenario_for(
        self, base: Mapping[str, Any] | None = None, distance_m: float | None = None
    ) -> Scenario:
        """`base` scenario overrides for one episode of about `distance_m` metres of travel
        (None: the scenario's own episode length). Worlds whose episodes end on their own
        (the drone reaches its target) ignore `distance_m`."""
        return self._scenario_for(base or {}, distance_m)

    def period_s(self, env: Any) -> float:
        """The control period (s) of a made `env` (its scenario may change it)."""
        return self._period_s(env)

    def make_expert(
        self, name: str | None = None, noise_std: float = 0.0, noise_correlation: float = 0.0
    ) -> Any:
        """An expert by name (default: the first of `experts`); it reads privileged state via
        `act(env.privileged_state())`. ValueError names the allowed experts."""
        chosen = self.experts[0] if name is None else name
        if chosen not in self.experts:
            raise ValueError(
                f"expert for {self.env_id} must be one of {list(self.experts)}, got {chosen!r}"
            )
        return self._make_expert(chosen, noise_std, noise_correlation)

    def episode(self, record: EpisodeData) -> Any:
        """The world's per-episode result (LaneEpisode, DroneEpisode) from a rollout record."""
        return self._episode(record)

    def summary(self, episodes: Sequence[Any]) -> dict[str, float]:
        """The world's summary keys over `episodes` (results of `episode`)."""
        return self._summary(episodes)

    def shift_scenario(
        self, name: str, severity: int, base: Mapping[str, Any] | None = None
    ) -> Scenario:
        """Scenario overrides of shift `name` at `severity` (1-5) on top of `base`."""
        return self._shift_scenario(name, severity, base)

    def check_perturbation(self, name: str) -> None:
        """ValueError (one line) if this world cannot render image perturbation `name`."""
        if name in self.unsupported_perturbations:
            raise ValueError(
                f"perturbation {name!r} is not supported by {self.env_id} "
                f"(unsupported here: {', '.join(self.unsupported_perturbations)})"
            )


def env_ids() -> tuple[str, ...]:
    """Every registered world's env id."""
    return tuple(_WORLD_MODULES)


def world(env_id: str | World) -> World:
    """The World of `env_id` (a World passes through); ValueError lists the known ids."""
    if isinstance(env_id, World):
        return env_id
    module = _WORLD_MODULES.get(str(env_id))
    if module is None:
        raise ValueError(f"unknown world {env_id!r}; known: {', '.join(_WORLD_MODULES)}")
    record = importlib.import_module(module).WORLD
    if not isinstance(record, World):  # pragma: no cover - a broken world module
        raise TypeError(f"{module}.WORLD is not a World")
    return record


def worlds() -> tuple[World, ...]:
    """Every registered World, in registry order."""
    return tuple(world(env_id) for env_id in _WORLD_MODULES)
