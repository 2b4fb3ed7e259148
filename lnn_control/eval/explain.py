"""`explain_policy`: where a policy looks, which neurons move, which ones matter, on one drive.

For one held-out drive (clean; the policy sees clean frames) it computes:

- saliency: VisualBackProp maps (the NCP paper's method) on every `stride`-th frame, and a
  gradient map at the sharpest bend; overlays as PNG and an animated GIF;
- attention robustness: for each condition (a perturbation applied to the same frames), the mean
  structural similarity (SSIM) between the clean frame's and the perturbed frame's saliency maps;
- neuron activity: traces of every neuron with steering and curvature, the wiring coloured by
  activity at the sharpest bend (wired policies), and the variance explained by the first
  principal components of the hidden state;
- optionally, ablation: each neuron clamped to 0 in turn, ranked by the change in |lateral|.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from lnn_control.eval.activity import (
    DriveTrace,
    neuron_indices,
    neuron_names,
    pca_explained_variance,
    plot_neuron_traces,
    plot_wiring_activity,
    record_drive,
)
from lnn_control.eval.saliency import gradient_saliency, overlay, visual_backprop
from lnn_control.eval.ssim import mean_ssim
from lnn_control.io_utils import atomic_write_json

#: (label, perturbation, severity, params): the NCP paper's Gaussian variances and weather.
DEFAULT_CONDITIONS: tuple[tuple[str, str, int, dict[str, float]], ...] = (
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


def perturbed_pairs(
    policy: Any,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float,
    perturbation: str,
    severity: int,
    params: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """(clean, perturbed) frames (T, H, W, 3) of one drive on which the policy sees clean frames:
    the same drive for every condition, so only the input to the saliency differs."""
    from lnn_control.envs.perturb import make_wrapper

    clean: list[np.ndarray] = []
    noisy: list[np.ndarray] = []
    wrap = make_wrapper(perturbation, severity, **params)
    taps: dict[str, _Tap] = {}

    def tap_clean(env: Any) -> Any:
        taps["clean"] = _Tap(env, clean)
        return taps["clean"]

    def tap_noisy(env: Any) -> Any:
        return _Tap(env, noisy, restore=taps["clean"])

    record_drive(
        policy,
        seed,
        scenario=scenario,
        distance_m=distance_m,
        wrappers=[tap_clean, wrap, tap_noisy],
    )
    return np.stack(clean), np.stack(noisy)


def _sharpest_bend(trace: DriveTrace) -> int:
    return int(np.argmax(np.abs(trace.curvature_per_m)))


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
    import cv2

    vbp = visual_backprop(policy, frame)[0]
    grad = gradient_saliency(policy, frame, state=state)[0]
    picture = np.hstack([frame, overlay(frame, vbp), overlay(frame, grad)])
    ok, data = cv2.imencode(".png", picture[..., ::-1])
    if not ok:  # pragma: no cover
        raise RuntimeError("cv2.imencode failed")
    path.write_bytes(data.tobytes())
    return str(path)


def _attention(
    policy: Any,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float,
    conditions: Sequence[tuple[str, str, int, dict[str, float]]],
    stride: int,
) -> dict[str, float]:
    scores = {}
    for label, name, severity, params in conditions:
        clean, noisy = perturbed_pairs(policy, seed, scenario, distance_m, name, severity, params)
        scores[label] = mean_ssim(
            visual_backprop(policy, clean[::stride]), visual_backprop(policy, noisy[::stride])
        )
    return scores


def explain_policy(
    policy: Any,
    label: str,
    out_dir: Path,
    *,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float = 30.0,
    conditions: Sequence[tuple[str, str, int, dict[str, float]]] = DEFAULT_CONDITIONS,
    stride: int = 5,
    ablate: bool = False,
) -> Explanation:
    """Write out_dir/<label>/ {saliency.png, saliency.gif, neurons.png, wiring.png,
    explain.json} and return the measurements; see the module docstring."""
    from lnn_control.eval.ablation import rank_neurons

    if stride < 1:
        raise ValueError(f"stride must be >= 1 frame, got {stride}")
    directory = out_dir / label
    directory.mkdir(parents=True, exist_ok=True)
    settings = _settings(policy, seed, scenario, distance_m, conditions, stride, ablate)
    previous = _finished(directory, settings)
    if previous is not None:  # the same policy and settings: nothing to redo
        print(f"[explain] {label}: reusing {directory / 'explain.json'}")
        return previous
    trace = record_drive(policy, seed, scenario=scenario, distance_m=distance_m, keep_frames=True)
    assert trace.frames is not None
    bend = _sharpest_bend(trace)
    state_before = policy.initial_state(1) if bend == 0 else _state(trace, bend - 1)
    files = {
        "saliency_png": _saliency_png(
            directory / "saliency.png", policy, trace.frames[bend], state_before
        ),
        "saliency_gif": _write_gif(
            directory / "saliency.gif",
            trace.frames[::stride],
            visual_backprop(policy, trace.frames[::stride]),
        ),
    }
    summary: dict[str, Any] = {
        "seed": seed,
        "distance_m": distance_m,
        "steps": trace.steps,
        "interventions": trace.interventions,
        "sharpest_bend_step": bend,
        "ssim": _attention(policy, seed, scenario, distance_m, conditions, stride),
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
            plot_wiring_activity(wiring, trace.states[bend]), directory / "wiring.png"
        )
    if ablate and neurons:
        summary["ablation"] = rank_neurons(policy, [seed], scenario=scenario, distance_m=distance_m)
    record = {"label": label, **summary, "files": files, "settings": settings}
    atomic_write_json(directory / "explain.json", record)
    return Explanation(label, summary, files)


def _settings(
    policy: Any,
    seed: int,
    scenario: dict[str, Any],
    distance_m: float,
    conditions: Sequence[tuple[str, str, int, dict[str, float]]],
    stride: int,
    ablate: bool,
) -> dict[str, Any]:
    """Everything that decides an explanation (weights by hash)."""
    import hashlib

    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(policy.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float32).cpu().numpy().tobytes())
    settings = {"seed": seed, "scenario": scenario, "distance_m": distance_m, "stride": stride}
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


def _state(trace: DriveTrace, step: int) -> Any:
    import torch

    return torch.as_tensor(trace.states[step : step + 1])
