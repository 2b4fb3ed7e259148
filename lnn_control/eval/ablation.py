"""Neuron ablation: clamp one neuron at a time and measure how much worse the car drives.

    rows = rank_neurons(policy, seeds=[1_000_000, 1_000_001], distance_m=20.0)
    rows[0]  # {"neuron": 0, "name": "motor 0", "mean_abs_lateral_m": ..., "delta_m": ..., ...}

Each drive is `activity.record_drive` with `clamp={neuron: value}`, so the neuron is held at
`value` before and after every step; the score is the mean |lateral offset| (m) over all steps of
all seeds, and `delta_m` its increase over the same seeds driven without ablation. Drives are
deterministic given the seeds, so the ranking is too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lnn_control.eval.activity import DriveTrace, neuron_indices, neuron_names, record_drive
from lnn_control.policies.base import Policy


def mean_abs_lateral_m(traces: Sequence[DriveTrace]) -> float:
    """Mean |lateral offset| (m) over all steps of `traces` pooled."""
    if not traces:
        raise ValueError("mean_abs_lateral_m needs at least one trace")
    return float(np.mean(np.abs(np.concatenate([t.lateral_m for t in traces]))))


def rank_neurons(
    policy: Policy,
    seeds: Sequence[int],
    *,
    scenario: Mapping[str, Any] | None = None,
    distance_m: float = 20.0,
    value: float = 0.0,
    neurons: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Rank neurons by how much clamping each one at `value` worsens lane keeping.

    Args:
        policy: any recurrent `Policy`; see `activity` for which state entries are neurons.
        seeds: env seeds, the same for the baseline and every ablation.
        scenario: `LaneScenario` overrides (image size defaults to the policy's).
        distance_m: road length per seed (m).
        value: the clamped state value, in the state's own units (0: silenced).
        neurons: state indices to ablate; default `activity.neuron_indices(policy)`.

    Returns:
        one row per neuron, {"neuron": state index, "name", "mean_abs_lateral_m" (m, ablated),
        "delta_m" (m, ablated minus unablated), "interventions" (ablated, summed over seeds)},
        sorted by delta_m descending (ties by neuron index).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("rank_neurons needs at least one seed")
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value}")
    allowed = neuron_indices(policy)
    picked = list(allowed) if neurons is None else [int(i) for i in neurons]
    if not allowed:
        raise ValueError(f"policy kind {policy.kind!r} has no recurrent neurons to ablate")
    if not picked or len(set(picked)) != len(picked) or not set(picked) <= set(allowed):
        raise ValueError(
            f"neurons must be distinct state indices in [0, {len(allowed)}), got {picked}"
        )
    names = neuron_names(policy)

    def drives(clamp: dict[int, float] | None) -> list[DriveTrace]:
        return [
            record_drive(policy, seed, scenario=scenario, distance_m=distance_m, clamp=clamp)
            for seed in seeds
        ]

    baseline = mean_abs_lateral_m(drives(None))
    rows = []
    for neuron in picked:
        traces = drives({neuron: value})
        score = mean_abs_lateral_m(traces)
        rows.append(
            {
                "neuron": neuron,
                "name": names[neuron],
                "mean_abs_lateral_m": score,
                "delta_m": score - baseline,
                "interventions": sum(t.interventions for t in traces),
            }
        )
    return sorted(rows, key=lambda row: (-row["delta_m"], row["neuron"]))


def format_ranking(rows: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table of `rank_neurons` rows, one line per neuron."""
    lines = [f"{'neuron':>6}  {'name':<12} {'|lateral| m':>11} {'delta m':>9} {'interv.':>7}"]
    lines += [
        f"{r['neuron']:>6}  {r['name']:<12} {r['mean_abs_lateral_m']:>11.4f} "
        f"{r['delta_m']:>+9.4f} {r['interventions']:>7d}"
        for r in rows
    ]
    return "\n".join(lines)
