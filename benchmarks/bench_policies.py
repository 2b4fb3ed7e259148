"""Training throughput: every policy kind side by side, and the NCP's training step, today's
implementation against the one `lnn-control train` runs now, in one run.

    .venv/bin/python benchmarks/bench_policies.py [--repeats 5] [--threads 1] [--update FILE]
    .venv/bin/python benchmarks/bench_policies.py --table ncp_training --threads 1,2 --repeats 7

`--table kinds` (issue 4): forward_sequence over a batch of 16 windows x 32 frames of 64x160
camera images, tanh, MSE, backward, per kind; frames/s as the median over repeats and the ratio
of the LSTM's median time to each kind's. Target: the NCP within 1.5x of the LSTM (>= 0.67).

`--table ncp_training` (issue 17): a whole training step of the NCP at the recipe's batch and
window (lane_keeping_il / demo: 16 windows x 32 frames, burn-in 8, augmentation gamma 0.3,
colour 0.1, noise 0.02): take the batch from a frame stream, augment, forward, masked loss,
backward, clip, AdamW. "today" is a faithful copy of the step before issue 17 (`_today_step`
below: uint8 augmentation, then `forward_sequence` converts to float again; glibc's default
allocator, which maps and faults in every big tensor afresh); "now" is `bc.epoch_batches` +
`bc.train_step` inside `bc.retained_heap()`, as `train_bc` runs them. Both train identical
policies on the same batches; the run first checks that one step of each gives the same loss and
weights. Each repeat times `--steps` consecutive steps of each path, alternating which goes
first; torch threads are set and the process pinned to that many CPUs; medians over repeats.
Target: now >= 1.8x today's frames/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from contextlib import closing
from pathlib import Path

import numpy as np
import torch

from lnn_control.io_utils import replace_marked_section
from lnn_control.policies import build_policy
from lnn_control.policies.base import Policy
from lnn_control.training import bc
from lnn_control.training.config import AugmentSection, TrainSection
from lnn_control.training.shards import FrameStream
from lnn_control.training.windows import Batch, augment, iterate_batches

BATCH, WINDOW, IMAGE = 16, 32, (64, 160, 3)
KINDS = ("ncp", "lstm", "ncp_cfc", "gru", "ctrnn", "cfc", "cnn")
MARK_START, MARK_END = "<!-- bench_policies:start -->", "<!-- bench_policies:end -->"
TRAIN_START, TRAIN_END = "<!-- bench_ncp_training:start -->", "<!-- bench_ncp_training:end -->"
STREAM_FRAMES, EPISODE_FRAMES = 4000, 400
RECIPE = TrainSection(
    batch_size=BATCH,
    window=WINDOW,
    burn_in=8,
    augment=AugmentSection(gamma=0.3, colour=0.1, noise_std=0.02),
)


# ---------------------------------------------------------------------------- kinds (issue 4)
def _kind_step(policy: torch.nn.Module, obs: torch.Tensor, target: torch.Tensor) -> None:
    pre, _ = policy.forward_sequence(obs)  # type: ignore[operator]
    loss = (torch.tanh(pre) - target).square().mean()
    policy.zero_grad(set_to_none=True)
    loss.backward()


def run_kinds(repeats: int) -> str:
    """Time every kind; returns the markdown table."""
    generator = torch.Generator().manual_seed(0)
    obs = torch.randint(0, 256, (BATCH, WINDOW, *IMAGE), dtype=torch.uint8, generator=generator)
    target = torch.rand(BATCH, WINDOW, 1, generator=generator) * 2 - 1
    policies = {kind: build_policy(kind, image_shape=IMAGE, seed=0).train() for kind in KINDS}
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for policy in policies.values():
        _kind_step(policy, obs, target)  # warm-up
    for _ in range(repeats):
        for kind, policy in policies.items():
            start = time.perf_counter()
            _kind_step(policy, obs, target)
            times[kind].append(time.perf_counter() - start)
    lstm = statistics.median(times["lstm"])
    frames = BATCH * WINDOW
    rows = [
        "| kind | frames/s (fwd+bwd) | ms / batch | LSTM time / this kind's |",
        "|---|---:|---:|---:|",
    ]
    for kind in KINDS:
        median = statistics.median(times[kind])
        rows.append(
            f"| {kind} | {frames / median:.0f} | {median * 1e3:.0f} | {lstm / median:.2f} |"
        )
        print(rows[-1], flush=True)
    return "\n".join(rows)


# ---------------------------------------------------------------------- NCP training (issue 17)
def _today_step(
    policy: Policy,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    cfg: TrainSection,
    gen: torch.Generator,
) -> float:
    """The training step before issue 17 (bc._train_step then), copied: uint8 augmentation
    (`augment`, still in windows.py), then forward_sequence on uint8 images."""
    obs = augment(batch.obs, cfg.augment, gen)
    pre, _ = policy.forward_sequence(obs, batch.dt_s, batch.episode_start)
    loss = bc.masked_loss(policy.squash(pre), batch.label, batch.weight)
    value = float(loss.detach())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
    optimizer.step()
    return value


def run_today(
    policy: Policy, opt: torch.optim.Optimizer, stream: FrameStream, epoch: int
) -> Generator[float, None, None]:
    """Today's loop, one loss per step: batches of iterate_batches, then `_today_step`."""
    rng = np.random.default_rng([RECIPE.seed, epoch])
    gen = torch.Generator().manual_seed(RECIPE.seed * 1000 + epoch)
    batches = iterate_batches(
        stream, RECIPE.batch_size, RECIPE.window, RECIPE.burn_in, RECIPE.curvature_weight, rng
    )
    for batch in batches:
        yield _today_step(policy, batch, opt, RECIPE, gen)


def run_now(
    policy: Policy, opt: torch.optim.Optimizer, stream: FrameStream, epoch: int
) -> Generator[float, None, None]:
    """The loop `train_bc` runs now, one loss per step."""
    with bc.retained_heap():
        for batch in bc.epoch_batches(stream, RECIPE, epoch):
            yield bc.train_step(policy, batch, opt, RECIPE, ("bench", epoch, 0))


Runner = Callable[[Policy, torch.optim.Optimizer, FrameStream, int], Generator[float, None, None]]
PATHS: dict[str, Runner] = {"today": run_today, "now": run_now}


def synthetic_stream(seed: int = 0) -> FrameStream:
    """Random camera frames in 400-frame episodes (the conv's cost does not depend on content)."""
    rng = np.random.default_rng(seed)
    n = STREAM_FRAMES
    return FrameStream(
        obs=rng.integers(0, 256, (n, *IMAGE), dtype=np.uint8),
        label=rng.uniform(-1, 1, (n, 1)).astype(np.float32),
        dt_s=np.full(n, 0.05, np.float32),
        curvature=rng.uniform(-0.2, 0.2, n).astype(np.float32),
        episode_start=np.arange(n) % EPISODE_FRAMES == 0,
    )


def _fresh() -> tuple[Policy, torch.optim.Optimizer]:
    policy = build_policy("ncp", image_shape=IMAGE, seed=0).train()
    return policy, torch.optim.AdamW(policy.parameters(), lr=RECIPE.lr, weight_decay=1e-4)


def check_same_step(stream: FrameStream) -> tuple[float, float]:
    """One step of each path from identical policies on the same batch: |loss difference| and
    the largest |weight difference| afterwards."""
    losses, policies = [], []
    for runner in PATHS.values():
        policy, opt = _fresh()
        with closing(runner(policy, opt, stream, 0)) as steps:
            losses.append(next(steps))
        policies.append(policy)
    pairs = zip(policies[0].parameters(), policies[1].parameters(), strict=True)
    return abs(losses[0] - losses[1]), max(float((a - b).detach().abs().max()) for a, b in pairs)


def _pin(threads: int) -> None:
    """torch threads = `threads`, and this process on the first `threads` CPUs it may use."""
    torch.set_num_threads(threads)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


def time_path(runner: Runner, model: tuple[Policy, torch.optim.Optimizer], stream: FrameStream,
              epoch: int, steps: int) -> tuple[float, float]:  # fmt: skip
    """(wall s, CPU s) per step over `steps` steps, after one untimed step: `train_bc` enters
    its heap once per training, so the first step's page faults are not the steady state."""
    with closing(runner(*model, stream, epoch)) as losses:
        next(losses)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            next(losses)
        return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def serve(path: str, threads: int) -> None:
    """A path's worker process: after a warm-up step, for each stdin line "epoch steps", time
    that many steps and answer one JSON line {"wall_s", "cpu_s"} per step."""
    _pin(threads)
    stream, model = synthetic_stream(), _fresh()
    time_path(PATHS[path], model, stream, 0, 1)
    print("ready", flush=True)
    for line in sys.stdin:
        epoch, steps = (int(v) for v in line.split())
        wall, cpu = time_path(PATHS[path], model, stream, epoch, steps)
        print(json.dumps({"wall_s": wall, "cpu_s": cpu}), flush=True)


def time_paths(threads: int, repeats: int, steps: int) -> dict[str, list[tuple[float, float]]]:
    """(wall s, CPU s) per step for each path and repeat, alternating which goes first.

    Each path runs in its own worker process (started together, used in turn, one at a time),
    so that each has the allocator state of a training process of its own: in one process the
    heap "now" leaves behind would spare "today" some of its page faults.
    """
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    workers = {
        name: subprocess.Popen(
            [sys.executable, __file__, "--serve", name, "--threads", str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in PATHS
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in PATHS}
    try:
        for name, worker in workers.items():
            if _reply(worker) != "ready":
                raise RuntimeError(f"the {name!r} worker did not start")
        for repeat in range(repeats):
            for name in list(PATHS) if repeat % 2 == 0 else list(PATHS)[::-1]:
                answer = json.loads(_reply(workers[name], f"{repeat + 1} {steps}"))
                times[name].append((float(answer["wall_s"]), float(answer["cpu_s"])))
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    return times


def _reply(worker: subprocess.Popen[str], request: str | None = None) -> str:
    """Send `request` (a line) to a worker, if any, and return its next line of output."""
    if worker.stdin is None or worker.stdout is None:
        raise RuntimeError("worker started without pipes")
    if request is not None:
        worker.stdin.write(request + "\n")
        worker.stdin.flush()
    return worker.stdout.readline().strip()


def run_ncp_training(threads: list[int], repeats: int, steps: int) -> str:
    """Today's vs now's NCP training step at each thread count; returns the markdown table."""
    loss_diff, weight_diff = check_same_step(synthetic_stream())
    print(f"one step each: |loss difference| {loss_diff:.1e}, max |weight diff| {weight_diff:.1e}")
    frames = RECIPE.batch_size * RECIPE.window
    rows = [
        f"Same first step: |loss difference| {loss_diff:.1e}, largest |weight difference| "
        f"{weight_diff:.1e}.\n",
        "| torch threads (pinned CPUs) | today frames/s | now frames/s | now / today "
        "| today CPU s / step | now CPU s / step |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n in threads:
        times = time_paths(n, repeats, steps)
        wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        rows.append(
            f"| {n} | {frames / wall['today']:.0f} | {frames / wall['now']:.0f} | "
            f"{wall['today'] / wall['now']:.2f}x | {cpu['today']:.2f} | {cpu['now']:.2f} |"
        )
        per_repeat = {k: [round(w * 1e3) for w, _ in v] for k, v in times.items()}
        print(rows[-1], f"ms per step by repeat: {per_repeat}", flush=True)
    return "\n".join(rows)


# ---------------------------------------------------------------------------- output
def update_file(path: Path, table: str, repeats: int, threads: int) -> None:
    """Replace the bench_policies (kinds) section of `path` (appended if absent)."""
    body = (
        f"Measured {datetime.date.today().isoformat()}, torch {torch.__version__}, {threads} "
        f"thread(s), median of {repeats} interleaved repeats; batch {BATCH} windows x {WINDOW} "
        f"frames of {IMAGE[0]}x{IMAGE[1]} RGB (one training step of `lnn-control train`).\n"
        f"Command: `.venv/bin/python benchmarks/bench_policies.py --repeats {repeats} "
        f"--threads {threads} --update BENCHMARKS.md`\n\n{table}"
    )
    replace_marked_section(path, MARK_START, MARK_END, body)


def update_training(path: Path, table: str, args: argparse.Namespace) -> None:
    """Replace the bench_ncp_training section of `path` (appended if absent)."""
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    body = (
        f"Measured {stamp}, torch {torch.__version__}, {os.cpu_count()} CPUs; medians of "
        f"{args.repeats} alternating repeats of {args.steps} consecutive steps per path; batch "
        f"{BATCH} windows x {WINDOW} frames of {IMAGE[0]}x{IMAGE[1]} RGB, burn-in 8, the "
        f"recipe's augmentation.\nCommand: `.venv/bin/python benchmarks/bench_policies.py "
        f"--table ncp_training --threads {args.threads} --repeats {args.repeats} --steps "
        f"{args.steps} --update BENCHMARKS.md`\n\n{table}"
    )
    replace_marked_section(path, TRAIN_START, TRAIN_END, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", choices=("kinds", "ncp_training", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--threads", default="1", help="torch threads; a list (1,2) for ncp_training"
    )
    parser.add_argument("--steps", type=int, default=3, help="ncp_training: steps per repeat")
    parser.add_argument("--update", type=Path)
    parser.add_argument("--serve", choices=tuple(PATHS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = [int(t) for t in str(args.threads).split(",")]
    if args.serve:
        serve(args.serve, threads[0])
        return
    if args.table in ("kinds", "all"):
        torch.set_num_threads(threads[0])
        table = run_kinds(args.repeats)
        if args.update:
            update_file(args.update, table, args.repeats, threads[0])
    if args.table in ("ncp_training", "all"):
        table = run_ncp_training(threads, args.repeats, args.steps)
        if args.update:
            update_training(args.update, table, args)
    if args.update:
        print(f"updated {args.update}")


if __name__ == "__main__":
    main()
