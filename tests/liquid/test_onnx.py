"""Single-step ONNX export: onnxruntime matches torch over a 200-step closed loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from lnn_control.liquid import LTC, CfC, NCPWiring, export_step_onnx

STEPS, RESET_AT, TOL = 200, 117, 1e-5


@pytest.mark.parametrize(
    "make",
    [lambda: LTC(32, NCPWiring.paper(seed=0)), lambda: CfC(32, NCPWiring.paper(seed=0))],
    ids=["ltc", "cfc"],
)
def test_closed_loop_parity(make: object, tmp_path: Path) -> None:
    model = make()  # type: ignore[operator]
    cell = model.cell
    path = export_step_onnx(cell, tmp_path / "step.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1, 32)).astype(np.float32)
    h_torch = torch.zeros(1, 19)
    h_onnx = np.zeros((1, 19), np.float32)
    worst = 0.0
    for step in range(STEPS):
        if step == RESET_AT:  # an episode ends: both restart from the zero state
            h_torch, h_onnx = torch.zeros(1, 19), np.zeros((1, 19), np.float32)
        dt = np.array([rng.uniform(0.3, 2.0)], np.float32)  # irregular frame intervals
        with torch.no_grad():
            y_t, h_torch = cell(torch.from_numpy(features), h_torch, torch.from_numpy(dt))
        y_o, h_onnx = session.run(None, {"x": features, "h": h_onnx, "dt": dt})
        worst = max(worst, float(np.abs(y_o - y_t.numpy()).max()))
        worst = max(worst, float(np.abs(h_onnx - h_torch.numpy()).max()))
        # closed loop: the next input depends on the action just taken
        features = np.tanh(features + 0.5 * y_t.numpy().mean() + rng.normal(0, 0.3, (1, 32)))
        features = features.astype(np.float32)
    assert worst <= TOL
    assert float(np.abs(h_onnx).max()) > 1e-3  # the state is alive, not trivially zero


def test_exported_graph_has_dt_as_input(tmp_path: Path) -> None:
    path = export_step_onnx(LTC(32, NCPWiring.paper(seed=0)).cell, tmp_path / "s.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x", "h", "dt"]
    assert [o.name for o in session.get_outputs()] == ["y", "h_next"]
    x, h = np.ones((1, 32), np.float32), np.zeros((1, 19), np.float32)
    short = session.run(None, {"x": x, "h": h, "dt": np.array([0.1], np.float32)})[1]
    long = session.run(None, {"x": x, "h": h, "dt": np.array([2.0], np.float32)})[1]
    assert np.abs(short - long).max() > 1e-3
