"""Sequence behaviour cloning with truncated BPTT.

Reads top to bottom: seed, optimiser, (resume), then per epoch: batches of windows -> augment ->
`policy.forward_sequence` (state reset at episode starts) -> masked, curvature-weighted MSE
against the expert's clean labels -> clip -> step. Images become float once, in the augmentation
(`augment_float`), and big tensors come from a heap that keeps its freed memory
(`retained_heap`), so no step pays page faults for fresh memory. After every epoch the weights,
optimiser state and counters are committed in one atomic write
(`train_state.commit_train_state`), then the policy checkpoint is written; a run killed at any
point resumes from the last commit, so the result equals that of an uninterrupted run. A
non-finite loss or gradient stops training with a one-line `TrainingDivergedError` before the
step is taken: nothing non-finite is ever saved.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from lnn_control.training.config import TrainSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.train_state import STATE_JSON, commit_train_state, restore_train_state
from lnn_control.training.windows import Batch, augment_float, iterate_batches

MIN_LR_FRACTION = 0.1  # cosine decay ends at this fraction of the peak learning rate
# glibc mallopt parameters (malloc.h) and the values `retained_heap` leaves behind: glibc's
# defaults, with the mmap threshold where glibc's own adjustment takes it (its maximum, 32 MiB)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
DEFAULT_TRIM_THRESHOLD_BYTES, DEFAULT_MMAP_MAX = 128 * 1024, 65536
MAX_MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)
RETAINED_TRIM_THRESHOLD_BYTES = 2**31 - 1  # the largest C int: keep freed memory


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


class TrainingDivergedError(ValueError):
    """The loss or the gradient became NaN or infinite; the step was not taken."""


def _diverged(tag: str, what: str, value: float, epoch: int, step: int) -> TrainingDivergedError:
    return TrainingDivergedError(
        f"[{tag}] non-finite {what} {value} at epoch {epoch + 1}, step {step + 1}: training "
        "stopped before the step and the stage is not marked done (lower train.lr or "
        "train.grad_clip, or check the data for NaN)"
    )


@contextmanager
def retained_heap() -> Iterator[bool]:
    """While inside, big allocations come from the heap and freed memory stays in the process.

    glibc serves an allocation over its mmap threshold (at most 32 MiB: a batch of float images,
    a conv activation) by a fresh mmap and unmaps it on free, so every training step page-faults
    about a gigabyte in again (230k faults, a sixth of a step at 64x160, measured). Inside, mmap
    is off and the heap is not trimmed; on exit mmap and trimming come back (the threshold at
    32 MiB, where glibc's own adjustment takes it) and the free memory is released. Yields
    whether it applied: False where the C library is not glibc, and nothing changes there.
    """
    libc = _glibc()
    if libc is None:
        yield False
        return
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, RETAINED_TRIM_THRESHOLD_BYTES)
    try:
        yield True
    finally:
        libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        libc.mallopt(M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD_BYTES)
        libc.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (it has mallopt and malloc_trim), else None."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim")):
        return None
    return libc


def epoch_batches(stream: FrameStream, cfg: TrainSection, epoch: int) -> Iterator[Batch]:
    """Epoch `epoch`'s batches in their seeded order (cfg.seed, epoch), obs augmented to
    float32 in [0, 1] by `augment_float` (bit for bit the uint8 `augment`, divided by 255)."""
    rng = np.random.default_rng([cfg.seed, epoch])
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
    batches = iterate_batches(
        stream, cfg.batch_size, cfg.window, cfg.burn_in, cfg.curvature_weight, rng
    )
    for batch in batches:
        yield replace(batch, obs=augment_float(batch.obs, cfg.augment, gen))


def train_step(
    policy: Any,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    cfg: TrainSection,
    where: tuple[str, int, int],
) -> float:
    """One optimiser step on an augmented batch (from `epoch_batches`); returns the loss.

    `where` (tag, epoch, step) names it in a TrainingDivergedError.
    """
    pre, _ = policy.forward_sequence(batch.obs, batch.dt_s, batch.episode_start)
    loss = masked_loss(policy.squash(pre), batch.label, batch.weight)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise _diverged(where[0], "loss", value, where[1], where[2])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip))
    if not math.isfinite(norm):
        raise _diverged(where[0], "gradient norm", norm, where[1], where[2])
    optimizer.step()
    return value


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
    restored = restore_train_state(out_dir, policy, optimizer)
    if restored is not None:
        counters.update(restored)
        print(f"[{tag}] resuming after epoch {counters['epoch']} from {out_dir}")
    elif (out_dir / STATE_JSON).is_file():
        print(f"[{tag}] {out_dir} holds an older training state without weights: starting over")
    steps_per_epoch = math.ceil(len(stream) / max(1, cfg.window - cfg.burn_in) / cfg.batch_size)
    total_steps = steps_per_epoch * epochs
    policy.train()
    frames = 0
    first_epoch = int(counters["epoch"])
    with retained_heap():
        for epoch in range(first_epoch, epochs):
            torch.manual_seed(cfg.seed * 1000 + epoch)  # anything else random: same on resume
            start, losses = time.perf_counter(), []
            bar = tqdm(
                epoch_batches(stream, cfg, epoch),
                total=steps_per_epoch,
                desc=f"[{tag}] epoch {epoch + 1}/{epochs}",
                unit="batch",
                dynamic_ncols=True,
                leave=False,
            )
            for batch in bar:
                for group in optimizer.param_groups:
                    group["lr"] = _lr_at(int(counters["step"]), total_steps, cfg.lr)
                where = (tag, epoch, int(counters["step"]))
                losses.append(train_step(policy, batch, optimizer, cfg, where))
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
            commit_train_state(out_dir, policy, optimizer, counters)  # the epoch's commit point
            save(policy, out_dir, {"epoch": epoch + 1, "loss": counters["loss"]})
    if first_epoch >= epochs:  # resumed after the last commit: the checkpoint may predate it
        save(policy, out_dir, {"epoch": counters["epoch"], "loss": counters["loss"]})
    policy.eval()
    seconds = float(counters["seconds"])
    return {
        "history": counters["history"],
        "epochs": float(counters["epoch"]),
        "final_loss": float(counters["loss"]),
        "seconds": seconds,
        "frames_per_s": frames / seconds if frames and seconds else float("nan"),
    }
