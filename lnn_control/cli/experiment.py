"""`lnn-control experiment`: train several policy kinds x training seeds on the same
demonstrations, stress them with one suite, and write the comparison table."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from lnn_control.cli.options import add_config_option, add_publish_option
from lnn_control.config_io import add_set_argument, invoked_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control experiment`."""
    add_config_option(parser, "ncp_vs_baselines")
    add_set_argument(parser)
    add_publish_option(
        parser,
        "also copy comparison.md there (e.g. docs/results/ncp_vs_baselines.md), and its "
        "figures beside it (<name>.png, <name>_severity.png)",
    )


def run(args: argparse.Namespace) -> int:
    """Train, stress, compare (every step resumable)."""
    from lnn_control.config_io import load_config
    from lnn_control.pipelines.experiment import ExperimentConfig, run_experiment
    from lnn_control.stress.comparison import FIGURE_SUFFIXES, comparison_markdown

    config = load_config(ExperimentConfig, args.config, args.overrides)
    command = invoked_command()
    result = run_experiment(config, command)
    root = Path(config.run_root)
    print((root / "comparison.md").read_text())
    if args.publish is not None:
        args.publish.parent.mkdir(parents=True, exist_ok=True)
        for suffix in FIGURE_SUFFIXES:
            figure = args.publish.parent / (args.publish.stem + suffix)
            shutil.copyfile(root / f"comparison{suffix}", figure)
        args.publish.write_text(comparison_markdown(result, figure_stem=args.publish.stem))
        print(f"published: {args.publish} and its figures")
    return 0
