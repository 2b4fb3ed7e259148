"""The outputs of a stress sweep, all in its output directory:

episodes.csv, episodes.json   every episode (one row per cell)
summary.json                  aggregated rows (mean and 95 % CI over seeds) and mCE scores
tables.md                     a markdown table per metric, plus the mCE table
plots/<metric>.png            each metric against severity, one panel per perturbation,
                              one line per policy with its 95 % CI band
report.html                   all of it on one page (figures embedded)
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path
from typing import Any

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json
from lnn_control.reporting.html import figure_html, table_html, table_markdown, write_report
from lnn_control.stress.stats import (
    aggregate,
    corruption_errors,
    metrics_for,
    score_key,
    seen_in_training,
)
from lnn_control.stress.suite import CLEAN, PolicySpec, StressSuite

PLOT_COLUMNS = 5


def _cell(row: dict[str, Any] | None, metric: str) -> str:
    if row is None:
        return ""
    ci = row[f"{metric}_ci95"]
    return f"{row[metric]:.4g}" + (f" ± {ci:.2g}" if math.isfinite(ci) else "")


def _condition_text(suite: StressSuite, label: str) -> str:
    condition = suite.condition(label)
    if condition is None or not condition.params:
        return label
    return f"{label} ({', '.join(f'{k}={v}' for k, v in condition.params.items())})"


def metric_table(
    rows: list[dict[str, Any]], suite: StressSuite, policies: list[PolicySpec], metric: str
) -> tuple[list[str], list[list[str]]]:
    """(header, body) of one metric: a row per policy x condition, a column per severity."""
    table = {(r["policy"], r["condition"], r["severity"]): r for r in rows}
    levels = sorted({s for c in suite.conditions for s in suite.levels(c)})
    header = ["policy", "condition", "in training", "clean", *(f"severity {s}" for s in levels)]
    body = []
    for spec in policies:
        clean = _cell(table.get((spec.label, CLEAN, 0)), metric)
        if suite.clean:
            body.append([spec.label, CLEAN, "-", clean, *([""] * len(levels))])
        for c in suite.conditions:
            seen = seen_in_training(c.perturbation, spec.augmentation)
            cells = [_cell(table.get((spec.label, c.label, s)), metric) for s in levels]
            body.append([spec.label, _condition_text(suite, c.label), seen, clean, *cells])
    return header, body


def mce_table(
    scores: dict[str, dict[str, Any]], reference: str | None
) -> tuple[list[str], list[list[Any]]]:
    """(header, body): per policy, mCE (relative, normalised by `reference`) and the mean
    summed degradation of the error (1 - autonomy, or 1 - success for the drone)."""
    header = ["policy", f"mCE (relative, {reference or 'no reference'} = 1)", "mean degradation"]
    body = [[p, s["mce"], s["mean_degradation"]] for p, s in scores.items()]
    return header, body


def severity_figure(
    rows: list[dict[str, Any]],
    suite: StressSuite,
    labels: list[str],
    metric: str,
    title: str | None = None,
) -> Any:
    """`metric` against severity, a panel per condition of `suite` and a line per policy
    label, shaded by `<metric>_ci95`, from aggregated rows (policy, condition, severity)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = {(r["policy"], r["condition"], r["severity"]): r for r in rows}
    conditions = suite.conditions
    ncols = min(PLOT_COLUMNS, max(1, len(conditions)))
    nrows = max(1, math.ceil(len(conditions) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, conditions, strict=False):
        for label in labels:
            points = [(0, table.get((label, CLEAN, 0)))]
            points += [(s, table.get((label, c.label, s))) for s in suite.levels(c)]
            xs = [s for s, r in points if r is not None]
            ys = [r[metric] for _, r in points if r is not None]
            ci = [r[f"{metric}_ci95"] for _, r in points if r is not None]
            line = ax.plot(xs, ys, marker="o", ms=3, label=label)[0]
            if all(math.isfinite(v) for v in ci):
                low = [y - e for y, e in zip(ys, ci, strict=True)]
                high = [y + e for y, e in zip(ys, ci, strict=True)]
                ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.15)
        ax.set_title(c.label, fontsize=9)
        ax.set_xlabel("severity (0 = clean)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(conditions) :]:
        ax.set_axis_off()
    axes.flat[0].set_ylabel(metric, fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title or f"{metric} against severity ({suite.name}; mean and 95 % CI over seeds)")
    fig.tight_layout()
    return fig


def _write_episodes(out_dir: Path, records: list[dict[str, Any]]) -> None:
    atomic_write_json(out_dir / "episodes.json", records)
    fields = list(records[0])
    path = out_dir / "episodes.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


def write_stress_report(
    out_dir: Path,
    suite: StressSuite,
    policies: list[PolicySpec],
    records: list[dict[str, Any]],
    reference: str | None,
) -> dict[str, Any]:
    """Write every output (see the module docstring); returns summary.json's content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_episodes(out_dir, records)
    rows = aggregate(records)
    in_mce = [c.label for c in suite.conditions if c.in_mce]
    scores = corruption_errors(rows, in_mce, reference, score_key(records))
    summary = {"suite": suite.model_dump(mode="json"), "reference": reference, "rows": rows}
    summary["mce"] = scores
    atomic_write_json(out_dir / "summary.json", summary)
    labels = [p.label for p in policies]
    sections: list[tuple[str, str]] = [("Suite", _suite_html(suite, policies))]
    markdown = [f"# Stress suite {suite.name}", ""]
    if in_mce:
        header, body = mce_table(scores, reference)
        sections.append(("mCE", table_html(header, body) + _excluded_html(scores)))
        markdown += ["## mCE", "", table_markdown(header, body), ""]
    for metric in metrics_for(records):
        header, cells = metric_table(rows, suite, policies, metric)
        markdown += [f"## {metric} (mean ± 95 % CI over seeds)", "", table_markdown(header, cells)]
        markdown.append("")
        body_html = table_html(header, cells)
        if suite.conditions:
            fig = severity_figure(rows, suite, labels, metric)
            (out_dir / "plots").mkdir(exist_ok=True)
            fig.savefig(out_dir / "plots" / f"{metric}.png", dpi=90)
            body_html += figure_html(fig, f"{metric} against severity")
        sections.append((metric, body_html))
    atomic_write_bytes(out_dir / "tables.md", "\n".join(markdown).encode())
    write_report(out_dir / "report.html", f"lnn-control stress: {suite.name}", sections)
    return summary


def _suite_html(suite: StressSuite, policies: list[PolicySpec]) -> str:
    seeds = suite.seed_list()
    items = [
        f"held-out seeds {seeds[0]}-{seeds[-1]} ({len(seeds)}), {suite.distance_m:g} m per "
        "episode (lane keeping: intervention protocol, autonomy charges 6 s per intervention; "
        "drone: a flight to the target)",
        f"conditions: {len(suite.conditions)}; default severities {suite.severities}",
        "policies: "
        + ", ".join(
            f"{html.escape(p.label)} (<code>{html.escape(p.source)}</code>)" for p in policies
        ),
        "'in training' says whether the policy's training augmentation (model card) resembled "
        "the perturbation; everything else it never saw",
        f"suite config: <code>{html.escape(json.dumps(suite.model_dump(mode='json')))}</code>",
    ]
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _excluded_html(scores: dict[str, dict[str, Any]]) -> str:
    excluded = sorted({c for s in scores.values() for c in s["excluded"]})
    if not excluded:
        return ""
    return (
        "<p>Left out of the relative mCE (the reference did not degrade, so there is nothing to "
        f"normalise by): {html.escape(', '.join(excluded))}.</p>"
    )
