"""The `make demo` report: runs/demo/report.html plus a terminal table."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lnn_control.reporting.html import figure_html, table_html, table_markdown, write_report

COLUMNS = ("autonomy", "interventions_per_km", "mean_abs_lateral_m", "rms_lateral_m", "distance_km")


def _loss_figure(run_dir: Path) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    offset = 0
    for stage in sorted(
        (run_dir / "checkpoints").iterdir(), key=lambda p: (p.name != "bc", p.name)
    ):
        state = stage / "train_state.json"
        if not state.is_file():
            continue
        history = json.loads(state.read_text()).get("history", [])
        ax.plot(range(offset + 1, offset + len(history) + 1), history, marker="o", label=stage.name)
        offset += len(history)
    ax.set_xlabel("epoch")
    ax.set_ylabel("weighted MSE")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Behaviour cloning loss")
    return fig


def _lateral_figure(run_dir: Path) -> Any:
    import matplotlib.pyplot as plt

    traces = np.load(run_dir / "eval" / "traces.npz")
    fig, ax = plt.subplots(figsize=(8, 3))
    for key in sorted(k for k in traces.files if k.startswith("lateral_")):
        lateral = traces[key]
        ax.plot(np.arange(len(lateral)) * 0.05, lateral, lw=0.8, label=f"seed {key[8:]}")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("lateral offset (m)")
    ax.set_title("Held-out seeds, clean: lateral offset from the lane centre")
    ax.legend(fontsize=7, ncol=5)
    return fig


def _frames_figure(stress: list[tuple[str, int]]) -> Any:
    import gymnasium as gym
    import matplotlib.pyplot as plt

    from lnn_control.envs.perturb import make_wrapper

    names = [("clean", 0), *stress]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 1.8))
    for ax, (name, severity) in zip(axes, names, strict=True):
        env = gym.make("lnn_control/LaneKeeping-v0", disable_env_checker=True)
        if severity:
            env = make_wrapper(name, severity)(env)
        obs, _ = env.reset(seed=1_000_000)
        env.close()
        ax.imshow(obs)
        ax.set_title(name if not severity else f"{name}, severity {severity}", fontsize=9)
        ax.set_axis_off()
    return fig


def _saliency_figure(policy: Any) -> Any:
    """A held-out frame, its VisualBackProp overlay and its gradient-saliency overlay."""
    import gymnasium as gym
    import matplotlib.pyplot as plt

    from lnn_control.explain.saliency import gradient_saliency, overlay, visual_backprop

    height, width, _ = policy.image_shape
    scenario = {"image_height": height, "image_width": width}
    env = gym.make("lnn_control/LaneKeeping-v0", disable_env_checker=True, scenario=scenario)
    obs, _ = env.reset(seed=1_000_000)
    env.close()
    panels = [
        ("camera", obs),
        ("VisualBackProp", overlay(obs, visual_backprop(policy, obs)[0])),
        ("|d steering / d pixel|", overlay(obs, gradient_saliency(policy, obs)[0])),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 1.8))
    for ax, (title, image) in zip(axes, panels, strict=True):
        ax.imshow(image)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return fig


def write_demo_report(
    run_dir: Path,
    policy: Any,
    rows: list[dict[str, Any]],
    seconds: float,
    stress: Sequence[tuple[str, int]],
) -> tuple[Path, str]:
    """Write report.html; returns its path and the markdown summary table. `stress`: the
    (perturbation, severity) pairs the demo ran, shown as camera frames."""
    from lnn_control.liquid.wiring_plot import plot_wiring

    header = ["condition", *COLUMNS]
    body = [[r["condition"], *(float(r[c]) for c in COLUMNS)] for r in rows]
    card = (
        (run_dir / "policy" / "MODEL_CARD.md").read_text()
        if (run_dir / "policy" / "MODEL_CARD.md").is_file()
        else ""
    )
    sections = [
        (
            "Summary",
            table_html(header, body)
            + "<p>Held-out seeds from 1,000,000; intervention protocol; "
            + f"whole demo {seconds:.0f} s.</p>",
        ),
        ("Training", figure_html(_loss_figure(run_dir), "training loss")),
        ("Closed loop", figure_html(_lateral_figure(run_dir), "lateral offset")),
        ("What the camera sees", figure_html(_frames_figure(list(stress)), "camera frames")),
        ("Where the policy looks", figure_html(_saliency_figure(policy), "saliency")),
    ]
    wiring = getattr(policy, "wiring", None)
    if wiring is not None:
        sections.append(("The 19-neuron NCP", figure_html(plot_wiring(wiring), "wiring")))
    if card:
        sections.append(("Model card", f"<pre>{html.escape(card)}</pre>"))
    path = write_report(
        run_dir / "report.html", "lnn-control demo: lane keeping with a liquid NCP", sections
    )
    return path, table_markdown(header, body)
