"""Stage records: which recipe made each stage of a run directory, and what the stage wrote.

A run directory holds one recipe. Every stage (a dataset, a training stage, a PPO run) records
the config keys that affect it (`keys`, flattened to dotted names), the hashes of what it was
made from (`inputs`: datasets, the weights it started from or that drove it) and, once done, the
hash of what it wrote. A rerun compares the records with its own recipe before it writes
anything: a difference is a one-line `StaleRunError` naming the changed keys and the two ways
on (a new run_dir, or `--set retrain_from=<stage>`). Old weights never continue under a new
recipe's name.

    record = stage_record("bc", keys, {"data/expert": "3fa1..."})
    check_record(run_dir, "bc", recorded, record["keys"], record["inputs"])
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lnn_control.io_utils import read_json, sha256_bytes

STAGE_FILE = "stage.json"
"""Written into a stage's directory when the stage starts: its record, before any artefact."""
SHOWN_CHANGES = 6
"""Changed keys listed in a refusal before "and N more"."""


class StaleRunError(ValueError):
    """A run directory's stage was made by another recipe, from other inputs, or its files no
    longer match its record (a one-line message that says how to go on)."""


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as {"a.b.c": value}; empty dicts vanish, lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def pick(flat: dict[str, Any], *prefixes: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keys of `flat` equal to or under one of `prefixes`, except those in `drop`."""
    return {
        key: value
        for key, value in flat.items()
        if key not in drop and any(key == p or key.startswith(p + ".") for p in prefixes)
    }


def normalised(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as it reads back from JSON (tuples become lists), for comparisons."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return loaded


def stage_record(name: str, keys: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """The record of stage `name`: {"name", "keys", "inputs"}."""
    return {"name": name, "keys": normalised(keys), "inputs": dict(sorted(inputs.items()))}


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return sha256_bytes(Path(path).read_bytes())


def read_stage_file(directory: Path) -> dict[str, Any] | None:
    """The record in `directory/stage.json`, or None."""
    path = directory / STAGE_FILE
    return read_json(path, "stage record") if path.is_file() else None


def changed_keys(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """ "key: old -> new" for every key whose value differs ("(unset)" where one side lacks it)."""
    unset = object()
    changes = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key, unset), current.get(key, unset)
        if old != new:
            show_old = "(unset)" if old is unset else repr(old)
            show_new = "(unset)" if new is unset else repr(new)
            changes.append(f"{key}: {show_old} -> {show_new}")
    return changes


def how_to_go_on(stage: str) -> str:
    """The end of every refusal: the two ways on."""
    return (
        f"start fresh with a new run_dir, or retrain from that stage (and redo the later ones) "
        f"with --set retrain_from={stage}"
    )


def refuse(run_dir: Path, stage: str, problem: str) -> StaleRunError:
    """The one-line error for `stage` of `run_dir`."""
    return StaleRunError(f"{run_dir}: stage '{stage}' {problem}; {how_to_go_on(stage)}")


def check_record(
    run_dir: Path,
    stage: str,
    recorded: dict[str, Any],
    keys: dict[str, Any],
    inputs: dict[str, str] | None,
    *,
    partial: bool = False,
) -> None:
    """Raise StaleRunError unless `recorded` (a stage record) has these keys and inputs.

    `inputs` None: not known here (not compared). `partial`: the record lists only some keys
    (an older run's record read back from what it kept); only those are compared."""
    current = normalised(keys)
    old_keys = recorded.get("keys") or {}
    if partial:
        current = {k: v for k, v in current.items() if k in old_keys}
    changes = changed_keys(old_keys, current)
    if changes:
        shown = ", ".join(changes[:SHOWN_CHANGES])
        more = f" and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
        raise refuse(run_dir, stage, f"was made by another recipe ({shown}{more})")
    old_inputs = recorded.get("inputs")
    if inputs is not None and old_inputs is not None and old_inputs != inputs:
        names = sorted(
            k for k in set(old_inputs) | set(inputs) if old_inputs.get(k) != inputs.get(k)
        )
        raise refuse(run_dir, stage, f"was made from other inputs ({', '.join(names)} changed)")


def check_weights(run_dir: Path, stage: str, weights: Path, expected_sha256: str | None) -> str:
    """The SHA-256 of `weights`; StaleRunError when it is not the hash the stage recorded."""
    if not weights.is_file():
        raise refuse(run_dir, stage, f"is marked done but {weights} is missing")
    digest = file_sha256(weights)
    if digest != expected_sha256:
        raise refuse(
            run_dir,
            stage,
            f"is marked done but {weights} does not match the weights_sha256 of its record "
            "(replaced or corrupt)",
        )
    return digest


def checkpoint_sha256(directory: Path) -> str:
    """The weights hash a checkpoint directory's config.json records."""
    return str(read_json(directory / "config.json", "checkpoint config").get("weights_sha256"))


PPO_STAGE = "ppo"
PPO_RESULTS = ("sb3_model.zip", "eval.csv", "train_seconds.json", "policy", STAGE_FILE)
"""What a PPO run directory holds that `retrain_from: ppo` removes (tb/ logs stay)."""
_PPO_FREE_KEYS = ("run_dir", "retrain_from", "algorithm", "ppo.total_steps", "ppo.threads")


def ppo_keys(dump: dict[str, Any]) -> dict[str, Any]:
    """The keys of a PPO recipe that change what it trains: all but run_dir, the thread count,
    the evaluation and total_steps (a run may be continued to more steps)."""
    flat = flatten(dump)
    return {k: v for k, v in flat.items() if k not in _PPO_FREE_KEYS and not k.startswith("eval.")}


def prepare_ppo_run(config: Any) -> dict[str, Any]:
    """Refuse (StaleRunError) a PPO run directory another recipe or another init checkpoint
    made; with `retrain_from: ppo` remove its results instead. Returns this recipe's record,
    for the caller to write as run_dir/stage.json before training."""
    run_dir = Path(config.run_dir)
    inputs: dict[str, str] = {}
    if config.init is not None:
        from lnn_control.policies.checkpoint import resolve_checkpoint

        inputs["init"] = checkpoint_sha256(resolve_checkpoint(config.init))
    record = stage_record(PPO_STAGE, ppo_keys(config.model_dump(mode="json")), inputs)
    if config.retrain_from == PPO_STAGE:
        removed = [name for name in PPO_RESULTS if (run_dir / name).exists()]
        for name in removed:
            path = run_dir / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        print(f"[retrain_from=ppo] removed {', '.join(removed) or 'nothing'} from {run_dir}")
        return record
    recorded = read_stage_file(run_dir)
    if recorded is None and (run_dir / "sb3_model.zip").is_file():
        recorded = {"keys": _legacy_ppo_keys(run_dir)}  # a run from before records
    if recorded is not None:
        if not recorded.get("keys"):
            raise refuse(
                run_dir, PPO_STAGE, "predates recipe records and its recipe cannot be read"
            )
        check_record(run_dir, PPO_STAGE, recorded, record["keys"], inputs)
    return record


def _legacy_ppo_keys(run_dir: Path) -> dict[str, Any]:
    """The recipe keys of an older PPO run, from the config.yaml it wrote when it started."""
    import yaml

    path = run_dir / "config.yaml"
    try:
        dump = yaml.safe_load(path.read_text()) if path.is_file() else None
    except yaml.YAMLError:
        dump = None
    return ppo_keys(dump) if isinstance(dump, dict) else {}
