"""`lnn-control train`: run an imitation recipe from a YAML config."""

from __future__ import annotations

import argparse
import shlex
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control train`."""
    parser.add_argument(
        "--config", required=True, help="YAML recipe, e.g. configs/lane_keeping_il.yaml"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.policy=lstm (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    """Validate the config, then collect, train, run DAgger and evaluate (resumable)."""
    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig
    from lnn_control.training.imitation import main

    config = load_config(ILConfig, args.config, args.overrides)
    command = "lnn-control " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    outcome = main(config, command=command)
    print(f"policy: {outcome['policy_dir']}")
    return 0
