"""Stress suites: which perturbations, severities, held-out seeds and roads a sweep runs.

A suite is a YAML file, packaged ones in lnn_control/configs/stress/ (validated by `StressSuite`):

    name: lane_quick
    seeds: {start: 1000000, count: 3}      # held-out seeds (>= 1,000,000)
    distance_m: 200                        # road driven per episode
    severities: [1, 3, 5]                  # default for every condition
    conditions:
      - gaussian_noise                     # a name from PERTURBATIONS or the world's shifts
      - {perturbation: fog, severities: [2, 4]}
      - {label: gaussian_variance_0.3, perturbation: gaussian_noise,
         params: {variance: 0.3}, severities: [1], in_mce: false}

`expand_cells` turns a suite and a set of policies into `Cell`s, one closed-loop episode each:
(policy, condition, severity, seed), plus the clean runs (condition "clean", severity 0).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator, model_validator

from lnn_control.config_io import StrictModel
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START
from lnn_control.envs.perturb import PERTURBATIONS
from lnn_control.envs.world import env_ids, world, worlds
from lnn_control.io_utils import check_label

CLEAN = "clean"


class SeedRange(StrictModel):
    """Held-out road seeds: start, start + 1, ..., start + count - 1."""

    start: int = Field(HELD_OUT_SEED_START, ge=HELD_OUT_SEED_START)
    count: int = Field(3, ge=1, le=10_000)


class Condition(StrictModel):
    """One perturbation (image wrapper) or scenario shift at the given severities."""

    perturbation: str
    label: str = ""
    severities: list[int] | None = None
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="wrapper parameters that override the severity table (image wrappers only)",
    )
    in_mce: bool = Field(True, description="count this condition in the mCE score")

    @field_validator("perturbation")
    @classmethod
    def _known(cls, name: str) -> str:
        shifts = [shift for w in worlds() for shift in w.shifts]
        if name not in PERTURBATIONS and name not in shifts:
            known = ", ".join([*PERTURBATIONS, *shifts])
            raise ValueError(f"unknown perturbation {name!r}; allowed: {known}")
        return name

    @field_validator("label")
    @classmethod
    def _plain_label(cls, label: str) -> str:
        # the label names the folder of the condition's results (cells/<policy>/<label>/)
        return label and check_label(label, "condition label")

    @field_validator("severities")
    @classmethod
    def _levels(cls, levels: list[int] | None) -> list[int] | None:
        if levels is not None and (not levels or any(s not in range(1, 6) for s in levels)):
            raise ValueError(f"severities must be a non-empty list of integers 1..5, got {levels}")
        return levels

    @model_validator(mode="after")
    def _fill(self) -> Condition:
        if not self.label:
            self.label = self.perturbation
        if self.params and self.kind != "image":
            raise ValueError(f"{self.perturbation} is a scenario shift: it takes no params")
        return self

    @property
    def kind(self) -> str:
        """ "image" (a gymnasium wrapper on the camera frame) or "shift" (a scenario change of
        the suite's world)."""
        return "image" if self.perturbation in PERTURBATIONS else "shift"


class StressSuite(StrictModel):
    """A stress suite; see the module docstring."""

    name: str = "stress"
    env_id: str = Field(env_ids()[0], description="the world (`lnn-control configs`)")
    scenario: dict[str, Any] = Field(
        default_factory=dict, description="scenario overrides on top of the policy's own"
    )
    seeds: SeedRange = Field(default_factory=SeedRange)
    distance_m: float = Field(
        200.0, gt=0.0, le=100_000.0, description="road per episode (m); the drone flies to its end"
    )
    severities: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    clean: bool = Field(True, description="also run every policy unperturbed (severity 0)")
    conditions: list[Condition] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        return check_label(name, "suite name")  # the default output folder runs/stress/<name>

    @field_validator("env_id")
    @classmethod
    def _known_world(cls, env_id: str) -> str:
        return world(env_id).env_id  # ValueError names the known worlds

    @field_validator("conditions", mode="before")
    @classmethod
    def _names(cls, items: Any) -> Any:
        if isinstance(items, list):
            return [{"perturbation": c} if isinstance(c, str) else c for c in items]
        return items

    @field_validator("severities")
    @classmethod
    def _levels(cls, levels: list[int]) -> list[int]:
        return Condition._levels(levels) or []

    @model_validator(mode="after")
    def _unique(self) -> StressSuite:
        labels = [c.label for c in self.conditions]
        duplicated = sorted({x for x in labels if labels.count(x) > 1 or x == CLEAN})
        if duplicated:
            raise ValueError(f"condition labels must be unique and not 'clean': {duplicated}")
        the_world = world(self.env_id)
        wrong = [c.perturbation for c in self.conditions if c.kind == "shift"]
        wrong = [name for name in wrong if name not in the_world.shifts]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: not a shift of {self.env_id} "
                f"(its shifts: {', '.join(the_world.shifts)})"
            )
        for condition in self.conditions:  # before any cell runs
            if condition.kind == "image":
                the_world.check_perturbation(condition.perturbation)
        return self

    def levels(self, condition: Condition) -> list[int]:
        """The severities run for `condition`."""
        return condition.severities or self.severities

    def seed_list(self) -> list[int]:
        """The held-out seeds, in order."""
        return list(range(self.seeds.start, self.seeds.start + self.seeds.count))

    def condition(self, label: str) -> Condition | None:
        """The condition called `label` (None for clean)."""
        return next((c for c in self.conditions if c.label == label), None)


@dataclass(frozen=True)
class PolicySpec:
    """A policy in a sweep: its label in tables and where it is loaded from."""

    label: str
    source: str  # checkpoint directory or pretrained:<name>
    weights_sha256: str = ""
    kind: str = ""  # architecture kind: ncp, cnn, lstm, ...
    scenario: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    augmentation: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Cell:
    """One closed-loop episode of a sweep."""

    policy: PolicySpec
    condition: str  # a Condition label or CLEAN
    perturbation: str  # the wrapper / shift name, or CLEAN
    severity: int  # 0 for clean
    seed: int
    params_json: str = "{}"

    @property
    def key(self) -> str:
        """A file-name-safe identifier, unique within a sweep."""
        return f"{self.policy.label}/{self.condition}/s{self.severity}_{self.seed}"

    def fingerprint(self, suite: StressSuite) -> str:
        """Hash of everything that decides this cell's result; a stored result with another
        fingerprint is stale and is rerun."""
        payload = {
            "weights": self.policy.weights_sha256,
            "perturbation": self.perturbation,
            "params": self.params_json,
            "severity": self.severity,
            "seed": self.seed,
            "env": suite.env_id,
            "scenario": suite.scenario,
            "policy_scenario": self.policy.scenario,
            "distance_m": suite.distance_m,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def expand_cells(suite: StressSuite, policies: list[PolicySpec]) -> list[Cell]:
    """Every (policy, condition, severity, seed) cell, clean first, in a stable order."""
    cells: list[Cell] = []
    for policy in policies:
        for seed in suite.seed_list():
            if suite.clean:
                cells.append(Cell(policy, CLEAN, CLEAN, 0, seed))
            for c in suite.conditions:
                params = json.dumps(c.params, sort_keys=True)
                cells += [
                    Cell(policy, c.label, c.perturbation, s, seed, params) for s in suite.levels(c)
                ]
    return cells
