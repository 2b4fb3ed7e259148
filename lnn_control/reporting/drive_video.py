"""A drive video: camera view, steering trace and a top-down map, side by side (OpenCV).

recorder = DriveRecorder()
run_episode(policy, "lnn_control/LaneKeeping-v0", seed, recorders=[recorder])
recorder.write("runs/sim/drive.mp4")   # MP4 (OpenCV's FFmpeg); .gif via imageio

`write_frames` and `put_text` are shared with the drone's `flight_video.FlightRecorder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from lnn_control.rollout.episode import Recorder, Step

CAMERA_SCALE = 2  # camera pixels are upscaled 2x in the video
TRACE_STEPS = 200  # steering history shown (10 s at 20 Hz)
MAP_SIZE_PX = 256
PANEL_GAP_PX = 8
FPS = 20
WHITE, GREEN, RED, GREY = (255, 255, 255), (60, 200, 80), (220, 60, 60), (110, 110, 110)


class DriveRecorder(Recorder):
    """Collects frames, actions and positions during a drive; renders the composite video."""

    FILE_NAME = "drive.mp4"

    def __init__(self, max_steps: int = 2000) -> None:
        self.max_steps = max_steps
        self.frames: list[NDArray[np.uint8]] = []
        self.steer: list[float] = []
        self.xy: list[tuple[float, float]] = []
        self.interventions: list[bool] = []
        self.road_xy: NDArray[np.float64] | None = None

    def on_step(self, step: Step) -> None:
        """After each `env.step` of `run_episode`: record the new frame."""
        self.record_step(step.env, step.next_obs, step.info, step.action)

    def record_step(
        self, env: Any, obs: NDArray[np.uint8], info: dict[str, Any], action: NDArray[np.float32]
    ) -> None:
        """Record one step: the frame after it, its info and the action that led there."""
        if len(self.frames) >= self.max_steps:
            return
        state = env.unwrapped.privileged_state()
        if self.road_xy is None:
            self.road_xy = np.asarray(state.road.offset_polyline(0.0))[:, :2]
        self.frames.append(np.asarray(obs, dtype=np.uint8))
        self.steer.append(float(action[0]))
        self.xy.append((state.car.x_m, state.car.y_m))
        self.interventions.append(bool(info.get("intervened", False)))

    def compose(self, index: int) -> NDArray[np.uint8]:
        """The RGB video frame for step `index`."""
        camera = cv2.resize(
            self.frames[index],
            None,
            fx=CAMERA_SCALE,
            fy=CAMERA_SCALE,
            interpolation=cv2.INTER_NEAREST,
        )
        height = max(camera.shape[0] + 96, MAP_SIZE_PX)
        left = np.zeros((height, camera.shape[1], 3), np.uint8)
        left[: camera.shape[0]] = camera
        self._draw_trace(left[camera.shape[0] + 8 :], index)
        canvas = np.zeros((height, left.shape[1] + PANEL_GAP_PX + MAP_SIZE_PX, 3), np.uint8)
        canvas[:, : left.shape[1]] = left
        canvas[:MAP_SIZE_PX, left.shape[1] + PANEL_GAP_PX :] = self._map(index)
        return canvas

    def _draw_trace(self, panel: NDArray[np.uint8], index: int) -> None:
        h, w = panel.shape[:2]
        cv2.line(panel, (0, h // 2), (w, h // 2), GREY, 1)
        history = self.steer[max(0, index - TRACE_STEPS + 1) : index + 1]
        pts = [
            (int(w * i / TRACE_STEPS), int(h / 2 - a * (h / 2 - 4))) for i, a in enumerate(history)
        ]
        if len(pts) > 1:
            cv2.polylines(panel, [np.asarray(pts, np.int32)], False, GREEN, 1, cv2.LINE_AA)
        put_text(panel, f"steer {self.steer[index]:+.2f}", (4, 14))

    def _map(self, index: int) -> NDArray[np.uint8]:
        panel = np.full((MAP_SIZE_PX, MAP_SIZE_PX, 3), 24, np.uint8)
        road = self.road_xy if self.road_xy is not None else np.zeros((1, 2))
        path = np.asarray(self.xy[: index + 1])
        lo, hi = road.min(0) - 2.0, road.max(0) + 2.0
        scale = (MAP_SIZE_PX - 8) / float(max(hi - lo))

        def to_px(xy: NDArray[np.float64]) -> NDArray[np.int32]:
            p = (xy - lo) * scale + 4
            return np.stack([p[:, 0], MAP_SIZE_PX - p[:, 1]], axis=1).astype(np.int32)

        cv2.polylines(panel, [to_px(road)], False, GREY, 3, cv2.LINE_AA)
        if len(path) > 1:
            cv2.polylines(panel, [to_px(path)], False, GREEN, 1, cv2.LINE_AA)
        for i in np.flatnonzero(self.interventions[: index + 1]):
            cv2.circle(panel, tuple(int(v) for v in to_px(path[i : i + 1])[0]), 4, RED, -1)
        return panel

    def write(self, path: str | Path, stride: int = 1) -> Path:
        """Write every `stride`-th composite frame as MP4 (or GIF by extension)."""
        if not self.frames:
            raise ValueError("nothing recorded")
        frames = [self.compose(i) for i in range(0, len(self.frames), stride)]
        return write_frames(path, frames, FPS / stride)


def put_text(panel: NDArray[np.uint8], text: str, origin_px: tuple[int, int]) -> None:
    """Draw small white `text` on `panel` (RGB) with its baseline starting at `origin_px` (x, y)."""
    cv2.putText(panel, text, origin_px, cv2.FONT_HERSHEY_SIMPLEX, 0.4, WHITE, 1)


def write_frames(path: str | Path, frames: Sequence[NDArray[np.uint8]], fps: float) -> Path:
    """Write RGB uint8 `frames` (all of one size) at `fps` frames per second: a GIF (imageio)
    when `path` ends in .gif, else a video through OpenCV's FFmpeg (MP4, codec mp4v)."""
    if not frames:
        raise ValueError("no frames to write")
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        import imageio.v3 as iio

        iio.imwrite(path, np.stack(frames), duration=1000.0 / fps, loop=0)
        return path
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise ValueError(f"OpenCV cannot write a video to {path}; use a .mp4 or .gif path")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path
