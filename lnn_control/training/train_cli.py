"""`lnn-control train`: run an imitation recipe from a YAML config."""

from __future__ import annotations

import argparse
import shlex
import sys

from lnn_control.config_io import add_set_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control train`."""
    parser.add_argument(
        "--config", required=True, help="YAML recipe, e.g. configs/lane_keeping_il.yaml"
    )
    add_set_argument(parser)


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
