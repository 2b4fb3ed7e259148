"""`lnn-control train`: run a training recipe from a YAML config: imitation (the default) or,
with `algorithm: ppo` at the top level, reinforcement learning (`lnn_control.training.ppo`)."""

from __future__ import annotations

import argparse

from lnn_control.cli.options import add_backend_options, add_config_option
from lnn_control.config_io import add_set_argument, invoked_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control train`."""
    add_config_option(parser, "lane_keeping_il")
    add_set_argument(parser)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        metavar="SEED",
        help="train once per seed in <run_dir>_s<seed>, then tabulate mean and spread",
    )
    add_backend_options(parser, workers=1, what="seeds trained at once")


def run(args: argparse.Namespace) -> int:
    """Validate the config, then collect, train, run DAgger and evaluate (resumable)."""
    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig
    from lnn_control.training.imitation import main

    command = invoked_command()
    if args.seeds:
        from lnn_control.pipelines.multiseed import run_seeds

        run_seeds(
            args.config,
            args.overrides,
            args.seeds,
            backend=args.backend,
            workers=args.workers,
            address=args.address,
            command=command,
        )
        return 0
    if _algorithm(args.config) == "ppo":
        from lnn_control.training.ppo import PPOConfig
        from lnn_control.training.ppo import main as ppo_main

        try:
            import sb3_contrib  # noqa: F401
        except ImportError:
            raise ValueError(
                "algorithm: ppo needs sb3-contrib: pip install 'lnn-control[rl]'"
            ) from None
        outcome = ppo_main(load_config(PPOConfig, args.config, args.overrides), command)
    else:
        outcome = main(load_config(ILConfig, args.config, args.overrides), command=command)
    print(f"policy: {outcome['policy_dir']}")
    return 0


def _algorithm(path: str) -> str:
    """The config's top-level `algorithm` ("imitation" when absent or unreadable)."""
    from lnn_control.config_io import read_yaml_mapping

    try:
        data = read_yaml_mapping(path)
    except (OSError, ValueError):
        return "imitation"  # load_config reports the problem in one line
    return str(data.get("algorithm", "imitation"))
