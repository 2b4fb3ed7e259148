"""Sequence behaviour cloning with truncated BPTT.

Reads top to bottom: seed, optimiser, (resume), then per epoch: batches of windows -> augment ->
`policy.forward_sequence` (state reset at episode starts) -> masked, curvature-weighted MSE
against the expert's clean labels -> clip -> step; a checkpoint and the optimiser state are
written atomically after every epoch, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from lnn_control.training.config import TrainSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.train_state import load_train_state, save_train_state
from lnn_control.training.windows import Batch, augment, iterate_batches

MIN_LR_FRACTION = 0.1  # cosine decay ends at this fraction of the peak learning rate


def masked_loss(action: torch.Tensor, label: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error. action, label (B, L, A); weight (B, L)."""
    per_step = (action - label).square().mean(-1)
    return (per_step * weight).sum() / weight.sum().clamp_min(1e-6)


def _lr_at(step: int, total: int, peak: float) -> float:
    """Cosine decay from `peak` to MIN_LR_FRACTION x peak over `total` steps."""
    progress = min(1.0, step / max(1, total))
    return peak * (
        MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * progress))
    )


def _train_step(
    policy: Any,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    cfg: TrainSection,
    gen: torch.Generator,
) -> float:
    obs = augment(batch.obs, cfg.augment, gen)
    pre, _ = policy.forward_sequence(obs, batch.dt_s, batch.episode_start)
    loss = masked_loss(policy.squash(pre), batch.label, batch.weight)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
    optimizer.step()
    return float(loss.detach())


def train_bc(
    policy: Any,
    stream: FrameStream,
    cfg: TrainSection,
    out_dir: Path,
    *,
    epochs: int,
    save: Any,
    writer: Any = None,
    tag: str = "bc",
) -> dict[str, Any]:
    """Train `policy` on `stream` for `epochs` epochs, resuming from `out_dir` if it holds a
    partial run. `save(policy, out_dir, extra)` writes the policy checkpoint. Returns a summary:
    history (loss per epoch), epochs, final_loss, seconds,
    frames_per_s."""
    torch.manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    counters: dict[str, Any] = {
        "epoch": 0,
        "step": 0,
        "seconds": 0.0,
        "loss": float("nan"),
        "history": [],
    }
    if (out_dir / "train_state.json").is_file():
        counters.update(load_train_state(out_dir, optimizer))
        print(f"[{tag}] resuming after epoch {counters['epoch']} from {out_dir}")
    steps_per_epoch = math.ceil(len(stream) / max(1, cfg.window - cfg.burn_in) / cfg.batch_size)
    total_steps = steps_per_epoch * epochs
    policy.train()
    frames = 0
    for epoch in range(int(counters["epoch"]), epochs):
        rng = np.random.default_rng([cfg.seed, epoch])
        gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        start, losses = time.perf_counter(), []
        bar = tqdm(
            iterate_batches(
                stream, cfg.batch_size, cfg.window, cfg.burn_in, cfg.curvature_weight, rng
            ),
            total=steps_per_epoch,
            desc=f"[{tag}] epoch {epoch + 1}/{epochs}",
            unit="batch",
            dynamic_ncols=True,
            leave=False,
        )
        for batch in bar:
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(int(counters["step"]), total_steps, cfg.lr)
            losses.append(_train_step(policy, batch, optimizer, cfg, gen))
            counters["step"] = int(counters["step"]) + 1
            frames += batch.obs.shape[0] * batch.obs.shape[1]
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            if writer is not None:
                writer.add_scalar(f"{tag}/loss", losses[-1], counters["step"])
        counters["epoch"] = epoch + 1
        counters["seconds"] = float(counters["seconds"]) + time.perf_counter() - start
        counters["loss"] = float(np.mean(losses))
        counters["history"] = [*counters["history"], counters["loss"]]
        print(
            f"[{tag}] epoch {epoch + 1}/{epochs}: loss {counters['loss']:.5f} "
            f"({time.perf_counter() - start:.0f} s)"
        )
        if writer is not None:
            writer.add_scalar(f"{tag}/epoch_loss", counters["loss"], epoch + 1)
        save(policy, out_dir, {"epoch": epoch + 1, "loss": counters["loss"]})
        save_train_state(out_dir, optimizer, counters)
    policy.eval()
    seconds = float(counters["seconds"])
    return {
        "history": counters["history"],
        "epochs": float(counters["epoch"]),
        "final_loss": float(counters["loss"]),
        "seconds": seconds,
        "frames_per_s": frames / seconds if frames and seconds else float("nan"),
    }
