"""Lane-keeping env cost, side by side: env.step with camera vs a bare render of the same scene.

    .venv/bin/python benchmarks/bench_envs.py --repeats 7 --steps 200

In one process (one core), blocks of `--steps` are interleaved `--repeats` times:

- `env.step` with the camera (physics 12 substeps + projection + reward + one TinyRenderer frame
  + conversion to uint8 HxWx3), the expert's action computed outside the timed region;
- a bare `p.getCameraImage` of the same scene, at the same pose, resolution, renderer and light
  (the floor for any env that renders once per step);
- an expert-only step without camera (`render_camera=False`: expert.act + env.step), the cost
  of collecting privileged rollouts.

Medians over the repeats of the mean time per step. Acceptance: env.step <= 1.3 x bare render.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pybullet as p

from lnn_control.envs.experts import PurePursuitExpert
from lnn_control.envs.lane_keeping import LaneKeepingEnv
from lnn_control.envs.racecar import LIGHT_SPECULAR
from lnn_control.envs.scenario import LaneScenario

SEED = 1_000_003
WARMUP_STEPS = 40


def _stepper(
    env: LaneKeepingEnv, expert: PurePursuitExpert, with_expert: bool
) -> Callable[[], float]:
    """A callable doing one step and returning its timed seconds (the env, plus the expert when
    `with_expert`); resets (untimed) when an episode ends."""

    def step() -> float:
        if not with_expert:
            action, _ = expert.act(env.privileged_state())
        start = time.perf_counter()
        if with_expert:
            action, _ = expert.act(env.privileged_state())
        _, _, terminated, truncated, _ = env.step(action)
        elapsed = time.perf_counter() - start
        if terminated or truncated:
            env.reset(seed=SEED)
        return elapsed

    return step


def _bare_render(env: LaneKeepingEnv) -> Callable[[], float]:
    """One `p.getCameraImage` at the env's current camera pose, with the env's settings."""
    s = env.scenario
    cid = env.sim.client

    def render() -> float:
        view, proj = env.sim.camera_matrices()
        start = time.perf_counter()
        p.getCameraImage(
            s.image_width,
            s.image_height,
            view,
            proj,
            shadow=int(s.shadows),
            lightDirection=list(s.light_direction),
            lightColor=list(s.light_rgb),
            lightAmbientCoeff=s.light_ambient,
            lightDiffuseCoeff=s.light_diffuse,
            lightSpecularCoeff=LIGHT_SPECULAR,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=cid,
        )
        return time.perf_counter() - start

    return render


def main() -> None:
    """Run the interleaved timing blocks and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    scenario = LaneScenario()
    camera_env = LaneKeepingEnv(scenario)
    blind_env = LaneKeepingEnv(scenario, render_camera=False)
    expert = PurePursuitExpert()
    for env in (camera_env, blind_env):
        env.reset(seed=SEED)
        for _ in range(WARMUP_STEPS):
            env.step(expert.act(env.privileged_state()).executed)
    blocks = {
        "env.step (camera)": _stepper(camera_env, expert, with_expert=False),
        "bare p.getCameraImage": _bare_render(camera_env),
        "expert + env.step (no camera)": _stepper(blind_env, expert, with_expert=True),
    }
    times: dict[str, list[float]] = {name: [] for name in blocks}
    for _ in range(args.repeats):
        for name, fn in blocks.items():
            times[name].append(float(np.mean([fn() for _ in range(args.steps)])))
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare = medians["bare p.getCameraImage"]
    print(
        f"{scenario.image_height}x{scenario.image_width} RGB, TinyRenderer, default scenario, "
        f"seed {SEED}; median of {args.repeats} repeats x {args.steps} steps, one process\n"
    )
    print("| measurement | ms per step | steps/s per core | ratio to bare render |")
    print("|---|---|---|---|")
    for name, seconds in medians.items():
        print(f"| {name} | {1e3 * seconds:.2f} | {1.0 / seconds:.0f} | {seconds / bare:.2f} |")
    ratio = medians["env.step (camera)"] / bare
    print(
        f"\nenv.step / bare render = {ratio:.2f} (acceptance <= 1.30: "
        f"{'pass' if ratio <= 1.3 else 'FAIL'})"
    )
    camera_env.close()
    blind_env.close()


if __name__ == "__main__":
    main()
