"""Neuron activity of a policy in closed loop: which neurons move when the car steers.

    trace = record_drive(policy, 1_000_000, distance_m=20.0)        # states (T, S) per step
    names = neuron_names(policy)                                     # "motor 0", "command 3", ...
    pca_explained_variance(trace.states)                             # how many dimensions matter
    plot_neuron_traces(trace, names); plot_wiring_activity(policy.wiring, trace.states[t])

"Neurons" are the entries of the policy's packed recurrent state (`Policy.initial_state`). For
the NCPs (kinds "ncp", "ncp_cfc") these are the 19 wired neurons, motor first (see
`lnn_control.liquid.wiring`). For GRU, CT-RNN and CfC they are the hidden units. The LSTM state is
[h, c] side by side (`LSTMPolicy`, S = 2H): the H hidden outputs h are its neurons
(`neuron_indices`), the cell memory c is recorded and named ("cell i") but not ablated by
default. The feedforward "cnn" policy has no state (S = 0) and so no neurons.

`clamp` ({state index: value}) holds state entries at fixed values: it is applied to the initial
state and to the state after every step, so each step starts from the clamped state (an ablation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lnn_control.eval.evaluate import LANE_ENV_ID, Wrapper, scenario_for_distance
from lnn_control.policies.base import NOMINAL_DT_S, Policy
from lnn_control.policies.baselines import LSTMPolicy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lnn_control.liquid.wiring import Wiring


@dataclass
class DriveTrace:
    """One closed-loop drive, step by step (T control steps of `control_dt_s` seconds).

    Attributes:
        seed: the env seed.
        states: (T, S) float32 policy state after each step (after any clamp).
        actions: (T,) float32 steering action in [-1, 1] (first action dimension).
        curvature_per_m: (T,) road curvature ahead of the car (1/m) after each step.
        lateral_m: (T,) lateral offset of the car from the lane centre (m) after each step.
        interventions: lane departures put right by the intervention protocol.
        frames: (T, H, W, 3) uint8 camera images the policy saw at each step, or None.
        control_dt_s: seconds per step (`lnn_control.envs.racecar.CONTROL_DT_S`, 20 Hz).
    """

    seed: int
    states: np.ndarray
    actions: np.ndarray
    curvature_per_m: np.ndarray
    lateral_m: np.ndarray
    interventions: int
    frames: np.ndarray | None = None
    control_dt_s: float = NOMINAL_DT_S

    @property
    def steps(self) -> int:
        """Control steps T."""
        return len(self.actions)

    @property
    def time_s(self) -> np.ndarray:
        """(T,) time of each step's end in seconds."""
        return (np.arange(self.steps) + 1) * self.control_dt_s


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


def _clamp_fn(
    clamp: Mapping[int, float] | None, state_size: int
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function state (1, S) -> state with the clamped entries set; validates `clamp`."""
    if not clamp:
        return lambda state: state
    index = [int(i) for i in clamp]
    if any(not 0 <= i < state_size for i in index):
        raise ValueError(f"clamp indices must be in [0, {state_size}), got {sorted(index)}")
    values = [float(v) for v in clamp.values()]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"clamp values must be finite numbers, got {values}")

    def apply(state: torch.Tensor) -> torch.Tensor:
        state = state.clone()
        state[:, index] = torch.tensor(values, dtype=state.dtype, device=state.device)
        return state

    return apply


def drive_scenario(
    policy: Policy, scenario: Mapping[str, Any] | None, distance_m: float
) -> dict[str, Any]:
    """Scenario overrides for a road of `distance_m` metres, with the policy's image size
    filled in when `scenario` leaves it out; ValueError if they disagree."""
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise ValueError(f"distance_m must be finite and > 0 metres, got {distance_m}")
    height, width, _ = policy.image_shape
    base = {"image_height": height, "image_width": width, **(scenario or {})}
    if (base["image_height"], base["image_width"]) != (height, width):
        raise ValueError(
            f"scenario image size must match the policy's ({height}, {width}), "
            f"got ({base['image_height']}, {base['image_width']})"
        )
    return scenario_for_distance(base, distance_m)


def record_drive(
    policy: Policy,
    seed: int,
    *,
    scenario: Mapping[str, Any] | None = None,
    distance_m: float = 20.0,
    wrappers: Sequence[Wrapper] = (),
    clamp: Mapping[int, float] | None = None,
    keep_frames: bool = False,
) -> DriveTrace:
    """Drive one lane-keeping episode of about `distance_m` metres under the intervention
    protocol, recording the policy state after every step.

    Args:
        policy: any `Policy`; its state is carried through interventions (as in `evaluate`).
        seed: env seed (held-out seeds start at 1,000,000).
        scenario: `LaneScenario` overrides (e.g. from `simulate_cli.training_scenario`); the
            image size defaults to the policy's.
        distance_m: road length to drive (m) at the scenario's target speed.
        wrappers: callables gym.Env -> gym.Env, applied in order (perturbations).
        clamp: {state index: value} held fixed before and after every step (ablation).
        keep_frames: also keep the camera images the policy saw.
    """
    import gymnasium as gym

    import lnn_control  # noqa: F401  (registers the envs)
    from lnn_control.envs.racecar import CONTROL_DT_S

    apply_clamp = _clamp_fn(clamp, policy.state_size)
    env = gym.make(
        LANE_ENV_ID,
        intervention=True,
        disable_env_checker=True,
        scenario=drive_scenario(policy, scenario, distance_m),
    )
    for wrap in wrappers:
        env = wrap(env)
    states, actions, curvature, lateral, frames = [], [], [], [], []
    try:
        obs, info = env.reset(seed=seed)
        state = apply_clamp(policy.initial_state(1))
        while True:
            if keep_frames:
                frames.append(np.array(obs, dtype=np.uint8))
            action, state = policy.step(obs, state, dt=CONTROL_DT_S)
            state = apply_clamp(state)
            action = np.asarray(action, dtype=np.float32).reshape(-1)
            obs, _, terminated, truncated, info = env.step(action)
            states.append(state[0].detach().float().cpu().numpy())
            actions.append(float(action[0]))
            curvature.append(float(info["curvature_ahead"]))
            lateral.append(float(info["lateral_offset_m"]))
            if terminated or truncated:
                break
    finally:
        env.close()
    return DriveTrace(
        seed=int(seed),
        states=np.stack(states).astype(np.float32),
        actions=np.asarray(actions, dtype=np.float32),
        curvature_per_m=np.asarray(curvature, dtype=np.float32),
        lateral_m=np.asarray(lateral, dtype=np.float32),
        interventions=int(info["interventions"]),
        frames=np.stack(frames) if keep_frames else None,
        control_dt_s=CONTROL_DT_S,
    )


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
    trace: DriveTrace, names: Sequence[str], *, neurons: Sequence[int] | None = None
) -> Figure:
    """Each neuron's state over time (s), stacked, each scaled to its own min-max range (printed
    at the right), above the steering action and the road curvature ahead (1/m).

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
    n, time = len(picked), trace.time_s
    ratios = [max(3.0, 0.3 * n), 1.0, 1.0]
    fig, (top, steer_ax, curve_ax) = plt.subplots(
        3, 1, sharex=True, figsize=(10, 2.5 + 0.3 * n), gridspec_kw={"height_ratios": ratios}
    )
    for row, i in enumerate(picked):
        values, offset = trace.states[:, i], n - 1 - row
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.full_like(values, 0.5)
        top.plot(time, offset + 0.8 * scaled, lw=0.9)
        top.text(time[-1], offset + 0.4, f" [{low:.2g}, {high:.2g}]", fontsize=6, va="center")
    top.set_yticks([n - 1 - r + 0.4 for r in range(n)])
    top.set_yticklabels([names[i] for i in picked], fontsize=7)
    top.set_title(f"seed {trace.seed}: neuron states (each scaled to its range)")
    steer_ax.plot(time, trace.actions, color="black", lw=1.0)
    steer_ax.set_ylabel("steering")
    curve_ax.plot(time, trace.curvature_per_m, color="tab:green", lw=1.0)
    curve_ax.set_ylabel("curvature (1/m)")
    curve_ax.set_xlabel("time (s)")
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
