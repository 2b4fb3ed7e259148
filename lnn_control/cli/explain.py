"""`lnn-control explain`: saliency, attention robustness (SSIM), neuron activity, PCA and
ablation for one or more policies on a held-out episode of the world each was trained for; PNGs,
GIFs, tables and an HTML page.

    lnn-control explain --policy pretrained:lane_keeping_ncp --policy pretrained:lane_keeping_lstm
    lnn-control explain --policy pretrained:lane_keeping_ncp --ablate --condition fog:4
    lnn-control explain --policy pretrained:drone_nav_ncp --ablate --ablate-seeds 5
"""

from __future__ import annotations

import argparse
import datetime
import html
from pathlib import Path
from typing import Any

from lnn_control.cli.options import add_policy_option, add_publish_option
from lnn_control.config_io import invoked_command
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control explain`."""
    add_policy_option(parser, required=True)
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED_START, help="held-out env seed")
    parser.add_argument(
        "--distance-m",
        type=float,
        default=30.0,
        help="episode length in metres of travel (lane keeping: road driven; ignored by worlds "
        "whose episodes end on their own, such as the drone's flight to its target)",
    )
    parser.add_argument("--stride", type=int, default=5, help="saliency on every k-th frame")
    parser.add_argument(
        "--condition",
        "--perturbation",
        dest="condition",
        action="append",
        default=[],
        metavar="NAME:SEVERITY",
        help="perturbation for the SSIM table, e.g. fog:3 (repeatable; default: the NCP "
        "paper's Gaussian variances 0.1/0.2/0.3 and six weather conditions at severity 3, "
        "less those the policy's world cannot render)",
    )
    parser.add_argument("--ablate", action="store_true", help="rank neurons by clamping each")
    parser.add_argument(
        "--ablate-seeds",
        type=int,
        default=1,
        metavar="N",
        help="ablation episodes per neuron: seeds SEED .. SEED+N-1 (default 1)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/explain"), help="output directory")
    add_publish_option(
        parser,
        "also write the tables into MD, in a section of these policies' worlds (replaced on a "
        "rerun; other sections of MD are kept)",
    )


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


def _ssim_table(results: list[dict[str, Any]]) -> str:
    from lnn_control.reporting.html import table_markdown

    conditions = list(dict.fromkeys(c for r in results for c in r["ssim"]))
    rows = [
        [r["label"], *(f"{r['ssim'][c]:.3f}" if c in r["ssim"] else "n/a" for c in conditions)]
        for r in results
    ]
    return table_markdown(["policy", *conditions], rows)


def _pca_table(results: list[dict[str, Any]]) -> str:
    from lnn_control.reporting.html import table_markdown

    rows = []
    for r in results:
        ratios = r.get("pca_explained")
        cells = [f"{100 * v:.1f} %" for v in ratios] if ratios else ["n/a (no state)"] * 3
        rows.append([r["label"], *(cells + [""] * 3)[:3]])
    return table_markdown(["policy", "PC1", "PC2", "PC3"], rows)


def _episode_table(results: list[dict[str, Any]]) -> str:
    from lnn_control.envs.world import world
    from lnn_control.reporting.html import table_markdown

    rows = []
    for r in results:
        values = r["episode_summary"]  # in the world's key order (a reused JSON sorts them)
        metrics = ", ".join(f"{k} {values[k]:.4g}" for k in world(r["env_id"]).summary_keys)
        rows.append([r["label"], r["env_id"], str(r["seed"]), str(r["steps"]), metrics])
    return table_markdown(["policy", "world", "seed", "steps", "the world's metrics"], rows)


def _ablation_section(result: dict[str, Any], marks: str) -> list[str]:
    from lnn_control.envs.world import world
    from lnn_control.reporting.html import table_markdown

    ranking = result["ablation"]
    metric, seeds = ranking["metric"], ranking["seeds"]
    keys = list(world(result["env_id"]).summary_keys)
    unablated = ranking["baseline_summary"]
    rows = [["-", "none (unablated)", "0", *(f"{unablated[k]:.4g}" for k in keys)]]
    rows += [
        [str(r["neuron"]), r["name"], f"{r['delta']:+.4f}", *(f"{r[k]:.4g}" for k in keys)]
        for r in ranking["rows"]
    ]
    better = "higher" if ranking["higher_is_better"] else "lower"
    return [
        f"{marks} Ablation of {result['label']}: each neuron clamped to {ranking['value']:g}",
        "",
        f"Ranked by `{metric}` ({better} is better) over seeds {seeds[0]}..{seeds[-1]}; "
        f"unablated: {ranking['baseline']:.4f}. delta: how much worse (positive) in its units.",
        "",
        table_markdown(["neuron", "name", "delta", *keys], rows),
        "",
    ]


def tables_markdown(results: list[dict[str, Any]], level: int = 2) -> str:
    """The episode, SSIM, PCA (and ablation) tables across policies, headings at `level`."""
    marks = "#" * level
    lines = [
        f"{marks} Episodes explained",
        "",
        _episode_table(results),
        "",
        f"{marks} Attention robustness: SSIM of VisualBackProp maps, clean vs perturbed frames",
        "",
        _ssim_table(results),
        "",
        f"{marks} Hidden state: variance explained by the first principal components",
        "",
        _pca_table(results),
        "",
    ]
    for result in results:
        if "ablation" in result:
            lines += _ablation_section(result, marks)
    return "\n".join(lines)


def _report(out_dir: Path, results: list[dict[str, Any]], tables: str) -> Path:
    from lnn_control.reporting.html import png_file_html, write_report

    sections = [("Tables", f"<pre>{html.escape(tables)}</pre>")]
    for r in results:
        parts = [
            png_file_html(Path(r["files"][key]), key)
            for key in ("saliency_png", "neurons_png", "wiring_png")
            if key in r["files"]
        ]
        gif = Path(r["files"]["saliency_gif"])
        parts.append(f'<p>Episode with saliency: <a href="{gif.relative_to(out_dir)}">GIF</a></p>')
        if "ablation" in r:
            ranking = r["ablation"]
            top = ", ".join(f"{a['name']} ({a['delta']:+.3g})" for a in ranking["rows"][:5])
            parts.append(
                f"<p>Most important neurons (clamped to {ranking['value']:g}; worsening of "
                f"{html.escape(ranking['metric'])}): {html.escape(top)}</p>"
            )
        sections.append((r["label"], "".join(parts)))
    return write_report(out_dir / "report.html", "lnn-control explain", sections)


def _load(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every policy with its world, scenario and conditions, checked before anything is written."""
    from lnn_control.cli.options import parse_policy
    from lnn_control.envs.world import world
    from lnn_control.explain.explain import default_conditions
    from lnn_control.policies.checkpoint import (
        load_checkpoint,
        resolve_checkpoint,
        training_scenario,
    )

    if args.seed < HELD_OUT_SEED_START:
        raise ValueError(f"--seed must be >= {HELD_OUT_SEED_START:,} (held out), got {args.seed}")
    if args.ablate_seeds < 1:
        raise ValueError(f"--ablate-seeds must be >= 1 episode, got {args.ablate_seeds}")
    explicit = [parse_condition(c) for c in args.condition]
    parsed = [parse_policy(text) for text in args.policy]  # every label checked before writing
    loaded = []
    for label, source in parsed:
        policy, config = load_checkpoint(resolve_checkpoint(source))
        the_world = world(config["env_id"])
        conditions = explicit or default_conditions(the_world)
        for condition in conditions:
            the_world.check_perturbation(condition[1])
        scenario = training_scenario(config)
        loaded.append(
            {"label": label, "policy": policy, "world": the_world, "scenario": scenario}
            | {"conditions": conditions}
        )
    return loaded


def _header(args: argparse.Namespace) -> str:
    ablation = ""
    if args.ablate:
        last = args.seed + args.ablate_seeds - 1
        ablation = f"; ablation over seeds {args.seed}..{last}"
    return (
        f"Generated {datetime.date.today().isoformat()} by `{invoked_command()}`: one held-out "
        f"episode per policy (seed {args.seed}; {args.distance_m:g} m of travel in worlds with "
        f"a set episode length), saliency on every {args.stride}th frame{ablation}.\n\n"
    )


def _publish(path: Path, results: list[dict[str, Any]], header: str) -> None:
    """Write the tables into `path`'s section of these results' worlds (other sections kept)."""
    from lnn_control.io_utils import replace_marked_section

    env_ids = sorted({r["env_id"] for r in results})
    key = " + ".join(env_ids)
    body = f"## Policies in {key}\n\n{header}{tables_markdown(results, level=3)}"
    start, end = f"<!-- lnn-control explain: {key} -->", f"<!-- end lnn-control explain: {key} -->"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Interpretability\n")
    replace_marked_section(path, start, end, body)


def run(args: argparse.Namespace) -> int:
    """Explain every policy; write tables.md, report.html (and --publish)."""
    from lnn_control.explain.explain import explain_policy
    from lnn_control.io_utils import atomic_write_bytes

    results = []
    for item in _load(args):
        label, the_world = item["label"], item["world"]
        print(f"[explain] {label}: {the_world.env_id} episode on seed {args.seed}")
        explanation = explain_policy(
            item["policy"],
            label,
            args.out,
            env_world=the_world,
            seed=args.seed,
            scenario=item["scenario"],
            distance_m=args.distance_m,
            conditions=item["conditions"],
            stride=args.stride,
            ablate=args.ablate,
            ablate_seeds=args.ablate_seeds,
        )
        results.append({"label": label, **explanation.summary, "files": explanation.files})
    header = _header(args)
    tables = tables_markdown(results)
    atomic_write_bytes(
        args.out / "tables.md", ("# Interpretability\n\n" + header + tables).encode()
    )
    print(tables)
    print(f"report: {_report(args.out, results, tables)}")
    if args.publish is not None:
        _publish(args.publish, results, header)
        print(f"published: {args.publish}")
    return 0
