"""`lnn-control simulate`: closed-loop runs of a policy on held-out seeds, with a video.

The world comes from the checkpoint's env id: lane keeping (`drive.mp4`: camera, steering trace,
road map) or drone navigation (`flight.mp4`: camera, the four commands and the distance to the
target, arena map with the path flown).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lnn_control.envs.scenario import HELD_OUT_SEED_START
from lnn_control.eval.drone_eval import DRONE_ENV_ID
from lnn_control.eval.evaluate import LANE_ENV_ID

#: Steps recorded in a video (30 s at 20 Hz); the drone's flight may end sooner.
VIDEO_STEPS = 600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control simulate`."""
    parser.add_argument(
        "--policy",
        required=True,
        help="checkpoint directory or pretrained:<name> (lane keeping or drone; the world is "
        "the checkpoint's env id)",
    )
    parser.add_argument("--seeds", type=int, default=5, help="number of held-out seeds (default 5)")
    parser.add_argument(
        "--seed-start",
        type=int,
        default=HELD_OUT_SEED_START,
        help="first seed; must be >= 1,000,000 (held out)",
    )
    parser.add_argument(
        "--distance-m",
        type=float,
        default=200.0,
        help="road length per seed (m), lane keeping only; ignored for the drone, whose flights "
        "end at the target, on a crash or at the time limit",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/simulate"), help="output directory")
    parser.add_argument(
        "--video",
        action="store_true",
        help="also record the first seed: drive.mp4 (lane keeping) or flight.mp4 (drone)",
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel episodes (processes)")


def training_scenario(checkpoint_config: dict[str, Any]) -> dict[str, Any]:
    """The scenario overrides the policy was trained with (clean conditions for it): image size,
    speed, road look. Empty for checkpoints without training provenance."""
    provenance = checkpoint_config.get("provenance") or {}
    env = (provenance.get("config") or {}).get("env") or {}
    return dict(env.get("scenario") or {})


def drone_scenario(
    checkpoint_config: dict[str, Any], image_shape: tuple[int, ...]
) -> dict[str, Any]:
    """The training scenario overrides, with the camera size set to the policy's (H, W, 3)
    `image_shape` (the only size the policy accepts)."""
    height, width = int(image_shape[0]), int(image_shape[1])
    return {**training_scenario(checkpoint_config), "image_height": height, "image_width": width}


def run(args: argparse.Namespace) -> int:
    """Evaluate, write episodes.csv + summary.json (+ the video), print the summary."""
    from lnn_control.eval.evaluate import evaluate
    from lnn_control.policies.checkpoint import load_checkpoint, resolve_checkpoint

    if args.seed_start < HELD_OUT_SEED_START:
        raise ValueError(
            f"--seed-start must be >= {HELD_OUT_SEED_START:,} (held-out seeds), "
            f"got {args.seed_start}"
        )
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    policy, config = load_checkpoint(resolve_checkpoint(args.policy))
    env_id = str(config.get("env_id") or LANE_ENV_ID)
    if env_id not in WORLDS:
        raise ValueError(
            f"checkpoint env id {env_id!r} cannot be simulated; allowed: {', '.join(WORLDS)}"
        )
    env_kwargs, run_episode, recorder, video_name = WORLDS[env_id](args, policy, config)
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    result = evaluate(policy, env_id, seeds=seeds, env_kwargs=env_kwargs, workers=args.workers)
    result.save(args.out)
    if args.video:
        run_episode(
            policy, seeds[0], env_kwargs=env_kwargs, episode_steps=VIDEO_STEPS,
            on_step=recorder.on_step,
        )  # fmt: skip
        print(f"video: {recorder.write(args.out / video_name)}")
    summary = {"env_id": env_id, "seed_range": list(result.seed_range), **result.summary}
    print(json.dumps(summary, indent=2))
    return 0


World = tuple[dict[str, Any], Callable[..., Any], Any, str]


def _lane_world(args: argparse.Namespace, policy: Any, config: dict[str, Any]) -> World:
    """Lane keeping under the intervention protocol on roads of `--distance-m`: (env kwargs,
    episode runner, video recorder, video file name)."""
    from lnn_control.eval.evaluate import run_lane_episode, scenario_for_distance
    from lnn_control.eval.video import DriveRecorder

    if args.distance_m <= 0:
        raise ValueError(f"--distance-m must be > 0, got {args.distance_m}")
    scenario = scenario_for_distance(training_scenario(config), args.distance_m)
    return {"scenario": scenario}, run_lane_episode, DriveRecorder(VIDEO_STEPS), "drive.mp4"


def _drone_world(args: argparse.Namespace, policy: Any, config: dict[str, Any]) -> World:
    """Drone flights in the training scenario until success, crash or the time limit."""
    from lnn_control.eval.drone_eval import run_drone_episode
    from lnn_control.eval.flight_video import FlightRecorder

    scenario = drone_scenario(config, policy.image_shape)
    return {"scenario": scenario}, run_drone_episode, FlightRecorder(VIDEO_STEPS), "flight.mp4"


#: env id -> what `simulate` needs for that world.
WORLDS: dict[str, Callable[[argparse.Namespace, Any, dict[str, Any]], World]] = {
    LANE_ENV_ID: _lane_world,
    DRONE_ENV_ID: _drone_world,
}
