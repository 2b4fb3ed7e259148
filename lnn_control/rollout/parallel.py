"""The one parallel map: a local process pool or Ray tasks, the same code on a laptop or a cluster.

    for index, result in parallel_map(run_one, jobs, workers=2):              # local processes
    for index, result in parallel_map(run_one, jobs, backend="ray", address="auto"):

Results come back as they finish, each with the index of its job. `fn` and the jobs must be
picklable (module-level functions, dataclasses); `shared` holds large read-only keyword
arguments that Ray puts in its object store once (locally they travel with each job).

Local workers are spawned, non-daemonic processes (`ProcessPoolExecutor`), so a job may start
its own pool (a training run that evaluates in parallel). With `workers <= 1` or one job,
everything runs in this process. On the first failed job the pending ones are cancelled and
the exception is raised.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, TypeVar

from lnn_control.progress import Progress

Backend = Literal["local", "ray"]
BACKENDS: tuple[str, ...] = ("local", "ray")
J = TypeVar("J")
R = TypeVar("R")


def parallel_map(
    fn: Callable[..., R],
    jobs: Sequence[J],
    *,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    shared: Mapping[str, Any] | None = None,
    desc: str | None = None,
    unit: str = "job",
) -> Iterator[tuple[int, R]]:
    """Yield (job index, fn(job, **shared)) for every job, in completion order.

    Args:
        fn: module-level callable.
        jobs: its first arguments.
        workers: processes (local) or CPUs of a local Ray instance.
        backend: "local" or "ray".
        address: Ray cluster address ("auto" joins a running one); None starts a local one.
        shared: keyword arguments common to every call.
        desc: progress label (None: no progress output).
        unit: what a job is called in the progress line.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    kwargs = dict(shared or {})
    with Progress(len(jobs), desc or "", unit, enabled=desc is not None) as bar:
        if backend == "ray":
            runner = _ray(fn, jobs, kwargs, workers, address)
        elif workers <= 1 or len(jobs) <= 1:
            runner = ((i, fn(job, **kwargs)) for i, job in enumerate(jobs))
        else:
            runner = _local(fn, jobs, kwargs, workers)
        for item in runner:
            bar.update()
            yield item


def map_ordered(fn: Callable[..., R], jobs: Sequence[J], **options: Any) -> list[R]:
    """`parallel_map`, collected in job order."""
    results: dict[int, R] = dict(parallel_map(fn, jobs, **options))
    return [results[i] for i in range(len(jobs))]


def _local(
    fn: Callable[..., R], jobs: Sequence[J], kwargs: dict[str, Any], workers: int
) -> Iterator[tuple[int, R]]:
    context = mp.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        futures: dict[Future[R], int] = {
            pool.submit(fn, job, **kwargs): i for i, job in enumerate(jobs)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield futures[future], future.result()
        finally:
            for future in pending:
                future.cancel()


def _ray(
    fn: Callable[..., R],
    jobs: Sequence[J],
    kwargs: dict[str, Any],
    workers: int,
    address: str | None,
) -> Iterator[tuple[int, R]]:
    from lnn_control.rollout.ray_backend import ray_session

    with ray_session(address, workers) as ray:
        task = ray.remote(num_cpus=1)(fn)
        refs = {key: ray.put(value) for key, value in kwargs.items()}
        pending = {task.remote(job, **refs): i for i, job in enumerate(jobs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(done[0])
            yield index, ray.get(done[0])
