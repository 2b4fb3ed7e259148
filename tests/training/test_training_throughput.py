"""Issue 17: the faster training path computes exactly what the old one did.

`augment_float` gives the uint8 augmentation's images as floats, `epoch_batches` + `train_step`
give the old step's losses and weights, and `retained_heap` reuses freed memory instead of
faulting it in again.
"""

from __future__ import annotations

import resource
import sys
from typing import Any

import numpy as np
import pytest
import torch

from lnn_control.policies import build_policy
from lnn_control.training.bc import epoch_batches, masked_loss, retained_heap, train_step
from lnn_control.training.config import AugmentSection, TrainSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.windows import augment, augment_float, iterate_batches

IMAGE = (24, 32, 3)
RECIPE_AUGMENT = AugmentSection(gamma=0.3, colour=0.1, noise_std=0.02)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "cfg",
    [
        RECIPE_AUGMENT,
        AugmentSection(gamma=0.3, colour=0.1, noise_std=0.0),
        AugmentSection(gamma=0.0, colour=0.3, noise_std=0.1),
        AugmentSection(gamma=0.0, colour=0.0, noise_std=0.0),
    ],
)
def test_augment_float_is_the_uint8_augmentation_over_255(cfg: AugmentSection) -> None:
    obs = torch.randint(0, 256, (3, 4, 9, 11, 3), dtype=torch.uint8, generator=_gen(0))
    obs[0, 0, 0, :3] = torch.tensor([0, 255, 1], dtype=torch.uint8)[:, None]  # extreme levels
    old_gen, new_gen = _gen(5), _gen(5)
    expected = augment(obs, cfg, old_gen).float() / 255.0
    got = augment_float(obs, cfg, new_gen)
    assert got.dtype == torch.float32
    assert got.shape == obs.shape
    assert torch.equal(got, expected)
    assert torch.equal(torch.rand(4, generator=old_gen), torch.rand(4, generator=new_gen))


def test_augment_float_names_what_it_needs() -> None:
    with pytest.raises(ValueError, match=r"obs must be \(B, \.\.\., 3\) uint8, got torch.float32"):
        augment_float(torch.zeros(2, 4, 4, 3), RECIPE_AUGMENT, _gen(0))


def _stream(n: int = 160) -> FrameStream:
    rng = np.random.default_rng(0)
    starts = np.zeros(n, bool)
    starts[::50] = True
    return FrameStream(
        obs=rng.integers(0, 256, (n, *IMAGE), dtype=np.uint8),
        label=rng.uniform(-0.8, 0.8, (n, 1)).astype(np.float32),
        dt_s=rng.uniform(0.04, 0.06, n).astype(np.float32),
        curvature=rng.uniform(-0.3, 0.3, n).astype(np.float32),
        episode_start=starts,
    )


def _old_epoch(
    policy: Any,
    optimizer: torch.optim.Optimizer,
    stream: FrameStream,
    cfg: TrainSection,
    epoch: int,
) -> list[float]:
    """The BC epoch before issue 17, copied: uint8 augmentation, forward_sequence on uint8."""
    rng = np.random.default_rng([cfg.seed, epoch])
    gen = _gen(cfg.seed * 1000 + epoch)
    losses = []
    for batch in iterate_batches(
        stream, cfg.batch_size, cfg.window, cfg.burn_in, cfg.curvature_weight, rng
    ):
        obs = augment(batch.obs, cfg.augment, gen)
        pre, _ = policy.forward_sequence(obs, batch.dt_s, batch.episode_start)
        loss = masked_loss(policy.squash(pre), batch.label, batch.weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("kind", ["ncp", "lstm"])
def test_the_new_step_trains_exactly_like_the_old_one(kind: str) -> None:
    """Same batches, same augmentation, same losses and weights after two epochs."""
    cfg = TrainSection(window=10, burn_in=3, batch_size=4, threads=1, augment=RECIPE_AUGMENT)
    stream = _stream()
    old, new = (build_policy(kind, image_shape=IMAGE, seed=0).train() for _ in range(2))
    old_opt, new_opt = (
        torch.optim.AdamW(p.parameters(), lr=cfg.lr, weight_decay=1e-4) for p in (old, new)
    )
    for epoch in range(2):
        old_losses = _old_epoch(old, old_opt, stream, cfg, epoch)
        with retained_heap():
            new_losses = [
                train_step(new, batch, new_opt, cfg, ("test", epoch, step))
                for step, batch in enumerate(epoch_batches(stream, cfg, epoch))
            ]
        assert len(new_losses) == len(old_losses) >= 4
        np.testing.assert_allclose(new_losses, old_losses, rtol=0, atol=1e-6)
    for (name, a), b in zip(new.named_parameters(), old.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def _faults_to_fill(n_bytes: int) -> int:
    """Minor page faults of allocating and writing a fresh `n_bytes` tensor (then freed)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.empty(n_bytes // 4, dtype=torch.float32).fill_(1.0)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_retained_heap_reuses_freed_big_tensors_and_restores_on_exit() -> None:
    size = 64 * 2**20  # over glibc's largest mmap threshold (32 MiB): always mapped afresh
    pages = size // resource.getpagesize()
    with retained_heap() as applied:
        assert applied
        # the first fills may land on free heap that an earlier exit gave back to the system
        inside = [_faults_to_fill(size) for _ in range(4)]
    # after exit, freed heap blocks are still reused, but a block bigger than any of them is
    # mapped afresh (and unmapped on free) every time again, as by default
    outside = [_faults_to_fill(4 * size) for _ in range(2)]
    assert inside[-1] < pages // 100  # the freed block is reused: (almost) nothing faults in
    assert min(outside) > 4 * pages // 2
