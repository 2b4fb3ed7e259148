"""Neuron activity of a policy in closed loop, in any world: which neurons move when it acts.

    trace = record_activity(policy, "lnn_control/DroneNav-v0", 1_000_000)  # states (T, S)
    names = neuron_names(policy)                                     # "motor 0", "command 3", ...
    pca_explained_variance(trace.states)                             # how many dimensions matter
    plot_neuron_traces(trace, names); plot_wiring_activity(policy.wiring, trace.states[t])

The episode is `lnn_control.rollout.run_episode` with a `StateRecorder`; what differs per world
(action names, the trace drawn under the neurons, the control period, the episode length) comes
from its `World` record.

"Neurons" are the entries of the policy's packed recurrent state (`Policy.initial_state`). For
the NCPs (kinds "ncp", "ncp_cfc") these are the 19 wired neurons, motor first (see
`lnn_control.liquid.wiring`): one motor neuron per action entry (1 for lane keeping, 4 for the
drone). For GRU, CT-RNN and CfC they are the hidden units. The LSTM state is [h, c] side by side
(`LSTMPolicy`, S = 2H): the H hidden outputs h are its neurons (`neuron_indices`), the cell memory
c is recorded and named ("cell i") but not ablated by default. The feedforward "cnn" policy has no
state (S = 0) and so no neurons.

`ClampedPolicy` holds state entries at fixed values ({state index: value}): it applies the clamp to
the initial state and to the state after every step, so each step starts from the clamped state
(an ablation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lnn_control.envs.world import World, world
from lnn_control.policies.base import Policy
from lnn_control.policies.baselines import LSTMPolicy
from lnn_control.rollout.episode import EpisodeRecord, Recorder, Step, Wrapper, run_episode

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lnn_control.liquid.wiring import Wiring


@dataclass
class ActivityTrace:
    """One closed-loop episode with the policy state after every step (T control steps).

    Attributes:
        record: the rollout's record (world, seed, (T, A) actions, the world's traces, result).
        states: (T, S) float32 policy state after each step (after any clamp).
        frames: (T, H, W, 3) uint8 camera images the policy acted on at each step, or None.
    """

    record: EpisodeRecord
    states: np.ndarray
    frames: np.ndarray | None = None

    @property
    def world(self) -> World:
        """The World driven."""
        return self.record.world

    @property
    def seed(self) -> int:
        """The env seed."""
        return self.record.seed

    @property
    def actions(self) -> np.ndarray:
        """(T, A) float32 actions in [-1, 1], one column per `world.action_names` entry."""
        return self.record.actions

    @property
    def trace(self) -> dict[str, np.ndarray]:
        """The world's `trace_keys` -> (T,) values after each step."""
        return self.record.trace

    @property
    def control_dt_s(self) -> float:
        """Seconds per control step."""
        return self.record.dt_s

    @property
    def steps(self) -> int:
        """Control steps T."""
        return self.record.steps

    @property
    def time_s(self) -> np.ndarray:
        """(T,) time of each step's end in seconds."""
        return (np.arange(self.steps) + 1) * self.control_dt_s

    def snapshot_step(self) -> int:
        """The step where |world.explain_trace_key| peaks (lane keeping: the sharpest bend)."""
        return int(np.argmax(np.abs(self.trace[self.world.explain_trace_key])))


def _state_row(state: Any) -> np.ndarray:
    """(S,) float32 numpy row of a (1, S) policy state (torch or numpy)."""
    if torch.is_tensor(state):
        return state[0].detach().float().cpu().numpy()
    return np.asarray(state, dtype=np.float32).reshape(-1)


class StateRecorder(Recorder):
    """Keeps the policy state after every step (`Step.state`) and, with `keep_frames`, the
    image the policy acted on."""

    def __init__(self, keep_frames: bool = False) -> None:
        self.keep_frames = keep_frames
        self.states: list[np.ndarray] = []
        self.frames: list[np.ndarray] = []

    def on_step(self, step: Step) -> None:
        """Store `step.state` (and `step.obs`)."""
        self.states.append(_state_row(step.state))
        if self.keep_frames:
            self.frames.append(np.array(step.obs, dtype=np.uint8))

    def trace(self, record: EpisodeRecord) -> ActivityTrace:
        """The `ActivityTrace` of the finished episode `record`."""
        states = np.stack(self.states).astype(np.float32)
        frames = np.stack(self.frames) if self.keep_frames else None
        return ActivityTrace(record=record, states=states, frames=frames)


class ClampedPolicy:
    """`policy` with state entries held at fixed values (an ablation).

    The clamp is applied to `initial_state` and to the state returned by every `step`, so each
    step starts from the clamped state and the recorded state shows the clamped values. The
    wrapped policy is not modified.

    Args:
        policy: a step policy whose state is a (B, S) tensor or array, S = `policy.state_size`.
        clamp: {state index in [0, S): finite value in the state's own units}.
    """

    def __init__(self, policy: Any, clamp: Mapping[int, float]) -> None:
        size = int(policy.state_size)
        index = [int(i) for i in clamp]
        if any(not 0 <= i < size for i in index):
            raise ValueError(f"clamp indices must be in [0, {size}), got {sorted(index)}")
        values = [float(v) for v in clamp.values()]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"clamp values must be finite numbers, got {values}")
        self.policy, self.index, self.values = policy, index, values

    def apply(self, state: Any) -> Any:
        """A copy of the (B, S) `state` with the clamped entries set."""
        if torch.is_tensor(state):
            state = state.clone()
            state[:, self.index] = torch.tensor(self.values, dtype=state.dtype, device=state.device)
            return state
        state = np.array(state, copy=True)
        state[:, self.index] = self.values
        return state

    def initial_state(self, batch_size: int = 1) -> Any:
        """The wrapped policy's initial state, clamped."""
        return self.apply(self.policy.initial_state(batch_size))

    def step(self, obs: np.ndarray, state: Any, dt_s: float | np.ndarray) -> tuple[Any, Any]:
        """One step of the wrapped policy from `state`; the new state comes back clamped."""
        action, new_state = self.policy.step(obs, state, dt_s)
        return action, self.apply(new_state)


def neuron_indices(policy: Policy) -> list[int]:
    """State indices treated as neurons: all of them, except the LSTM's cell memory c."""
    if isinstance(policy, LSTMPolicy):
        return list(range(policy.hidden_size))
    return list(range(policy.state_size))


def neuron_names(policy: Policy) -> list[str]:
    """One name per state entry (S names): "<type> <index within type>" for a wired policy
    (e.g. "motor 0", "command 3", "inter 7"), "unit i" otherwise ("cell i" for the LSTM's c)."""
    wiring = getattr(policy, "wiring", None)
    if wiring is not None:
        types = wiring.neuron_types
        return [f"{kind} {types[:i].count(kind)}" for i, kind in enumerate(types)]
    if isinstance(policy, LSTMPolicy):
        hidden = policy.hidden_size
        return [f"unit {i}" for i in range(hidden)] + [f"cell {i}" for i in range(hidden)]
    return [f"unit {i}" for i in range(policy.state_size)]


def explain_scenario(
    policy: Policy,
    env_world: World | str,
    scenario: Mapping[str, Any] | None,
    distance_m: float | None,
) -> dict[str, Any]:
    """Scenario overrides for one episode: `scenario` (e.g. the policy's training scenario,
    `lnn_control.policies.checkpoint.training_scenario`) with the policy's image size filled in
    when it is left out (ValueError if they disagree), made `distance_m` metres long by
    `World.scenario_for` (None: the scenario's own length; worlds whose episodes end on their
    own ignore it)."""
    if distance_m is not None and not (math.isfinite(distance_m) and distance_m > 0):
        raise ValueError(f"distance_m must be finite and > 0 metres or None, got {distance_m}")
    height, width, _ = policy.image_shape
    base = {"image_height": height, "image_width": width, **(scenario or {})}
    if (base["image_height"], base["image_width"]) != (height, width):
        raise ValueError(
            f"scenario image size must match the policy's ({height}, {width}), "
            f"got ({base['image_height']}, {base['image_width']})"
        )
    return world(env_world).scenario_for(base, distance_m)


def record_activity(
    policy: Policy,
    env_world: World | str,
    seed: int,
    *,
    scenario: Mapping[str, Any] | None = None,
    distance_m: float | None = None,
    wrappers: Sequence[Wrapper] = (),
    clamp: Mapping[int, float] | None = None,
    keep_frames: bool = False,
) -> ActivityTrace:
    """Run one episode of `env_world` under its evaluation protocol (lane keeping:
    interventions) with `rollout.run_episode`, recording the policy state after every step.

    Args:
        policy: any `Policy`; its state is carried through interventions (as in `evaluate`).
        env_world: the World or its env id.
        seed: env seed (held-out seeds start at 1,000,000).
        scenario: scenario overrides (see `explain_scenario`); the image size defaults to the
            policy's.
        distance_m: episode length in metres of travel (None: the scenario's own).
        wrappers: callables gym.Env -> gym.Env, applied in order (perturbations).
        clamp: {state index: value} held fixed from the initial state on (`ClampedPolicy`).
        keep_frames: also keep the camera images the policy acted on.
    """
    the_world = world(env_world)
    overrides = explain_scenario(policy, the_world, scenario, distance_m)
    driver: Any = ClampedPolicy(policy, clamp) if clamp else policy
    recorder = StateRecorder(keep_frames)
    record = run_episode(
        driver,
        the_world,
        int(seed),
        env_kwargs={"scenario": overrides},
        wrappers=wrappers,
        recorders=[recorder],
    )
    return recorder.trace(record)


def pca_explained_variance(states: np.ndarray) -> np.ndarray:
    """Fraction of the variance along each principal component of `states` (T, S), centred over
    time: min(T, S) ratios, descending, summing to 1 (from the SVD's singular values)."""
    data = np.asarray(states, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 1:
        raise ValueError(f"states must be (T, S) with T >= 2 samples and S >= 1, got {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("states must be finite (no NaN or inf)")
    singular = np.linalg.svd(data - data.mean(axis=0), compute_uv=False)
    variance = singular**2
    total = variance.sum()
    if total <= 0:
        raise ValueError("states must vary over time (all rows are equal)")
    return variance / total


def plot_neuron_traces(
    trace: ActivityTrace, names: Sequence[str], *, neurons: Sequence[int] | None = None
) -> Figure:
    """Each neuron's state over time (s), stacked, each scaled to its own min-max range (printed
    at the right), above one panel per action entry (named by the world's `action_names`) and
    the world's `explain_trace_key` (lane keeping: road curvature ahead, 1/m).

    `names` has one entry per state entry (`neuron_names`); `neurons` picks a subset (default all).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = trace.states.shape[1]
    if len(names) != size:
        raise ValueError(f"names must have one entry per state entry ({size}), got {len(names)}")
    picked = list(range(size)) if neurons is None else [int(i) for i in neurons]
    if not picked or any(not 0 <= i < size for i in picked):
        raise ValueError(f"neurons must be a non-empty list of indices in [0, {size})")
    n, time, the_world = len(picked), trace.time_s, trace.world
    actions = trace.world.action_names
    ratios = [max(3.0, 0.3 * n), *([1.0] * len(actions)), 1.0]
    height = 2.5 + 0.3 * n + 0.8 * (len(actions) - 1)
    fig, axes = plt.subplots(
        len(ratios), 1, sharex=True, figsize=(10, height), gridspec_kw={"height_ratios": ratios}
    )
    top, action_axes, trace_ax = axes[0], axes[1:-1], axes[-1]
    for row, i in enumerate(picked):
        values, offset = trace.states[:, i], n - 1 - row
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.full_like(values, 0.5)
        top.plot(time, offset + 0.8 * scaled, lw=0.9)
        top.text(time[-1], offset + 0.4, f" [{low:.2g}, {high:.2g}]", fontsize=6, va="center")
    top.set_yticks([n - 1 - r + 0.4 for r in range(n)])
    top.set_yticklabels([names[i] for i in picked], fontsize=7)
    top.set_title(f"seed {trace.seed}: neuron states (each scaled to its range)")
    for column, (ax, label) in enumerate(zip(action_axes, actions, strict=True)):
        ax.plot(time, trace.actions[:, column], color="black", lw=1.0)
        ax.set_ylabel(label)
    trace_ax.plot(time, trace.trace[the_world.explain_trace_key], color="tab:green", lw=1.0)
    trace_ax.set_ylabel(the_world.explain_trace_label)
    trace_ax.set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_wiring_activity(
    wiring: Wiring,
    values: np.ndarray,
    *,
    value_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The wiring diagram (synapses by polarity) with each neuron coloured by `values` (N,),
    e.g. `trace.states[t]`; `value_range` defaults to +-max|values| (0 at the map's centre)."""
    from lnn_control.liquid.wiring_plot import plot_wiring

    values = np.asarray(values, dtype=float).reshape(-1)
    if value_range is None:
        extent = float(np.max(np.abs(values))) if values.size else 0.0
        extent = extent if math.isfinite(extent) and extent > 0 else 1.0
        value_range = (-extent, extent)
    return plot_wiring(wiring, activity=values, activity_range=value_range, title=title)
