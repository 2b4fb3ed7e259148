"""Cost of each perturbation at severity 3 on a default 64 x 160 frame, against a bare
TinyRenderer frame of LaneKeeping-v0 (`env.unwrapped.sim.render()`). Prints a markdown table.

    .venv/bin/python benchmarks/bench_perturb.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import lnn_control  # noqa: F401  (registers the worlds)
from lnn_control.envs.perturb import PERTURBATIONS
from lnn_control.envs.perturb.base import Image

ENV_ID = "lnn_control/LaneKeeping-v0"
SEVERITY = 3
SEED = 1_000_000


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `fn()` over `repeats` calls (ms), after 3 warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    env = gym.make(ENV_ID)
    frame, _ = env.reset(seed=SEED)
    for _ in range(5):  # drive onto the road a little
        frame, *_ = env.step(np.zeros(1, np.float32))
    sim = env.unwrapped.sim  # type: ignore[attr-defined]
    render_ms = median_ms(sim.render, max(20, args.repeats // 4))
    print(f"bare TinyRenderer frame {frame.shape[0]}x{frame.shape[1]}: {render_ms:.2f} ms\n")
    print("| perturbation | ms / frame | x render |")
    print("|---|---:|---:|")
    for name, cls in PERTURBATIONS.items():
        wrapper = cls(env, severity=SEVERITY)
        wrapper.reset(seed=SEED)  # per-episode state; the env's depth is of this frame

        def perturb(wrapper: gym.ObservationWrapper[Image, object, Image] = wrapper) -> Image:
            return wrapper.observation(frame)

        ms = median_ms(perturb, args.repeats)
        print(f"| {name} | {ms:.3f} | {ms / render_ms:.3f} |")
    env.close()


if __name__ == "__main__":
    main()
