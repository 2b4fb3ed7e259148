"""The imitation recipe end to end: `main(config)` collects, trains, runs DAgger and evaluates.

    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig
    from lnn_control.training.imitation import main
    main(load_config(ILConfig, "lane_keeping_il", ["train.epochs=2"]))

Run directory (every stage is resumable; a finished stage is not redone; a run directory holds
one recipe: a rerun whose recipe changes a finished or started stage is refused in one line that
names the changed keys, unless `retrain_from=<stage>` asks to redo that stage and the later ones;
see `lnn_control.training.il_stages`):

    run_dir/config.yaml            the resolved config
    run_dir/data/expert/           expert demonstrations (shards + index.json)
    run_dir/data/dagger_<r>/       states visited by the learner, labelled by the expert
                                   (with `data_from: <other run>` both are read from that run,
                                   so baselines learn from exactly the NCP's frames)
    run_dir/checkpoints/<stage>/   policy checkpoint + committed training state after every
                                   epoch; stage.json (its recipe), done.json when finished
    run_dir/policy/                the final policy checkpoint and its MODEL_CARD.md
    run_dir/eval/                  held-out closed-loop results (episodes.csv, summary.json)
    run_dir/tb/                    TensorBoard logs
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from lnn_control.config_io import dump_config
from lnn_control.envs.world import world
from lnn_control.io_utils import atomic_write_bytes, atomic_write_json
from lnn_control.rollout.evaluate import evaluate
from lnn_control.training import il_stages as stages
from lnn_control.training.bc import train_bc
from lnn_control.training.collect import collect_demonstrations
from lnn_control.training.config import ILConfig
from lnn_control.training.model_card import write_model_card
from lnn_control.training.shards import load_stream, read_index
from lnn_control.training.stages import STAGE_FILE, file_sha256, stage_record


def _collect(config: ILConfig, name: str, **kwargs: Any) -> Path:
    """The dataset `name` (expert, dagger_<r>): collected into run_dir/data, or reused when
    this recipe made it (StaleRunError otherwise)."""
    stage = stages.Stage(name, "data")
    out_dir = stages.stage_dir(config, stage)
    if config.data_from and not (out_dir / "index.json").is_file():
        raise SystemExit(
            f"data_from={config.data_from}: {out_dir}/index.json not found; run that "
            "recipe first, or drop data_from to collect this run's own data"
        )
    if config.data_from:
        print(f"[collect] reusing {out_dir} ({read_index(out_dir)['frames']} frames)")
        return out_dir
    learner = kwargs.get("learner_dir")
    inputs = {} if learner is None else {"learner": stages.weights_sha256(Path(learner))}
    keys = stages.stage_keys(config.model_dump(mode="json"), stage)
    found = stages.find_record(config, stage)
    if found is not None:
        stages.check_found(Path(config.run_dir), stage, found, keys, inputs)
    if (out_dir / "index.json").is_file():
        print(f"[collect] reusing {out_dir} ({read_index(out_dir)['frames']} frames)")
        return out_dir
    record = stage_record(name, keys, inputs)
    atomic_write_json(out_dir / STAGE_FILE, record)
    return collect_demonstrations(config.env, config.collect, out_dir, record=record, **kwargs)


def _load_stage_weights(policy: Any, out_dir: Path) -> None:
    """The finished stage's weights into `policy` (hash, names and shapes checked)."""
    from lnn_control.checkpoint_io import load_into, read_checkpoint

    _, tensors = read_checkpoint(out_dir, "checkpoint")
    load_into(policy, tensors, out_dir)


def _stage(
    config: ILConfig,
    policy: Any,
    data: list[Path],
    name: str,
    epochs: int,
    writer: Any,
    started: float,
    init_dir: Path | None = None,
) -> Path:
    """Train stage `name` on `data` (from `init_dir`'s weights, which `policy` holds), or
    load it when this recipe finished it already (StaleRunError when another recipe made it)."""
    from lnn_control.policies import save_checkpoint

    stage = stages.Stage(name, "train")
    out_dir = stages.stage_dir(config, stage)
    inputs = {f"data/{d.name}": stages.data_sha256(d) for d in data}
    if init_dir is not None:
        inputs["init"] = stages.weights_sha256(init_dir)
    keys = stages.stage_keys(config.model_dump(mode="json"), stage)
    found = stages.find_record(config, stage)
    if found is not None:
        stages.check_found(Path(config.run_dir), stage, found, keys, inputs)
        if found.output is not None:
            _load_stage_weights(policy, out_dir)
            print(f"[{name}] already trained: {out_dir}")
            return out_dir
    elif out_dir.exists():  # an older run's unfinished stage: its recipe is unknown
        print(f"[{name}] {out_dir} holds an unfinished stage of unknown recipe: starting over")
        shutil.rmtree(out_dir)
    record = stage_record(name, keys, inputs)
    atomic_write_json(out_dir / STAGE_FILE, record)
    stream = load_stream(data)
    print(
        f"[{name}] {len(stream)} frames in {stream.episodes} episodes from {len(data)} dataset(s)"
    )

    def save(p: Any, directory: Path, extra: dict[str, Any]) -> None:
        save_checkpoint(
            p,
            directory,
            env_id=config.env.env_id,
            metrics=extra,
            provenance={"stage": name, "config": config.model_dump(mode="json")},
        )

    summary = train_bc(
        policy, stream, config.train, out_dir, epochs=epochs, save=save, writer=writer, tag=name
    )
    summary["frames"] = float(len(stream))
    summary["wall_s_since_start"] = time.perf_counter() - started
    summary["stage"] = record
    summary["weights_sha256"] = file_sha256(out_dir / stages.WEIGHTS_FILE)
    atomic_write_bytes(out_dir / stages.DONE_FILE, (json.dumps(summary, indent=2) + "\n").encode())
    return out_dir


def main(config: ILConfig, command: str | None = None) -> dict[str, Any]:
    """Run the whole recipe; returns {"policy_dir", "summary", "data_frames", "train_seconds"}."""
    from torch.utils.tensorboard import SummaryWriter

    from lnn_control.policies import build_policy, save_checkpoint

    started = time.perf_counter()
    torch.set_num_threads(config.train.threads)
    run_dir = Path(config.run_dir)
    stages.check_run(config)  # before anything is written: refuses a stale run directory
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(run_dir / "config.yaml", dump_config(config).encode())
    writer = SummaryWriter(str(run_dir / "tb"))
    policy = build_policy(
        config.train.policy,
        image_shape=config.env.image_shape(),
        action_dim=config.env.action_dim,
        seed=config.train.seed,
    )
    data = [_collect(config, "expert")]
    stage_dir = _stage(config, policy, data, "bc", config.train.epochs, writer, started)
    for r in range(1, config.dagger.rounds + 1):
        dagger = config.dagger
        data.append(
            _collect(
                config,
                f"dagger_{r}",
                learner_dir=stage_dir,
                seed_start=dagger.seed_start + (r - 1) * dagger.episodes,
                episodes=dagger.episodes,
                steps=dagger.episode_steps,
            )
        )
        stage_dir = _stage(
            config, policy, data, f"dagger_{r}", dagger.epochs, writer, started, stage_dir
        )
    writer.close()
    train_seconds = sum(
        json.loads((run_dir / s.ident / stages.DONE_FILE).read_text())["seconds"]
        for s in stages.il_stages(config.dagger.rounds)
        if s.kind == "train"
    )
    frames = sum(read_index(d)["frames"] for d in data)
    result = _evaluate(config, policy, run_dir)
    policy_dir = run_dir / "policy"
    shutil.rmtree(policy_dir, ignore_errors=True)
    provenance = {
        "command": command or " ".join(sys.argv),
        "config": config.model_dump(mode="json"),
        "training_seeds": [read_index(d)["seed_range"] for d in data],
        "data_dirs": [str(d) for d in data],
        "data_frames": frames,
        "train_seconds": train_seconds,
        "augmentation": config.train.augment.model_dump(),
    }
    metrics = {"eval_seed_range": list(result.seed_range), **result.summary}
    save_checkpoint(
        policy, policy_dir, env_id=config.env.env_id, provenance=provenance, metrics=metrics
    )
    write_model_card(policy, policy_dir, provenance, metrics)
    print(f"[done] policy in {policy_dir} after {time.perf_counter() - started:.0f} s")
    return {
        "policy_dir": policy_dir,
        "summary": result.summary,
        "data_frames": frames,
        "train_seconds": train_seconds,
    }


def _evaluate(config: ILConfig, policy: Any, run_dir: Path) -> Any:
    ev = config.eval
    # a lane-keeping road of distance_m; a flight ends by itself (the World knows which)
    scenario = world(config.env.env_id).scenario_for(config.env.scenario, ev.distance_m)
    seeds = range(ev.seed_start, ev.seed_start + ev.seeds)
    result = evaluate(
        policy, config.env.env_id, seeds, env_kwargs={"scenario": scenario}, workers=ev.workers
    )
    result.save(run_dir / "eval")
    print("[eval] " + ", ".join(f"{k} {v:.4g}" for k, v in result.summary.items()))
    return result
