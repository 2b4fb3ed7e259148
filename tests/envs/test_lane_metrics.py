"""Lane-keeping metrics: the PilotNet autonomy formula and pooled summaries."""

from __future__ import annotations

import numpy as np
import pytest

from lnn_control.envs.lane.metrics import LANE_SUMMARY_KEYS, LaneEpisode, autonomy, lane_metrics


def test_autonomy_charges_six_seconds_per_intervention() -> None:
    assert autonomy(0, 100.0) == 1.0
    assert autonomy(1, 600.0) == pytest.approx(0.99)
    assert autonomy(20, 60.0) == 0.0  # floored


def test_pooled_metrics() -> None:
    a = LaneEpisode(1, np.array([0.1, -0.1]), np.array([0.0, 0.2]), np.array([0.0, 0.5]), 500.0, 1)
    b = LaneEpisode(2, np.array([0.3, 0.3]), np.array([0.1, 0.1]), np.array([0.5, 0.5]), 500.0, 0)
    m = lane_metrics([a, b])
    assert set(m) == set(LANE_SUMMARY_KEYS)
    assert m["distance_km"] == pytest.approx(1.0)
    assert m["interventions_per_km"] == pytest.approx(1.0)
    assert m["mean_abs_lateral_m"] == pytest.approx(0.2)
    assert m["rms_lateral_m"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0.09 + 0.09) / 4))
    assert m["steer_smoothness"] == pytest.approx(0.25)
    assert m["autonomy"] == pytest.approx(0.0)  # 1 intervention in 0.2 s of driving
    assert a.record()["interventions"] == 1.0
    with pytest.raises(ValueError, match="at least one episode"):
        lane_metrics([])
