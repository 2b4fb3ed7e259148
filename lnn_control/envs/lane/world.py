"""The `World` record of lane keeping: hooks import pybullet only when called."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lnn_control.envs.lane.metrics import LANE_SUMMARY_KEYS, LaneEpisode, lane_metrics
from lnn_control.envs.world import EpisodeData, Scenario, World

#: Lane keeping runs at a fixed 20 Hz (`lnn_control.envs.lane.sim.CONTROL_DT_S`).
CONTROL_DT_S = 0.05
SHIFTS = (
    "road_look",
    "lane_width",
    "curvature",
    "distractors",
    "camera_height",
    "camera_pitch",
    "camera_yaw",
    "friction",
    "mass",
    "steering_gain",
    "steering_bias",
    "actuation_latency",
    "speed",
)


def scenario_for_distance(base: Mapping[str, Any], distance_m: float | None) -> Scenario:
    """`base` scenario overrides, changed so that one episode is a road of about `distance_m`
    metres driven at the base's own target speed (LaneScenario's default when it sets none);
    `distance_m=None` keeps `base` as it is."""
    if distance_m is None:
        return dict(base)
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise ValueError(f"distance_m must be finite and > 0 metres, got {distance_m}")
    from lnn_control.envs.lane.scenario import LaneScenario

    speed_mps = float(base.get("target_speed_mps", LaneScenario.target_speed_mps))
    return {
        **base,
        "road_length_m": distance_m + 20.0,
        "time_limit_s": distance_m / speed_mps,
        "target_speed_mps": speed_mps,
    }


def _period_s(env: Any) -> float:
    return CONTROL_DT_S


def _make_expert(name: str, noise_std: float, noise_correlation: float) -> Any:
    from lnn_control.envs.lane.expert import PurePursuitExpert, StanleyExpert

    kind = {"pure_pursuit": PurePursuitExpert, "stanley": StanleyExpert}[name]
    return kind(noise_std=noise_std, noise_correlation=noise_correlation)


def _episode(record: EpisodeData) -> LaneEpisode:
    return LaneEpisode(
        seed=int(record.seed),
        lateral_m=record.trace["lateral_offset_m"],
        heading_rad=record.trace["heading_error_rad"],
        steer=np.asarray(record.actions[:, 0], dtype=np.float64),
        distance_m=float(record.final_info["distance_m"]),
        interventions=int(record.final_info["interventions"]),
        control_dt_s=record.dt_s,
    )


def _summary(episodes: Sequence[Any]) -> dict[str, float]:
    return lane_metrics(episodes)


def _shift(name: str, severity: int, base: Mapping[str, Any] | None) -> Scenario:
    from lnn_control.envs.lane.shifts import shift_scenario

    return shift_scenario(name, severity, base)


WORLD = World(
    env_id="lnn_control/LaneKeeping-v0",
    name="lane_keeping",
    entry_point="lnn_control.envs.lane.env:LaneKeepingEnv",
    action_names=("steering",),
    control_dt_s=CONTROL_DT_S,
    experts=("pure_pursuit", "stanley"),
    summary_keys=LANE_SUMMARY_KEYS,
    trace_keys=("lateral_offset_m", "heading_error_rad", "curvature_ahead", "distance_m"),
    eval_env_kwargs={"intervention": True},
    shifts=SHIFTS,
    unsupported_perturbations=(),
    image_shape=(64, 160, 3),
    video_recorder="lnn_control.reporting.drive_video:DriveRecorder",
    quality_key="mean_abs_lateral_m",
    quality_higher_is_better=False,
    explain_trace_key="curvature_ahead",
    explain_trace_label="curvature (1/m)",
    _scenario_for=scenario_for_distance,
    _period_s=_period_s,
    _make_expert=_make_expert,
    _episode=_episode,
    _summary=_summary,
    _shift_scenario=_shift,
)
