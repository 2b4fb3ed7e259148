"""The runtime with a 4-action drone policy: limits, rate limit, hover fail-safe, telemetry."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from lnn_control.deploy.config import ActuatorSection
from lnn_control.deploy.factory import make_actuator
from lnn_control.deploy.runtime.drone_safety import DroneSafetyConfig, DroneSafetyFilter
from lnn_control.deploy.runtime.loop import run
from lnn_control.deploy.runtime.telemetry import DRONE_SENT, TelemetryWriter
from tests.deploy.fakes import ScriptedCamera, ScriptedModel, TimedActuator

RATE_HZ = 50.0
HOVER = np.zeros(4, np.float32)


def test_drone_filter_clamps_each_axis_and_limits_changes() -> None:
    config = DroneSafetyConfig(max_horizontal=0.5, max_vertical=0.2, max_change_per_s=2.0)
    safety = DroneSafetyFilter(config)
    first = safety.decide(np.array([0.9, -0.9, 0.9, 0.7]), now_s=0.0, frame_age_s=0.0)
    np.testing.assert_allclose(first.command, [0.5, -0.5, 0.2, 0.7], rtol=1e-6)
    second = safety.decide(np.array([-0.5, 0.5, -0.2, -1.0]), now_s=0.1, frame_age_s=0.0)
    np.testing.assert_allclose(second.command, [0.3, -0.3, 0.0, 0.5], atol=1e-6)  # 0.2 per 0.1 s
    assert not second.failsafe


def test_drone_failsafe_is_hover() -> None:
    safety = DroneSafetyFilter(DroneSafetyConfig(max_frame_age_s=0.1, max_overruns=2))
    assert safety.decide(np.zeros(4), 0.0, None).reason == "no_frame"
    assert safety.decide(np.zeros(4), 0.0, 0.5).reason == "stale_frame"
    assert safety.decide(np.array([0, 0, np.nan, 0]), 0.0, 0.0).reason == "non_finite"
    assert safety.decide(np.zeros(2), 0.0, 0.0).reason == "non_finite"  # a car's action
    assert safety.decide(np.zeros(4), 0.0, 0.0, consecutive_overruns=2).reason == "overrun"
    assert np.array_equal(safety.failsafe("x").command, HOVER)
    with pytest.raises(ValueError, match=r"max_vertical must be in \(0, 1\]"):
        DroneSafetyConfig(max_vertical=1.5)


def test_runtime_hovers_on_nan_and_writes_drone_telemetry(tmp_path: Path) -> None:
    model = ScriptedModel([[0.2, 0.0, 0.1, 0.0], [0.2, 0.0, 0.1, 0.0], [np.nan] * 4])
    actuator = TimedActuator()
    safety = DroneSafetyFilter(DroneSafetyConfig(max_change_per_s=100.0))
    writer = TelemetryWriter(tmp_path / "t.csv", action_dim=4, sent_names=DRONE_SENT)
    writer.open()
    try:
        summary = run(ScriptedCamera(fresh=10), model, safety, actuator, RATE_HZ, 4, writer)
    finally:
        writer.close()
    np.testing.assert_allclose(actuator.sent[1], [0.2, 0.0, 0.1, 0.0], rtol=1e-6)
    assert np.array_equal(actuator.sent[2], HOVER)  # the NaN period
    assert summary.failsafe_counts["non_finite"] >= 1
    with (tmp_path / "t.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [k for k in rows[0] if k.startswith("sent_")] == [f"sent_{n}" for n in DRONE_SENT]
    assert float(rows[1]["sent_vz"]) == pytest.approx(0.1)


def test_drone_policies_need_a_drone_actuator() -> None:
    with pytest.raises(ValueError, match="a 4-action drone policy needs backend mavlink or log"):
        make_actuator(ActuatorSection(backend="udp"), action_dim=4)
    mavlink = make_actuator(ActuatorSection(backend="mavlink", max_climb_mps=0.8), action_dim=4)
    assert getattr(mavlink, "kind", None) == "drone"
    assert mavlink.limits.max_climb_mps == 0.8  # type: ignore[attr-defined]
