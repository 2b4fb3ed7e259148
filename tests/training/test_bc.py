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


class Crash(BaseException):
    """A simulated power cut: not an Exception, so nothing on the way catches it."""


def _fresh(out: Path) -> Any:
    """What a new process does before training a stage: a fresh policy, plus the stage's
    checkpoint weights when a readable one is there (the pipeline always did this)."""
    policy = build_policy("cnn", image_shape=IMAGE, seed=0)
    try:
        loaded, _ = load_checkpoint(out)
        policy.load_state_dict(loaded.state_dict())
    except (FileNotFoundError, ValueError):
        pass
    policy.train()
    return policy


def _weights(policy: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in policy.state_dict().items()}


@pytest.mark.slow
def test_a_crash_at_any_file_write_resumes_to_the_uninterrupted_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill the run at every atomic file replacement of a 3-epoch stage (weights, their config,
    the optimiser state, the counters), resume, and get exactly the weights, history and
    checkpoint of a run that was never interrupted: no epoch is applied twice or lost."""
    import os

    stream, epochs = _stream(64), 3
    reference_policy = _fresh(tmp_path / "reference")
    real_replace = os.replace
    writes: list[str] = []

    def counting(src: Any, dst: Any) -> None:
        writes.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting)
    reference = train_bc(reference_policy, stream, _cfg(), tmp_path / "reference", epochs=epochs,
                         save=_save)  # fmt: skip
    expected = _weights(reference_policy)
    total = len(writes)
    assert total >= 4 * epochs
    for crash_at in range(total):
        out = tmp_path / f"crash_{crash_at}"

        def crashing(src: Any, dst: Any, left: list[int] = [crash_at]) -> None:  # noqa: B006
            if left[0] <= 0:
                raise Crash(f"power cut before replacing {dst}")
            left[0] -= 1
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", crashing)
        with pytest.raises(Crash):
            train_bc(_fresh(out), stream, _cfg(), out, epochs=epochs, save=_save)
        monkeypatch.setattr(os, "replace", real_replace)
        policy = _fresh(out)
        summary = train_bc(policy, stream, _cfg(), out, epochs=epochs, save=_save)
        where = f"crash before write {crash_at + 1} of {total} ({writes[crash_at]})"
        assert summary["history"] == reference["history"], where
        for name, tensor in _weights(policy).items():
            torch.testing.assert_close(tensor, expected[name], rtol=0, atol=1e-6, msg=where)
        saved, _ = load_checkpoint(out)  # the stage's checkpoint is the final, readable one
        for name, tensor in saved.state_dict().items():
            torch.testing.assert_close(tensor, expected[name], rtol=0, atol=1e-6, msg=where)


def test_a_non_finite_loss_stops_training_before_anything_is_saved(tmp_path: Path) -> None:
    stream = _stream(64)
    stream.label[::2, 0] = np.nan  # corrupt labels make the loss NaN
    policy = build_policy("cnn", image_shape=IMAGE, seed=0)
    out = tmp_path / "ckpt"
    with pytest.raises(ValueError, match=r"\[bc\] non-finite loss nan at epoch 1, step \d+") as err:
        train_bc(policy, stream, _cfg(), out, epochs=2, save=_save)
    assert "\n" not in str(err.value)
    assert not (out / "model.safetensors").exists()
    assert not (out / "train_state.json").exists()
    assert all(torch.isfinite(p).all() for p in policy.parameters())  # no NaN step was taken
