"""`explain_policy`: where a policy looks, which neurons move, which ones matter, on one episode.

For one held-out episode of any world (clean; the policy sees clean frames) it computes:

- saliency: VisualBackProp maps (the NCP paper's method) on every `stride`-th frame, and one
  gradient map per action entry at the snapshot step (where the world's `explain_trace_key`
  peaks: lane keeping's sharpest bend); overlays as PNG and an animated GIF;
- attention robustness: for each condition (a perturbation applied to the same frames), the mean
  structural similarity (SSIM) between the clean frame's and the perturbed frame's saliency maps;
- neuron activity: traces of every neuron with every action entry and the world's explain trace,
  the wiring coloured by activity at the snapshot step (wired policies), and the variance
  explained by the first principal components of the hidden state;
- optionally, ablation: each neuron clamped to 0 in turn, ranked by how much the world's quality
  metric (`World.quality_key`) worsens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from lnn_control.envs.world import World, world
from lnn_control.explain.activity import (
    ActivityTrace,
    neuron_indices,
    neuron_names,
    pca_explained_variance,
    plot_neuron_traces,
    plot_wiring_activity,
    record_activity,
)
from lnn_control.explain.saliency import gradient_saliency, overlay, visual_backprop
from lnn_control.explain.ssim import mean_ssim
from lnn_control.io_utils import atomic_write_json, check_label, path_inside

Condition = tuple[str, str, int, dict[str, float]]

#: (label, perturbation, severity, params): the NCP paper's Gaussian variances and weather.
DEFAULT_CONDITIONS: tuple[Condition, ...] = (
    ("gaussian variance 0.1", "gaussian_noise", 1, {"variance": 0.1}),
    ("gaussian variance 0.2", "gaussian_noise", 1, {"variance": 0.2}),
    ("gaussian variance 0.3", "gaussian_noise", 1, {"variance": 0.3}),
    ("fog 3", "fog", 3, {}),
    ("rain 3", "rain", 3, {}),
    ("snow 3", "snow", 3, {}),
    ("low_light 3", "low_light", 3, {}),
    ("glare 3", "glare", 3, {}),
    ("shadows 3", "shadows", 3, {}),
)
PCA_COMPONENTS = 3
GIF_FPS = 10


class _Tap(gym.ObservationWrapper[Any, Any, Any]):
    """Records each observation passing through; with `restore`, hands on `source`'s last
    recorded frame instead (so the policy above sees the clean frame)."""

    def __init__(self, env: gym.Env[Any, Any], frames: list[np.ndarray], restore: Any = None):
        super().__init__(env)
        self.frames, self.restore = frames, restore

    def observation(self, observation: Any) -> Any:
        self.frames.append(np.array(observation, dtype=np.uint8))
        return self.restore.frames[-1] if self.restore is not None else observation


@dataclass
class Explanation:
    """What `explain_policy` measured (JSON-friendly) and where it wrote its pictures."""

    label: str
    summary: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


def default_conditions(env_world: World | str) -> list[Condition]:
    """`DEFAULT_CONDITIONS` without the perturbations the world cannot render (the drone: fog)."""
    unsupported = world(env_world).unsupported_perturbations
    return [c for c in DEFAULT_CONDITIONS if c[1] not in unsupported]


def perturbed_pairs(
    policy: Any,
    env_world: World | str,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float | None,
    perturbation: str,
    severity: int,
    params: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """(clean, perturbed) frames (T, H, W, 3) of one episode on which the policy sees clean
    frames: the same episode for every condition, so only the input to the saliency differs."""
    from lnn_control.envs.perturb import make_wrapper

    world(env_world).check_perturbation(perturbation)
    clean: list[np.ndarray] = []
    noisy: list[np.ndarray] = []
    wrap = make_wrapper(perturbation, severity, **params)
    taps: dict[str, _Tap] = {}

    def tap_clean(env: Any) -> Any:
        taps["clean"] = _Tap(env, clean)
        return taps["clean"]

    def tap_noisy(env: Any) -> Any:
        return _Tap(env, noisy, restore=taps["clean"])

    record_activity(
        policy,
        env_world,
        seed,
        scenario=scenario,
        distance_m=distance_m,
        wrappers=[tap_clean, wrap, tap_noisy],
    )
    return np.stack(clean), np.stack(noisy)


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return str(path)


def _write_gif(path: Path, frames: np.ndarray, maps: np.ndarray) -> str:
    import imageio.v2 as imageio

    pictures = np.stack([np.hstack([f, overlay(f, m)]) for f, m in zip(frames, maps, strict=True)])
    imageio.mimsave(path, list(pictures), duration=1.0 / GIF_FPS, loop=0)
    return str(path)


def _saliency_png(path: Path, policy: Any, frame: np.ndarray, state: Any) -> str:
    """The frame, its VisualBackProp overlay, then one gradient overlay per action entry."""
    import cv2

    panels = [frame, overlay(frame, visual_backprop(policy, frame)[0])]
    for index in range(policy.action_dim):
        grad = gradient_saliency(policy, frame, state=state, action_index=index)[0]
        panels.append(overlay(frame, grad))
    ok, data = cv2.imencode(".png", np.hstack(panels)[..., ::-1])
    if not ok:  # pragma: no cover
        raise RuntimeError("cv2.imencode failed")
    path.write_bytes(data.tobytes())
    return str(path)


def _attention(
    policy: Any,
    the_world: World,
    drive: dict[str, Any],
    conditions: Sequence[Condition],
    stride: int,
) -> dict[str, float]:
    scores = {}
    for label, name, severity, params in conditions:
        clean, noisy = perturbed_pairs(
            policy, the_world, drive["seed"], drive["scenario"], drive["distance_m"],
            name, severity, params,
        )  # fmt: skip
        scores[label] = mean_ssim(
            visual_backprop(policy, clean[::stride]), visual_backprop(policy, noisy[::stride])
        )
    return scores


def explain_policy(
    policy: Any,
    label: str,
    out_dir: Path,
    *,
    env_world: World | str,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float | None = 30.0,
    conditions: Sequence[Condition] | None = None,
    stride: int = 5,
    ablate: bool = False,
    ablate_seeds: int = 1,
) -> Explanation:
    """Write out_dir/<label>/ {saliency.png, saliency.gif, neurons.png, wiring.png,
    explain.json} and return the measurements; see the module docstring.

    Args:
        env_world: the World (or env id) the policy acts in.
        seed: the held-out episode's seed; ablation uses seeds `seed .. seed + ablate_seeds - 1`.
        scenario: scenario overrides (the policy's training scenario); image size defaults to
            the policy's.
        distance_m: episode length in metres of travel (None: the scenario's own; worlds whose
            episodes end on their own ignore it).
        conditions: SSIM conditions; None: `default_conditions(env_world)`.
    """
    the_world = world(env_world)
    chosen = default_conditions(the_world) if conditions is None else list(conditions)
    for condition in chosen:
        the_world.check_perturbation(condition[1])
    if stride < 1:
        raise ValueError(f"stride must be >= 1 frame, got {stride}")
    if ablate_seeds < 1:
        raise ValueError(f"ablate_seeds must be >= 1 episode, got {ablate_seeds}")
    directory = path_inside(out_dir, check_label(label, "policy label"))
    directory.mkdir(parents=True, exist_ok=True)
    drive = {"seed": seed, "scenario": scenario, "distance_m": distance_m}
    extra = {"env_id": the_world.env_id, "ablate_seeds": ablate_seeds if ablate else 0}
    settings = _settings(policy, drive, chosen, stride, ablate, extra)
    previous = _finished(directory, settings)
    if previous is not None:  # the same policy and settings: nothing to redo
        print(f"[explain] {label}: reusing {directory / 'explain.json'}")
        return previous
    trace = record_activity(
        policy, the_world, seed, scenario=scenario, distance_m=distance_m, keep_frames=True
    )
    files, summary = _pictures_and_activity(policy, trace, directory, stride)
    summary["ssim"] = _attention(policy, the_world, drive, chosen, stride)
    if ablate and neuron_indices(policy):
        from lnn_control.explain.ablation import rank_neurons

        seeds = [seed + k for k in range(ablate_seeds)]
        ranking = rank_neurons(policy, the_world, seeds, scenario=scenario, distance_m=distance_m)
        summary["ablation"] = ranking.as_dict()
    summary = {"env_id": the_world.env_id, "seed": seed, "distance_m": distance_m, **summary}
    record = {"label": label, **summary, "files": files, "settings": settings}
    atomic_write_json(directory / "explain.json", record)
    return Explanation(label, summary, files)


def _pictures_and_activity(
    policy: Any, trace: ActivityTrace, directory: Path, stride: int
) -> tuple[dict[str, str], dict[str, Any]]:
    """Saliency pictures, neuron traces, wiring snapshot and PCA of one recorded episode."""
    assert trace.frames is not None
    snapshot = trace.snapshot_step()
    state_before = policy.initial_state(1) if snapshot == 0 else _state(trace, snapshot - 1)
    frames = trace.frames
    files = {
        "saliency_png": _saliency_png(
            directory / "saliency.png", policy, frames[snapshot], state_before
        ),
        "saliency_gif": _write_gif(
            directory / "saliency.gif", frames[::stride], visual_backprop(policy, frames[::stride])
        ),
    }
    summary: dict[str, Any] = {
        "steps": trace.steps,
        "episode": trace.record.record(),
        "episode_summary": trace.world.summary([trace.record.result]),
        "action_names": list(trace.world.action_names),
        "snapshot_trace": trace.world.explain_trace_key,
        "snapshot_step": snapshot,
    }
    neurons = neuron_indices(policy)
    if neurons:
        states = trace.states[:, neurons]
        summary["pca_explained"] = pca_explained_variance(states)[:PCA_COMPONENTS].tolist()
        names = neuron_names(policy)
        files["neurons_png"] = _save(plot_neuron_traces(trace, names), directory / "neurons.png")
    wiring = getattr(policy, "wiring", None)
    if wiring is not None:
        files["wiring_png"] = _save(
            plot_wiring_activity(wiring, trace.states[snapshot]), directory / "wiring.png"
        )
    return files, summary


def _settings(
    policy: Any,
    drive: dict[str, Any],
    conditions: Sequence[Condition],
    stride: int,
    ablate: bool,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Everything that decides an explanation (weights by hash)."""
    import hashlib

    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(policy.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float32).cpu().numpy().tobytes())
    settings = {**drive, "stride": stride, **extra}
    settings |= {"conditions": [list(c) for c in conditions], "ablate": ablate}
    return {"weights": digest.hexdigest()[:16], **json.loads(json.dumps(settings))}


def _finished(directory: Path, settings: dict[str, Any]) -> Explanation | None:
    """The stored explanation if it was made with exactly `settings` (and its files exist)."""
    try:
        record = json.loads((directory / "explain.json").read_text())
    except (OSError, ValueError):
        return None
    files = record.get("files", {})
    if record.get("settings") != settings or not all(Path(f).is_file() for f in files.values()):
        return None
    summary = {k: v for k, v in record.items() if k not in ("label", "files", "settings")}
    return Explanation(str(record["label"]), summary, dict(files))


def _state(trace: ActivityTrace, step: int) -> Any:
    import torch

    return torch.as_tensor(trace.states[step : step + 1])
