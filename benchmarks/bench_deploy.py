"""Deploy latency: one full control step under onnxruntime, NCP vs LSTM, interleaved.

    .venv/bin/python benchmarks/bench_deploy.py [--steps 2000] [--kinds ncp lstm]

A step is `OnnxPolicy.step`: uint8 64x160 image in, preprocessing (normalisation), conv head,
one recurrent step with dt as input, tanh; batch 1, one intra-op thread, CPU provider, the state
fed back. The kinds are exported (random weights: latency does not depend on the values) and
then timed in turns, step by step (so all see the same machine load). Prints a markdown table
of p50 / p99 / mean in milliseconds. Issue 8's target: NCP p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGE = (64, 160, 3)
WARMUP_STEPS = 50
DT_RANGE_S = (0.03, 0.09)
MS_PER_S = 1000.0
PERCENTILES = (50, 99)


def run(steps: int, kinds: list[str]) -> str:
    """Export and time each kind; returns the markdown table."""
    import onnxruntime

    from lnn_control.deploy.export import export_policy
    from lnn_control.deploy.runtime.model import OnnxPolicy
    from lnn_control.policies import build_policy

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, *IMAGE), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        models = {}
        for kind in kinds:
            path, _ = export_policy(
                build_policy(kind, IMAGE, seed=0), Path(folder) / f"{kind}.onnx"
            )
            models[kind] = OnnxPolicy(path)
        states = {kind: model.initial_state() for kind, model in models.items()}
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for step in range(WARMUP_STEPS + steps):
            image = images[step % len(images)]
            dt_s = float(rng.uniform(*DT_RANGE_S))
            for kind, model in models.items():
                start = time.perf_counter()
                _, states[kind] = model.step(image, states[kind], dt_s)
                if step >= WARMUP_STEPS:
                    times[kind].append(time.perf_counter() - start)
    lines = [
        f"onnxruntime {onnxruntime.__version__}, {platform.processor() or platform.machine()}, "
        f"{steps} steps per kind, 1 thread, batch 1, {IMAGE[0]}x{IMAGE[1]} uint8 input",
        "",
        "| kind | p50 (ms) | p99 (ms) | mean (ms) |",
        "|---|---:|---:|---:|",
    ]
    for kind in kinds:
        ms = np.asarray(times[kind]) * MS_PER_S
        p50, p99 = np.percentile(ms, PERCENTILES)
        lines.append(f"| {kind} | {p50:.3f} | {p99:.3f} | {ms.mean():.3f} |")
    return "\n".join(lines)


def main() -> None:
    """CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per kind")
    parser.add_argument("--kinds", nargs="+", default=["ncp", "lstm"], help="policy kinds")
    args = parser.parse_args()
    print(run(args.steps, args.kinds))


if __name__ == "__main__":
    main()
