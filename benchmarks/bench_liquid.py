"""Liquid core speed, side by side with ncps in one run: ours vs the anchor, as ratios.

    .venv/bin/python benchmarks/bench_liquid.py [--repeats 7] [--update BENCHMARKS.md]

One torch thread. Each repeat times ours and the anchor back to back (so both see the same
machine load); the table reports medians over repeats and the ratio of medians. Cases:

- forward+backward, batch 16, 64 steps, 32 inputs, 19-neuron NCP: LTC and wired CfC;
- one step at batch 1, no grad (what a robot does per frame): LTC and wired CfC;
- torch.nn.LSTM(32, 64) forward+backward at the same size, for scale.

Targets (issue 2): LTC fwd+bwd >= 5x ncps, wired CfC fwd+bwd >= 3x ncps, LTC step >= 3x ncps.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from ncps import wirings as ncps_wirings
from ncps.torch import LTC as NcpsLTC
from ncps.torch import CfC as NcpsCfC
from torch import nn

from lnn_control.io_utils import replace_marked_section
from lnn_control.liquid import LTC, CfC, NCPWiring

BATCH, STEPS, INPUTS = 16, 64, 32
STEP_CALLS = 200  # single steps per timed repeat
TARGETS = {"LTC fwd+bwd": 5.0, "wired CfC fwd+bwd": 3.0, "LTC step (batch 1)": 3.0}
MARK_START, MARK_END = "<!-- bench_liquid:start -->", "<!-- bench_liquid:end -->"


def _fwd_bwd(model: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def run() -> None:
        y = model(x)[0]
        y.sum().backward()

    return run


def _steps(cell: nn.Module, x: torch.Tensor, state_size: int) -> Callable[[], None]:
    def run() -> None:
        h = torch.zeros(1, state_size)
        with torch.no_grad():
            for _ in range(STEP_CALLS):
                _, h = cell(x, h, 1.0)

    return run


def _time(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(
    ours: Callable[[], None], anchor: Callable[[], None], repeats: int
) -> tuple[float, float]:
    """Median seconds of ours and of the anchor, timed alternately after one warm-up each."""
    ours()
    anchor()
    a, b = [], []
    for _ in range(repeats):
        a.append(_time(ours))
        b.append(_time(anchor))
    return statistics.median(a), statistics.median(b)


def build_cases() -> dict[str, tuple[Callable[[], None], Callable[[], None], str]]:
    """name -> (ours, anchor, unit) for every case of the table."""
    torch.manual_seed(0)
    ours_wiring = NCPWiring.paper(seed=0)
    x = torch.randn(BATCH, STEPS, INPUTS)
    x1 = torch.randn(1, INPUTS)
    ltc, ncps_ltc = (
        LTC(INPUTS, ours_wiring),
        NcpsLTC(INPUTS, ncps_wirings.NCP(12, 6, 1, 6, 4, 6, 6)),
    )
    cfc, ncps_cfc = (
        CfC(INPUTS, ours_wiring),
        NcpsCfC(INPUTS, ncps_wirings.NCP(12, 6, 1, 6, 4, 6, 6)),
    )
    lstm = nn.LSTM(INPUTS, 64, batch_first=True)
    return {
        "LTC fwd+bwd": (_fwd_bwd(ltc, x), _fwd_bwd(ncps_ltc, x), "ms / batch"),
        "wired CfC fwd+bwd": (_fwd_bwd(cfc, x), _fwd_bwd(ncps_cfc, x), "ms / batch"),
        "LTC step (batch 1)": (
            _steps(ltc.cell, x1, 19),
            _steps(ncps_ltc.rnn_cell, x1, 19),
            "us / step",
        ),
        "wired CfC step (batch 1)": (
            _steps(cfc.cell, x1, 19),
            _steps(ncps_cfc.rnn_cell, x1, 19),
            "us / step",
        ),
        "our LTC vs torch.nn.LSTM(32, 64) fwd+bwd": (
            _fwd_bwd(ltc, x),
            _fwd_bwd(lstm, x),
            "ms / batch",
        ),
    }


def run(repeats: int) -> str:
    """Run every case; returns the markdown table."""
    torch.set_num_threads(1)
    rows = [
        "| case | ours | anchor | anchor / ours | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (ours, anchor, unit) in build_cases().items():
        t_ours, t_anchor = side_by_side(ours, anchor, repeats)
        scale = 1e3 if unit.startswith("ms") else 1e6 / STEP_CALLS
        target = f">= {TARGETS[name]:.0f}x" if name in TARGETS else "-"
        anchor_name = "LSTM" if "LSTM" in name else "ncps"
        rows.append(
            f"| {name} ({unit}) | {t_ours * scale:.1f} | {anchor_name} {t_anchor * scale:.1f} | "
            f"{t_anchor / t_ours:.2f}x | {target} |"
        )
        print(rows[-1], flush=True)
    return "\n".join(rows)


def update_file(path: Path, table: str, repeats: int) -> None:
    """Replace the section between the bench_liquid markers in `path` (appended if absent)."""
    stamp = datetime.date.today().isoformat()
    body = (
        f"Measured {stamp} on {platform.machine()} ({platform.processor() or 'cpu'}), torch "
        f"{torch.__version__}, 1 thread, median of {repeats} alternating repeats, batch "
        f"{BATCH} x {STEPS} steps x {INPUTS} inputs, 19-neuron NCP "
        "(12 inter, 6 command, 1 motor).\n"
        f"Command: `.venv/bin/python benchmarks/bench_liquid.py --repeats {repeats} "
        f"--update BENCHMARKS.md`\n\n{table}"
    )
    replace_marked_section(path, MARK_START, MARK_END, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="alternating repeats (median)")
    parser.add_argument("--update", type=Path, help="write the table into this markdown file")
    args = parser.parse_args()
    table = run(args.repeats)
    if args.update:
        update_file(args.update, table, args.repeats)
        print(f"updated {args.update}")


if __name__ == "__main__":
    main()
