"""Shared test setup: deterministic torch, one thread (as CI and the benchmarks run)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded_torch() -> None:
    torch.manual_seed(0)


def pytest_configure(config: pytest.Config) -> None:
    torch.set_num_threads(1)
