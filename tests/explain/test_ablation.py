"""Neuron ablation ranking on tiny drives."""

from __future__ import annotations

import numpy as np
import pytest

from lnn_control.envs import world
from lnn_control.explain.ablation import format_ranking, quality, rank_neurons
from lnn_control.explain.activity import neuron_names, record_activity
from lnn_control.policies import build_policy

LANE = "lnn_control/LaneKeeping-v0"
SMALL = {"image_height": 32, "image_width": 48, "distractor_kind": "none"}
SEEDS = [1_000_000]
DRIVE_M = 2.0


def test_rank_neurons_one_row_per_neuron_sorted_by_delta() -> None:
    policy = build_policy("ncp", image_shape=(32, 48, 3), seed=0)
    neurons = [0, 3, 10]
    ranking = rank_neurons(policy, LANE, SEEDS, scenario=SMALL, distance_m=DRIVE_M, neurons=neurons)
    rows = ranking.rows
    assert ranking.metric == "mean_abs_lateral_m"
    assert sorted(r["neuron"] for r in rows) == neurons
    deltas = [r["delta"] for r in rows]
    assert deltas == sorted(deltas, reverse=True)
    names = neuron_names(policy)
    assert all(r["name"] == names[r["neuron"]] for r in rows)
    traces = [record_activity(policy, LANE, s, scenario=SMALL, distance_m=DRIVE_M) for s in SEEDS]
    lateral = np.concatenate([t.trace["lateral_offset_m"] for t in traces])
    baseline = float(np.mean(np.abs(lateral)))  # mean |lateral| (m) over all steps
    assert ranking.baseline == pytest.approx(baseline)
    for row in rows:
        assert row["mean_abs_lateral_m"] - row["delta"] == pytest.approx(baseline)
    motor = next(r for r in rows if r["neuron"] == 0)
    ablated = quality(world(LANE), policy, SEEDS, scenario=SMALL, distance_m=DRIVE_M, clamp={0: 0})
    assert motor["mean_abs_lateral_m"] == pytest.approx(ablated["mean_abs_lateral_m"])
    assert motor["interventions_per_km"] == pytest.approx(ablated["interventions_per_km"])
    table = format_ranking(ranking)
    assert len(table.splitlines()) == len(rows) + 1


def test_rank_neurons_is_deterministic() -> None:
    policy = build_policy("gru", image_shape=(32, 48, 3), seed=0)
    first, second = (
        rank_neurons(policy, LANE, SEEDS, scenario=SMALL, distance_m=1.0, neurons=[2, 7], value=0.5)
        for _ in range(2)
    )
    assert first == second


def test_rank_neurons_rejects_bad_arguments() -> None:
    ncp = build_policy("ncp", image_shape=(32, 48, 3), seed=0)
    with pytest.raises(ValueError, match="at least one seed"):
        rank_neurons(ncp, LANE, [], scenario=SMALL)
    with pytest.raises(ValueError, match="distinct state indices"):
        rank_neurons(ncp, LANE, SEEDS, scenario=SMALL, neurons=[19])
    with pytest.raises(ValueError, match="distinct state indices"):
        rank_neurons(ncp, LANE, SEEDS, scenario=SMALL, neurons=[1, 1])
    with pytest.raises(ValueError, match="finite"):
        rank_neurons(ncp, LANE, SEEDS, scenario=SMALL, value=float("inf"))
    lstm = build_policy("lstm", image_shape=(32, 48, 3))
    with pytest.raises(ValueError, match="distinct state indices"):
        rank_neurons(lstm, LANE, SEEDS, scenario=SMALL, neurons=[lstm.state_size // 2])  # a cell c
    cnn = build_policy("cnn", image_shape=(32, 48, 3))
    with pytest.raises(ValueError, match="no recurrent neurons"):
        rank_neurons(cnn, LANE, SEEDS, scenario=SMALL)
    with pytest.raises(ValueError, match="at least one seed"):
        quality(world(LANE), ncp, [], scenario=SMALL)
