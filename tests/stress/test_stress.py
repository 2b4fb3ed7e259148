"""The stress suite: config validation, cells, statistics, sweeps (resume, Ray), report, CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lnn_control.cli.options import parse_policy
from lnn_control.config_io import validate_config
from lnn_control.configs import CONFIG_DIR
from lnn_control.stress import sweep as sweep_module
from lnn_control.stress.report import write_stress_report
from lnn_control.stress.stats import (
    aggregate,
    corruption_errors,
    mean_ci,
    seen_in_training,
    t975,
)
from lnn_control.stress.suite import CLEAN, Cell, StressSuite, expand_cells
from lnn_control.stress.sweep import policy_spec, run_sweep

SCENARIO = {"image_height": 48, "image_width": 64}
TINY = {
    "name": "tiny",
    "seeds": {"start": 1_000_000, "count": 1},
    "distance_m": 2.0,
    "severities": [2],
    "conditions": ["gaussian_noise", {"perturbation": "camera_yaw", "severities": [3]}],
}


@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained CNN on 48 x 64 images whose provenance says it was trained at that size."""
    from lnn_control.policies import build_policy, save_checkpoint

    directory = tmp_path_factory.mktemp("policy")
    policy = build_policy("cnn", image_shape=(48, 64, 3), action_dim=1, seed=3)
    provenance = {"config": {"env": {"scenario": SCENARIO}}, "augmentation": {"noise_std": 0.02}}
    save_checkpoint(policy, directory, env_id="lnn_control/LaneKeeping-v0", provenance=provenance)
    return directory


def suite(**changes: Any) -> StressSuite:
    return validate_config(StressSuite, {**TINY, **changes})


# --- suite config ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"conditions": ["fgo"]}, "unknown perturbation 'fgo'; allowed: gaussian_noise"),
        ({"severities": [0, 6]}, "severities must be a non-empty list of integers 1..5"),
        ({"conditions": ["fog", "fog"]}, "condition labels must be unique"),
        ({"conditions": [{"perturbation": "friction", "params": {"x": 1}}]}, "takes no params"),
        ({"seeds": {"start": 5, "count": 1}}, "seeds.start"),
        ({"distance": 3}, "unknown config key 'distance'"),
        (
            {"conditions": [{"label": "../../../../x", "perturbation": "fog"}]},
            r"condition label '\.\./\.\./\.\./\.\./x' cannot be a file name; allowed: 1-100 "
            r"letters, digits, '_', '\.' or '-', not starting with '\.' and without '\.\.'",
        ),
        ({"conditions": [{"label": "a/b", "perturbation": "fog"}]}, "condition label 'a/b'"),
        ({"conditions": [{"label": ".hidden", "perturbation": "fog"}]}, "label '.hidden'"),
        ({"name": "../up"}, r"suite name '\.\./up' cannot be a file name"),
    ],
)
def test_suite_rejects_bad_config_in_one_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        suite(**changes)
    assert "\n" not in str(err.value)


def test_cells_cover_every_policy_condition_severity_and_seed(tiny_policy: Path) -> None:
    specs = [policy_spec("a", str(tiny_policy)), policy_spec("b", str(tiny_policy))]
    s = suite(seeds={"start": 1_000_000, "count": 3})
    cells = expand_cells(s, specs)
    # per policy and seed: clean + gaussian_noise at 2 + camera_yaw at 3
    assert len(cells) == 2 * 3 * 3
    assert len({c.key for c in cells}) == len(cells)
    assert {(c.condition, c.severity) for c in cells} == {
        (CLEAN, 0),
        ("gaussian_noise", 2),
        ("camera_yaw", 3),
    }
    assert specs[0].scenario == SCENARIO
    assert specs[0].kind == "cnn"


def test_fingerprint_changes_with_what_decides_the_result(tiny_policy: Path) -> None:
    spec = policy_spec("a", str(tiny_policy))
    cell = expand_cells(suite(), [spec])[1]
    assert cell.fingerprint(suite()) == cell.fingerprint(suite())
    assert cell.fingerprint(suite()) != cell.fingerprint(suite(distance_m=3.0))
    assert cell.fingerprint(suite()) != cell.fingerprint(suite(scenario={"lane_width_m": 0.9}))


# --- statistics -----------------------------------------------------------------------------


def test_mean_ci_uses_student_t_over_seeds() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    assert math.isnan(mean_ci([5.0])[1])
    assert t975(1000) == 1.96
    assert t975(11) == t975(10)


def _rows(autonomy: dict[tuple[str, str, int], float]) -> list[dict[str, Any]]:
    records = []
    for (policy, condition, severity), value in autonomy.items():
        records.append(
            {
                "policy": policy,
                "condition": condition,
                "perturbation": condition,
                "severity": severity,
                "seed": 1,
                "interventions": 0.0,
                "distance_km": 0.1,
                "autonomy": value,
                "interventions_per_km": 0.0,
                "mean_abs_lateral_m": 0.0,
                "steer_smoothness": 0.0,
            }
        )
    return aggregate(records)


def test_mce_normalises_summed_degradation_by_the_reference() -> None:
    rows = _rows(
        {
            ("cnn", CLEAN, 0): 0.9,
            ("cnn", "fog", 1): 0.8,
            ("cnn", "fog", 2): 0.5,  # degradation 0.1 + 0.4 = 0.5
            ("cnn", "rain", 1): 0.95,  # improves: cannot normalise by it
            ("ncp", CLEAN, 0): 1.0,
            ("ncp", "fog", 1): 0.9,
            ("ncp", "fog", 2): 0.85,  # 0.1 + 0.15 = 0.25
            ("ncp", "rain", 1): 0.7,  # 0.3
        }
    )
    scores = corruption_errors(rows, ["fog", "rain"], reference="cnn")
    assert scores["ncp"]["rce"] == {"fog": pytest.approx(0.5)}
    assert scores["ncp"]["mce"] == pytest.approx(0.5)
    assert scores["cnn"]["mce"] == pytest.approx(1.0)
    assert scores["ncp"]["excluded"] == ["rain"]
    assert scores["ncp"]["mean_degradation"] == pytest.approx((0.25 + 0.3) / 2)
    assert math.isnan(corruption_errors(rows, ["fog"], reference=None)["ncp"]["mce"])


def test_seen_in_training_follows_the_model_card_augmentation() -> None:
    augmentation = {"gamma": 0.3, "colour": 0.1, "noise_std": 0.0}
    assert seen_in_training("brightness", augmentation) == "seen (milder): gamma 0.3"
    assert seen_in_training("gaussian_noise", augmentation) == "unseen"  # noise_std 0
    assert seen_in_training("fog", augmentation) == "unseen"
    assert seen_in_training("fog", {}) == "unknown"
    rl = {**augmentation, "rl_perturbations": [
        {"name": "gaussian_noise", "severity": 1, "params": {"variance": 0.2}, "probability": 0.75}
    ]}  # fmt: skip
    assert (
        seen_in_training("gaussian_noise", rl)
        == "seen in RL training: variance 0.2, 75% of episodes"
    )
    assert seen_in_training("fog", rl) == "unseen"


# --- sweeps ---------------------------------------------------------------------------------


def test_sweep_writes_every_output_and_resumes_without_rerunning(
    tiny_policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = suite()
    specs = [policy_spec("cnn", str(tiny_policy))]
    cells = expand_cells(s, specs)
    records = run_sweep(s, cells, tmp_path, workers=1, progress=False)
    assert [(r["condition"], r["severity"]) for r in records] == [
        (CLEAN, 0),
        ("gaussian_noise", 2),
        ("camera_yaw", 3),
    ]
    assert all(r["steps"] > 5 and 0.0 <= r["autonomy"] <= 1.0 for r in records)
    clean, noisy = records[0], records[1]
    assert clean["mean_abs_lateral_m"] != noisy["mean_abs_lateral_m"]  # the noise reached it
    write_stress_report(tmp_path, s, specs, records, reference="cnn")
    for name in ("episodes.csv", "episodes.json", "summary.json", "tables.md", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "plots" / "autonomy.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {r["condition"] for r in summary["rows"]} == {CLEAN, "gaussian_noise", "camera_yaw"}
    assert "seen (milder): noise_std 0.02" in (tmp_path / "tables.md").read_text()

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a finished cell was rerun")

    monkeypatch.setattr(sweep_module, "run_cell", refuse)
    assert run_sweep(s, cells, tmp_path, workers=1, progress=False) == records


def test_stale_or_corrupt_cell_results_are_rerun(tiny_policy: Path, tmp_path: Path) -> None:
    s = suite(conditions=[])
    cells = expand_cells(s, [policy_spec("cnn", str(tiny_policy))])
    first = run_sweep(s, cells, tmp_path, workers=1, progress=False)
    path = sweep_module.ResultStore(tmp_path, s).path(cells[0])
    path.write_text("{not json")
    assert run_sweep(s, cells, tmp_path, workers=1, progress=False) == first
    longer = suite(conditions=[], distance_m=3.0)
    again = run_sweep(
        longer, expand_cells(longer, [cells[0].policy]), tmp_path, workers=1, progress=False
    )
    assert again[0]["steps"] > first[0]["steps"]


def _cli(tiny_policy: Path, suite_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lnn_control.cli",
        "stress",
        "--policy",
        f"cnn={tiny_policy}",
        "--suite",
        str(suite_path),
        "--out",
        str(out),
        "--workers",
        "1",
        "--no-progress",
        *extra,
    ]


@pytest.mark.slow
def test_sweep_killed_halfway_resumes_from_finished_cells(
    tiny_policy: Path, tmp_path: Path
) -> None:
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(
        json.dumps({**TINY, "seeds": {"start": 1_000_000, "count": 4}, "distance_m": 4.0})
    )
    out = tmp_path / "out"
    process = subprocess.Popen(
        _cli(tiny_policy, suite_path, out), start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while len(list(out.glob("cells/**/*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p: p.stat().st_mtime_ns for p in out.glob("cells/**/*.json")}
    assert 2 <= len(finished) < 12, "the sweep was not interrupted halfway"
    published = tmp_path / "published.md"
    result = subprocess.run(
        [*_cli(tiny_policy, suite_path, out), "--publish", str(published)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"12 cells: {len(finished)} done before, {12 - len(finished)} to run" in result.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())
    assert len(json.loads((out / "episodes.json").read_text())) == 12
    text = published.read_text()
    assert text.startswith("# Stress suite tiny\n\nGenerated ")
    assert "held-out seeds 1,000,000-1,000,003, 4 m per episode" in text


@pytest.mark.slow
def test_ray_backend_gives_the_local_backends_results(tiny_policy: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    s = suite(seeds={"start": 1_000_000, "count": 2})
    cells = expand_cells(s, [policy_spec("cnn", str(tiny_policy))])
    local = run_sweep(s, cells, tmp_path / "local", workers=2, progress=False)
    ray = run_sweep(s, cells, tmp_path / "ray", backend="ray", workers=2, progress=False)
    assert ray == local


# --- CLI ------------------------------------------------------------------------------------


def test_parse_policy_labels() -> None:
    assert parse_policy("pretrained:lane_keeping_ncp") == (
        "lane_keeping_ncp",
        "pretrained:lane_keeping_ncp",
    )
    assert parse_policy("runs/lane_il_cnn/policy") == ("lane_il_cnn", "runs/lane_il_cnn/policy")
    assert parse_policy("cnn=runs/x") == ("cnn", "runs/x")
    with pytest.raises(ValueError, match=r"\[LABEL=\]SOURCE"):
        parse_policy("=runs/x")
    for text in ("..=runs/x", "a/../b=runs/x", "a b=runs/x", "runs/..", "runs/../policy"):
        with pytest.raises(ValueError, match=r"policy label .* cannot be a file name") as err:
            parse_policy(text)
        assert "\n" not in str(err.value)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _stress(policy: str, suite_path: Path, out: Path) -> list[str]:
    argv = ["stress", "--policy", policy, "--suite", str(suite_path), "--out", str(out)]
    return [*argv, "--workers", "1", "--no-progress"]


@pytest.mark.parametrize(
    ("label", "condition", "message"),
    [
        ("tiny", "../../../../x", r"config key 'conditions.1.label'.*condition label '\.\./"),
        ("a..b", "noise", r"policy label 'a\.\.b' cannot be a file name"),
        ("..", "noise", r"policy label '\.\.' cannot be a file name"),
    ],
)
def test_cli_refuses_traversal_labels_before_writing_anything(
    label: str,
    condition: str,
    message: str,
    tiny_policy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lnn_control.cli import main

    conditions = ["camera_yaw", {"label": condition, "perturbation": "gaussian_noise"}]
    suite_path = tmp_path / "suite.json"  # JSON is YAML
    suite_path.write_text(json.dumps({**TINY, "conditions": conditions}))
    before = _files(tmp_path)
    code = main(_stress(f"{label}={tiny_policy}", suite_path, tmp_path / "a" / "b" / "c" / "out"))
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(message, err), err
    assert err.count("\n") == 1
    assert _files(tmp_path) == before  # not even the output directory


def test_sweep_refuses_a_cell_label_that_leaves_the_output_directory(
    tiny_policy: Path, tmp_path: Path
) -> None:
    """Labels that bypass the CLI and the suite model are still checked before any work."""
    good = policy_spec("tiny", str(tiny_policy))
    bad_policy = dataclasses.replace(good, label="../../escaped")
    out = tmp_path / "out"
    for cells in (
        expand_cells(suite(), [good, bad_policy]),
        [*expand_cells(suite(), [good]), Cell(good, "../../x", "fog", 1, 1_000_000)],
    ):
        with pytest.raises(ValueError, match=r"label '\.\./\.\./(escaped|x)' cannot be"):
            run_sweep(suite(), cells, out, workers=1, progress=False)
    assert _files(tmp_path) == set()


def test_cli_names_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lnn_control.cli",
            "stress",
            "--policy",
            "pretrained:nope",
            "--suite",
            "lane_quick",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "unknown pretrained policy 'nope'" in result.stderr


# --- the drone ------------------------------------------------------------------------------


def test_drone_suite_rejects_lane_shifts_and_lane_suite_drone_shifts() -> None:
    with pytest.raises(
        ValueError, match=r"camera_yaw: not a shift of lnn_control/DroneNav-v0 \(its"
    ):
        suite(env_id="lnn_control/DroneNav-v0", conditions=["camera_yaw"])
    with pytest.raises(ValueError, match="wind: not a shift of lnn_control/LaneKeeping-v0"):
        suite(conditions=["wind"])
    drone = validate_config(StressSuite, {"env_id": "lnn_control/DroneNav-v0"})
    assert drone.conditions == []


def test_a_perturbation_the_world_cannot_render_fails_before_any_cell(tmp_path: Path) -> None:
    # fog needs a depth buffer the drone camera does not return: refused when the suite loads
    with pytest.raises(ValueError, match="'fog' is not supported by lnn_control/DroneNav-v0"):
        suite(env_id="lnn_control/DroneNav-v0", conditions=["fog"])
    with pytest.raises(ValueError, match="unknown world 'Nope-v0'"):
        suite(env_id="Nope-v0")


def test_drone_shifts_are_valid_scenarios_at_every_severity() -> None:
    from lnn_control.envs.drone.scenario import DroneScenario
    from lnn_control.envs.drone.shifts import DRONE_SHIFTS, drone_shift_scenario

    for name in DRONE_SHIFTS:
        values = [drone_shift_scenario(name, s, {}) for s in (1, 2, 3, 4, 5)]
        assert all(isinstance(DroneScenario.from_mapping(v), DroneScenario) for v in values)
        assert len({json.dumps(v, sort_keys=True) for v in values}) == 5, name
    with pytest.raises(ValueError, match="unknown drone shift"):
        drone_shift_scenario("fog", 1)


@pytest.mark.slow
def test_drone_sweep_reports_success_metrics(tmp_path: Path) -> None:
    from lnn_control.policies import build_policy, save_checkpoint

    checkpoint = tmp_path / "drone"
    scenario = {"image_height": 48, "image_width": 64, "time_limit_s": 1.0}
    policy = build_policy("ncp", image_shape=(48, 64, 3), action_dim=4, seed=0)
    save_checkpoint(
        policy,
        checkpoint,
        env_id="lnn_control/DroneNav-v0",
        provenance={"config": {"env": {"scenario": scenario}}},
    )
    s = validate_config(
        StressSuite,
        {
            "env_id": "lnn_control/DroneNav-v0",
            "seeds": {"start": 1_000_000, "count": 1},
            "severities": [5],
            "conditions": ["wind", "rain"],
        },
    )
    specs = [policy_spec("ncp", str(checkpoint))]
    cells = expand_cells(s, specs)
    records = run_sweep(s, cells, tmp_path / "out", workers=1, progress=False)
    assert [(r["condition"], r["severity"]) for r in records] == [
        (CLEAN, 0),
        ("wind", 5),
        ("rain", 5),
    ]
    assert all(r["steps"] == 20 and r["success"] in (0.0, 1.0) for r in records)
    summary = write_stress_report(tmp_path / "out", s, specs, records, reference=None)
    assert {"success", "collision", "final_distance_m"} <= set(summary["rows"][0])
    assert "## success (mean" in (tmp_path / "out" / "tables.md").read_text()


@pytest.mark.parametrize("path", sorted((CONFIG_DIR / "stress").glob("*.yaml")), ids=str)
def test_shipped_suites_validate(path: Path) -> None:
    from lnn_control.config_io import load_config

    assert load_config(StressSuite, path).conditions
