"""`lnn-control simulate`: closed-loop runs of a policy on held-out seeds, with a video.

The world comes from the checkpoint's env id: lane keeping (`drive.mp4`: camera, steering trace,
road map) or drone navigation (`flight.mp4`: camera, the four commands and the distance to the
target, arena map with the path flown).
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START
from lnn_control.envs.world import env_ids, world

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


def policy_scenario(
    checkpoint_config: dict[str, Any], image_shape: tuple[int, ...]
) -> dict[str, Any]:
    """The training scenario overrides, with the camera size set to the policy's (H, W, 3)
    `image_shape` (the only size the policy accepts)."""
    from lnn_control.policies.checkpoint import training_scenario

    height, width = int(image_shape[0]), int(image_shape[1])
    return {**training_scenario(checkpoint_config), "image_height": height, "image_width": width}


def run(args: argparse.Namespace) -> int:
    """Evaluate, write episodes.csv + summary.json (+ the video), print the summary."""
    from lnn_control.policies.checkpoint import load_checkpoint, resolve_checkpoint
    from lnn_control.rollout import evaluate, run_episode

    if args.seed_start < HELD_OUT_SEED_START:
        raise ValueError(
            f"--seed-start must be >= {HELD_OUT_SEED_START:,} (held-out seeds), "
            f"got {args.seed_start}"
        )
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    policy, config = load_checkpoint(resolve_checkpoint(args.policy))
    the_world = world(str(config.get("env_id") or env_ids()[0]))
    base = policy_scenario(config, policy.image_shape)
    env_kwargs = {"scenario": the_world.scenario_for(base, args.distance_m)}
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    result = evaluate(policy, the_world, seeds=seeds, env_kwargs=env_kwargs, workers=args.workers)
    result.save(args.out)
    if args.video:
        recorder = video_recorder(the_world.video_recorder, VIDEO_STEPS)
        run_episode(policy, the_world, seeds[0], env_kwargs=env_kwargs, steps=VIDEO_STEPS,
                    recorders=[recorder])  # fmt: skip
        print(f"video: {recorder.write(args.out / recorder.FILE_NAME)}")
    summary = {"env_id": the_world.env_id, "seed_range": list(result.seed_range), **result.summary}
    print(json.dumps(summary, indent=2))
    return 0


def video_recorder(target: str, max_steps: int) -> Any:
    """The world's video recorder class ("module:Class"), made for `max_steps` steps."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(max_steps)
