"""The `World` record of drone navigation: hooks import pybullet only when called."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lnn_control.envs.drone.metrics import DRONE_SUMMARY_KEYS, DroneEpisode, drone_metrics
from lnn_control.envs.world import EpisodeData, Scenario, World

SHIFTS = ("wind", "scenery", "obstacle_density", "drone_mass", "drone_camera_pitch")


def _scenario_for(base: Mapping[str, Any], distance_m: float | None) -> Scenario:
    """Flights end at the target, on a crash or at the time limit: `distance_m` is ignored."""
    return dict(base)


def _period_s(env: Any) -> float:
    return float(env.unwrapped.get_wrapper_attr("scenario").control_dt_s)


def _make_expert(name: str, noise_std: float, noise_correlation: float) -> Any:
    from lnn_control.envs.drone.expert import DroneExpert

    return DroneExpert(noise_std=noise_std, noise_correlation=noise_correlation)


def _episode(record: EpisodeData) -> DroneEpisode:
    info = record.final_info
    return DroneEpisode(
        seed=int(record.seed),
        steps=record.steps,
        elapsed_s=record.steps * record.dt_s,
        success=bool(info["success"]),
        collision=bool(info["collision"]),
        out_of_arena=bool(info["out_of_arena"]),
        final_distance_m=float(info["distance_to_target_m"]),
    )


def _summary(episodes: Sequence[Any]) -> dict[str, float]:
    return drone_metrics(episodes)


def _shift(name: str, severity: int, base: Mapping[str, Any] | None) -> Scenario:
    from lnn_control.envs.drone.shifts import drone_shift_scenario

    return drone_shift_scenario(name, severity, base)


WORLD = World(
    env_id="lnn_control/DroneNav-v0",
    name="drone_nav",
    entry_point="lnn_control.envs.drone.env:DroneNavEnv",
    action_names=("vx", "vy", "vz", "yaw_rate"),
    control_dt_s=0.05,
    experts=("drone_guidance",),
    summary_keys=DRONE_SUMMARY_KEYS,
    trace_keys=("distance_to_target_m", "speed_mps"),
    eval_env_kwargs={},
    shifts=SHIFTS,
    unsupported_perturbations=("fog",),
    image_shape=(64, 96, 3),
    video_recorder="lnn_control.reporting.flight_video:FlightRecorder",
    quality_key="mean_final_distance_m",
    quality_higher_is_better=False,
    explain_trace_key="distance_to_target_m",
    explain_trace_label="distance to target (m)",
    _scenario_for=_scenario_for,
    _period_s=_period_s,
    _make_expert=_make_expert,
    _episode=_episode,
    _summary=_summary,
    _shift_scenario=_shift,
)
