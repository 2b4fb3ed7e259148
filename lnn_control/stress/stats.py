"""Statistics of a stress sweep (pure functions of the per-episode records, no simulator).

- `aggregate`: per (policy, condition, severity), the mean over seeds of each metric and the
  half-width of its 95 % confidence interval (Student t over seeds).
- `corruption_errors`: an mCE-style score after ImageNet-C (Hendrycks & Dietterich 2019). The
  error of a run is E = 1 - autonomy (lane keeping) or 1 - success (drone; `score_key`). For
  policy f and perturbation p, the degradation summed over severities is
  D_p^f = sum_s (E_{s,p}^f - E_clean^f); the relative corruption error normalises it by the
  reference policy's (the feedforward CNN, as ImageNet-C uses AlexNet): rCE_p^f = D_p^f / D_p^ref,
  and mCE^f = mean_p rCE_p^f. Perturbations on which the reference did not degrade
  (D_p^ref <= 0) cannot be normalised and are left out of the mean (listed).
- `seen_in_training`: which perturbations a policy's training augmentation resembled.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from lnn_control.stress.suite import CLEAN

METRICS = ("autonomy", "interventions_per_km", "mean_abs_lateral_m", "steer_smoothness")
DRONE_METRICS = ("success", "collision", "final_distance_m", "elapsed_s")


def metrics_for(records: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The per-episode metrics of the world the records come from (drone records have
    `success`)."""
    return DRONE_METRICS if records and "success" in records[0] else METRICS


def score_key(records: Sequence[dict[str, Any]]) -> str:
    """The metric whose complement is the error of the mCE: autonomy or success."""
    return "success" if records and "success" in records[0] else "autonomy"


#: Two-sided 95 % Student t quantiles by degrees of freedom (larger df: the nearest below).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}
_T975 |= {9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.0, 120: 1.98}
#: Perturbation -> the training augmentation (AugmentSection field) that resembles it.
AUGMENTATION_LIKE = {
    "gaussian_noise": "noise_std",
    "shot_noise": "noise_std",
    "brightness": "gamma",
    "contrast": "gamma",
    "low_light": "colour",
}


def t975(dof: int) -> float:
    """The 0.975 quantile of Student's t with `dof` degrees of freedom (1.96 beyond 120)."""
    if dof < 1:
        return float("nan")
    keys = [k for k in _T975 if k <= dof]
    return 1.96 if dof > 120 else _T975[max(keys)]


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, 95 % CI half-width); the half-width is nan for fewer than two values."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return float(x.mean()) if x.size else float("nan"), float("nan")
    return float(x.mean()), float(t975(x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def aggregate(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (policy, condition, severity) with n_seeds, <metric> and <metric>_ci95."""
    records = list(records)
    metrics = metrics_for(records)
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    perturbation: dict[str, str] = {}
    for r in records:
        groups[(r["policy"], r["condition"], int(r["severity"]))].append(r)
        perturbation[r["condition"]] = r["perturbation"]
    rows = []
    for (policy, condition, severity), group in groups.items():
        row: dict[str, Any] = {
            "policy": policy,
            "condition": condition,
            "perturbation": perturbation[condition],
            "severity": severity,
            "n_seeds": len(group),
        }
        if "interventions" in group[0]:
            row["interventions"] = int(sum(float(r["interventions"]) for r in group))
            row["distance_km"] = float(sum(float(r["distance_km"]) for r in group))
        for metric in metrics:
            row[metric], row[f"{metric}_ci95"] = mean_ci([float(r[metric]) for r in group])
        rows.append(row)
    return rows


def _lookup(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["policy"], r["condition"], r["severity"]): r for r in rows}


def _summed_degradation(
    table: dict[tuple[str, str, int], dict[str, Any]], policy: str, condition: str, score: str
) -> float:
    clean = table.get((policy, CLEAN, 0))
    levels = [row for (p, c, _), row in table.items() if p == policy and c == condition]
    if clean is None or not levels:
        return float("nan")
    return float(sum((1.0 - r[score]) - (1.0 - clean[score]) for r in levels))


def corruption_errors(
    rows: list[dict[str, Any]],
    conditions: Sequence[str],
    reference: str | None,
    score: str = "autonomy",
) -> dict[str, dict[str, Any]]:
    """Per policy: {"degradation": {condition: D}, "mean_degradation", "rce": {condition: rCE},
    "mce", "excluded": [conditions the reference did not degrade on]}; see the module doc.
    Without a reference policy, "rce" is empty and "mce" nan."""
    table = _lookup(rows)
    policies = sorted({r["policy"] for r in rows})
    ref_d = (
        {c: _summed_degradation(table, reference, c, score) for c in conditions}
        if reference
        else {}
    )
    usable = [c for c in conditions if ref_d.get(c, float("nan")) > 0]
    out: dict[str, dict[str, Any]] = {}
    for policy in policies:
        d = {c: _summed_degradation(table, policy, c, score) for c in conditions}
        rce = {c: d[c] / ref_d[c] for c in usable}
        finite = [v for v in d.values() if math.isfinite(v)]
        out[policy] = {
            "degradation": d,
            "mean_degradation": float(np.mean(finite)) if finite else float("nan"),
            "rce": rce,
            "mce": float(np.mean(list(rce.values()))) if rce else float("nan"),
            "excluded": [c for c in conditions if c not in usable] if reference else [],
        }
    return out


def seen_in_training(perturbation: str, augmentation: dict[str, Any]) -> str:
    """How `perturbation` relates to a policy's training augmentation (its model card's
    `augmentation`): "seen (milder): noise_std 0.02", "seen in RL training: variance 0.2, 75 % of
    episodes" (PPO fine-tuning's `rl_perturbations`), "unseen", or "unknown" without records."""
    if not augmentation:
        return "unknown"
    for seen in augmentation.get("rl_perturbations") or []:
        if seen.get("name") == perturbation:
            args = " ".join(f"{k} {v:g}" for k, v in (seen.get("params") or {}).items())
            what = args or f"severity {seen.get('severity')}"
            share = float(seen.get("probability", 1.0))
            return f"seen in RL training: {what}, {share:.0%} of episodes"
    field = AUGMENTATION_LIKE.get(perturbation)
    value = augmentation.get(field) if field else None
    if field and isinstance(value, int | float) and value > 0:
        return f"seen (milder): {field} {value:g}"
    return "unseen"
