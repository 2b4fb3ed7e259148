"""Env step cost, side by side: env.step with camera vs a bare render of the same scene, for the
lane-keeping world (`LaneKeeping-v0`) and the drone world (`DroneNav-v0`).

    .venv/bin/python benchmarks/bench_envs.py [--env {lane,drone,all}] [--repeats 7] [--steps 200]

For each world, in one process (one core), three blocks of `--steps` steps, `--repeats` times:

- `env.step` with the camera (physics substeps + the world's task + one TinyRenderer frame +
  conversion to uint8 HxWx3), the expert's action computed outside the timed region;
- a bare `p.getCameraImage` of the same scene at the same poses (it replays, in order, the poses
  the env.step block just rendered), resolution, renderer and light: the floor for any env that
  renders once per step;
- an expert-only step without camera (`render_camera=False`: expert.act + env.step), the cost
  of collecting privileged rollouts.

The blocks take turns every `CHUNK_STEPS` steps, so that load drift on a shared machine hits them
alike. The expert flies or drives the default scenario from seed `SEED` (reset, untimed, when an
episode ends). Reported: medians over the repeats of the mean time per step, and of the
per-repeat ratios to the bare render. Acceptance: env.step <= 1.3 x bare render, in each world.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pybullet as p

from lnn_control.envs import racecar
from lnn_control.envs.drone import sim as drone_sim
from lnn_control.envs.drone.env import DroneNavEnv
from lnn_control.envs.drone.expert import DroneExpert
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.envs.experts import PurePursuitExpert
from lnn_control.envs.lane_keeping import LaneKeepingEnv
from lnn_control.envs.scenario import LaneScenario

SEED = 1_000_003
WARMUP_STEPS = 40
#: The blocks take turns every this many steps.
CHUNK_STEPS = 10
ACCEPTANCE_RATIO = 1.3
STEP, BARE, BLIND = "env.step (camera)", "bare p.getCameraImage", "expert + env.step (no camera)"

BenchEnv = LaneKeepingEnv | DroneNavEnv


class Expert(Protocol):
    """What both worlds' experts offer: `reset(seed)` and `act(state).executed`."""

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, state: Any) -> Any: ...


@dataclass(frozen=True)
class World:
    """One world to measure: its name and scenario, an env factory (the `render_camera` flag),
    an expert factory, and the keyword arguments its env passes to `p.getCameraImage` besides
    the size, matrices, renderer and flags."""

    name: str
    scenario: LaneScenario | DroneScenario
    make_env: Callable[[bool], BenchEnv]
    make_expert: Callable[[], Expert]
    render_kwargs: dict[str, Any]


def lane_world() -> World:
    """LaneKeeping-v0, default scenario (64 x 160), pure-pursuit expert."""
    s = LaneScenario()
    light = {
        "shadow": int(s.shadows),
        "lightDirection": list(s.light_direction),
        "lightColor": list(s.light_rgb),
        "lightAmbientCoeff": s.light_ambient,
        "lightDiffuseCoeff": s.light_diffuse,
        "lightSpecularCoeff": racecar.LIGHT_SPECULAR,
    }
    return World(
        "LaneKeeping-v0",
        s,
        lambda camera: LaneKeepingEnv(s, render_camera=camera),
        PurePursuitExpert,
        light,
    )


def drone_world() -> World:
    """DroneNav-v0, default scenario (64 x 96), guidance expert."""
    s = DroneScenario()
    light = {
        "shadow": 0,
        "lightDirection": list(s.light_direction),
        "lightColor": [1.0, 1.0, 1.0],
        "lightAmbientCoeff": drone_sim.LIGHT_AMBIENT * s.light_brightness,
        "lightDiffuseCoeff": drone_sim.LIGHT_DIFFUSE * s.light_brightness,
        "lightSpecularCoeff": drone_sim.LIGHT_SPECULAR,
    }
    return World(
        "DroneNav-v0",
        s,
        lambda camera: DroneNavEnv(s, render_camera=camera),
        DroneExpert,
        light,
    )


WORLDS: dict[str, Callable[[], World]] = {"lane": lane_world, "drone": drone_world}


Pose = tuple[list[float], list[float]]


def _stepper(
    env: BenchEnv, expert: Expert, with_expert: bool, poses: deque[Pose] | None = None
) -> Callable[[], float]:
    """A callable doing one step and returning its timed seconds (the env, plus the expert when
    `with_expert`); appends the camera pose the step rendered to `poses` if given, and resets
    env and expert (untimed) when an episode ends."""

    def step() -> float:
        if not with_expert:
            action = expert.act(env.privileged_state()).executed
        start = time.perf_counter()
        if with_expert:
            action = expert.act(env.privileged_state()).executed
        _, _, terminated, truncated, _ = env.step(action)
        elapsed = time.perf_counter() - start
        if poses is not None:
            poses.append(env.sim.camera_matrices())
        if terminated or truncated:
            env.reset(seed=SEED)
            expert.reset(SEED)
        return elapsed

    return step


def _bare_render(env: BenchEnv, kwargs: dict[str, Any], poses: deque[Pose]) -> Callable[[], float]:
    """One `p.getCameraImage` with the env's settings at the oldest pose in `poses` (so that a
    block replays the poses the env.step block rendered), or at the env's current pose."""
    s = env.scenario
    cid = env.sim.client

    def render() -> float:
        view, proj = poses.popleft() if poses else env.sim.camera_matrices()
        start = time.perf_counter()
        p.getCameraImage(
            s.image_width,
            s.image_height,
            view,
            proj,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=cid,
            **kwargs,
        )
        return time.perf_counter() - start

    return render


def interleave(
    blocks: dict[str, Callable[[], float]], repeats: int, steps: int, chunk: int = CHUNK_STEPS
) -> dict[str, list[float]]:
    """Run `repeats` rounds of `steps` calls of each block, the blocks taking turns every `chunk`
    calls (so that load drift on a shared machine hits them alike); each block's mean seconds
    per call in each round."""
    times: dict[str, list[float]] = {name: [] for name in blocks}
    for _ in range(repeats):
        total = dict.fromkeys(blocks, 0.0)
        for done in range(0, steps, chunk):
            for name, fn in blocks.items():
                total[name] += sum(fn() for _ in range(min(chunk, steps - done)))
        for name in blocks:
            times[name].append(total[name] / steps)
    return times


def measure(world: World, repeats: int, steps: int) -> dict[str, list[float]]:
    """Per-round mean seconds per step of the three blocks (see the module docstring) in
    `world`."""
    camera_env, blind_env = world.make_env(True), world.make_env(False)
    camera_expert, blind_expert = world.make_expert(), world.make_expert()
    try:
        for env, expert in ((camera_env, camera_expert), (blind_env, blind_expert)):
            env.reset(seed=SEED)
            expert.reset(SEED)
            for _ in range(WARMUP_STEPS):
                env.step(expert.act(env.privileged_state()).executed)
        poses: deque[Pose] = deque()
        blocks = {
            STEP: _stepper(camera_env, camera_expert, with_expert=False, poses=poses),
            BARE: _bare_render(camera_env, world.render_kwargs, poses),
            BLIND: _stepper(blind_env, blind_expert, with_expert=True),
        }
        return interleave(blocks, repeats, steps)
    finally:
        camera_env.close()
        blind_env.close()


def report(world: World, times: dict[str, list[float]]) -> float:
    """Print one world's markdown table (medians over the rounds; the ratio is the median of the
    rounds' ratios); return its env.step / bare render ratio."""
    image = f"{world.scenario.image_height}x{world.scenario.image_width}"
    print(f"\n### {world.name} ({image} RGB, TinyRenderer, default scenario, seed {SEED})\n")
    print("| measurement | ms per step | steps/s per core | ratio to bare render |")
    print("|---|---|---|---|")
    ratios = {}
    for name, values in times.items():
        seconds = statistics.median(values)
        ratios[name] = statistics.median(t / b for t, b in zip(values, times[BARE], strict=True))
        print(f"| {name} | {1e3 * seconds:.2f} | {1.0 / seconds:.0f} | {ratios[name]:.2f} |")
    return ratios[STEP]


def main() -> None:
    """Measure the chosen worlds and print a table each and a side-by-side summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["lane", "drone", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    names = list(WORLDS) if args.env == "all" else [args.env]
    print(f"median of {args.repeats} repeats x {args.steps} steps per world, one process")
    ratios: dict[str, float] = {}
    for key in names:
        world = WORLDS[key]()
        ratios[world.name] = report(world, measure(world, args.repeats, args.steps))
    print(f"\n| world | env.step / bare render | acceptance <= {ACCEPTANCE_RATIO:.2f} |")
    print("|---|---|---|")
    for name, ratio in ratios.items():
        print(f"| {name} | {ratio:.2f} | {'pass' if ratio <= ACCEPTANCE_RATIO else 'FAIL'} |")


if __name__ == "__main__":
    main()
