"""Neuron ablation: clamp one neuron at a time and measure how much worse the policy does.

    ranking = rank_neurons(policy, "lnn_control/LaneKeeping-v0", [1_000_000, 1_000_001])
    ranking.metric                # the world's quality key, e.g. "mean_abs_lateral_m"
    ranking.rows[0]               # {"neuron": 0, "name": "motor 0", "delta": ..., <summary>}

Each episode is `activity.record_activity` with `clamp={neuron: value}`, so the neuron is held at
`value` from the initial state on. The score is the world's quality metric (`World.quality_key`)
over all seeds, from `World.summary` of the episodes: lane keeping ranks by the mean |lateral
offset| (m) over all steps of all seeds (lower is better); the drone by the mean final distance
to the target (m, lower is better), which, unlike the success rate, still moves when a neuron
makes flights land less precisely or crash farther away, and is not quantised to 1 / seeds.
`delta` is how much worse the ablated score is than the unablated one on the same seeds, in the
metric's units (positive: worse). Episodes are deterministic given the seeds, so the ranking is
too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lnn_control.envs.world import World, world
from lnn_control.explain.activity import neuron_indices, neuron_names, record_activity
from lnn_control.policies.base import Policy


@dataclass
class Ranking:
    """Neurons ranked by how much clamping each one worsens the world's quality metric.

    Attributes:
        metric: the summary key scored (`World.quality_key`).
        higher_is_better: whether a larger `metric` is better.
        baseline: `metric` over the seeds without ablation.
        baseline_summary: the world's summary keys over the seeds without ablation.
        seeds: the env seeds of every episode set.
        value: the clamped state value.
        rows: one per neuron, {"neuron": state index, "name", "delta" (worsening in the metric's
            units, positive: worse), and the world's summary keys of the ablated episodes},
            sorted by delta descending (ties by neuron index).
    """

    metric: str
    higher_is_better: bool
    baseline: float
    baseline_summary: dict[str, float]
    seeds: list[int]
    value: float
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "baseline": self.baseline,
            "baseline_summary": dict(self.baseline_summary),
            "seeds": list(self.seeds),
            "value": self.value,
            "rows": [dict(row) for row in self.rows],
        }


def quality(
    the_world: World, policy: Policy, seeds: Sequence[int], **drive: Any
) -> dict[str, float]:
    """The world's summary over one episode per seed (`record_activity` keyword arguments)."""
    if not seeds:
        raise ValueError("quality needs at least one seed")
    traces = [record_activity(policy, the_world, seed, **drive) for seed in seeds]
    return the_world.summary([t.record.result for t in traces])


def _check_neurons(policy: Policy, neurons: Sequence[int] | None) -> list[int]:
    allowed = neuron_indices(policy)
    if not allowed:
        raise ValueError(f"policy kind {policy.kind!r} has no recurrent neurons to ablate")
    picked = list(allowed) if neurons is None else [int(i) for i in neurons]
    if not picked or len(set(picked)) != len(picked) or not set(picked) <= set(allowed):
        raise ValueError(
            f"neurons must be distinct state indices in [0, {len(allowed)}), got {picked}"
        )
    return picked


def rank_neurons(
    policy: Policy,
    env_world: World | str,
    seeds: Sequence[int],
    *,
    scenario: Mapping[str, Any] | None = None,
    distance_m: float | None = 20.0,
    value: float = 0.0,
    neurons: Sequence[int] | None = None,
) -> Ranking:
    """Rank neurons by how much clamping each one at `value` worsens the world's quality metric.

    Args:
        policy: any recurrent `Policy`; see `activity` for which state entries are neurons.
        env_world: the World or its env id.
        seeds: env seeds, the same for the baseline and every ablation.
        scenario: scenario overrides (image size defaults to the policy's).
        distance_m: episode length in metres of travel (None: the scenario's own; worlds whose
            episodes end on their own ignore it).
        value: the clamped state value, in the state's own units (0: silenced).
        neurons: state indices to ablate; default `activity.neuron_indices(policy)`.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("rank_neurons needs at least one seed")
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value}")
    picked = _check_neurons(policy, neurons)
    the_world, names = world(env_world), neuron_names(policy)
    key, sign = the_world.quality_key, (-1.0 if the_world.quality_higher_is_better else 1.0)
    drive = {"scenario": scenario, "distance_m": distance_m}
    unablated = quality(the_world, policy, seeds, **drive)
    baseline = unablated[key]
    rows: list[dict[str, Any]] = []
    for neuron in picked:
        summary = quality(the_world, policy, seeds, clamp={neuron: value}, **drive)
        delta = sign * (summary[key] - baseline)
        rows.append({"neuron": neuron, "name": names[neuron], "delta": delta, **summary})
    rows.sort(key=lambda row: (-row["delta"], row["neuron"]))
    better = the_world.quality_higher_is_better
    return Ranking(key, better, baseline, unablated, seeds, float(value), rows)


def format_ranking(ranking: Ranking) -> str:
    """A plain-text table of a `Ranking`, one line per neuron."""
    key = ranking.metric
    width = max(len(key), 9)
    lines = [f"{'neuron':>6}  {'name':<12} {key:>{width}} {'delta':>9}"]
    lines += [
        f"{r['neuron']:>6}  {r['name']:<12} {r[key]:>{width}.4f} {r['delta']:>+9.4f}"
        for r in ranking.rows
    ]
    return "\n".join(lines)
