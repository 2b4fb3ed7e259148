"""A flight video: the drone's camera, its four commands and the distance to the target, and a
top-down map of the arena (obstacles, target, path flown so far), side by side (OpenCV).

recorder = FlightRecorder()
run_episode(policy, "lnn_control/DroneNav-v0", seed, recorders=[recorder])
recorder.write("runs/sim/flight.mp4")   # MP4 (OpenCV's FFmpeg); .gif via imageio

The map shows the whole arena (|x|, |y| <= arena_half_size_m) with x to the right and y up:
trunks as circles, buildings as squares, the target as a red dot inside a ring of the success
radius, the path as a blue line and the drone as a white dot with a heading tick. The last frame
of a crash (collision or leaving the arena) gets a red cross, of a success a green dot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.drone.scene import TARGET_RADIUS_M, Obstacle
from lnn_control.reporting.drive_video import GREEN, GREY, RED, WHITE, put_text, write_frames
from lnn_control.rollout.episode import Recorder, Step

RGB = tuple[int, int, int]

#: The camera view is upscaled by an integer factor to about this height.
CAMERA_HEIGHT_PX = 192
#: The left column (camera, command bars) is at least this wide.
MIN_LEFT_WIDTH_PX = 192
BARS_HEIGHT_PX = 96
BAR_ROW_PX = 16
MAP_SIZE_PX = 320
MAP_MARGIN_PX = 4
PANEL_GAP_PX = 8
#: Used until the first step tells the env's control rate.
DEFAULT_FPS = 20.0
COMMAND_NAMES = ("vx", "vy", "vz", "yaw")
HEADING_TICK_PX = 10
MAP_BACKGROUND = 24
TRUNK_RGB: RGB = (150, 105, 60)
BUILDING_RGB: RGB = (150, 150, 165)
TARGET_RGB: RGB = (230, 13, 13)
PATH_RGB: RGB = (90, 180, 255)
DRONE_RGB: RGB = WHITE


@dataclass(frozen=True)
class ArenaMap:
    """Top-down geometry of one episode: arena half size (m), obstacles, target centre (m, x/y)
    and success radius (m); maps world x/y (m) to map pixels (column right, row down)."""

    half_size_m: float
    obstacles: tuple[Obstacle, ...]
    target_xy_m: tuple[float, float]
    success_radius_m: float

    @classmethod
    def from_env(cls, env: Any) -> ArenaMap:
        """Read the arena from a DroneNav-v0 env's privileged state (any wrappers around it)."""
        state = env.unwrapped.privileged_state()
        tx, ty, _ = state.target_position_m
        return cls(
            float(state.arena_half_size_m),
            tuple(state.obstacles),
            (float(tx), float(ty)),
            float(state.success_radius_m),
        )

    @property
    def px_per_m(self) -> float:
        """Map scale (pixels per metre)."""
        return (MAP_SIZE_PX - 2 * MAP_MARGIN_PX) / (2.0 * self.half_size_m)

    def points_px(self, xy_m: NDArray[np.float64]) -> NDArray[np.int32]:
        """World x/y (m), shape (N, 2) -> map pixels (column, row), shape (N, 2)."""
        p = (np.asarray(xy_m, np.float64).reshape(-1, 2) + self.half_size_m) * self.px_per_m
        cols = MAP_MARGIN_PX + p[:, 0]
        rows = MAP_SIZE_PX - MAP_MARGIN_PX - p[:, 1]
        return np.rint(np.stack([cols, rows], axis=1)).astype(np.int32)

    def to_px(self, x_m: float, y_m: float) -> tuple[int, int]:
        """One world point (m) -> map pixel (column, row)."""
        col, row = self.points_px(np.array([[x_m, y_m]]))[0]
        return int(col), int(row)

    def background(self) -> NDArray[np.uint8]:
        """The static map (arena outline, obstacles, target): RGB uint8, MAP_SIZE_PX square."""
        panel = np.full((MAP_SIZE_PX, MAP_SIZE_PX, 3), MAP_BACKGROUND, np.uint8)
        h = self.half_size_m
        cv2.rectangle(panel, self.to_px(-h, h), self.to_px(h, -h), GREY, 1)
        scale = self.px_per_m
        for o in self.obstacles:
            r = o.radius_m
            if o.box:
                corners = self.to_px(o.x_m - r, o.y_m + r), self.to_px(o.x_m + r, o.y_m - r)
                cv2.rectangle(panel, *corners, BUILDING_RGB, -1)
            else:
                radius_px = max(1, round(r * scale))
                cv2.circle(panel, self.to_px(o.x_m, o.y_m), radius_px, TRUNK_RGB, -1, cv2.LINE_AA)
        target = self.to_px(*self.target_xy_m)
        ring_px = max(3, round(self.success_radius_m * scale))
        cv2.circle(panel, target, ring_px + 2, TARGET_RGB, 1, cv2.LINE_AA)
        cv2.circle(panel, target, max(2, round(TARGET_RADIUS_M * scale)), TARGET_RGB, -1)
        return panel


def _outcome(info: dict[str, Any]) -> str:
    if info.get("success"):
        return "success"
    if info.get("collision"):
        return "collision"
    return "out of arena" if info.get("out_of_arena") else ""


class FlightRecorder(Recorder):
    """Collects camera frames, commands, positions and outcomes during a DroneNav-v0 flight;
    renders the composite video (see the module docstring)."""

    FILE_NAME = "flight.mp4"

    def __init__(self, max_steps: int = 2000) -> None:
        self.max_steps = max_steps
        self.frames: list[NDArray[np.uint8]] = []
        self.actions: list[NDArray[np.float32]] = []
        self.xy_m: list[tuple[float, float]] = []
        self.yaw_rad: list[float] = []
        self.distance_m: list[float] = []
        self.elapsed_s: list[float] = []
        self.outcomes: list[str] = []
        self.arena: ArenaMap | None = None
        self.fps = DEFAULT_FPS
        self._background: NDArray[np.uint8] | None = None

    def on_step(self, step: Step) -> None:
        """After each `env.step` of `run_episode`: record the new frame."""
        self.record_step(step.env, step.next_obs, step.info, step.action)

    def record_step(
        self, env: Any, obs: NDArray[np.uint8], info: dict[str, Any], action: NDArray[np.float32]
    ) -> None:
        """Record one step: the frame after it, its info and the action that led there."""
        if len(self.frames) >= self.max_steps:
            return
        if self.arena is None:
            self.arena = ArenaMap.from_env(env)
            self._background = self.arena.background()
            self.fps = float(env.unwrapped.scenario.control_hz)
        x, y, _ = info["position_m"]
        self.frames.append(np.asarray(obs, dtype=np.uint8))
        self.actions.append(np.clip(np.asarray(action, np.float32).reshape(-1), -1.0, 1.0))
        self.xy_m.append((float(x), float(y)))
        self.yaw_rad.append(float(info["yaw_rad"]))
        self.distance_m.append(float(info["distance_to_target_m"]))
        self.elapsed_s.append(float(info["elapsed_s"]))
        self.outcomes.append(_outcome(info))

    def compose(self, index: int) -> NDArray[np.uint8]:
        """The RGB video frame for step `index`: camera and command bars left, map right."""
        frame = self.frames[index]
        scale = max(1, round(CAMERA_HEIGHT_PX / frame.shape[0]))
        camera = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        cam_h, cam_w = camera.shape[:2]
        left = np.zeros((cam_h + BARS_HEIGHT_PX, max(cam_w, MIN_LEFT_WIDTH_PX), 3), np.uint8)
        left[:cam_h, :cam_w] = camera
        self._draw_commands(left[cam_h:], index)
        height = max(left.shape[0], MAP_SIZE_PX)
        canvas = np.zeros((height, left.shape[1] + PANEL_GAP_PX + MAP_SIZE_PX, 3), np.uint8)
        canvas[: left.shape[0], : left.shape[1]] = left
        canvas[:MAP_SIZE_PX, left.shape[1] + PANEL_GAP_PX :] = self.map_image(index)
        return canvas

    def _draw_commands(self, panel: NDArray[np.uint8], index: int) -> None:
        """One bar per command in [-1, 1] (centre = 0), then distance to target and time."""
        w = panel.shape[1]
        x0, x1 = 36, w - 48
        centre = (x0 + x1) // 2
        for row, (name, value) in enumerate(zip(COMMAND_NAMES, self.actions[index], strict=True)):
            top = 4 + row * BAR_ROW_PX
            put_text(panel, name, (4, top + 11))
            cv2.rectangle(panel, (x0, top + 2), (x1, top + 12), GREY, 1)
            end = round(centre + float(value) * (x1 - x0) / 2)
            cv2.rectangle(
                panel, (min(centre, end), top + 3), (max(centre, end), top + 11), GREEN, -1
            )
            put_text(panel, f"{float(value):+.2f}", (x1 + 4, top + 11))
        text = f"target {self.distance_m[index]:.2f} m  t {self.elapsed_s[index]:.2f} s"
        put_text(panel, text, (4, 4 + len(COMMAND_NAMES) * BAR_ROW_PX + 14))

    def map_image(self, index: int) -> NDArray[np.uint8]:
        """The top-down map after step `index`: RGB uint8 (MAP_SIZE_PX, MAP_SIZE_PX, 3)."""
        if self.arena is None or self._background is None:
            raise ValueError("nothing recorded")
        panel = self._background.copy()
        pts = self.arena.points_px(np.asarray(self.xy_m[: index + 1]))
        if len(pts) > 1:
            cv2.polylines(panel, [pts], False, PATH_RGB, 1, cv2.LINE_AA)
        here = (int(pts[-1, 0]), int(pts[-1, 1]))
        yaw = self.yaw_rad[index]
        tip = (
            round(here[0] + HEADING_TICK_PX * math.cos(yaw)),
            round(here[1] - HEADING_TICK_PX * math.sin(yaw)),
        )
        cv2.line(panel, here, tip, DRONE_RGB, 1, cv2.LINE_AA)
        outcome = self.outcomes[index]
        if outcome == "success":
            cv2.circle(panel, here, 6, GREEN, -1)
        elif outcome:
            cv2.drawMarker(panel, here, RED, cv2.MARKER_TILTED_CROSS, 14, 2)
        cv2.circle(panel, here, 2, DRONE_RGB, -1)
        if outcome:
            put_text(panel, outcome, (MAP_MARGIN_PX + 4, MAP_MARGIN_PX + 14))
        return panel

    def write(self, path: str | Path, stride: int = 1) -> Path:
        """Write every `stride`-th composite frame as MP4 (or GIF by extension); the last step
        (how the flight ended) is always included."""
        if not self.frames:
            raise ValueError("nothing recorded")
        if stride < 1:
            raise ValueError(f"stride must be an integer >= 1, got {stride}")
        indices = list(range(0, len(self.frames), stride))
        if indices[-1] != len(self.frames) - 1:
            indices.append(len(self.frames) - 1)
        return write_frames(path, [self.compose(i) for i in indices], self.fps / stride)
