"""The imitation recipe end to end: `main(config)` collects, trains, runs DAgger and evaluates.

    from lnn_control.config_io import load_config
    from lnn_control.training.config import ILConfig
    from lnn_control.training.imitation import main
    main(load_config(ILConfig, "configs/lane_keeping_il.yaml", ["train.epochs=2"]))

Run directory (every stage is resumable; a finished stage is not redone):

    run_dir/config.yaml            the resolved config
    run_dir/data/expert/           expert demonstrations (shards + index.json)
    run_dir/data/dagger_<r>/       states visited by the learner, labelled by the expert
                                   (with `data_from: <other run>` both are read from that run,
                                   so baselines learn from exactly the NCP's frames)
    run_dir/checkpoints/<stage>/   policy checkpoint + optimiser state after every epoch
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
from lnn_control.eval.evaluate import evaluate, scenario_for_distance
from lnn_control.io_utils import atomic_write_bytes
from lnn_control.training.bc import train_bc
from lnn_control.training.collect import collect_demonstrations
from lnn_control.training.config import ILConfig
from lnn_control.training.model_card import write_model_card
from lnn_control.training.shards import load_stream, read_index


def _collect(config: ILConfig, name: str, **kwargs: Any) -> Path:
    """The dataset `name` (expert, dagger_<r>): collected into run_dir/data, or reused."""
    source = Path(config.data_from) if config.data_from else Path(config.run_dir)
    out_dir = source / "data" / name
    if (out_dir / "index.json").is_file():
        print(f"[collect] reusing {out_dir} ({read_index(out_dir)['frames']} frames)")
        return out_dir
    if config.data_from:
        raise SystemExit(
            f"data_from={config.data_from}: {out_dir}/index.json not found; run that "
            "recipe first, or drop data_from to collect this run's own data"
        )
    return collect_demonstrations(config.env, config.collect, out_dir, **kwargs)


def _stage(
    config: ILConfig,
    policy: Any,
    data: list[Path],
    name: str,
    epochs: int,
    writer: Any,
    started: float,
) -> Path:
    from lnn_control.policies import load_checkpoint, save_checkpoint

    out_dir = Path(config.run_dir) / "checkpoints" / name
    done = out_dir / "done.json"
    if (out_dir / "model.safetensors").is_file():  # finished, or interrupted after an epoch
        loaded, _ = load_checkpoint(out_dir)
        policy.load_state_dict(loaded.state_dict())
    if done.is_file():
        print(f"[{name}] already trained: {out_dir}")
        return out_dir
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
    atomic_write_bytes(done, (json.dumps(summary, indent=2) + "\n").encode())
    return out_dir


def main(config: ILConfig, command: str | None = None) -> dict[str, Any]:
    """Run the whole recipe; returns {"policy_dir", "summary", "data_frames", "train_seconds"}."""
    from torch.utils.tensorboard import SummaryWriter

    from lnn_control.policies import build_policy, save_checkpoint

    started = time.perf_counter()
    torch.set_num_threads(config.train.threads)
    run_dir = Path(config.run_dir)
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
        stage_dir = _stage(config, policy, data, f"dagger_{r}", dagger.epochs, writer, started)
    writer.close()
    train_seconds = sum(
        json.loads((p / "done.json").read_text())["seconds"]
        for p in (run_dir / "checkpoints").iterdir()
        if (p / "done.json").is_file()
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
    scenario = dict(config.env.scenario)
    if not config.env.is_drone:  # a lane-keeping road of distance_m; a flight ends by itself
        scenario = scenario_for_distance(scenario, ev.distance_m)
    seeds = range(ev.seed_start, ev.seed_start + ev.seeds)
    result = evaluate(
        policy, config.env.env_id, seeds, env_kwargs={"scenario": scenario}, workers=ev.workers
    )
    result.save(run_dir / "eval")
    print("[eval] " + ", ".join(f"{k} {v:.4g}" for k, v in result.summary.items()))
    return result
