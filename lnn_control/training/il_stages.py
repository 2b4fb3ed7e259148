"""The stages of the imitation recipe, the config keys each depends on, and their records.

    expert (data) -> bc (train) -> dagger_1 (data, driven by bc) -> dagger_1 (train) -> ...

A dataset's record is in its index.json (and in stage.json while it is collected); a training
stage's in its done.json (and stage.json while it trains). `check_run` compares every record
with the recipe before the run writes anything (see `lnn_control.training.stages`) and, with
`retrain_from`, removes the named stage and every later one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lnn_control.io_utils import read_json
from lnn_control.training.stages import (
    check_record,
    check_weights,
    checkpoint_sha256,
    file_sha256,
    flatten,
    pick,
    read_stage_file,
    refuse,
)

DONE_FILE = "done.json"
INDEX_FILE = "index.json"
WEIGHTS_FILE = "model.safetensors"
_DAGGER_DIR = re.compile(r"dagger_(\d+)")


@dataclass(frozen=True)
class Stage:
    """One stage: `name` is expert, bc or dagger_<r>; a DAgger round has a data and a train
    stage of the same name."""

    name: str
    kind: Literal["data", "train"]

    @property
    def ident(self) -> str:
        """data/<name> or checkpoints/<name>: the folder under the run directory."""
        return f"{'data' if self.kind == 'data' else 'checkpoints'}/{self.name}"


@dataclass(frozen=True)
class Found:
    """A stage's record as found on disk; `output` is the hash of what it wrote (None while
    unfinished); `partial`: an older run's record that names only some keys."""

    record: dict[str, Any]
    output: str | None
    partial: bool = False


def il_stages(rounds: int) -> list[Stage]:
    """Every stage of a recipe with `rounds` DAgger rounds, in order."""
    stages = [Stage("expert", "data"), Stage("bc", "train")]
    for r in range(1, rounds + 1):
        stages += [Stage(f"dagger_{r}", "data"), Stage(f"dagger_{r}", "train")]
    return stages


def retrain_choices(rounds: int, data_from: str | None) -> list[str]:
    """The stage names `retrain_from` accepts (data of `data_from` is that run's, not ours)."""
    names = ["bc", *(f"dagger_{r}" for r in range(1, rounds + 1))]
    return names if data_from else ["expert", *names]


def stage_keys(dump: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """The config keys (flattened, from `ILConfig.model_dump(mode="json")`) that change what
    `stage` makes. Worker and thread counts, the evaluation, run_dir, data_from and
    retrain_from change nothing a stage writes; what came before a stage reaches it through
    its inputs' hashes."""
    flat = flatten(dump)
    env = pick(flat, "env")
    if stage.kind == "data" and stage.name == "expert":
        return env | pick(flat, "collect", drop=("collect.workers",))
    if stage.kind == "data":
        expert = ("collect.expert", "collect.noise_std", "collect.noise_correlation")
        dagger = ("dagger.episodes", "dagger.episode_steps", "dagger.seed_start")
        return env | pick(flat, *expert, *dagger)
    train = env | pick(flat, "train", drop=("train.threads",))
    return train if stage.name == "bc" else train | pick(flat, "dagger.epochs")


def stage_dir(config: Any, stage: Stage) -> Path:
    """Where `stage` lives (a dataset of `data_from` lives in that run)."""
    root = config.data_from if stage.kind == "data" and config.data_from else config.run_dir
    return Path(root) / stage.ident


def ours(config: Any, stage: Stage) -> bool:
    """Whether this run makes `stage` (not so for datasets read from `data_from`)."""
    return not (stage.kind == "data" and config.data_from)


def data_sha256(directory: Path) -> str:
    """The hash of a finished dataset: that of its index.json (which lists every shard's)."""
    return file_sha256(directory / INDEX_FILE)


def weights_sha256(directory: Path) -> str:
    """The weights hash a finished training stage recorded (older runs: its checkpoint's)."""
    done = read_json(directory / DONE_FILE, "stage marker")
    return str(done.get("weights_sha256") or checkpoint_sha256(directory))


def inputs_for(stage: Stage, outputs: dict[str, str | None]) -> dict[str, str | None]:
    """What `stage` is made from, by ident, given the outputs of the stages before it."""
    if stage.name == "expert":
        return {}
    previous = "checkpoints/bc" if stage.name == "dagger_1" else _previous_train(stage)
    if stage.kind == "data":
        return {"learner": outputs.get(previous)}
    data = {k: v for k, v in outputs.items() if k.startswith("data/")}
    return data if stage.name == "bc" else data | {"init": outputs.get(previous)}


def _previous_train(stage: Stage) -> str:
    match = _DAGGER_DIR.fullmatch(stage.name)
    r = int(match.group(1)) if match else 1
    return f"checkpoints/dagger_{r - 1}"


def find_record(config: Any, stage: Stage) -> Found | None:
    """The record of `stage` in this run, or None when the stage has not started."""
    directory = stage_dir(config, stage)
    done = directory / (INDEX_FILE if stage.kind == "data" else DONE_FILE)
    if done.is_file():
        marker = read_json(done, "stage marker")
        if "stage" in marker:
            output = data_sha256(directory) if stage.kind == "data" else marker["weights_sha256"]
            return Found(marker["stage"], output)
        return _legacy(directory, stage, marker)
    started = read_stage_file(directory)
    return None if started is None else Found(started, None)


def _legacy(directory: Path, stage: Stage, marker: dict[str, Any]) -> Found:
    """A stage finished before records existed: its recipe as far as its files tell it."""
    if stage.kind == "data":
        return Found({"keys": legacy_data_keys(marker, stage)}, data_sha256(directory), True)
    checkpoint = read_json(directory / "config.json", "checkpoint config")
    made_by = (checkpoint.get("provenance") or {}).get("config")
    keys = stage_keys(made_by, stage) if isinstance(made_by, dict) else {}
    return Found({"keys": keys}, str(checkpoint.get("weights_sha256")))


def legacy_data_keys(index: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """The recipe keys an older dataset index records (env, expert, noise, seed range)."""
    first, last = (int(v) for v in index.get("seed_range", [0, -1]))
    keys = flatten({"env": index.get("env") or {}})
    keys["collect.expert"] = index.get("expert")
    keys["collect.noise_correlation"] = index.get("noise_correlation")
    section = "collect" if stage.name == "expert" else "dagger"
    keys[f"{section}.seed_start"], keys[f"{section}.episodes"] = first, last - first + 1
    if stage.name == "expert":
        keys["collect.noise_std"] = index.get("noise_std")
    return keys


def check_run(config: Any) -> None:
    """Refuse (StaleRunError, one line) a run directory whose stages another recipe made, whose
    inputs changed or whose weights were replaced; with `retrain_from`, check the stages before
    it and remove that stage, every later one, policy/ and eval/. Writes nothing else."""
    run_dir = Path(config.run_dir)
    dump = config.model_dump(mode="json")
    outputs: dict[str, str | None] = {}
    for stage in il_stages(config.dagger.rounds):
        if stage.name == config.retrain_from and ours(config, stage):
            clear_from(config, stage)
            return
        if not ours(config, stage):
            index = stage_dir(config, stage) / INDEX_FILE
            outputs[stage.ident] = data_sha256(index.parent) if index.is_file() else None
            continue
        found = find_record(config, stage)
        outputs[stage.ident] = None if found is None else found.output
        if found is None:
            continue
        check_found(run_dir, stage, found, stage_keys(dump, stage), inputs_for(stage, outputs))


def check_found(
    run_dir: Path, stage: Stage, found: Found, keys: dict[str, Any], inputs: dict[str, Any]
) -> None:
    """StaleRunError unless `found` is this recipe's record, from these inputs, and (for a
    finished training stage) its weights file still has the recorded hash."""
    if not found.record.get("keys"):
        raise refuse(run_dir, stage.name, "predates recipe records and its recipe cannot be read")
    check_record(run_dir, stage.name, found.record, keys, inputs, partial=found.partial)
    if stage.kind == "train" and found.output is not None:
        check_weights(run_dir, stage.name, run_dir / stage.ident / WEIGHTS_FILE, found.output)


def clear_from(config: Any, stage: Stage) -> None:
    """Remove `stage` and every later stage this run made, and policy/ and eval/."""
    run_dir = Path(config.run_dir)
    stages = il_stages(config.dagger.rounds)
    doomed = [run_dir / s.ident for s in stages[stages.index(stage) :] if ours(config, s)]
    first_round = int(stage.name.split("_")[1]) if stage.name.startswith("dagger_") else 1
    for folder in ("data", "checkpoints"):  # rounds of an earlier, longer recipe
        for path in sorted((run_dir / folder).glob("dagger_*")):
            match = _DAGGER_DIR.fullmatch(path.name)
            late = match is not None and int(match.group(1)) >= first_round
            if late and (folder == "checkpoints" or not config.data_from):
                doomed.append(path)
    doomed += [run_dir / "policy", run_dir / "eval"]
    removed = [p for p in dict.fromkeys(doomed) if p.exists()]
    for path in removed:
        shutil.rmtree(path)
    names = ", ".join(str(p.relative_to(run_dir)) for p in removed) or "nothing"
    print(f"[retrain_from={stage.name}] removed {names} from {run_dir}")
