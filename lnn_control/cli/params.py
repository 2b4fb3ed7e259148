"""`lnn-control params`: a markdown table of parameter counts for every policy kind."""

from __future__ import annotations

import argparse

DEFAULT_IMAGE = "64x160"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control params`."""
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help=f"camera image HxW (default {DEFAULT_IMAGE})"
    )
    parser.add_argument(
        "--actions", type=int, default=1, help="action dim: 1 (steering) or 4 (drone)"
    )


def _image_shape(text: str) -> tuple[int, int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--image must be HxW, e.g. {DEFAULT_IMAGE}; got {text!r}") from None
    return height, width, 3


def table(image_shape: tuple[int, int, int], action_dim: int) -> str:
    """Markdown table: kind | head | recurrent (in use) | recurrent (dense) | total (in use)."""
    from lnn_control.policies.params import parameter_counts
    from lnn_control.policies.registry import POLICY_KINDS, build_policy

    lines = [
        "| kind | head | recurrent (in use) | recurrent (dense) | total (in use) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in POLICY_KINDS:
        counts = parameter_counts(build_policy(kind, image_shape, action_dim))
        lines.append(
            f"| {kind} | {counts['head']:,} | {counts['rnn']:,} | {counts['rnn_dense']:,} "
            f"| {counts['total']:,} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the table."""
    shape = _image_shape(args.image)
    print(f"Parameters at {shape[0]}x{shape[1]} RGB, {args.actions} action(s):\n")
    print(table(shape, args.actions))
    return 0
