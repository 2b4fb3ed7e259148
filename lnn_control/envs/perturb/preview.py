"""A preview grid of every perturbation and shift: one LaneKeeping-v0 frame per (perturbation,
severity), rows = perturbations, columns = clean + severities, written as one PNG.

    python -m lnn_control.envs.perturb.preview docs/img/perturbations_preview.png
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import gymnasium as gym
import numpy as np

from lnn_control.envs.common import HELD_OUT_SEED_START
from lnn_control.envs.lane.shifts import SCENARIO_SHIFTS, shift_scenario
from lnn_control.envs.perturb import PERTURBATIONS
from lnn_control.envs.perturb.base import Image, check_severity

# Importing lnn_control (the parent package) registers ENV_ID with gymnasium.

ENV_ID = "lnn_control/LaneKeeping-v0"
#: Steps driven (straight ahead) before the frame is taken, so that temporal perturbations
#: (frame drop, latency, drifting shadows) and dynamics shifts have acted (x 50 ms).
PREVIEW_STEPS = 6
#: Grid layout in pixels: label column width, header height, gap between cells.
LABEL_WIDTH_PX = 150
HEADER_HEIGHT_PX = 16
GAP_PX = 2
BACKGROUND = 255
TEXT_SCALE = 0.4


def _frame(env: gym.Env[Image, Any], seed: int) -> Image:
    """The frame after `PREVIEW_STEPS` straight-ahead steps from `reset(seed)`."""
    obs, _ = env.reset(seed=seed)
    action = np.zeros(env.action_space.shape or (1,), np.float32)
    for _ in range(PREVIEW_STEPS):
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return np.asarray(obs, dtype=np.uint8)


def _rows(
    names: Sequence[str], seed: int, severities: Sequence[int]
) -> list[tuple[str, list[Image]]]:
    rows: list[tuple[str, list[Image]]] = []
    base = gym.make(ENV_ID)
    try:
        clean = _frame(base, seed)
        for name in names:
            frames = [clean]
            for severity in severities:
                if name in PERTURBATIONS:
                    frames.append(_frame(PERTURBATIONS[name](base, severity=severity), seed))
                else:
                    shifted = gym.make(ENV_ID, scenario=shift_scenario(name, severity))
                    try:
                        frames.append(_frame(shifted, seed))
                    finally:
                        shifted.close()
            rows.append((name if name in PERTURBATIONS else f"shift: {name}", frames))
    finally:
        base.close()
    return rows


def _text(canvas: Image, text: str, x: int, y: int) -> None:
    cv2.putText(
        canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, TEXT_SCALE, (0, 0, 0), 1, cv2.LINE_AA
    )


def write_preview_grid(
    path: str | Path,
    names: Sequence[str] | None = None,
    severities: Sequence[int] = (1, 3, 5),
    seed: int = HELD_OUT_SEED_START,
) -> Path:
    """Render the grid and write it as PNG to `path`; returns the path.

    Args:
        names: perturbation names (`PERTURBATIONS`) and shift names (`SCENARIO_SHIFTS`); None:
            all of both, image perturbations first.
        severities: the columns after "clean", each in 1..5.
        seed: the road seed (held-out range by default). Images have the default scenario's
            shape (64 x 160); shifts build the env with the shifted scenario.
    """
    chosen = list(names) if names is not None else [*PERTURBATIONS, *SCENARIO_SHIFTS]
    for name in chosen:
        if name not in PERTURBATIONS and name not in SCENARIO_SHIFTS:
            raise ValueError(f"unknown perturbation or shift {name!r}")
    levels = [check_severity(s) for s in severities]
    rows = _rows(chosen, seed, levels)
    h, w = rows[0][1][0].shape[:2]
    cols = 1 + len(levels)
    canvas = np.full(
        (HEADER_HEIGHT_PX + len(rows) * (h + GAP_PX), LABEL_WIDTH_PX + cols * (w + GAP_PX), 3),
        BACKGROUND,
        np.uint8,
    )
    for c, title in enumerate(["clean", *(f"severity {s}" for s in levels)]):
        _text(canvas, title, LABEL_WIDTH_PX + c * (w + GAP_PX) + 4, HEADER_HEIGHT_PX - 4)
    for r, (label, frames) in enumerate(rows):
        top = HEADER_HEIGHT_PX + r * (h + GAP_PX)
        _text(canvas, label, 4, top + h // 2 + 4)
        for c, frame in enumerate(frames):
            left = LABEL_WIDTH_PX + c * (w + GAP_PX)
            canvas[top : top + h, left : left + w] = frame
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", canvas[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:  # pragma: no cover
        raise RuntimeError("cv2.imencode failed")
    out.write_bytes(data.tobytes())
    return out


if __name__ == "__main__":  # pragma: no cover
    print(write_preview_grid(sys.argv[1] if len(sys.argv) > 1 else "perturbations_preview.png"))
