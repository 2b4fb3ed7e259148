"""Closed-loop trajectories stay bit-identical across refactors (stored reference).

The reference (tests/fixtures/reference_trajectories.npz) was recorded on the code before the
World registry and the one rollout engine existed: the shipped NCPs, lane keeping and drone
navigation, held-out seeds, clean and perturbed. Every step's action, privileged state and a
checksum of the camera frame must match exactly, and so must `lnn_control.evaluate`'s
per-episode records. Regenerate only for a change that is meant to alter behaviour:

    .venv/bin/python tests/test_reference_trajectories.py   # rewrites the reference
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "fixtures" / "reference_trajectories.npz"
LANE = "lnn_control/LaneKeeping-v0"
DRONE = "lnn_control/DroneNav-v0"


@dataclass(frozen=True)
class Case:
    """One recorded drive: world, policy, seed, steps and an optional perturbation."""

    name: str
    env_id: str
    policy: str
    seed: int
    steps: int
    perturbation: str | None = None
    severity: int = 0


CASES = (
    Case("lane_clean_a", LANE, "pretrained:lane_keeping_ncp", 1_000_000, 120),
    Case("lane_clean_b", LANE, "pretrained:lane_keeping_ncp", 1_000_003, 120),
    Case("lane_noise", LANE, "pretrained:lane_keeping_ncp", 1_000_001, 120, "gaussian_noise", 4),
    Case("lane_fog", LANE, "pretrained:lane_keeping_ncp", 1_000_002, 80, "fog", 3),
    Case("drone_clean_a", DRONE, "pretrained:drone_nav_ncp", 1_000_000, 80),
    Case("drone_clean_b", DRONE, "pretrained:drone_nav_ncp", 1_000_004, 80),
    Case("drone_noise", DRONE, "pretrained:drone_nav_ncp", 1_000_001, 80, "gaussian_noise", 3),
)


def _state_of(env_id: str, info: dict[str, object]) -> list[float]:
    """The privileged quantities recorded per step (metres, radians, m/s)."""
    if env_id == LANE:
        keys = ("lateral_offset_m", "heading_error_rad", "distance_m", "interventions")
        return [float(info[k]) for k in keys]  # type: ignore[arg-type]
    position = np.asarray(info["position_m"], dtype=np.float64)
    velocity = np.asarray(info["velocity_mps"], dtype=np.float64)
    return [*position.tolist(), *velocity.tolist(), float(info["yaw_rad"])]  # type: ignore[arg-type]


def record(case: Case) -> dict[str, np.ndarray]:
    """Drive `case` with a plain gymnasium loop; actions, states and frame checksums per step."""
    import gymnasium as gym

    import lnn_control
    from lnn_control.envs.perturb import make_wrapper

    policy = lnn_control.load_policy(case.policy)
    kwargs = {"intervention": True} if case.env_id == LANE else {}
    env = gym.make(case.env_id, disable_env_checker=True, **kwargs)
    if case.perturbation is not None:
        env = make_wrapper(case.perturbation, case.severity)(env)
    dt_s = 0.05
    actions, states, frames = [], [], []
    try:
        obs, info = env.reset(seed=case.seed)
        state = policy.initial_state(1)
        for _ in range(case.steps):
            frames.append(hashlib.sha256(np.ascontiguousarray(obs).tobytes()).digest()[:8])
            action, state = policy.step(obs, state, dt_s)
            action = np.asarray(action, dtype=np.float32).reshape(-1)
            obs, _, terminated, truncated, info = env.step(action)
            actions.append(action)
            states.append(_state_of(case.env_id, info))
            if terminated or truncated:
                break
    finally:
        env.close()
    return {
        f"{case.name}/actions": np.asarray(actions, dtype=np.float32),
        f"{case.name}/states": np.asarray(states, dtype=np.float64),
        f"{case.name}/frames": np.frombuffer(b"".join(frames), dtype=np.uint64),
    }


def record_evaluate() -> dict[str, np.ndarray]:
    """`lnn_control.evaluate` per-episode records (every field, float64) for both worlds, on the
    unbatched path (`batch_size=1`; the reference was recorded before it existed, and a batched
    forward pass rounds differently)."""
    import lnn_control

    out: dict[str, np.ndarray] = {}
    for env_id, name, steps in ((LANE, "lane_keeping_ncp", 100), (DRONE, "drone_nav_ncp", 60)):
        policy = lnn_control.load_policy(f"pretrained:{name}")
        result = lnn_control.evaluate(
            policy, env_id, seeds=[1_000_005, 1_000_006], episode_steps=steps, progress=False,
            batch_size=1,
        )  # fmt: skip
        for i, episode in enumerate(result.episodes):
            keys = sorted(episode)
            out[f"evaluate_{name}_{i}/keys"] = np.asarray(keys)
            out[f"evaluate_{name}_{i}/values"] = np.asarray([episode[k] for k in keys])
        for key, value in result.summary.items():
            out[f"evaluate_{name}/summary/{key}"] = np.asarray(value, dtype=np.float64)
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_drive_is_bit_identical_to_the_reference(
    case: Case, reference: dict[str, np.ndarray]
) -> None:
    got = record(case)
    for key, value in got.items():
        np.testing.assert_array_equal(value, reference[key], err_msg=key)


@pytest.mark.slow
def test_evaluate_records_are_bit_identical_to_the_reference(
    reference: dict[str, np.ndarray],
) -> None:
    got = record_evaluate()
    assert sorted(got) == sorted(k for k in reference if k.startswith("evaluate_"))
    for key, value in got.items():
        np.testing.assert_array_equal(value, reference[key], err_msg=key)


def test_the_reference_covers_both_worlds_and_perturbations(
    reference: dict[str, np.ndarray],
) -> None:
    names = {key.split("/")[0] for key in reference}
    assert {c.name for c in CASES} <= names
    for case in CASES:
        assert len(reference[f"{case.name}/actions"]) > 50  # drove, not ended at once


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    arrays: dict[str, np.ndarray] = {}
    for c in CASES:
        arrays |= record(c)
        print(c.name, len(arrays[f"{c.name}/actions"]), "steps")
    arrays |= record_evaluate()
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, allow_pickle=False, **arrays)
    print("wrote", REFERENCE)


COLLECTION_REFERENCE = Path(__file__).parent / "fixtures" / "reference_collection.json"
_SMALL = {"image_height": 48, "image_width": 64}
COLLECTION_JOBS = (  # noisy lane expert, noisy drone expert, DAgger with the shipped NCP
    {"env": {"env_id": LANE, "scenario": _SMALL}, "expert": "pure_pursuit", "noise_std": 0.3,
     "noise_correlation": 0.5, "seed": 3, "steps": 60},
    {"env": {"env_id": DRONE, "scenario": _SMALL}, "expert": "drone_guidance", "noise_std": 0.2,
     "noise_correlation": 0.5, "seed": 4, "steps": 60},
    {"env": {"env_id": LANE, "scenario": {}}, "expert": "stanley", "noise_std": 0.0,
     "noise_correlation": 0.0, "seed": 5, "steps": 60, "learner": "pretrained:lane_keeping_ncp"},
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COLLECTION_JOBS)))
def test_collected_demonstrations_are_bit_identical_to_the_reference(
    index: int, tmp_path: Path
) -> None:
    """Expert and DAgger shards (frames, labels, executed actions, traces) as before the
    collection loop moved onto `run_episode`; the reference stores each array's SHA-256."""
    import json

    from lnn_control.policies.checkpoint import resolve_checkpoint
    from lnn_control.training.collect import EpisodeJob, run_episode

    job = dict(COLLECTION_JOBS[index])
    learner = job.pop("learner", None)
    learner_dir = None if learner is None else str(resolve_checkpoint(str(learner)))
    run_episode(EpisodeJob(out_dir=str(tmp_path), learner_dir=learner_dir, **job))  # type: ignore[arg-type]
    with np.load(tmp_path / f"seed_{job['seed']:07d}.npz") as shard:
        got = {
            key: hashlib.sha256(np.ascontiguousarray(shard[key]).tobytes()).hexdigest()[:24]
            for key in sorted(shard.files)
        }
    assert got == json.loads(COLLECTION_REFERENCE.read_text())[f"job{index}"]
