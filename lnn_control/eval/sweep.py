"""Run a stress sweep: every cell of a suite closed loop, resumable, on a local pool or on Ray.

    records = run_sweep(suite, policies, Path("runs/stress/lane_quick"), workers=2)
    records = run_sweep(suite, policies, out, backend="ray", address="auto")

Each finished cell is written at once to out/cells/<policy>/<condition>/s<severity>_<seed>.json
(atomically, with a fingerprint of everything that decides it), so a sweep that is killed and
restarted reruns only the cells that had not finished, and a changed suite or checkpoint reruns
the cells it changed. Every worker drives one episode at a time with one torch thread; results
do not depend on the backend or the number of workers.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from lnn_control.eval.drone_eval import DRONE_ENV_ID
from lnn_control.eval.suite import Cell, PolicySpec, StressSuite
from lnn_control.io_utils import atomic_write_json

Backend = Literal["local", "ray"]
BACKENDS: tuple[str, ...] = ("local", "ray")
_POLICIES: dict[str, Any] = {}  # per worker process: loaded policies by weights hash / source


def policy_spec(label: str, source: str) -> PolicySpec:
    """A `PolicySpec` for the checkpoint at `source` (directory or pretrained:<name>), with its
    weights hash and the scenario it was trained in (one-line errors from the checkpoint io)."""
    from lnn_control.eval.simulate_cli import training_scenario
    from lnn_control.io_utils import read_json
    from lnn_control.policies.checkpoint import resolve_checkpoint

    directory = resolve_checkpoint(source)
    config = read_json(directory / "config.json", "checkpoint config")
    return PolicySpec(
        label=label,
        source=str(source),
        weights_sha256=str(config.get("weights_sha256", "")),
        kind=str((config.get("architecture") or {}).get("kind", "")),
        scenario=training_scenario(config),
        augmentation=dict((config.get("provenance") or {}).get("augmentation") or {}),
    )


def cell_scenario(cell: Cell, suite: StressSuite) -> dict[str, Any]:
    """LaneScenario overrides for `cell`: the policy's training scenario, the suite's overrides,
    a road of `suite.distance_m`, then the cell's shift (if it is one)."""
    from lnn_control.envs.perturb.drone_shift import DRONE_SHIFTS, drone_shift_scenario
    from lnn_control.envs.perturb.shift import SCENARIO_SHIFTS, shift_scenario
    from lnn_control.eval.evaluate import scenario_for_distance

    if suite.env_id == DRONE_ENV_ID:  # a flight: no road length to set
        base = {**cell.policy.scenario, **suite.scenario}
        if cell.perturbation in DRONE_SHIFTS:
            return drone_shift_scenario(cell.perturbation, cell.severity, base)
        return base
    base = scenario_for_distance({**cell.policy.scenario, **suite.scenario}, suite.distance_m)
    if cell.perturbation in SCENARIO_SHIFTS:
        return shift_scenario(cell.perturbation, cell.severity, base)
    return base


def _load(spec: PolicySpec, files: dict[str, bytes] | None) -> Any:
    """The policy of `spec`, cached per process; from shipped `files` when given (Ray)."""
    from lnn_control.policies import load_checkpoint, load_policy

    key = spec.weights_sha256 or spec.source
    if key not in _POLICIES:
        if files is None:
            _POLICIES[key] = load_policy(spec.source)
        else:
            with tempfile.TemporaryDirectory(prefix="lnn_stress_") as tmp:
                for name, data in files.items():
                    (Path(tmp) / name).write_bytes(data)
                _POLICIES[key] = load_checkpoint(tmp)[0]
    return _POLICIES[key]


def run_cell(
    cell: Cell, suite: StressSuite, files: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Drive `cell`'s episode; returns its record (cell keys + per-episode metrics)."""
    import torch

    from lnn_control.envs.perturb import PERTURBATIONS, make_wrapper
    from lnn_control.eval.drone_eval import run_drone_episode
    from lnn_control.eval.evaluate import run_lane_episode

    torch.set_num_threads(1)
    wrappers = []
    if cell.perturbation in PERTURBATIONS:
        params = json.loads(cell.params_json)
        wrappers.append(make_wrapper(cell.perturbation, cell.severity, **params))
    run = run_drone_episode if suite.env_id == DRONE_ENV_ID else run_lane_episode
    episode = run(
        _load(cell.policy, files),
        cell.seed,
        env_id=suite.env_id,
        env_kwargs={"scenario": cell_scenario(cell, suite)},
        wrappers=wrappers,
    )
    return {
        "policy": cell.policy.label,
        "condition": cell.condition,
        "perturbation": cell.perturbation,
        "severity": cell.severity,
        **episode.record(),
        "seed": cell.seed,
    }


class ResultStore:
    """Finished cells under `out_dir/cells`, one JSON file each."""

    def __init__(self, out_dir: Path, suite: StressSuite) -> None:
        self.root = out_dir / "cells"
        self.suite = suite

    def path(self, cell: Cell) -> Path:
        """Where `cell`'s result lives."""
        return self.root / f"{cell.key}.json"

    def load(self, cell: Cell) -> dict[str, Any] | None:
        """The stored record, or None if missing, unreadable or stale."""
        try:
            stored = json.loads(self.path(cell).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("fingerprint") != cell.fingerprint(
            self.suite
        ):
            return None
        record = stored.get("record")
        return record if isinstance(record, dict) else None

    def save(self, cell: Cell, record: dict[str, Any]) -> None:
        """Write `cell`'s record atomically."""
        payload = {"fingerprint": cell.fingerprint(self.suite), "record": record}
        atomic_write_json(self.path(cell), payload)


def _local_task(args: tuple[Cell, StressSuite]) -> tuple[str, dict[str, Any]]:
    cell, suite = args
    return cell.key, run_cell(cell, suite)


def _run_local(
    cells: list[Cell], suite: StressSuite, workers: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    if workers <= 1 or len(cells) <= 1:
        for cell in cells:
            yield cell.key, run_cell(cell, suite)
        return
    with mp.get_context("spawn").Pool(min(workers, len(cells))) as pool:
        yield from pool.imap_unordered(_local_task, [(c, suite) for c in cells], chunksize=1)


def _checkpoint_files(source: str) -> dict[str, bytes]:
    from lnn_control.policies.checkpoint import resolve_checkpoint

    directory = resolve_checkpoint(source)
    return {
        p.name: p.read_bytes() for p in directory.iterdir() if p.suffix in {".json", ".safetensors"}
    }


def _run_ray(
    cells: list[Cell], suite: StressSuite, address: str | None, workers: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    from lnn_control.ray_backend import ray_session

    with ray_session(address, workers) as ray:
        task = ray.remote(num_cpus=1)(_ray_task)
        files = {c.policy.source: ray.put(_checkpoint_files(c.policy.source)) for c in cells}
        pending = {task.remote(c, suite, files[c.policy.source]): c.key for c in cells}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            key = pending.pop(done[0])
            yield key, ray.get(done[0])


def _ray_task(cell: Cell, suite: StressSuite, files: dict[str, bytes]) -> dict[str, Any]:
    return run_cell(cell, suite, files)


def run_sweep(
    suite: StressSuite,
    cells: list[Cell],
    out_dir: Path,
    *,
    backend: Backend = "local",
    workers: int = 2,
    address: str | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run the cells not finished yet; returns every cell's record, in `cells` order."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    store = ResultStore(out_dir, suite)
    records = {c.key: r for c in cells if (r := store.load(c)) is not None}
    pending = [c for c in cells if c.key not in records]
    by_key = {c.key: c for c in pending}
    print(f"[stress] {len(cells)} cells: {len(records)} done before, {len(pending)} to run")
    bar = tqdm(total=len(pending), desc="stress", unit="cell", disable=not progress)
    runner = (
        _run_ray(pending, suite, address, workers)
        if backend == "ray"
        else _run_local(pending, suite, workers)
    )
    for key, record in runner:
        store.save(by_key[key], record)
        records[key] = record
        bar.update()
    bar.close()
    return [records[c.key] for c in cells]
