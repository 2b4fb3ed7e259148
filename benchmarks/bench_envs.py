"""Env step cost, side by side: env.step with camera against its floor, in the lane-keeping world
(`LaneKeeping-v0`, on a short and a long road) and the drone world (`DroneNav-v0`).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_envs.py [--env {lane,drone,all}]
        [--repeats 7] [--steps 200] [--short-m 250] [--long-m 3000]

Times are thread CPU time (`time.thread_time`) of the one measuring thread (PyBullet DIRECT and
TinyRenderer run in it), so other processes on a shared machine disturb them little. Blocks
take turns every `CHUNK_STEPS` steps, `--steps` steps per block per repeat, `--repeats` times;
reported are medians over the repeats of the mean time per step, and of the per-repeat ratios.
The expert drives or flies the default scenario from seed `SEED` (reset, untimed, at episode
end), its action computed outside the timed region except in the no-camera block.

Lane keeping, blocks:
- env.step (camera) on a `--short-m` and a `--long-m` road: 12 physics substeps, task, one
  TinyRenderer frame with view culling (the renderer holds only the road and roadside chunks the
  camera may see, see lnn_control/envs/lane/chunks.py), conversion to uint8 HxWx3;
- the floor at the poses each of those rendered: a bare `p.getCameraImage`, same settings, of
  only what the camera sees there (the ground, and the triangles of road and roadside objects
  not outside the view frustum), built untimed in a second client per pose; its frame is
  checked equal to the env's;
- env.step with the whole scene in the renderer (`sim.view_culling = False`, the code before
  issue 17), both roads;
- expert + env.step without camera on the short road.
Acceptance (issue 17): step on the long road / step on the short road <= 1.15, and step /
floor <= 1.3.

Drone: env.step vs a bare `p.getCameraImage` of the same scene at the same poses (it replays the
poses the env.step block rendered), and expert + env.step without camera. Acceptance: env.step
<= 1.3 x bare render.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pybullet as p

from lnn_control.envs.drone import sim as drone_sim
from lnn_control.envs.drone.env import DroneNavEnv
from lnn_control.envs.drone.expert import DroneExpert
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.envs.lane import sim as racecar
from lnn_control.envs.lane.chunks import ChunkedLayers, MeshLists, mesh_lists
from lnn_control.envs.lane.culling import Frustum
from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.expert import PurePursuitExpert
from lnn_control.envs.lane.meshes import ground_mesh
from lnn_control.envs.lane.scenario import LaneScenario

SEED = 1_000_003
WARMUP_STEPS = 40
#: The blocks take turns every this many steps.
CHUNK_STEPS = 10
FLOOR_RATIO = 1.3
GROWTH_RATIO = 1.15
CLOCK = time.thread_time

BenchEnv = LaneKeepingEnv | DroneNavEnv
#: (view, projection, the env's frame, the scenery it was rendered from)
Pose = tuple[list[float], list[float], np.ndarray, Any]


class Expert(Protocol):
    """What both worlds' experts offer: `reset(seed)` and `act(state).executed`."""

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, state: Any) -> Any: ...


def _stepper(
    env: BenchEnv,
    expert: Expert,
    with_expert: bool,
    poses: deque[Pose] | None = None,
    renders: list[float] | None = None,
) -> Callable[[], float]:
    """A callable doing one step and returning its timed seconds (the env, plus the expert when
    `with_expert`); appends the camera pose, frame and scenery of the step to `poses` and the
    seconds of a second `env.sim.render()` at that pose to `renders` if given, and resets env
    and expert (untimed) when an episode ends."""

    def step() -> float:
        if not with_expert:
            action = expert.act(env.privileged_state()).executed
        start = CLOCK()
        if with_expert:
            action = expert.act(env.privileged_state()).executed
        obs, _, terminated, truncated, _ = env.step(action)
        elapsed = CLOCK() - start
        if poses is not None:
            poses.append((*env.sim.camera_matrices(), obs, _scenery(env)))
        if renders is not None:
            start = CLOCK()
            env.sim.render()
            renders.append(CLOCK() - start)
        if terminated or truncated:
            env.reset(seed=SEED)
            expert.reset(SEED)
        return elapsed

    return step


def _scenery(env: BenchEnv) -> Any:
    """What a bare render needs of the env's current episode: its client (drone), or its layers
    and ground (lane, culled)."""
    if isinstance(env, DroneNavEnv):
        return env.sim.client
    window = env.sim.window
    assert window is not None, "the floor needs view culling on"
    assert env.sim.car_hidden, "the floor leaves the car out: it must be out of view"
    ground = mesh_lists(ground_mesh(env.task.road, env.scenario.ground_rgb))
    return window.layers, ground


def _render(client: int, scenario: Any, view: list[float], proj: list[float], kw: Any) -> Any:
    """One timed `p.getCameraImage`: (seconds, rgb (H, W, 3) uint8)."""
    start = CLOCK()
    _, _, rgba, _, _ = p.getCameraImage(
        scenario.image_width,
        scenario.image_height,
        view,
        proj,
        renderer=p.ER_TINY_RENDERER,
        flags=p.ER_NO_SEGMENTATION_MASK,
        physicsClientId=client,
        **kw,
    )
    elapsed = CLOCK() - start
    rgb = np.asarray(rgba, np.uint8).reshape(scenario.image_height, scenario.image_width, 4)
    return elapsed, rgb[..., :3]


def _bare_render(env: DroneNavEnv, kw: dict[str, Any], poses: deque[Pose]) -> Callable[[], float]:
    """A bare render of the drone's scene at the oldest pose in `poses`."""

    def render() -> float:
        view, proj, _, client = poses.popleft()
        return float(_render(client, env.scenario, view, proj, kw)[0])

    return render


class Floor:
    """Bare renders, at the poses a lane env rendered, of only what its camera sees there: a
    second client rebuilt per pose (untimed) with the ground and each layer's triangles that
    are not outside the view frustum, in the env's order. `mismatches` counts frames that
    differ from the env's."""

    def __init__(self, scenario: LaneScenario, kw: dict[str, Any], poses: deque[Pose]) -> None:
        self.client = p.connect(p.DIRECT)
        self.scenario, self.kw, self.poses = scenario, kw, poses
        self.mismatches = 0
        self.triangles: list[int] = []
        self.seconds: list[float] = []

    def __call__(self) -> float:
        view, proj, frame, (layers, ground) = self.poses.popleft()
        self._build(layers, ground, Frustum.from_matrices(view, proj))
        seconds, rgb = _render(self.client, self.scenario, view, proj, self.kw)
        self.mismatches += int(not np.array_equal(rgb, frame))
        self.seconds.append(seconds)
        return float(seconds)

    def _build(self, layers: ChunkedLayers, ground: MeshLists, frustum: Frustum) -> None:
        cid = self.client
        p.resetSimulation(physicsClientId=cid)
        seen = layers.triangles_seen_by(frustum)
        self.triangles.append(sum(len(t) for t in seen))
        for mesh in [ground, *layers.lists_of(seen)]:
            if mesh is None:
                continue
            shape = p.createVisualShape(
                p.GEOM_MESH,
                vertices=mesh.vertices,
                indices=mesh.indices,
                normals=mesh.normals,
                rgbaColor=[*mesh.rgb, 1.0],
                specularColor=[0.0, 0.0, 0.0],
                physicsClientId=cid,
            )
            p.createMultiBody(0.0, -1, shape, physicsClientId=cid)

    def close(self) -> None:
        """Disconnect the floor's client."""
        p.disconnect(physicsClientId=self.client)


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


def _warm(env: BenchEnv, expert: Expert) -> None:
    env.reset(seed=SEED)
    expert.reset(SEED)
    for _ in range(WARMUP_STEPS):
        env.step(expert.act(env.privileged_state()).executed)


def lane_light(s: LaneScenario) -> dict[str, Any]:
    """The light keywords LaneKeeping-v0 passes to `p.getCameraImage`."""
    return {
        "shadow": int(s.shadows),
        "lightDirection": list(s.light_direction),
        "lightColor": list(s.light_rgb),
        "lightAmbientCoeff": s.light_ambient,
        "lightDiffuseCoeff": s.light_diffuse,
        "lightSpecularCoeff": racecar.LIGHT_SPECULAR,
    }


def measure_lane(args: argparse.Namespace) -> None:
    """The lane-keeping blocks (see the module docstring) and their table."""
    short, long = f"{args.short_m:g} m", f"{args.long_m / 1000:g} km"
    envs: dict[str, tuple[LaneKeepingEnv, PurePursuitExpert]] = {}
    for key, length, camera, culling in [
        ("short", args.short_m, True, True),
        ("long", args.long_m, True, True),
        ("short whole", args.short_m, True, False),
        ("long whole", args.long_m, True, False),
        ("blind", args.short_m, False, True),
    ]:
        env = LaneKeepingEnv(LaneScenario(road_length_m=length), render_camera=camera)
        env.sim.view_culling = culling
        envs[key] = (env, PurePursuitExpert())
        _warm(*envs[key])
    light = lane_light(LaneScenario())
    poses = {key: deque[Pose]() for key in ("short", "long")}
    renders: dict[str, list[float]] = {"short": [], "long": []}
    floors = {key: Floor(envs[key][0].scenario, light, poses[key]) for key in poses}
    names = {
        "short": f"env.step (camera), {short} road",
        "long": f"env.step (camera), {long} road",
        "floor short": f"floor: bare render of what the camera sees, {short} poses",
        "floor long": f"floor: bare render of what the camera sees, {long} poses",
        "short whole": f"env.step, whole scene in the renderer (before), {short}",
        "long whole": f"env.step, whole scene in the renderer (before), {long}",
        "blind": f"expert + env.step (no camera), {short}",
    }
    blocks: dict[str, Callable[[], float]] = {
        names["short"]: _stepper(*envs["short"], False, poses["short"], renders["short"]),
        names["long"]: _stepper(*envs["long"], False, poses["long"], renders["long"]),
        names["floor short"]: floors["short"],
        names["floor long"]: floors["long"],
        names["short whole"]: _stepper(*envs["short whole"], with_expert=False),
        names["long whole"]: _stepper(*envs["long whole"], with_expert=False),
        names["blind"]: _stepper(*envs["blind"], with_expert=True),
    }
    try:
        times = interleave(blocks, args.repeats, args.steps)
    finally:
        for env, _ in envs.values():
            env.close()
        for floor in floors.values():
            floor.close()
    _lane_report(LaneScenario(), times, names, floors, envs)
    for key in renders:
        render, bare = statistics.median(renders[key]), statistics.median(floors[key].seconds)
        print(
            f"{key} road: the step's render alone (sim.render: window check, frame, conversion) "
            f"{1e3 * render:.2f} ms, median floor {1e3 * bare:.2f} ms: ratio {render / bare:.2f}"
        )


def _median_ratio(times: dict[str, list[float]], top: str, bottom: str) -> float:
    return statistics.median(a / b for a, b in zip(times[top], times[bottom], strict=True))


def _lane_report(
    s: LaneScenario,
    times: dict[str, list[float]],
    names: dict[str, str],
    floors: dict[str, Floor],
    envs: dict[str, tuple[LaneKeepingEnv, PurePursuitExpert]],
) -> None:
    print(
        f"\n### LaneKeeping-v0 ({s.image_height}x{s.image_width} RGB, TinyRenderer, seed {SEED})\n"
    )
    print("| measurement | ms per step | steps/s per core |")
    print("|---|---|---|")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"| {name} | {1e3 * seconds:.2f} | {1.0 / seconds:.0f} |")
    growth = _median_ratio(times, names["long"], names["short"])
    before = _median_ratio(times, names["long whole"], names["short whole"])
    print("\n| ratio | value | acceptance |\n|---|---|---|")
    print(f"| step long / step short road | {growth:.2f} | <= {GROWTH_RATIO} |")
    print(f"| same, whole scene in the renderer (before) | {before:.2f} | - |")
    for key in ("short", "long"):
        ratio = _median_ratio(times, names[key], names[f"floor {key}"])
        print(f"| step / floor, {names[key].split(', ')[-1]} | {ratio:.2f} | <= {FLOOR_RATIO} |")
    for key in ("short", "long"):
        floor, window = floors[key], envs[key][0].sim.window
        held = window.layers.layer_meshes(np.flatnonzero(window.held)) if window else []
        print(
            f"\n{key} road: floor frames equal to the env's: "
            f"{len(floor.triangles) - floor.mismatches}/{len(floor.triangles)}; triangles in "
            f"view (mean) {statistics.mean(floor.triangles):.0f}, in the renderer now "
            f"{sum(m.num_triangles for m in held if m is not None)}, "
            f"windows built {window.rebuilds if window else 0}"
        )


def measure_drone(args: argparse.Namespace) -> None:
    """DroneNav-v0: env.step vs a bare render of the same scene, and the blind step."""
    s = DroneScenario()
    light = {
        "shadow": 0,
        "lightDirection": list(s.light_direction),
        "lightColor": [1.0, 1.0, 1.0],
        "lightAmbientCoeff": drone_sim.LIGHT_AMBIENT * s.light_brightness,
        "lightDiffuseCoeff": drone_sim.LIGHT_DIFFUSE * s.light_brightness,
        "lightSpecularCoeff": drone_sim.LIGHT_SPECULAR,
    }
    camera_env, blind_env = DroneNavEnv(s), DroneNavEnv(s, render_camera=False)
    camera_expert, blind_expert = DroneExpert(), DroneExpert()
    try:
        _warm(camera_env, camera_expert)
        _warm(blind_env, blind_expert)
        poses: deque[Pose] = deque()
        step, bare, blind = "env.step (camera)", "bare p.getCameraImage", "expert + env.step"
        blocks = {
            step: _stepper(camera_env, camera_expert, with_expert=False, poses=poses),
            bare: _bare_render(camera_env, light, poses),
            f"{blind} (no camera)": _stepper(blind_env, blind_expert, with_expert=True),
        }
        times = interleave(blocks, args.repeats, args.steps)
    finally:
        camera_env.close()
        blind_env.close()
    print(f"\n### DroneNav-v0 ({s.image_height}x{s.image_width} RGB, TinyRenderer, seed {SEED})\n")
    print("| measurement | ms per step | steps/s per core | ratio to bare render |")
    print("|---|---|---|---|")
    for name, values in times.items():
        seconds = statistics.median(values)
        ratio = _median_ratio(times, name, bare)
        print(f"| {name} | {1e3 * seconds:.2f} | {1.0 / seconds:.0f} | {ratio:.2f} |")
    print(f"\nacceptance: env.step / bare render <= {FLOOR_RATIO}")


def main() -> None:
    """Measure the chosen worlds and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["lane", "drone", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--short-m", type=float, default=250.0)
    parser.add_argument("--long-m", type=float, default=3000.0)
    args = parser.parse_args()
    print(
        f"median of {args.repeats} repeats x {args.steps} steps per block, one process, "
        "thread CPU time"
    )
    if args.env in ("lane", "all"):
        measure_lane(args)
    if args.env in ("drone", "all"):
        measure_drone(args)


if __name__ == "__main__":
    main()
