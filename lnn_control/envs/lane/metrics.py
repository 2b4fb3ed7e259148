"""Lane-keeping metrics under the intervention protocol (pure functions, no simulator).

- autonomy (PilotNet, Bojarski et al. 2016): 1 - interventions x 6 s / elapsed s, floored at 0;
  each intervention is charged the 6 s a human would take to take over and hand back.
- interventions_per_km: interventions / distance driven along the road (km).
- mean_abs_lateral_m, rms_lateral_m: lateral offset of the car centre from the lane centre.
- mean_abs_heading_rad: heading error relative to the road tangent.
- distance_km: distance along the road centre line.
- steer_smoothness: mean |a_t - a_(t-1)| of the steering action (action units per 0.05 s step);
  lower is smoother.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

INTERVENTION_PENALTY_S = 6.0
LANE_SUMMARY_KEYS = (
    "autonomy",
    "interventions_per_km",
    "mean_abs_lateral_m",
    "rms_lateral_m",
    "mean_abs_heading_rad",
    "distance_km",
    "steer_smoothness",
)


@dataclass
class LaneEpisode:
    """Per-step traces of one evaluated episode (all arrays of length `steps`)."""

    seed: int
    lateral_m: np.ndarray
    heading_rad: np.ndarray
    steer: np.ndarray
    distance_m: float
    interventions: int
    control_dt_s: float = 0.05

    @property
    def steps(self) -> int:
        """Control steps driven."""
        return len(self.lateral_m)

    def record(self) -> dict[str, float]:
        """The per-episode CSV row."""
        elapsed = self.steps * self.control_dt_s
        row = lane_metrics([self])
        return {
            "seed": float(self.seed),
            "steps": float(self.steps),
            "elapsed_s": elapsed,
            "interventions": float(self.interventions),
            **row,
        }


def autonomy(interventions: int, elapsed_s: float) -> float:
    """PilotNet autonomy in [0, 1]."""
    if elapsed_s <= 0:
        return float("nan")
    return max(0.0, 1.0 - interventions * INTERVENTION_PENALTY_S / elapsed_s)


def lane_metrics(episodes: Sequence[LaneEpisode]) -> dict[str, float]:
    """The DESIGN.md summary keys over all `episodes` pooled (totals, not mean of ratios)."""
    if not episodes:
        raise ValueError("lane_metrics needs at least one episode")
    lateral = np.concatenate([e.lateral_m for e in episodes])
    heading = np.concatenate([e.heading_rad for e in episodes])
    steer_changes = np.concatenate(
        [np.abs(np.diff(e.steer)) for e in episodes if e.steps > 1] or [np.zeros(0)]
    )
    interventions = sum(e.interventions for e in episodes)
    elapsed = sum(e.steps * e.control_dt_s for e in episodes)
    distance_km = sum(e.distance_m for e in episodes) / 1000.0
    return {
        "autonomy": autonomy(interventions, elapsed),
        "interventions_per_km": interventions / distance_km if distance_km > 0 else float("nan"),
        "mean_abs_lateral_m": float(np.mean(np.abs(lateral))),
        "rms_lateral_m": float(np.sqrt(np.mean(lateral**2))),
        "mean_abs_heading_rad": float(np.mean(np.abs(heading))),
        "distance_km": distance_km,
        "steer_smoothness": float(np.mean(steer_changes)) if steer_changes.size else 0.0,
    }


def as_dict(episode: LaneEpisode) -> dict[str, object]:
    """Dataclass fields, arrays as lists (for JSON)."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(episode).items()}
