"""`lnn-control` command-line entry point.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`;
heavy imports (torch, pybullet) happen inside `run`, so `lnn-control --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from lnn_control import __version__

# name -> (module, one-line help). Only subcommands that exist are listed.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": (
        "lnn_control.training.train_cli",
        "train a policy from a YAML config: imitation, or PPO with algorithm: ppo",
    ),
    "simulate": (
        "lnn_control.eval.simulate_cli",
        "run a lane-keeping or drone policy closed loop on held-out seeds; --video records one",
    ),
    "explain": (
        "lnn_control.eval.explain_cli",
        "saliency, SSIM under perturbations, neuron activity, PCA and ablation of policies",
    ),
    "experiment": (
        "lnn_control.training.experiment_cli",
        "train policy kinds x seeds on the same data, stress them, write the comparison",
    ),
    "stress": (
        "lnn_control.eval.stress_cli",
        "stress-test policies under perturbations x severities; CSV, tables, plots, report",
    ),
    "drive": ("lnn_control.envs.drive_cli", "drive an expert on one seed; write a GIF and a plot"),
    "params": ("lnn_control.policies.params_cli", "parameter counts of every policy kind"),
    "export": ("lnn_control.deploy.export_cli", "export a policy step to ONNX with a sidecar"),
    "deploy": (
        "lnn_control.deploy.deploy_cli",
        "run a policy on a robot: camera -> model -> actuator",
    ),
    "wiring": ("lnn_control.liquid.wiring_cli", "build, inspect and plot an NCP wiring"),
    "demo": ("lnn_control.demo", "run the end-to-end demo (train, evaluate, stress, report)"),
}


class _Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command:
    return cast(_Command, importlib.import_module(SUBCOMMANDS[name][0]))


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with one sub-parser per subcommand in `SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="lnn-control",
        description="Train, simulate, stress-test and deploy liquid neural network controllers.",
    )
    parser.add_argument("--version", action="version", version=f"lnn-control {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        _load(name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the chosen subcommand; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _load(args.command).run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"lnn-control {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
