"""Interpretability in the drone world: four motor neurons, through the World record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lnn_control.cli import main
from lnn_control.envs import world
from lnn_control.explain.ablation import format_ranking, quality, rank_neurons
from lnn_control.explain.activity import (
    ActivityTrace,
    neuron_names,
    plot_neuron_traces,
    record_activity,
)
from lnn_control.explain.explain import default_conditions
from lnn_control.policies import LiquidPolicy, build_policy, save_checkpoint

DRONE = "lnn_control/DroneNav-v0"
#: a short flight (1 s = 20 steps) with small images
TINY = {"image_height": 32, "image_width": 48, "time_limit_s": 1.0}
SEED = 1_000_000


@pytest.fixture(scope="module")
def drone_ncp() -> LiquidPolicy:
    policy = build_policy("ncp", image_shape=(32, 48, 3), action_dim=4, seed=0)
    assert isinstance(policy, LiquidPolicy)
    return policy


@pytest.fixture(scope="module")
def flight(drone_ncp: LiquidPolicy) -> ActivityTrace:
    return record_activity(drone_ncp, DRONE, SEED, scenario=TINY, keep_frames=True)


def test_every_world_names_its_quality_metric_and_explain_trace() -> None:
    from lnn_control.envs.world import worlds

    for each in worlds():
        assert each.quality_key in each.summary_keys, each.env_id
        assert each.explain_trace_key in each.trace_keys, each.env_id
        assert each.explain_trace_label


def test_a_drone_flight_records_19_neurons_and_4_actions(
    drone_ncp: LiquidPolicy, flight: ActivityTrace
) -> None:
    steps = flight.steps
    assert steps == 20  # the 1 s time limit at 20 Hz (an untrained policy does not arrive)
    assert flight.states.shape == (steps, 19)
    assert flight.actions.shape == (steps, 4)
    assert flight.frames is not None
    assert flight.frames.shape == (steps, 32, 48, 3)
    assert flight.control_dt_s == pytest.approx(0.05)
    distance = flight.trace["distance_to_target_m"]
    assert flight.snapshot_step() == int(np.argmax(np.abs(distance)))
    names = neuron_names(drone_ncp)
    assert [n for n in names if n.startswith("motor")] == [f"motor {i}" for i in range(4)]
    # replaying the frames reproduces the recorded states and all four actions
    state = drone_ncp.initial_state(1)
    for t in range(steps):
        action, state = drone_ncp.step(flight.frames[t], state, flight.control_dt_s)
        np.testing.assert_allclose(action, flight.actions[t], atol=1e-6)
    np.testing.assert_allclose(state[0].numpy(), flight.states[-1], atol=1e-6)


def test_neuron_traces_of_a_drone_plot_every_action(
    drone_ncp: LiquidPolicy, flight: ActivityTrace
) -> None:
    import matplotlib.pyplot as plt

    fig = plot_neuron_traces(flight, neuron_names(drone_ncp))
    labels = [ax.get_ylabel() for ax in fig.axes[1:]]
    assert labels == ["vx", "vy", "vz", "yaw_rate", "distance to target (m)"]
    for column, ax in enumerate(fig.axes[1:5]):
        np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), flight.actions[:, column])
    plt.close(fig)


def test_clamped_motor_neuron_changes_the_flight(
    drone_ncp: LiquidPolicy, flight: ActivityTrace
) -> None:
    clamped = record_activity(drone_ncp, DRONE, SEED, scenario=TINY, clamp={2: 0.8})
    assert np.all(clamped.states[:, 2] == np.float32(0.8))
    assert not np.allclose(clamped.actions[:, 2], flight.actions[:, 2])


@pytest.mark.slow
def test_drone_ablation_ranks_by_mean_final_distance(drone_ncp: LiquidPolicy) -> None:
    motors = [0, 1, 2, 3]
    ranking = rank_neurons(drone_ncp, DRONE, [SEED], scenario=TINY, neurons=motors, value=0.9)
    assert ranking.metric == "mean_final_distance_m"
    assert ranking.higher_is_better is False
    assert sorted(r["name"] for r in ranking.rows) == [f"motor {i}" for i in range(4)]
    deltas = [r["delta"] for r in ranking.rows]
    assert deltas == sorted(deltas, reverse=True)
    unablated = quality(world(DRONE), drone_ncp, [SEED], scenario=TINY)
    baseline = unablated["mean_final_distance_m"]
    assert ranking.baseline == pytest.approx(baseline)
    assert ranking.baseline_summary == pytest.approx(unablated, nan_ok=True)
    for row in ranking.rows:
        alone = quality(world(DRONE), drone_ncp, [SEED], scenario=TINY, clamp={row["neuron"]: 0.9})
        assert row["mean_final_distance_m"] == pytest.approx(alone["mean_final_distance_m"])
        assert row["delta"] == pytest.approx(alone["mean_final_distance_m"] - baseline)
        assert set(world(DRONE).summary_keys) <= set(row)
    assert any(abs(d) > 1e-6 for d in deltas)  # pushing a motor neuron moves the drone
    assert "mean_final_distance_m" in format_ranking(ranking).splitlines()[0]


def test_default_conditions_leave_out_what_the_drone_cannot_render() -> None:
    names = [c[1] for c in default_conditions(DRONE)]
    assert "fog" not in names
    assert "gaussian_noise" in names
    assert "fog" in [c[1] for c in default_conditions("lnn_control/LaneKeeping-v0")]


def _tiny_drone_checkpoint(path: Path) -> Path:
    policy = build_policy("ncp", image_shape=(32, 48, 3), action_dim=4, seed=0)
    save_checkpoint(policy, path, env_id=DRONE, provenance={"config": {"env": {"scenario": TINY}}})
    return path


@pytest.mark.slow
def test_explain_cli_on_a_drone_checkpoint(tmp_path: Path) -> None:
    checkpoint = _tiny_drone_checkpoint(tmp_path / "drone")
    out, published = tmp_path / "out", tmp_path / "interpretability.md"
    published.write_text("# Interpretability\n\nlane section, kept\n")
    args = ["explain", "--policy", f"drone={checkpoint}", "--stride", "4", "--ablate"]
    args += ["--condition", "gaussian_noise:3", "--out", str(out), "--publish", str(published)]
    assert main(args) == 0
    record = json.loads((out / "drone" / "explain.json").read_text())
    assert record["env_id"] == DRONE
    assert record["action_names"] == ["vx", "vy", "vz", "yaw_rate"]
    assert record["steps"] == 20
    assert len(record["pca_explained"]) == 3
    assert set(record["ssim"]) == {"gaussian_noise 3"}
    ablation = record["ablation"]
    assert ablation["metric"] == "mean_final_distance_m"
    assert ablation["seeds"] == [SEED]
    assert len(ablation["rows"]) == 19
    assert {r["name"] for r in ablation["rows"]} >= {f"motor {i}" for i in range(4)}
    for key in ("saliency_png", "saliency_gif", "neurons_png", "wiring_png"):
        assert Path(record["files"][key]).stat().st_size > 500, key
    import cv2

    picture = cv2.imread(record["files"]["saliency_png"])
    assert picture is not None
    assert picture.shape[1] == 48 * (2 + 4)  # frame, VisualBackProp, one gradient per action
    tables = (out / "tables.md").read_text()
    assert "Ablation of drone" in tables
    assert all(f"| motor {i} |" in tables for i in range(4))
    assert "| - | none (unablated) | 0 |" in tables
    text = published.read_text()
    assert text.startswith("# Interpretability\n\nlane section, kept\n")
    assert "## Policies in lnn_control/DroneNav-v0" in text
    assert (out / "report.html").stat().st_size > 1000


def test_explain_cli_refuses_a_condition_the_drone_cannot_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = _tiny_drone_checkpoint(tmp_path / "drone")
    out = tmp_path / "out"
    args = ["explain", "--policy", f"drone={checkpoint}", "--condition", "fog:3"]
    assert main([*args, "--out", str(out)]) == 2
    assert "perturbation 'fog' is not supported by lnn_control/DroneNav-v0" in (
        capsys.readouterr().err
    )
    assert not out.exists()
