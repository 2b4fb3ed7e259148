"""Compare policy kinds over training seeds from a stress sweep's records.

For every kind, each training seed's policy gives one number per condition (interventions per km
pooled over its road seeds; its relative mCE against the reference kind pooled over that kind's
training seeds); the table shows their mean and 95 % CI over training seeds.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from lnn_control.io_utils import atomic_write_bytes, atomic_write_json
from lnn_control.reporting.html import table_markdown
from lnn_control.stress.stats import aggregate, corruption_errors, mean_ci
from lnn_control.stress.suite import CLEAN, StressSuite

REFERENCE_PREFIX = "reference:"
#: The figures beside a comparison page `<stem>.md`: `<stem><suffix>` (bars, severity curves).
FIGURE_SUFFIXES = (".png", "_severity.png")


def _per_km(records: list[dict[str, Any]]) -> float:
    km = sum(float(r["distance_km"]) for r in records)
    return sum(float(r["interventions"]) for r in records) / km if km > 0 else float("nan")


def headline_columns(suite: StressSuite) -> list[tuple[str, int]]:
    """(condition, severity) columns of the table: clean, then every condition kept out of the
    mCE (e.g. the NCP paper's fixed noise variances) at each of its severities."""
    columns = [(CLEAN, 0)] if suite.clean else []
    for c in suite.conditions:
        if not c.in_mce:
            columns += [(c.label, s) for s in suite.levels(c)]
    return columns


def compare(
    records: list[dict[str, Any]], suite: StressSuite, kinds: dict[str, str], reference: str
) -> dict[str, Any]:
    """{"columns", "kinds": {kind: {"seeds", "<condition>/<severity>": [mean, ci], "mce": [mean,
    ci]}}}; `kinds` maps each policy label to its kind."""
    by_cell: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_cell[(r["policy"], r["condition"], int(r["severity"]))].append(r)
    pooled = [
        {**r, "policy": REFERENCE_PREFIX + reference}
        for r in records
        if kinds.get(r["policy"]) == reference
    ]
    in_mce = [c.label for c in suite.conditions if c.in_mce]
    scores = corruption_errors(
        aggregate([*records, *pooled]), in_mce, REFERENCE_PREFIX + reference if pooled else None
    )
    columns = headline_columns(suite)
    out: dict[str, Any] = {
        "columns": [f"{c}/{s}" for c, s in columns],
        "kinds": {},
        "severity_rows": [],
    }
    for kind in dict.fromkeys(kinds.values()):
        labels = [label for label, k in kinds.items() if k == kind]
        entry: dict[str, Any] = {"seeds": labels}
        for condition, severity in columns:
            entry[f"{condition}/{severity}"] = _over_seeds(by_cell, labels, condition, severity)
        mces = [scores[label]["mce"] for label in labels if label in scores]
        entry["mce"] = list(mean_ci([v for v in mces if math.isfinite(v)]))
        out["kinds"][kind] = entry
        out["severity_rows"] += _severity_rows(by_cell, labels, kind, suite)
    return out


def _over_seeds(
    by_cell: dict[tuple[str, str, int], list[dict[str, Any]]],
    labels: list[str],
    condition: str,
    severity: int,
) -> list[float]:
    """[mean, ci] over the training seeds `labels` of interventions per km in one cell."""
    values = [_per_km(by_cell[(label, condition, severity)]) for label in labels]
    return list(mean_ci([v for v in values if math.isfinite(v)]))


def _severity_rows(
    by_cell: dict[tuple[str, str, int], list[dict[str, Any]]],
    labels: list[str],
    kind: str,
    suite: StressSuite,
) -> list[dict[str, Any]]:
    """Rows as `stress_report.severity_figure` reads them, with `kind` as the policy: clean
    and every severity of every condition in the mCE, mean and CI over training seeds."""
    cells = [(CLEAN, 0)] if suite.clean else []
    cells += [(c.label, s) for c in suite.conditions if c.in_mce for s in suite.levels(c)]
    rows = []
    for condition, severity in cells:
        mean, ci = _over_seeds(by_cell, labels, condition, severity)
        rows.append(
            {
                "policy": kind,
                "condition": condition,
                "severity": severity,
                "interventions_per_km": mean,
                "interventions_per_km_ci95": ci,
            }
        )
    return rows


def _fmt(pair: list[float]) -> str:
    mean, ci = pair
    if not math.isfinite(mean):
        return "n/a"
    return f"{mean:.3g}" + (f" ± {ci:.2g}" if math.isfinite(ci) else "")


def comparison_markdown(result: dict[str, Any], figure_stem: str | None = None) -> str:
    """The comparison as a markdown page (table, how it was made); with `figure_stem` it links
    the figures `<figure_stem><suffix>` (FIGURE_SUFFIXES) beside it."""
    params = result.get("params", {})
    header = ["model", "params (rnn / total)"]
    header += [
        f"interventions/km: {c.replace('/0', '').replace('/', ' s')}" for c in result["columns"]
    ]
    header.append("mCE (relative, CNN = 1)")
    body = []
    for kind, entry in result["kinds"].items():
        counts = params.get(kind, {})
        row = [kind, f"{counts.get('rnn', '?')} / {counts.get('total', '?')}"]
        row += [_fmt(entry[c]) for c in result["columns"]] + [_fmt(entry["mce"])]
        body.append(row)
    config = result.get("config", {})
    lines = [
        f"# {config.get('name', 'Comparison')}",
        "",
        f"Generated {datetime.date.today().isoformat()} by `{result.get('command', '?')}`.",
        f"Training seeds {config.get('seeds')}; road seeds and suite in the stress report "
        f"({config.get('run_root')}/stress/report.html). Mean ± 95 % CI over training seeds.",
        "",
        table_markdown(header, body),
        "",
        "Training time per kind, all seeds (s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in result.get("train_seconds", {}).items()),
        "",
    ]
    if figure_stem is not None:
        bars, severity = (figure_stem + suffix for suffix in FIGURE_SUFFIXES)
        lines += [
            f"![interventions per km and mCE per model]({bars})",
            "",
            f"![interventions per km against severity per perturbation]({severity})",
            "",
        ]
    return "\n".join(lines)


def comparison_plot(result: dict[str, Any], path: Path) -> Path:
    """Bars of interventions per km (one group per headline column) and of the relative mCE,
    one bar per kind, with 95 % CI whiskers over training seeds; writes a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    kinds = list(result["kinds"])
    columns = result["columns"]
    width = 0.8 / max(1, len(kinds))
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [max(1, len(columns)), 1]}
    )
    for i, kind in enumerate(kinds):
        entry = result["kinds"][kind]
        x = np.arange(len(columns)) + (i - (len(kinds) - 1) / 2) * width
        means, cis = zip(*(entry[c] for c in columns), strict=True) if columns else ((), ())
        left.bar(x, means, width, yerr=np.nan_to_num(cis), capsize=2, label=kind)
        mean, ci = entry["mce"]
        right.bar([i], [mean], 0.7, yerr=[np.nan_to_num(ci)], capsize=3, color=f"C{i}")
    left.set_xticks(
        np.arange(len(columns)), [c.replace("/0", "").replace("/", " s") for c in columns]
    )
    left.set_ylabel("interventions per km")
    left.set_ylim(bottom=0)
    left.legend(fontsize=8, ncols=min(len(kinds), 6))
    right.set_xticks(range(len(kinds)), kinds, rotation=30)
    right.set_ylabel("mCE (relative, reference = 1)")
    right.axhline(1.0, color="grey", linewidth=0.8)
    right.set_ylim(bottom=0)
    fig.suptitle("mean and 95 % CI over training seeds")
    return _save(fig, path)


def severity_plot(result: dict[str, Any], suite: StressSuite, path: Path) -> Path:
    """Interventions per km against severity, one panel per mCE condition of `suite` and one
    line per kind, shaded 95 % CI over training seeds; writes a PNG at `path`."""
    from lnn_control.stress.report import severity_figure

    in_mce = suite.model_copy(update={"conditions": [c for c in suite.conditions if c.in_mce]})
    title = "interventions per km against severity (mean and 95 % CI over training seeds)"
    metric = "interventions_per_km"
    kinds = list(result["kinds"])
    return _save(severity_figure(result["severity_rows"], in_mce, kinds, metric, title), path)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_comparison(root: Path, result: dict[str, Any], suite: StressSuite) -> Path:
    """Write root/comparison.json, comparison.png, comparison_severity.png and
    comparison.md; returns the markdown."""
    atomic_write_json(root / "comparison.json", result)
    bars, severity = (root / f"comparison{suffix}" for suffix in FIGURE_SUFFIXES)
    comparison_plot(result, bars)
    severity_plot(result, suite, severity)
    page = comparison_markdown(result, figure_stem="comparison")
    return atomic_write_bytes(root / "comparison.md", page.encode())
