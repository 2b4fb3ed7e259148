"""FlightRecorder: composite frames of a drone flight, the arena map, GIF/MP4 writing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
from numpy.typing import NDArray

from lnn_control.envs.drone.env import DroneNavEnv
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.policies import build_policy
from lnn_control.reporting.drive_video import GREEN, RED, write_frames
from lnn_control.reporting.flight_video import (
    CAMERA_HEIGHT_PX,
    DRONE_RGB,
    MAP_SIZE_PX,
    TARGET_RGB,
    TRUNK_RGB,
    FlightRecorder,
)
from lnn_control.rollout import run_episode

IMAGE = (32, 48, 3)
#: 1 s at 20 Hz: 20 steps.
SCENARIO = {"image_height": IMAGE[0], "image_width": IMAGE[1], "time_limit_s": 1.0}
SEED = 1_000_000
DRONE_ID = "lnn_control/DroneNav-v0"


class _FullForward:
    """A scripted policy: full forward speed, nothing else (the path must show on the map)."""

    def initial_state(self, batch_size: int) -> None:
        return None

    def step(self, obs: Any, state: None, dt: float | None = None) -> tuple[NDArray[Any], None]:
        return np.array([1.0, 0.0, 0.0, 0.0], np.float32), None


def _record(policy: Any) -> FlightRecorder:
    recorder = FlightRecorder()
    run_episode(policy, DRONE_ID, SEED, env_kwargs={"scenario": SCENARIO}, recorders=[recorder])
    return recorder


@pytest.fixture(scope="module")
def ncp_flight() -> FlightRecorder:
    """An untrained drone NCP's 20-step flight."""
    return _record(build_policy("ncp", image_shape=IMAGE, action_dim=4, seed=0))


@pytest.fixture(scope="module")
def forward_flight() -> FlightRecorder:
    return _record(_FullForward())


def _has(image: NDArray[np.uint8], rgb: tuple[int, int, int]) -> bool:
    return bool(np.all(image == np.asarray(rgb, np.uint8), axis=-1).any())


def test_compose_is_a_stable_rgb_frame(ncp_flight: FlightRecorder) -> None:
    assert len(ncp_flight.frames) == 20
    frames = [ncp_flight.compose(i) for i in (0, 9, 19)]
    for frame in frames:
        assert frame.dtype == np.uint8
        assert frame.ndim == 3
        assert frame.shape[2] == 3
        assert frame.shape == frames[0].shape
    assert frames[0].shape[0] >= MAP_SIZE_PX
    scale = CAMERA_HEIGHT_PX // IMAGE[0]  # integer upscaling
    np.testing.assert_array_equal(frames[-1][::scale, ::scale][:32, :48], ncp_flight.frames[19])
    assert not np.array_equal(frames[0], frames[-1])  # commands, distance and time change


def test_map_shows_target_and_obstacles(ncp_flight: FlightRecorder) -> None:
    arena = ncp_flight.arena
    assert arena is not None
    assert arena.obstacles
    image = ncp_flight.map_image(19)
    col, row = arena.to_px(*arena.target_xy_m)
    assert tuple(image[row, col]) == TARGET_RGB
    trunk = max(arena.obstacles, key=lambda o: o.radius_m)
    col, row = arena.to_px(trunk.x_m, trunk.y_m)
    assert tuple(image[row, col]) == TRUNK_RGB
    col, row = arena.to_px(*ncp_flight.xy_m[19])
    assert tuple(image[row, col]) == DRONE_RGB


def test_path_grows_on_the_map(forward_flight: FlightRecorder) -> None:
    arena = forward_flight.arena
    assert arena is not None
    start, end = np.asarray(forward_flight.xy_m[0]), np.asarray(forward_flight.xy_m[-1])
    assert math.dist(start, end) * arena.px_per_m > 5  # the drone moved several pixels
    background = arena.background()

    def drawn(index: int) -> int:
        return int(np.any(forward_flight.map_image(index) != background, axis=-1).sum())

    assert drawn(0) < drawn(10) < drawn(19)
    col, row = arena.to_px(*end)
    assert tuple(forward_flight.map_image(19)[row, col]) == DRONE_RGB
    assert tuple(forward_flight.map_image(0)[row, col]) != DRONE_RGB


@pytest.mark.parametrize(("flag", "colour"), [("collision", RED), ("success", GREEN)])
def test_last_step_marks_crash_red_and_success_green(
    flag: str, colour: tuple[int, int, int]
) -> None:
    env = DroneNavEnv(DroneScenario.from_mapping(SCENARIO))
    try:
        obs, info = env.reset(seed=SEED)
        recorder = FlightRecorder()
        action = np.zeros(4, np.float32)
        recorder.record_step(env, obs, info, action)
        recorder.record_step(env, obs, {**info, flag: True}, action)
    finally:
        env.close()
    assert recorder.arena is not None
    col, row = recorder.arena.to_px(*recorder.xy_m[-1])
    assert not _has(recorder.map_image(0)[row - 8 : row + 9, col - 8 : col + 9], colour)
    assert _has(recorder.map_image(1)[row - 8 : row + 9, col - 8 : col + 9], colour)


def test_gif_has_one_frame_per_step(ncp_flight: FlightRecorder, tmp_path: Path) -> None:
    path = ncp_flight.write(tmp_path / "flight.gif")
    frames = iio.imread(path)
    assert frames.shape[0] == 20
    assert frames.shape[1:3] == ncp_flight.compose(0).shape[:2]
    # every 3rd step, plus the last (how the flight ended): 0, 3, ..., 18, 19
    assert iio.imread(ncp_flight.write(tmp_path / "strided.gif", stride=3)).shape[0] == 8


def test_write_refuses_nothing_and_bad_strides(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing recorded"):
        FlightRecorder().write(tmp_path / "x.gif")
    with pytest.raises(ValueError, match="no frames"):
        write_frames(tmp_path / "x.gif", [], 20.0)
    with pytest.raises(ValueError, match="fps must be > 0"):
        write_frames(tmp_path / "x.gif", [np.zeros((8, 8, 3), np.uint8)], 0.0)
