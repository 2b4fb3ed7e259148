"""The one parallel map: in process, local processes (that may start their own), and errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lnn_control.rollout.parallel import map_ordered, parallel_map

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawned workers import this module by name: put the repository root on their path."""
    monkeypatch.syspath_prepend(str(ROOT))  # spawn hands the parent's sys.path to its children


def square_plus(job: int, offset: int = 0) -> int:
    return job * job + offset


def pid_and_child(job: int) -> tuple[int, int]:
    """This worker's pid and the result of a pool it starts itself (non-daemonic workers)."""
    results = map_ordered(square_plus, [job, job + 1], workers=2)
    return os.getpid(), results[1]


def fail_on_three(job: int) -> int:
    if job == 3:
        raise RuntimeError("job 3 failed")
    return job


def test_in_process_and_ordered() -> None:
    assert map_ordered(square_plus, [1, 2, 3], shared={"offset": 1}) == [2, 5, 10]
    assert sorted(parallel_map(square_plus, [4, 5])) == [(0, 16), (1, 25)]


@pytest.mark.slow
@pytest.mark.usefixtures("importable_tests")
def test_local_processes_may_start_their_own_pool() -> None:
    results = map_ordered(pid_and_child, [1, 2], workers=2)
    assert [child for _, child in results] == [4, 9]
    assert all(pid != os.getpid() for pid, _ in results)


@pytest.mark.slow
@pytest.mark.usefixtures("importable_tests")
def test_a_failed_job_raises_its_error() -> None:
    with pytest.raises(RuntimeError, match="job 3 failed"):
        map_ordered(fail_on_three, [1, 2, 3, 4], workers=2)


def test_bad_options_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of local, ray"):
        map_ordered(square_plus, [1], backend="dask")
    with pytest.raises(ValueError, match="workers must be >= 1"):
        map_ordered(square_plus, [1], workers=0)
