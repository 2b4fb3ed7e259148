"""Training throughput of each policy kind, side by side in one run, as a ratio to the LSTM.

    .venv/bin/python benchmarks/bench_policies.py [--repeats 5] [--update BENCHMARKS.md]

A training step is what `lnn-control train` does per batch: forward_sequence over a batch of
16 windows x 32 frames of 64x160 camera images, tanh, MSE, backward. Each repeat times every kind
back to back (so all see the same machine load); the table gives frames/s as the median over
repeats and the ratio of the LSTM's median time to each kind's. Issue 4's target: the NCP's
throughput within 1.5x of the LSTM's (ratio >= 0.67).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from pathlib import Path

import torch

from lnn_control.io_utils import replace_marked_section
from lnn_control.policies import build_policy

BATCH, WINDOW, IMAGE = 16, 32, (64, 160, 3)
KINDS = ("ncp", "lstm", "ncp_cfc", "gru", "ctrnn", "cfc", "cnn")
MARK_START, MARK_END = "<!-- bench_policies:start -->", "<!-- bench_policies:end -->"


def _train_step(policy: torch.nn.Module, obs: torch.Tensor, target: torch.Tensor) -> None:
    pre, _ = policy.forward_sequence(obs)  # type: ignore[operator]
    loss = (torch.tanh(pre) - target).square().mean()
    policy.zero_grad(set_to_none=True)
    loss.backward()


def run(repeats: int) -> str:
    """Time every kind; returns the markdown table."""
    generator = torch.Generator().manual_seed(0)
    obs = torch.randint(0, 256, (BATCH, WINDOW, *IMAGE), dtype=torch.uint8, generator=generator)
    target = torch.rand(BATCH, WINDOW, 1, generator=generator) * 2 - 1
    policies = {kind: build_policy(kind, image_shape=IMAGE, seed=0).train() for kind in KINDS}
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for policy in policies.values():
        _train_step(policy, obs, target)  # warm-up
    for _ in range(repeats):
        for kind, policy in policies.items():
            start = time.perf_counter()
            _train_step(policy, obs, target)
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


def update_file(path: Path, table: str, repeats: int, threads: int) -> None:
    """Replace the bench_policies section of `path` (appended if absent)."""
    body = (
        f"Measured {datetime.date.today().isoformat()}, torch {torch.__version__}, {threads} "
        f"thread(s), median of {repeats} interleaved repeats; batch {BATCH} windows x {WINDOW} "
        f"frames of {IMAGE[0]}x{IMAGE[1]} RGB (one training step of `lnn-control train`).\n"
        f"Command: `.venv/bin/python benchmarks/bench_policies.py --repeats {repeats} "
        f"--threads {threads} --update BENCHMARKS.md`\n\n{table}"
    )
    replace_marked_section(path, MARK_START, MARK_END, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--update", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = run(args.repeats)
    if args.update:
        update_file(args.update, table, args.repeats, args.threads)
        print(f"updated {args.update}")


if __name__ == "__main__":
    main()
