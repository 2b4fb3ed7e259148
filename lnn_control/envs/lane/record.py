"""Record a lane-keeping drive: camera GIF and a top-down trajectory plot (matplotlib, Agg)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.expert import LaneExpert
from lnn_control.envs.lane.road import SAMPLE_SPACING_M, Road
from lnn_control.envs.lane.sim import CONTROL_HZ, WHEELBASE_M

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Each camera pixel becomes this many GIF pixels per side (64 x 160 -> 192 x 480).
GIF_UPSCALE = 3


@dataclass
class Recording:
    """One drive: camera frames (T+1, H, W, 3) uint8, car-centre path (T+1, 2) m, lateral
    offsets (T+1,) m, executed actions (T,), the road, lane width (m), seed, interventions."""

    frames: NDArray[np.uint8]
    path_xy: NDArray[np.float64]
    lateral_m: NDArray[np.float64]
    actions: NDArray[np.float64]
    road: Road
    lane_width_m: float
    seed: int
    interventions: int


def record_drive(env: LaneKeepingEnv, expert: LaneExpert, seed: int, steps: int) -> Recording:
    """Drive `expert` (its executed actions) for up to `steps` control steps on `seed`."""
    obs, info = env.reset(seed=seed)
    expert.reset(seed=seed)
    frames, path, lateral, actions = [obs], [_centre(env)], [info["lateral_offset_m"]], []
    for _ in range(steps):
        executed, _ = expert.act(env.privileged_state())
        obs, _, terminated, truncated, info = env.step(executed)
        frames.append(obs)
        path.append(_centre(env))
        lateral.append(info["lateral_offset_m"])
        actions.append(float(executed[0]))
        if terminated or truncated:
            break
    return Recording(
        np.array(frames),
        np.array(path),
        np.array(lateral),
        np.array(actions),
        env.task.road,
        env.scenario.lane_width_m,
        seed,
        int(info["interventions"]),
    )


def _centre(env: LaneKeepingEnv) -> tuple[float, float]:
    return env.sim.car_state().point_ahead(0.5 * WHEELBASE_M)


def save_gif(frames: NDArray[np.uint8], path: Path, fps: int = CONTROL_HZ) -> Path:
    """Write frames (T, H, W, 3) uint8 as a looping GIF, upscaled by `GIF_UPSCALE`."""
    import imageio.v2 as imageio

    big = frames.repeat(GIF_UPSCALE, axis=1).repeat(GIF_UPSCALE, axis=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, list(big), duration=1.0 / fps, loop=0)
    return path


def plot_drive(recording: Recording, path: Path, frame_index: int = -1) -> Path:
    """PNG with the camera frame, a top-down plot of road and path, and lateral offset vs time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.0, 6.0), dpi=80)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.4])
    ax_cam = fig.add_subplot(grid[0, 0])
    ax_cam.imshow(recording.frames[frame_index])
    ax_cam.set_title(f"camera (frame {frame_index % len(recording.frames)})", fontsize=9)
    ax_cam.axis("off")
    ax_lat = fig.add_subplot(grid[0, 1])
    t = np.arange(len(recording.lateral_m)) / CONTROL_HZ
    ax_lat.plot(t, recording.lateral_m, lw=1.0)
    half = 0.5 * recording.lane_width_m
    ax_lat.axhline(half, color="r", ls="--", lw=0.8)
    ax_lat.axhline(-half, color="r", ls="--", lw=0.8)
    ax_lat.set(xlabel="time (s)", ylabel="lateral offset (m)")
    ax_top = fig.add_subplot(grid[1, :])
    _draw_road(ax_top, recording)
    fig.suptitle(
        f"seed {recording.seed}: {len(recording.actions) / CONTROL_HZ:.1f} s, "
        f"{recording.interventions} interventions",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _draw_road(ax: Axes, recording: Recording) -> None:
    road, w = recording.road, recording.lane_width_m
    nearest = int(np.argmin(np.hypot(*(road.xy - recording.path_xy[-1]).T)))
    end = max(nearest + int(5.0 / SAMPLE_SPACING_M), 8)  # 5 m of road past the car
    for lateral, style in ((-0.5 * w, "k-"), (0.5 * w, "y--"), (1.5 * w, "k-")):
        edge = road.offset_polyline(lateral)[:end]
        ax.plot(edge[:, 0], edge[:, 1], style, lw=0.8)
    ax.plot(*recording.path_xy.T, "b-", lw=1.2, label="car centre")
    ax.set_aspect("equal")
    ax.set(xlabel="x (m)", ylabel="y (m)", title="top-down: road edges, centre line, path")
    ax.legend(loc="best", fontsize=8)
