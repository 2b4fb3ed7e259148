"""Sequence BC: it learns, it checkpoints every epoch, and it resumes where it stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lnn_control.policies import build_policy, load_checkpoint, save_checkpoint
from lnn_control.training.bc import masked_loss, train_bc
from lnn_control.training.config import AugmentSection, TrainSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.train_state import load_train_state, save_train_state

IMAGE = (24, 32, 3)


def _stream(n: int = 256) -> FrameStream:
    """Frames whose bright stripe's column sets the label (like a lane marking's position):
    learnable from the image alone, whatever the per-image normalisation does."""
    rng = np.random.default_rng(0)
    label = rng.uniform(-0.8, 0.8, n).astype(np.float32)
    obs = np.full((n, *IMAGE), 60, np.uint8)
    columns = np.round((label + 1) / 2 * (IMAGE[1] - 4)).astype(int)
    for i, column in enumerate(columns):
        obs[i, :, column : column + 3] = 230
    starts = np.zeros(n, bool)
    starts[::32] = True
    return FrameStream(
        obs, label[:, None], np.full(n, 0.05, np.float32), np.zeros(n, np.float32), starts
    )


def _cfg(**kw: Any) -> TrainSection:
    base = {
        "epochs": 1,
        "window": 8,
        "burn_in": 0,
        "batch_size": 4,
        "lr": 3e-3,
        "threads": 1,
        "augment": AugmentSection(gamma=0.0, colour=0.0, noise_std=0.0),
    }
    return TrainSection(**{**base, **kw})


def _save(policy: Any, directory: Path, extra: dict[str, Any]) -> None:
    save_checkpoint(policy, directory, env_id="test", metrics=extra)


def test_masked_loss_ignores_zero_weight_steps() -> None:
    action = torch.tensor([[[1.0], [5.0]]])
    label = torch.zeros(1, 2, 1)
    assert masked_loss(action, label, torch.tensor([[1.0, 0.0]])).item() == pytest.approx(1.0)
    assert masked_loss(action, label, torch.tensor([[1.0, 1.0]])).item() == pytest.approx(13.0)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "ratio"), [("cnn", 0.5), ("ncp", 0.9)])
def test_training_reduces_the_loss_and_resumes(kind: str, ratio: float, tmp_path: Path) -> None:
    """The feedforward CNN fits this toy task fast; the NCP learns it more slowly (it needs the
    hundreds of steps of a real run), so within this budget it must only clearly improve."""
    policy = build_policy(kind, image_shape=IMAGE, seed=0)
    stream = _stream()
    out = tmp_path / "ckpt"
    first = train_bc(policy, stream, _cfg(), out, epochs=2, save=_save)
    assert json.loads((out / "train_state.json").read_text())["epoch"] == 2
    assert len(first["history"]) == 2
    # resume: a new process would rebuild the policy from the checkpoint and carry on
    resumed, _ = load_checkpoint(out)
    resumed.train()
    second = train_bc(resumed, stream, _cfg(), out, epochs=8, save=_save)
    assert second["epochs"] == 8
    assert len(second["history"]) == 8
    assert second["history"][:2] == first["history"]  # history kept, epochs 1-2 not redone
    assert second["history"][-1] < ratio * second["history"][0]
    again = train_bc(resumed, stream, _cfg(), out, epochs=8, save=_save)
    assert again["history"] == second["history"]  # nothing left to do


def test_optimizer_state_round_trip(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    save_train_state(tmp_path, opt, {"epoch": 3, "history": [0.5]})
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    counters = load_train_state(tmp_path, fresh)
    assert counters == {"epoch": 3, "history": [0.5]}
    assert fresh.param_groups[0]["lr"] == 0.01
    for p in model.parameters():
        assert torch.equal(fresh.state[p]["exp_avg"], opt.state[p]["exp_avg"])
    with pytest.raises(ValueError, match="does not fit this model"):
        load_train_state(tmp_path, torch.optim.AdamW(torch.nn.Linear(5, 5).parameters()))
