"""Export one step of a liquid cell to ONNX: `(x, h, dt) -> (y, h')`, dt an input.

This is the graph a robot runs every frame: the caller feeds the new state back, and the
measured frame interval as `dt`. A reset is the caller feeding the initial (zero) state.
`lnn_control.deploy` builds the full policy graph (preprocessing, conv head) on the same idea.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from lnn_control.liquid.cfc import CfCCell
from lnn_control.liquid.ltc import LTCCell

INPUT_NAMES = ["x", "h", "dt"]
OUTPUT_NAMES = ["y", "h_next"]
OPSET = 17


class CellStep(nn.Module):
    """Wraps a cell so that its forward is exactly the exported signature.

    x (B, S) float32, h (B, N) float32, dt (B,) float32 elapsed time -> y (B, motor), h' (B, N).
    """

    def __init__(self, cell: LTCCell | CfCCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cell(x, h, dt)


def export_step_onnx(cell: LTCCell | CfCCell, path: str | Path, batch_size: int = 1) -> Path:
    """Write the single-step graph of `cell` to `path` (ONNX opset 17); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(batch_size, cell.input_size)
    h = torch.zeros(batch_size, cell.state_size)
    dt = torch.ones(batch_size)
    was_training = cell.training
    cell.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
            torch.onnx.export(
                CellStep(cell),
                (x, h, dt),
                str(path),
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        cell.train(was_training)
    return path
