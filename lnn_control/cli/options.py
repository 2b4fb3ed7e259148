"""Options shared by several subcommands, defined once: policies, configs, backends, publish.

add_policy_option(parser, required=True)      # --policy [LABEL=]SOURCE (repeatable)
label, source = parse_policy(text)
add_config_option(parser, "lane_keeping_il")  # --config NAME|PATH
add_backend_options(parser, workers=2, what="parallel episodes")
add_publish_option(parser, "also write the tables there, with the command")
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lnn_control.io_utils import check_label


def add_policy_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--policy [LABEL=]SOURCE, repeatable (SOURCE: a checkpoint directory or pretrained:NAME)."""
    parser.add_argument(
        "--policy",
        action="append",
        required=required,
        default=None if required else [],
        metavar="[LABEL=]SOURCE",
        help="checkpoint directory or pretrained:<name>, optionally labelled (repeatable)",
    )


def parse_policy(text: str) -> tuple[str, str]:
    """(label, source) from "label=source" or "source" (label from the name or directory).

    The label names the policy's result folders, so it must pass `check_label` (letters,
    digits, `_ . -`, no `..`); one-line ValueError otherwise."""
    label, sep, source = text.partition("=")
    if not sep:
        source = text
        path = Path(text.removeprefix("pretrained:"))
        label = path.parent.name if path.name == "policy" and path.parent.name else path.name
    try:
        if not source:
            raise ValueError("the source is empty")
        check_label(label, "policy label")
    except ValueError as err:
        raise ValueError(
            f"--policy expects [LABEL=]SOURCE with a plain label, got {text!r}: {err}"
        ) from None
    return label, source


def add_config_option(parser: argparse.ArgumentParser, example: str) -> None:
    """--config: a packaged config's name (`lnn-control configs`) or a path to a YAML file."""
    parser.add_argument(
        "--config",
        required=True,
        help=f"a packaged name (e.g. {example}; `lnn-control configs` lists them) or a YAML path",
    )


def add_backend_options(parser: argparse.ArgumentParser, *, workers: int, what: str) -> None:
    """--backend local|ray, --address (Ray), --workers N."""
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", help="Ray cluster address (e.g. auto); default: start one")
    parser.add_argument("--workers", type=int, default=workers, help=f"{what} (default {workers})")


def add_publish_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """--publish MD: copy the command's tables into a markdown page (e.g. docs/results/)."""
    parser.add_argument("--publish", type=Path, metavar="MD", help=help_text)
