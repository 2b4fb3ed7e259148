"""Draw a wiring: neurons in layers (sensory, inter, command, motor), synapses by polarity."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lnn_control.liquid.wiring import Wiring

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TYPE_COLOURS = {
    "sensory": "#8fb3d9",
    "inter": "#f2b134",
    "command": "#6cbf84",
    "motor": "#d95f5f",
    "hidden": "#b0b0b0",
}
EXCITATORY, INHIBITORY = "#2b8a3e", "#c92a2a"
LAYER_ORDER = ("sensory", "inter", "hidden", "command", "motor")


def layout(
    wiring: Wiring, include_sensory: bool = True
) -> dict[tuple[str, int], tuple[float, float]]:
    """(kind, index) -> (x, y) in [0, 1]^2; kind "sensory" or "neuron", one column per layer."""
    columns: dict[str, list[tuple[str, int]]] = {t: [] for t in LAYER_ORDER}
    if include_sensory:
        columns["sensory"] = [("sensory", i) for i in range(wiring.n_sensory)]
    for i, kind in enumerate(wiring.neuron_types):
        columns[kind].append(("neuron", i))
    used = [c for c in LAYER_ORDER if columns[c]]
    positions: dict[tuple[str, int], tuple[float, float]] = {}
    for col, name in enumerate(used):
        nodes = columns[name]
        for row, node in enumerate(nodes):
            y = 0.5 if len(nodes) == 1 else 1.0 - row / (len(nodes) - 1)
            positions[node] = (col / max(1, len(used) - 1), y)
    return positions


def plot_wiring(
    wiring: Wiring,
    path: str | Path | None = None,
    include_sensory: bool = True,
    activity: np.ndarray | None = None,
    title: str | None = None,
    activity_range: tuple[float, float] = (-1.0, 1.0),
) -> Figure:
    """Plot the wiring; neurons coloured by type, or by `activity` (N,) when given.

    Synapses are drawn green (excitatory) or red (inhibitory). With `activity` (one value per
    neuron, e.g. the state at one moment), neurons are coloured on the "coolwarm" map spanning
    `activity_range` (low, high) in the activity's own units (values outside are clipped) and a
    colour bar is added. Returns the matplotlib Figure; saves it as PNG (and closes it) when
    `path` is given.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    low, high = (float(v) for v in activity_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"activity_range must be finite (low, high) with low < high, got {activity_range}"
        )
    if activity is not None:
        activity = np.asarray(activity, dtype=float).reshape(-1)
        if activity.shape != (wiring.n_neurons,) or not np.isfinite(activity).all():
            raise ValueError(
                f"activity must be {wiring.n_neurons} finite values (one per neuron), "
                f"got shape {activity.shape}"
            )
    norm = Normalize(vmin=low, vmax=high, clip=True)
    cmap = plt.get_cmap("coolwarm")
    pos = layout(wiring, include_sensory)
    fig, ax = plt.subplots(figsize=(8, 6))
    edges = [
        (("neuron", i), ("neuron", j), wiring.adjacency[i, j])
        for i, j in zip(*np.nonzero(wiring.adjacency), strict=True)
    ]
    if include_sensory:
        edges += [
            (("sensory", i), ("neuron", j), wiring.sensory_adjacency[i, j])
            for i, j in zip(*np.nonzero(wiring.sensory_adjacency), strict=True)
        ]
    for src, dst, sign in edges:
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        edge_colour = EXCITATORY if sign > 0 else INHIBITORY
        if src == dst:
            ax.plot([x0], [y0 + 0.03], marker="o", mfc="none", mec=edge_colour, ms=10, alpha=0.6)
            continue
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "->",
                "color": edge_colour,
                "alpha": 0.35,
                "lw": 0.8,
                "connectionstyle": "arc3,rad=0.08",
            },
        )
    for (kind, i), (x, y) in pos.items():
        neuron_type = "sensory" if kind == "sensory" else wiring.neuron_types[i]
        colour: str | tuple[float, float, float, float] = TYPE_COLOURS[neuron_type]
        if activity is not None and kind == "neuron":
            colour = cmap(float(norm(activity[i])))
        ax.scatter(
            [x],
            [y],
            s=60 if kind == "sensory" else 160,
            c=[colour],
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
        )
    present = {"sensory"} if include_sensory else set()
    present |= set(wiring.neuron_types)
    for name in (n for n in LAYER_ORDER if n in present):
        ax.scatter([], [], c=TYPE_COLOURS[name], label=name, edgecolors="black")
    ax.plot([], [], color=EXCITATORY, label="excitatory")
    ax.plot([], [], color=INHIBITORY, label="inhibitory")
    ax.legend(loc="lower center", ncol=7, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.08))
    ax.set_axis_off()
    if activity is not None:
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(mappable, ax=ax, fraction=0.03, pad=0.01, label="activity")
    ax.set_title(
        title
        or f"{wiring.name}: {wiring.n_neurons} neurons, {wiring.synapse_count} synapses "
        f"+ {wiring.sensory_synapse_count} sensory"
    )
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig
