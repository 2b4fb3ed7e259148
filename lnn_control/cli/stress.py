"""`lnn-control stress`: run policies closed loop under a stress suite and report how they degrade.

    lnn-control stress --policy pretrained:lane_keeping_ncp --policy cnn=runs/lane_il_cnn/policy \
        --suite lane_quick [--set seeds.count=5] [--backend ray]
    lnn-control stress --preview [docs/img/perturbations_preview.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lnn_control.cli.options import (
    add_backend_options,
    add_policy_option,
    add_publish_option,
    parse_policy,
)
from lnn_control.config_io import add_set_argument, invoked_command

if TYPE_CHECKING:
    from lnn_control.stress.suite import PolicySpec, StressSuite

PREVIEW_PATH = Path("runs/stress/preview.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control stress`."""
    add_policy_option(parser)
    parser.add_argument(
        "--suite",
        help="stress suite: a packaged name (e.g. lane_quick, see `lnn-control configs`) or a path",
    )
    add_set_argument(parser)
    parser.add_argument("--out", type=Path, help="output directory (default runs/stress/<name>)")
    add_backend_options(parser, workers=2, what="parallel episodes")
    parser.add_argument(
        "--reference",
        help="policy label that normalises the mCE (default: the one whose kind is cnn)",
    )
    parser.add_argument(
        "--preview",
        nargs="?",
        const=PREVIEW_PATH,
        type=Path,
        metavar="PNG",
        help=f"write a grid of one frame per perturbation at severities 1, 3, 5 (default "
        f"{PREVIEW_PATH}) and stop",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_publish_option(parser, "also write the tables there, with the command")


def run(args: argparse.Namespace) -> int:
    """Run the sweep (or write the preview) and the report."""
    from lnn_control.config_io import load_config
    from lnn_control.stress.report import write_stress_report
    from lnn_control.stress.suite import StressSuite, expand_cells
    from lnn_control.stress.sweep import policy_spec, run_sweep

    if args.preview is not None:
        from lnn_control.envs.perturb.preview import write_preview_grid

        print(f"preview: {write_preview_grid(args.preview)}")
        return 0
    if args.suite is None or not args.policy:
        raise ValueError("stress needs --suite and at least one --policy (or --preview)")
    suite = load_config(StressSuite, args.suite, args.overrides)
    specs = [policy_spec(*parse_policy(p)) for p in args.policy]
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"policy labels must be unique, got {labels}; use LABEL=SOURCE")
    reference = args.reference or next((s.label for s in specs if s.kind == "cnn"), None)
    if reference is not None and reference not in labels:
        raise ValueError(f"--reference {reference!r} is not one of the policies {labels}")
    out_dir = args.out or Path("runs/stress") / suite.name
    records = run_sweep(
        suite,
        expand_cells(suite, specs),
        out_dir,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
        progress=not args.no_progress,
    )
    write_stress_report(out_dir, suite, specs, records, reference)
    tables = (out_dir / "tables.md").read_text()
    print(tables)
    print(f"report: {out_dir / 'report.html'}")
    if args.publish is not None:
        _publish(args.publish, tables, suite, specs)
    return 0


def _publish(path: Path, tables: str, suite: StressSuite, specs: list[PolicySpec]) -> None:
    import datetime

    from lnn_control.io_utils import atomic_write_bytes

    seeds = suite.seed_list()
    sources = ", ".join(f"{s.label} = `{s.source}`" for s in specs)
    command = invoked_command()
    header = (
        f"Generated {datetime.date.today().isoformat()} by `{command}`: held-out seeds "
        f"{seeds[0]:,}-{seeds[-1]:,}, {suite.distance_m:g} m per episode "
        f"(intervention protocol); policies: {sources}.\n\n"
    )
    body = (
        tables.replace("\n\n", "\n\n" + header, 1) if tables.startswith("# ") else header + tables
    )
    atomic_write_bytes(path, body.encode())
    print(f"published: {path}")
