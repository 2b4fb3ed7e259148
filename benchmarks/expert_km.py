"""Drive both lane-keeping experts a fixed distance on held-out seeds and count lane departures.

    .venv/bin/python benchmarks/expert_km.py --km 1 --seeds 20 --workers 2

Rendering is off (`render_camera=False`); the env runs under the intervention protocol, so a
departure is counted and the car is put back instead of ending the run. Acceptance: zero
departures for both experts. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import time

import numpy as np

from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.expert import LaneExpert, PurePursuitExpert, StanleyExpert
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START, ROAD_LENGTH_MARGIN_M, LaneScenario

EXPERTS: dict[str, type[LaneExpert]] = {
    "pure_pursuit": PurePursuitExpert,
    "stanley": StanleyExpert,
}
#: Time limit slack over distance / target speed, for the start from rest.
TIME_SLACK = 1.2


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One expert on one seed: departures, distance (m), |lateral offset| stats (m)."""

    expert: str
    seed: int
    departures: int
    distance_m: float
    max_abs_lateral_m: float
    mean_abs_lateral_m: float
    seconds: float


def drive(job: tuple[str, int, float]) -> RunResult:
    """Drive expert `name` on `seed` for `distance_m` metres (or until the time limit)."""
    name, seed, distance_m = job
    base = LaneScenario()
    time_limit = TIME_SLACK * distance_m / base.target_speed_mps
    scenario = dataclasses.replace(
        base,
        time_limit_s=time_limit,
        road_length_m=base.target_speed_mps * time_limit + ROAD_LENGTH_MARGIN_M,
    )
    env = LaneKeepingEnv(scenario, render_camera=False, intervention=True)
    expert = EXPERTS[name]()
    env.reset(seed=seed)
    expert.reset(seed=seed)
    lateral: list[float] = []
    departures = 0
    start = time.perf_counter()
    while True:
        executed, _ = expert.act(env.privileged_state())
        _, _, terminated, truncated, info = env.step(executed)
        departures += int(info["lane_departure"])
        lateral.append(abs(info["lateral_offset_m"]))
        if info["distance_m"] >= distance_m or terminated or truncated:
            break
    env.close()
    return RunResult(
        name,
        seed,
        departures,
        float(info["distance_m"]),
        float(np.max(lateral)),
        float(np.mean(lateral)),
        time.perf_counter() - start,
    )


def main() -> None:
    """Parse arguments, run every (expert, seed) pair in a process pool, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--km", type=float, default=1.0, help="distance per seed (km)")
    parser.add_argument("--seeds", type=int, default=20, help="number of held-out seeds")
    parser.add_argument("--seed-start", type=int, default=HELD_OUT_SEED_START)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    jobs = [(name, seed, 1000.0 * args.km) for name in EXPERTS for seed in seeds]
    with multiprocessing.Pool(args.workers) as pool:
        results = pool.map(drive, jobs)
    print(f"seeds {seeds.start}..{seeds.stop - 1}, {args.km} km each, default scenario\n")
    print(
        "| expert | seeds | km driven | departures | max abs lateral (m) | mean abs lateral (m) |"
    )
    print("|---|---|---|---|---|---|")
    for name in EXPERTS:
        rows = [r for r in results if r.expert == name]
        print(
            f"| {name} | {len(rows)} | {sum(r.distance_m for r in rows) / 1000:.2f} "
            f"| {sum(r.departures for r in rows)} | {max(r.max_abs_lateral_m for r in rows):.3f} "
            f"| {np.mean([r.mean_abs_lateral_m for r in rows]):.3f} |"
        )
    short = [r for r in results if r.distance_m < 1000.0 * args.km]
    if short:
        print(f"\nruns that did not reach the distance: {[(r.expert, r.seed) for r in short]}")
    total_s = sum(r.seconds for r in results)
    print(f"\n{len(results)} runs, {total_s:.0f} CPU-s in total")


if __name__ == "__main__":
    main()
