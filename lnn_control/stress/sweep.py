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
import tempfile
from pathlib import Path
from typing import Any

from lnn_control.envs.world import world
from lnn_control.io_utils import atomic_write_json, check_label, path_inside
from lnn_control.rollout.parallel import BACKENDS, Backend, parallel_map
from lnn_control.stress.suite import Cell, PolicySpec, StressSuite

_POLICIES: dict[str, Any] = {}  # per worker process: loaded policies by weights hash / source


def policy_spec(label: str, source: str) -> PolicySpec:
    """A `PolicySpec` for the checkpoint at `source` (directory or pretrained:<name>), with its
    weights hash and the scenario it was trained in (one-line errors from the checkpoint io)."""
    from lnn_control.io_utils import read_json
    from lnn_control.policies.checkpoint import resolve_checkpoint, training_scenario

    check_label(label, "policy label")  # names the policy's result folder
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
    """Scenario overrides for `cell`: the policy's training scenario, the suite's overrides, one
    episode of `suite.distance_m` (worlds whose episodes end on their own ignore it), then the
    cell's shift (if it is one of the world's shifts)."""
    the_world = world(suite.env_id)
    base = the_world.scenario_for({**cell.policy.scenario, **suite.scenario}, suite.distance_m)
    if cell.perturbation in the_world.shifts:
        return the_world.shift_scenario(cell.perturbation, cell.severity, base)
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
    from lnn_control.rollout.episode import run_episode

    torch.set_num_threads(1)
    wrappers = []
    if cell.perturbation in PERTURBATIONS:
        params = json.loads(cell.params_json)
        wrappers.append(make_wrapper(cell.perturbation, cell.severity, **params))
    episode = run_episode(
        _load(cell.policy, files),
        suite.env_id,
        cell.seed,
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
        self.out_dir = out_dir
        self.root = out_dir / "cells"
        self.suite = suite

    def path(self, cell: Cell) -> Path:
        """Where `cell`'s result lives; its policy and condition labels must be plain names
        (`check_label`) and the path must stay inside the output directory (ValueError)."""
        check_label(cell.policy.label, "policy label")
        check_label(cell.condition, "condition label")
        return path_inside(self.root, f"{cell.key}.json")

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
        atomic_write_json(self.path(cell), payload, root=self.out_dir)


def _checkpoint_files(source: str) -> dict[str, bytes]:
    from lnn_control.policies.checkpoint import resolve_checkpoint

    directory = resolve_checkpoint(source)
    return {
        p.name: p.read_bytes() for p in directory.iterdir() if p.suffix in {".json", ".safetensors"}
    }


def _cell_job(
    job: tuple[Cell, StressSuite], files: dict[str, dict[str, bytes]] | None = None
) -> dict[str, Any]:
    """One cell in a worker; `files` (Ray): each policy source's checkpoint files."""
    cell, suite = job
    return run_cell(cell, suite, None if files is None else files[cell.policy.source])


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
    for cell in cells:  # every label is checked before anything is run or written
        store.path(cell)
    records = {c.key: r for c in cells if (r := store.load(c)) is not None}
    pending = [c for c in cells if c.key not in records]
    print(f"[stress] {len(cells)} cells: {len(records)} done before, {len(pending)} to run")
    # On Ray the checkpoints travel with the tasks (a cluster's nodes may not share files).
    shared = None
    if backend == "ray":
        sources = {c.policy.source for c in pending}
        shared = {"files": {source: _checkpoint_files(source) for source in sources}}
    jobs = [(cell, suite) for cell in pending]
    runner = parallel_map(
        _cell_job, jobs, workers=workers, backend=backend, address=address, shared=shared,
        desc="stress" if progress else None, unit="cell",
    )  # fmt: skip
    for index, record in runner:
        store.save(pending[index], record)
        records[pending[index].key] = record
    return [records[c.key] for c in cells]
