"""`lnn-control drive`: drive a privileged expert on one seed and record it.

Writes `<out>/drive_<expert>_<seed>.gif` (camera view) and `<out>/drive_<expert>_<seed>.png`
(camera frame, lateral offset over time, top-down road and path).
"""

from __future__ import annotations

import argparse

EXPERT_NAMES = ("pure_pursuit", "stanley")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `drive` options to `parser`."""
    parser.add_argument("--expert", choices=EXPERT_NAMES, default="pure_pursuit")
    parser.add_argument("--seed", type=int, default=0, help="road seed (>= 1,000,000: held out)")
    parser.add_argument("--seconds", type=float, default=10.0, help="drive time (s)")
    parser.add_argument(
        "--noise-std",
        type=float,
        default=0.0,
        help="std of the noise injected into executed actions, in [0, 1]",
    )
    parser.add_argument("--out", default="videos/drive", help="output directory")
    parser.add_argument(
        "--intervention",
        action="store_true",
        help="run under the intervention protocol (departures do not end it)",
    )


def run(args: argparse.Namespace) -> int:
    """Drive, write the GIF and the plot, print their paths; returns 0."""
    from pathlib import Path

    from lnn_control.envs.lane.env import LaneKeepingEnv
    from lnn_control.envs.lane.expert import PurePursuitExpert, StanleyExpert
    from lnn_control.envs.lane.record import plot_drive, record_drive, save_gif
    from lnn_control.envs.lane.sim import CONTROL_HZ

    if args.seconds <= 0:
        raise ValueError(f"--seconds must be > 0, got {args.seconds}")
    expert_type = PurePursuitExpert if args.expert == "pure_pursuit" else StanleyExpert
    expert = expert_type(noise_std=args.noise_std)
    env = LaneKeepingEnv(intervention=args.intervention)
    try:
        recording = record_drive(env, expert, args.seed, int(args.seconds * CONTROL_HZ))
    finally:
        env.close()
    stem = Path(args.out) / f"drive_{args.expert}_{args.seed}"
    gif = save_gif(recording.frames, stem.with_suffix(".gif"))
    png = plot_drive(recording, stem.with_suffix(".png"))
    print(f"wrote {gif} ({len(recording.frames)} frames) and {png}")
    return 0
