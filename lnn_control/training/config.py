"""The imitation-learning recipe as a typed config (packaged `lane_keeping_il`, `drone_nav_il`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from lnn_control.config_io import StrictModel
from lnn_control.envs.lane.scenario import HELD_OUT_SEED_START  # never used for training data
from lnn_control.envs.world import env_ids, world
from lnn_control.training.il_stages import retrain_choices

PolicyKind = Literal["ncp", "ncp_cfc", "cnn", "lstm", "gru", "ctrnn", "cfc"]


class FiniteModel(StrictModel):
    """A config section whose numbers must be finite: `.inf` or `.nan` is a one-line error."""

    model_config = ConfigDict(allow_inf_nan=False)


class EnvSection(FiniteModel):
    """Which world, and scenario overrides (fields of `LaneScenario` or `DroneScenario`, validated
    by the env)."""

    env_id: str = Field(env_ids()[0], description="the world (lnn_control.envs.env_ids())")
    scenario: dict[str, Any] = Field(default_factory=dict)

    @field_validator("env_id")
    @classmethod
    def _known_world(cls, env_id: str) -> str:
        return world(env_id).env_id  # ValueError names the known worlds

    @property
    def action_dim(self) -> int:
        """Actions of the world (lane keeping: steering; drone: vx, vy, vz, yaw rate)."""
        return world(self.env_id).action_size

    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, 3) of the camera: the scenario's overrides, else the world's default."""
        height, width, _ = world(self.env_id).image_shape
        return (
            int(self.scenario.get("image_height", height)),
            int(self.scenario.get("image_width", width)),
            3,
        )


class CollectSection(FiniteModel):
    """Expert demonstrations with noise injection (the executed action is perturbed; the
    expert's clean label is what the policy learns)."""

    expert: str = Field("pure_pursuit", description="one of the world's experts")
    noise_std: float = Field(0.3, ge=0.0, le=1.0)
    noise_correlation: float = Field(0.8, ge=0.0, lt=1.0)
    episodes: int = Field(40, ge=1)
    episode_steps: int = Field(400, ge=10, description="control steps per episode (20 Hz)")
    seed_start: int = Field(0, ge=0, lt=HELD_OUT_SEED_START)
    workers: int = Field(2, ge=1, le=64)


class AugmentSection(FiniteModel):
    """Training-time image augmentation, recorded in the model card. Mild and photometric: it is
    not the stress suite (no blur, weather or strong noise)."""

    gamma: float = Field(0.3, ge=0.0, le=1.0, description="max |log gamma| of a gamma change")
    colour: float = Field(0.1, ge=0.0, le=0.5, description="max per-channel gain change")
    noise_std: float = Field(0.02, ge=0.0, le=0.2, description="Gaussian pixel noise on [0, 1]")


class TrainSection(FiniteModel):
    """Sequence behaviour cloning with truncated BPTT."""

    policy: PolicyKind = "ncp"
    seed: int = Field(0, ge=0)
    epochs: int = Field(8, ge=1)
    window: int = Field(32, ge=2, le=256, description="steps per TBPTT window")
    burn_in: int = Field(
        8,
        ge=0,
        description="steps at the start of a mid-episode window "
        "whose loss is masked while the state warms up",
    )
    batch_size: int = Field(16, ge=1)
    lr: float = Field(2e-3, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    grad_clip: float = Field(1.0, gt=0.0)
    curvature_weight: float = Field(
        2.0, ge=0.0, description="loss weight 1 + this x |curvature (1/m)| / 0.4"
    )
    augment: AugmentSection = Field(default_factory=AugmentSection)
    threads: int = Field(2, ge=1, description="torch threads for training")


class DaggerSection(FiniteModel):
    """DAgger: the learner drives, the expert labels the states it visits, retrain."""

    rounds: int = Field(1, ge=0)
    episodes: int = Field(10, ge=1)
    episode_steps: int = Field(400, ge=10)
    epochs: int = Field(3, ge=1, description="epochs of training on the aggregate per round")
    seed_start: int = Field(500_000, ge=0, lt=HELD_OUT_SEED_START)


class EvalSection(FiniteModel):
    """Closed-loop evaluation on held-out seeds under the intervention protocol."""

    seed_start: int = Field(HELD_OUT_SEED_START, ge=HELD_OUT_SEED_START)
    seeds: int = Field(5, ge=1)
    distance_m: float = Field(200.0, gt=0.0, description="road length driven per seed")
    workers: int = Field(2, ge=1, le=64)


class ILConfig(FiniteModel):
    """The whole imitation recipe: collect -> train -> DAgger -> evaluate."""

    run_dir: str = "runs/lane_il"
    data_from: str | None = Field(
        None,
        description="another run directory whose data/ (expert and DAgger shards) is reused "
        "instead of collecting: every policy of a comparison then learns from the same frames",
    )
    env: EnvSection = Field(default_factory=EnvSection)
    collect: CollectSection = Field(default_factory=CollectSection)
    train: TrainSection = Field(default_factory=TrainSection)
    dagger: DaggerSection = Field(default_factory=DaggerSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    retrain_from: str | None = Field(
        None,
        description="retrain this stage (expert, bc or dagger_<r>) and every later one, "
        "removing their old results; a run directory otherwise refuses a changed recipe",
    )

    @field_validator("retrain_from")
    @classmethod
    def _a_stage_of_this_recipe(cls, value: str | None, info: ValidationInfo) -> str | None:
        dagger, data_from = info.data.get("dagger"), info.data.get("data_from")
        if value is None or dagger is None:
            return value
        allowed = retrain_choices(dagger.rounds, data_from)
        if value not in allowed:
            why = f" (the data belongs to data_from {data_from})" if data_from else ""
            raise ValueError(
                f"retrain_from {value!r} is not a stage this recipe trains{why}; "
                f"allowed: {', '.join(allowed)}"
            )
        return value

    @model_validator(mode="after")
    def _expert_fits_the_world(self) -> ILConfig:
        experts = world(self.env.env_id).experts
        if self.collect.expert not in experts:
            raise ValueError(
                f"collect.expert {self.collect.expert!r} does not drive {self.env.env_id}; "
                f"use one of {', '.join(experts)}"
            )
        return self
