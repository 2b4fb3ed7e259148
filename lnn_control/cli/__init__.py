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
        "lnn_control.cli.train",
        "train a policy from a YAML config: imitation, or PPO with algorithm: ppo",
    ),
    "simulate": (
        "lnn_control.cli.simulate",
        "run a lane-keeping or drone policy closed loop on held-out seeds; --video records one",
    ),
    "explain": (
        "lnn_control.cli.explain",
        "saliency, SSIM under perturbations, neuron activity, PCA and ablation of policies",
    ),
    "experiment": (
        "lnn_control.cli.experiment",
        "train policy kinds x seeds on the same data, stress them, write the comparison",
    ),
    "stress": (
        "lnn_control.cli.stress",
        "stress-test policies under perturbations x severities; CSV, tables, plots, report",
    ),
    "drive": ("lnn_control.cli.drive", "drive an expert on one seed; write a GIF and a plot"),
    "params": ("lnn_control.cli.params", "parameter counts of every policy kind"),
    "export": ("lnn_control.cli.export", "export a policy step to ONNX with a sidecar"),
    "deploy": (
        "lnn_control.cli.deploy",
        "run a policy on a robot: camera -> model -> actuator",
    ),
    "wiring": ("lnn_control.cli.wiring", "build, inspect and plot an NCP wiring"),
    "configs": ("lnn_control.cli.configs", "list the packaged configs (usable by name)"),
    "demo": (
        "lnn_control.pipelines.demo",
        "run the end-to-end demo (train, evaluate, stress, report)",
    ),
}


class _Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command:
    return cast(_Command, importlib.import_module(SUBCOMMANDS[name][0]))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser, with one sub-parser per subcommand in `SUBCOMMANDS`; only the `only`
    subcommand's module is imported for its options (all of them when `only` is None), so
    `lnn-control deploy` on a robot never imports torch through another subcommand."""
    parser = argparse.ArgumentParser(
        prog="lnn-control",
        description="Train, simulate, stress-test and deploy liquid neural network controllers.",
    )
    parser.add_argument("--version", action="version", version=f"lnn-control {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            _load(name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the chosen subcommand; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=chosen if chosen in SUBCOMMANDS else "")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _load(args.command).run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"lnn-control {args.command}: error: {err}", file=sys.stderr)
        return 2
