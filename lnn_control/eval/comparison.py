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

from lnn_control.eval.report import table_markdown
from lnn_control.eval.stress_stats import aggregate, corruption_errors, mean_ci
from lnn_control.eval.suite import CLEAN, StressSuite
from lnn_control.io_utils import atomic_write_bytes, atomic_write_json

REFERENCE_PREFIX = "reference:"


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
    out: dict[str, Any] = {"columns": [f"{c}/{s}" for c, s in columns], "kinds": {}}
    for kind in dict.fromkeys(kinds.values()):
        labels = [label for label, k in kinds.items() if k == kind]
        entry: dict[str, Any] = {"seeds": labels}
        for condition, severity in columns:
            values = [_per_km(by_cell[(label, condition, severity)]) for label in labels]
            entry[f"{condition}/{severity}"] = list(
                mean_ci([v for v in values if math.isfinite(v)])
            )
        mces = [scores[label]["mce"] for label in labels if label in scores]
        entry["mce"] = list(mean_ci([v for v in mces if math.isfinite(v)]))
        out["kinds"][kind] = entry
    return out


def _fmt(pair: list[float]) -> str:
    mean, ci = pair
    if not math.isfinite(mean):
        return "n/a"
    return f"{mean:.3g}" + (f" ± {ci:.2g}" if math.isfinite(ci) else "")


def comparison_markdown(result: dict[str, Any]) -> str:
    """The comparison as a markdown page (table, how it was made)."""
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
    return "\n".join(lines)


def write_comparison(root: Path, result: dict[str, Any]) -> Path:
    """Write root/comparison.json and root/comparison.md; returns the markdown path."""
    atomic_write_json(root / "comparison.json", result)
    return atomic_write_bytes(root / "comparison.md", comparison_markdown(result).encode())
