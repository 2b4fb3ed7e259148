"""`lnn-control simulate`: closed-loop runs of a policy on held-out seeds, with a video."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lnn_control.envs.scenario import HELD_OUT_SEED_START


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control simulate`."""
    parser.add_argument("--policy", required=True, help="checkpoint directory or pretrained:<name>")
    parser.add_argument("--seeds", type=int, default=5, help="number of held-out seeds (default 5)")
    parser.add_argument(
        "--seed-start",
        type=int,
        default=HELD_OUT_SEED_START,
        help="first seed; must be >= 1,000,000 (held out)",
    )
    parser.add_argument("--distance-m", type=float, default=200.0, help="road length per seed (m)")
    parser.add_argument("--out", type=Path, default=Path("runs/simulate"), help="output directory")
    parser.add_argument("--video", action="store_true", help="also record the first seed's drive")
    parser.add_argument("--workers", type=int, default=2, help="parallel episodes (processes)")


def training_scenario(checkpoint_config: dict[str, Any]) -> dict[str, Any]:
    """The scenario overrides the policy was trained with (clean conditions for it): image size,
    speed, road look. Empty for checkpoints without training provenance."""
    provenance = checkpoint_config.get("provenance") or {}
    env = (provenance.get("config") or {}).get("env") or {}
    return dict(env.get("scenario") or {})


def run(args: argparse.Namespace) -> int:
    """Evaluate, write episodes.csv + summary.json (+ drive.mp4), print the summary."""
    from lnn_control.eval.evaluate import evaluate, run_lane_episode, scenario_for_distance
    from lnn_control.eval.video import DriveRecorder
    from lnn_control.policies.checkpoint import load_checkpoint, resolve_checkpoint

    if args.seed_start < HELD_OUT_SEED_START:
        raise ValueError(
            f"--seed-start must be >= {HELD_OUT_SEED_START:,} (held-out seeds), "
            f"got {args.seed_start}"
        )
    if args.seeds < 1 or args.distance_m <= 0:
        raise ValueError("--seeds must be >= 1 and --distance-m > 0")
    policy, config = load_checkpoint(resolve_checkpoint(args.policy))
    scenario = scenario_for_distance(training_scenario(config), args.distance_m)
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    result = evaluate(policy, seeds=seeds, env_kwargs={"scenario": scenario}, workers=args.workers)
    result.save(args.out)
    if args.video:
        recorder = DriveRecorder(max_steps=600)
        run_lane_episode(
            policy,
            seeds[0],
            env_kwargs={"scenario": scenario},
            episode_steps=600,
            on_step=recorder.on_step,
        )
        print(f"video: {recorder.write(args.out / 'drive.mp4')}")
    print(json.dumps({"seed_range": list(result.seed_range), **result.summary}, indent=2))
    return 0
