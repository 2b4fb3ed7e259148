"""DroneNav-v0 step cost: a control step with camera vs a bare TinyRenderer call at the same pose,
measured interleaved (so machine load hits both), medians of several repeats.

    .venv/bin/python benchmarks/bench_drone_env.py [--repeats 5] [--steps 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pybullet as p

from lnn_control.envs.drone import env as drone_env
from lnn_control.envs.drone.expert import DroneExpert
from lnn_control.envs.drone.scenario import HELD_OUT_SEED_START, DroneScenario


def measure_step_cost(steps: int = 200) -> tuple[float, float]:
    """(mean env.step seconds, mean bare getCameraImage seconds) over `steps` expert steps of the
    default scenario (64 x 96 camera) on held-out seeds; the bare call renders the same pose with
    the same arguments, without physics, task or image conversion."""
    env = drone_env.DroneNavEnv(DroneScenario())
    expert = DroneExpert()
    s = env.scenario
    step_s = bare_s = 0.0
    n = 0
    seed = HELD_OUT_SEED_START
    try:
        while n < steps:
            env.reset(seed=seed)
            expert.reset(seed)
            seed += 1
            done = False
            while not done and n < steps:
                action = expert.act(env.privileged_state()).executed
                start = time.perf_counter()
                _, _, terminated, truncated, _ = env.step(action)
                step_s += time.perf_counter() - start
                view, proj = env.sim.camera_matrices()
                start = time.perf_counter()
                p.getCameraImage(
                    s.image_width,
                    s.image_height,
                    view,
                    proj,
                    lightDirection=list(s.light_direction),
                    lightColor=[1.0, 1.0, 1.0],
                    lightAmbientCoeff=drone_env.LIGHT_AMBIENT,
                    lightDiffuseCoeff=drone_env.LIGHT_DIFFUSE,
                    lightSpecularCoeff=drone_env.LIGHT_SPECULAR,
                    shadow=0,
                    renderer=p.ER_TINY_RENDERER,
                    flags=p.ER_NO_SEGMENTATION_MASK,
                    physicsClientId=env.sim.client,
                )
                bare_s += time.perf_counter() - start
                n += 1
                done = terminated or truncated
    finally:
        env.close()
    return step_s / n, bare_s / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    runs = [measure_step_cost(args.steps) for _ in range(args.repeats)]
    step_ms = statistics.median(s for s, _ in runs) * 1e3
    bare_ms = statistics.median(b for _, b in runs) * 1e3
    ratio = statistics.median(s / b for s, b in runs)
    print(
        f"DroneNav-v0 64x96, {args.steps} expert steps x {args.repeats} repeats (medians): "
        f"step {step_ms:.2f} ms, bare getCameraImage {bare_ms:.2f} ms, ratio {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
