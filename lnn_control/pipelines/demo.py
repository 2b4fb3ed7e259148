"""`lnn-control demo`: the main job end to end, behind `make demo`.

1. collect expert drives with noise injection, 2. train the 19-neuron NCP by sequence behaviour
cloning, 3. one DAgger round, 4. evaluate closed loop on held-out seeds (>= 1,000,000) under the
intervention protocol, 5. stress-test under two perturbations, 6. write runs/demo/report.html and
print a summary table. Every stage resumes if interrupted.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from lnn_control.config_io import add_set_argument

DEMO_CONFIG = "demo"
STRESS = (("gaussian_noise", 2), ("low_light", 3))  # (perturbation, severity)
STRESS_SEEDS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control demo`."""
    parser.add_argument(
        "--config",
        default=DEMO_CONFIG,
        help="demo recipe: a packaged name or a YAML path (default: demo)",
    )
    add_set_argument(parser)


def _stress(policy: Any, config: Any) -> list[dict[str, Any]]:
    from lnn_control.envs.perturb import make_wrapper
    from lnn_control.envs.world import world
    from lnn_control.rollout.evaluate import evaluate

    the_world = world(config.env.env_id)
    scenario = the_world.scenario_for(config.env.scenario, config.eval.distance_m / 2)
    seeds = range(config.eval.seed_start, config.eval.seed_start + STRESS_SEEDS)
    rows = []
    for name, severity in STRESS:
        result = evaluate(
            policy,
            the_world,
            seeds=seeds,
            wrappers=[make_wrapper(name, severity)],
            env_kwargs={"scenario": scenario},
            workers=config.eval.workers,
        )
        rows.append({"condition": f"{name} (severity {severity})", **result.summary})
    return rows


def run(args: argparse.Namespace) -> int:
    """Train, evaluate, stress, report."""
    from lnn_control.config_io import load_config
    from lnn_control.pipelines.demo_report import write_demo_report
    from lnn_control.policies import load_policy
    from lnn_control.training.config import ILConfig
    from lnn_control.training.imitation import main

    started = time.perf_counter()
    config = load_config(ILConfig, args.config, args.overrides)
    outcome = main(config, command="make demo")
    policy = load_policy(outcome["policy_dir"])
    rows = [{"condition": "clean", **outcome["summary"]}, *_stress(policy, config)]
    run_dir = Path(config.run_dir)
    (run_dir / "stress.json").write_text(json.dumps(rows, indent=2) + "\n")
    report, table = write_demo_report(run_dir, policy, rows, time.perf_counter() - started, STRESS)
    print("\n" + table)
    print(f"\nreport: {report}   ({time.perf_counter() - started:.0f} s in all)")
    return 0
