"""Write docs/results/lane_keeping.md from the shipped checkpoints' own records.

Every number comes from a checkpoint's config.json (provenance and metrics written by
`lnn-control train`) and from the policy's parameter counts; nothing is typed in by hand.

    .venv/bin/python benchmarks/results_lane_keeping.py [--out docs/results/lane_keeping.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lnn_control.io_utils import atomic_write_bytes
from lnn_control.policies import load_policy, parameter_counts
from lnn_control.policies.checkpoint import PRETRAINED_DIR

SHIPPED = (
    ("lane_keeping_ncp", "NCP (19 LTC neurons)"),
    ("lane_keeping_lstm", "LSTM-64"),
    ("lane_keeping_cnn", "CNN (feedforward)"),
)
LANE_WIDTH_M = 0.8


def _row(name: str, title: str) -> tuple[list[str], dict[str, Any]] | None:
    directory = PRETRAINED_DIR / name
    if not (directory / "config.json").is_file():
        return None
    config = json.loads((directory / "config.json").read_text())
    m, prov = config["metrics"], config["provenance"]
    counts = parameter_counts(load_policy(f"pretrained:{name}"))
    cells = [
        f"{title} (`pretrained:{name}`)",
        f"{counts['rnn']:,}",
        f"{counts['total']:,}",
        f"{m['autonomy']:.4f}",
        f"{m['interventions_per_km']:.3f}",
        f"{m['mean_abs_lateral_m']:.4f}",
        f"{m['mean_abs_lateral_m'] / LANE_WIDTH_M:.3f}",
        f"{m['rms_lateral_m']:.4f}",
        f"{m['mean_abs_heading_rad']:.4f}",
        f"{m['distance_km']:.2f}",
        f"{m['steer_smoothness']:.4f}",
        f"{float(prov['train_seconds']):.0f}",
    ]
    return cells, {"name": name, "title": title, "metrics": m, "provenance": prov}


def _made(info: dict[str, Any]) -> str:
    prov, m = info["provenance"], info["metrics"]
    return (
        f"- **{info['title']}**: `{prov['command']}`; {prov['data_frames']} frames from training "
        f"seeds {prov['training_seeds']} (data directories {prov.get('data_dirs', '-')}); "
        f"{float(prov['train_seconds']):.0f} s of optimisation; evaluated on held-out seeds "
        f"{m['eval_seed_range'][0]:,}-{m['eval_seed_range'][1]:,}."
    )


def _fewer_roads(rows: list[tuple[list[str], dict[str, Any]]]) -> list[str]:
    """A sentence for policies evaluated on fewer held-out roads than the others."""
    roads = {
        info["title"]: info["metrics"]["eval_seed_range"][1]
        - info["metrics"]["eval_seed_range"][0]
        + 1
        for _, info in rows
    }
    most = max(roads.values(), default=0)
    fewer = [f"{title} on {n}" for title, n in roads.items() if n < most]
    if not fewer:
        return []
    return [f"Evaluated on fewer held-out roads than the others ({most}): {', '.join(fewer)}."]


def _reading(rows: list[tuple[list[str], dict[str, Any]]]) -> list[str]:
    """What the table shows, in words, from its own numbers."""
    if len(rows) < 2:
        return []
    autonomy = {info["title"]: float(info["metrics"]["autonomy"]) for _, info in rows}
    lateral = {info["title"]: float(info["metrics"]["mean_abs_lateral_m"]) for _, info in rows}
    best = min(lateral, key=lateral.__getitem__)
    spread = max(lateral.values()) - min(lateral.values())
    lines = [
        "What it shows: autonomy "
        + ", ".join(f"{k} {v:.4f}" for k, v in autonomy.items())
        + f"; mean |lateral| from {min(lateral.values()):.4f} m ({best}) to "
        f"{max(lateral.values()):.4f} m (a spread of {100 * spread:.2f} cm). Clean held-out "
        "roads do not separate policies that all learned this task well; how they degrade under "
        "noise, weather and shift is the stress suite's job (docs/stress.md). Training times "
        "were measured on a shared machine under different loads; the side-by-side throughput "
        "ratio is in BENCHMARKS.md.",
        "",
    ]
    return lines


def render(date: str) -> str:
    """The markdown page."""
    header = [
        "policy",
        "recurrent params (in use)",
        "total params",
        "autonomy",
        "interventions / km",
        "mean abs lateral (m)",
        "mean abs lateral (lane widths)",
        "rms lateral (m)",
        "mean abs heading (rad)",
        "km driven",
        "steer smoothness",
        "training (s)",
    ]
    rows = [r for name, title in SHIPPED if (r := _row(name, title)) is not None]
    table = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    table += ["| " + " | ".join(cells) + " |" for cells, _ in rows]
    lines = [
        "# Results: lane keeping",
        "",
        f"Generated {date} by `.venv/bin/python benchmarks/results_lane_keeping.py` from the "
        "shipped checkpoints' records (config.json: provenance and metrics written by "
        "`lnn-control train`). Each policy was evaluated by its own training command on held-out "
        "roads, one of 1 km per seed, clean conditions, intervention protocol (autonomy charges "
        "6 s per intervention). All share the conv head; all learned from the same frames.",
        "",
        *table,
        "",
        *_reading(rows),
        "How each was made (full config and model card in the checkpoint directory):",
        "",
        *(_made(info) for _, info in rows),
        "",
        "Re-run an evaluation alone with, e.g.,",
        "",
        "    lnn-control simulate --policy pretrained:lane_keeping_lstm --seeds 20 "
        "--distance-m 1000 --out runs/results/lstm",
        "",
        "The second column counts the recurrent core with its readout (for the feedforward CNN: "
        "its readout MLP after the shared conv head).",
        *_fewer_roads(rows),
        "",
        "Acceptance (issue 4) for the NCP: autonomy >= 0.99 and mean |lateral| <= 0.1 lane widths "
        f"(0.08 m with the default {LANE_WIDTH_M} m lane). Parameter counts: `lnn-control params`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    import datetime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results/lane_keeping.md"))
    args = parser.parse_args()
    atomic_write_bytes(args.out, render(datetime.date.today().isoformat()).encode())
    print(args.out.read_text())


if __name__ == "__main__":
    main()
