"""The `--backend ray` session shared by stress sweeps and multi-seed training.

    with ray_session(address=None, workers=2) as ray:
        task = ray.remote(num_cpus=1)(function)

Without an address a local instance with `workers` CPUs is started (and shut down afterwards),
with its servers bound to 127.0.0.1 only; with one (e.g. "auto") a running cluster is joined.
Ray is an optional extra (`pip install 'lnn-control[ray]'`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: With this set to "0" before Ray is imported, a local Ray instance takes 127.0.0.1 as its node
#: address and binds its servers there instead of on every interface.
RAY_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def ray_session(address: str | None, workers: int) -> Iterator[Any]:
    """The `ray` module, initialised (see the module docstring); SystemExit if not installed."""
    if address is None:  # a local instance: keep every Ray server on the loopback interface
        os.environ.setdefault(RAY_LOOPBACK_ENV, "0")
    try:
        import ray
    except ImportError:
        raise SystemExit(
            "--backend ray needs Ray: pip install 'lnn-control[ray]' (or use --backend local)"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        local: dict[str, Any] = {"num_cpus": workers} if address is None else {}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **local)
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()
