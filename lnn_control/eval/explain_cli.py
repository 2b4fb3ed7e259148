"""`lnn-control explain`: saliency, attention robustness (SSIM), neuron activity, PCA and
ablation for one or more policies on a held-out drive; PNGs, GIFs, tables and an HTML page.

    lnn-control explain --policy pretrained:lane_keeping_ncp --policy pretrained:lane_keeping_lstm
    lnn-control explain --policy pretrained:lane_keeping_ncp --ablate --condition fog:4
"""

from __future__ import annotations

import argparse
import datetime
import html
from pathlib import Path
from typing import Any

from lnn_control.config_io import invoked_command
from lnn_control.envs.scenario import HELD_OUT_SEED_START


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control explain`."""
    parser.add_argument(
        "--policy",
        action="append",
        required=True,
        metavar="[LABEL=]SOURCE",
        help="checkpoint directory or pretrained:<name> (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED_START, help="held-out road seed")
    parser.add_argument("--distance-m", type=float, default=30.0, help="road driven (m)")
    parser.add_argument("--stride", type=int, default=5, help="saliency on every k-th frame")
    parser.add_argument(
        "--condition",
        "--perturbation",
        dest="condition",
        action="append",
        default=[],
        metavar="NAME:SEVERITY",
        help="perturbation for the SSIM table, e.g. fog:3 (repeatable; default: the NCP "
        "paper's Gaussian variances 0.1/0.2/0.3 and six weather conditions at severity 3)",
    )
    parser.add_argument("--ablate", action="store_true", help="rank neurons by clamping each")
    parser.add_argument("--out", type=Path, default=Path("runs/explain"), help="output directory")
    parser.add_argument("--publish", type=Path, metavar="MD", help="also write the tables there")


def parse_condition(text: str) -> tuple[str, str, int, dict[str, float]]:
    """ "fog:3" -> ("fog 3", "fog", 3, {}); one-line error naming the format."""
    from lnn_control.envs.perturb import PERTURBATIONS

    name, sep, level = text.partition(":")
    if not sep or not level.isdigit() or name not in PERTURBATIONS:
        raise ValueError(
            f"--condition expects NAME:SEVERITY with NAME an image perturbation "
            f"({', '.join(PERTURBATIONS)}) and SEVERITY 1..5, got {text!r}"
        )
    return (f"{name} {level}", name, int(level), {})


def tables_markdown(results: list[dict[str, Any]]) -> str:
    """The SSIM and PCA tables across policies."""
    from lnn_control.eval.report import table_markdown

    conditions = list(results[0]["ssim"]) if results else []
    ssim_rows = [[r["label"], *(f"{r['ssim'][c]:.3f}" for c in conditions)] for r in results]
    pca_rows = []
    for r in results:
        ratios = r.get("pca_explained")
        cells = [f"{100 * v:.1f} %" for v in ratios] if ratios else ["n/a (no state)"] * 3
        pca_rows.append([r["label"], *(cells + [""] * 3)[:3]])
    return "\n".join(
        [
            "## Attention robustness: SSIM of VisualBackProp maps, clean vs perturbed frames",
            "",
            table_markdown(["policy", *conditions], ssim_rows),
            "",
            "## Hidden state: variance explained by the first principal components",
            "",
            table_markdown(["policy", "PC1", "PC2", "PC3"], pca_rows),
            "",
        ]
    )


def _report(out_dir: Path, results: list[dict[str, Any]], tables: str) -> Path:
    from lnn_control.eval.report import png_file_html, write_report

    sections = [("Tables", f"<pre>{html.escape(tables)}</pre>")]
    for r in results:
        parts = [
            png_file_html(Path(r["files"][key]), key)
            for key in ("saliency_png", "neurons_png", "wiring_png")
            if key in r["files"]
        ]
        gif = Path(r["files"]["saliency_gif"])
        parts.append(f'<p>Drive with saliency: <a href="{gif.relative_to(out_dir)}">GIF</a></p>')
        if "ablation" in r:
            top = r["ablation"][:5]
            parts.append(
                "<p>Most important neurons (clamped to 0): "
                + html.escape(", ".join(f"{a['name']} (+{a['delta_m']:.3f} m)" for a in top))
                + "</p>"
            )
        sections.append((r["label"], "".join(parts)))
    return write_report(out_dir / "report.html", "lnn-control explain", sections)


def run(args: argparse.Namespace) -> int:
    """Explain every policy; write tables.md, report.html (and --publish)."""
    from lnn_control.eval.explain import DEFAULT_CONDITIONS, explain_policy
    from lnn_control.eval.simulate_cli import training_scenario
    from lnn_control.eval.stress_cli import parse_policy
    from lnn_control.io_utils import atomic_write_bytes
    from lnn_control.policies.checkpoint import load_checkpoint, resolve_checkpoint

    if args.seed < HELD_OUT_SEED_START:
        raise ValueError(f"--seed must be >= {HELD_OUT_SEED_START:,} (held out), got {args.seed}")
    conditions = [parse_condition(c) for c in args.condition] or list(DEFAULT_CONDITIONS)
    results = []
    for text in args.policy:
        label, source = parse_policy(text)
        policy, config = load_checkpoint(resolve_checkpoint(source))
        print(f"[explain] {label}: drive of {args.distance_m:g} m on seed {args.seed}")
        explanation = explain_policy(
            policy,
            label,
            args.out,
            seed=args.seed,
            scenario=training_scenario(config),
            distance_m=args.distance_m,
            conditions=conditions,
            stride=args.stride,
            ablate=args.ablate,
        )
        results.append({"label": label, **explanation.summary, "files": explanation.files})
    command = invoked_command()
    tables = tables_markdown(results)
    header = (
        f"# Interpretability\n\nGenerated {datetime.date.today().isoformat()} by `{command}`: "
        f"one held-out drive of {args.distance_m:g} m (seed {args.seed}), saliency on every "
        f"{args.stride}th frame.\n\n"
    )
    atomic_write_bytes(args.out / "tables.md", (header + tables).encode())
    print(tables)
    print(f"report: {_report(args.out, results, tables)}")
    if args.publish is not None:
        atomic_write_bytes(args.publish, (header + tables).encode())
        print(f"published: {args.publish}")
    return 0
