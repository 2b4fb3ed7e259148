# The two commands for a fresh machine are `make demo` and `make test`.
# Every target bootstraps .venv when missing: torch==2.13.0 first (a CPU wheel; an unpinned
# torch would pull a multi-GB CUDA build), then the project; `make demo` needs only the project,
# the checks add the dev extras (test tools, Ray, ROS 2 and MAVLink wheels, sb3-contrib).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.installed-base
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test lint format typecheck pytest bench venv clean

venv: $(STAMP)

$(BASE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE_STAMP)

$(STAMP): $(BASE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(BASE_STAMP)
	$(BIN)/lnn-control demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_liquid.py
	@if [ -f benchmarks/bench_envs.py ]; then $(BIN)/python benchmarks/bench_envs.py; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
