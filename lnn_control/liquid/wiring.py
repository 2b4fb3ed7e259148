"""Wirings: which neuron talks to which, with what polarity.

A wiring is pure structure, separate from the dynamics (LTC or CfC) that run on it. It holds two
signed adjacency matrices with entries in {-1, 0, +1}:

- `sensory_adjacency` (S, N): synapse from sensory input i to neuron j,
- `adjacency` (N, N): synapse from neuron i (source, row) to neuron j (target, column),

where +1 is excitatory, -1 inhibitory, 0 absent. Neurons are ordered motor first, then command,
then inter (the order ncps uses), so the motor neurons are always indices `0 .. n_motor - 1`.

`NCPWiring` draws the Neural Circuit Policy of Lechner et al. (2020): sensory -> inter -> command
-> motor layers, plus recurrent synapses among command neurons. Drawing is seeded and
deterministic, and every synapse is drawn without replacement, so there are no duplicates and the
synapse counts are exact.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

NEURON_TYPES = ("motor", "command", "inter", "hidden")
FORMAT_VERSION = 1


class Wiring:
    """A general wiring: signed adjacency matrices plus the type of each neuron.

    Args:
        sensory_adjacency: (S, N) array of {-1, 0, 1}; sensory input i -> neuron j.
        adjacency: (N, N) array of {-1, 0, 1}; neuron i -> neuron j.
        n_motor: the first `n_motor` neurons are the outputs (motor neurons).
        neuron_types: one of NEURON_TYPES per neuron; default "motor" for the first `n_motor`,
            "hidden" for the rest.
        name: a label stored with the wiring (e.g. "ncp", "fully_connected").
        params: the constructor parameters, kept for provenance (JSON-serialisable).
    """

    def __init__(
        self,
        sensory_adjacency: np.ndarray,
        adjacency: np.ndarray,
        n_motor: int,
        neuron_types: tuple[str, ...] | None = None,
        name: str = "custom",
        params: dict[str, Any] | None = None,
    ) -> None:
        self.sensory_adjacency = _signed_matrix(sensory_adjacency, "sensory_adjacency")
        self.adjacency = _signed_matrix(adjacency, "adjacency")
        n = self.adjacency.shape[0]
        if self.adjacency.shape != (n, n):
            raise ValueError(f"adjacency must be square (N, N), got {self.adjacency.shape}")
        if self.sensory_adjacency.shape[1] != n:
            raise ValueError(
                f"sensory_adjacency must be (S, {n}) to match adjacency, "
                f"got {self.sensory_adjacency.shape}"
            )
        if not 1 <= n_motor <= n:
            raise ValueError(f"n_motor must be in [1, {n}], got {n_motor}")
        if neuron_types is None:
            neuron_types = ("motor",) * n_motor + ("hidden",) * (n - n_motor)
        if len(neuron_types) != n or any(t not in NEURON_TYPES for t in neuron_types):
            raise ValueError(f"neuron_types must be {n} entries from {NEURON_TYPES}")
        self.n_motor = int(n_motor)
        self.neuron_types = tuple(neuron_types)
        self.name = name
        self.params = dict(params or {})

    # ------------------------------------------------------------------ sizes and counts
    @property
    def n_sensory(self) -> int:
        """Number of sensory inputs S."""
        return int(self.sensory_adjacency.shape[0])

    @property
    def n_neurons(self) -> int:
        """Number of neurons N (state size)."""
        return int(self.adjacency.shape[0])

    @property
    def synapse_count(self) -> int:
        """Neuron -> neuron synapses."""
        return int(np.count_nonzero(self.adjacency))

    @property
    def sensory_synapse_count(self) -> int:
        """Sensory -> neuron synapses."""
        return int(np.count_nonzero(self.sensory_adjacency))

    def synapse_counts(self) -> dict[str, int]:
        """Synapses per (source type -> target type), e.g. {"sensory->inter": 192, ...}."""
        counts: Counter[str] = Counter()
        for j in np.flatnonzero(self.sensory_adjacency.any(axis=0)):
            counts[f"sensory->{self.neuron_types[j]}"] += int(
                np.count_nonzero(self.sensory_adjacency[:, j])
            )
        for i, j in zip(*np.nonzero(self.adjacency), strict=True):
            counts[f"{self.neuron_types[i]}->{self.neuron_types[j]}"] += 1
        return dict(sorted(counts.items()))

    def neurons_of_type(self, neuron_type: str) -> list[int]:
        """Indices of the neurons of one type (see NEURON_TYPES)."""
        if neuron_type not in NEURON_TYPES:
            raise ValueError(f"neuron_type must be one of {NEURON_TYPES}, got {neuron_type!r}")
        return [i for i, t in enumerate(self.neuron_types) if t == neuron_type]

    def summary(self) -> str:
        """A few human-readable lines: sizes by type and synapse counts."""
        types = Counter(self.neuron_types)
        sizes = ", ".join(f"{types[t]} {t}" for t in NEURON_TYPES if types[t])
        lines = [
            f"{self.name} wiring: {self.n_neurons} neurons ({sizes}), {self.n_sensory} sensory "
            f"inputs, {self.sensory_synapse_count} sensory + {self.synapse_count} neuron synapses"
        ]
        lines += [f"  {k}: {v}" for k, v in self.synapse_counts().items()]
        return "\n".join(lines)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict holding everything needed to rebuild the wiring exactly."""
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "params": self.params,
            "n_motor": self.n_motor,
            "neuron_types": list(self.neuron_types),
            "sensory_adjacency": self.sensory_adjacency.tolist(),
            "adjacency": self.adjacency.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Wiring:
        """Inverse of `to_dict`; raises ValueError naming a missing or malformed field."""
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"wiring format_version must be {FORMAT_VERSION}, got {version!r}")
        missing = [k for k in ("n_motor", "sensory_adjacency", "adjacency") if k not in data]
        if missing:
            raise ValueError(f"wiring dict is missing field(s) {missing}")
        return Wiring(
            sensory_adjacency=np.asarray(data["sensory_adjacency"]),
            adjacency=np.asarray(data["adjacency"]),
            n_motor=int(data["n_motor"]),
            neuron_types=tuple(data.get("neuron_types") or ()) or None,
            name=str(data.get("name", "custom")),
            params=dict(data.get("params") or {}),
        )

    def to_json(self) -> str:
        """Compact JSON text of `to_dict()`."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Wiring:
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Wiring):
            return NotImplemented
        return (
            self.n_motor == other.n_motor
            and self.neuron_types == other.neuron_types
            and np.array_equal(self.sensory_adjacency, other.sensory_adjacency)
            and np.array_equal(self.adjacency, other.adjacency)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: not hashable

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, neurons={self.n_neurons}, "
            f"sensory={self.n_sensory}, motor={self.n_motor}, synapses={self.synapse_count}, "
            f"sensory_synapses={self.sensory_synapse_count})"
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def fully_connected(
        cls, n_sensory: int, n_neurons: int, n_motor: int | None = None, seed: int = 0
    ) -> Wiring:
        """Every sensory input and every neuron (itself included) projects to every neuron.

        Polarities are drawn from `seed`: +1 with probability 2/3, else -1.
        """
        _check_positive(n_sensory=n_sensory, n_neurons=n_neurons)
        rng = np.random.default_rng(seed)
        n_motor = n_neurons if n_motor is None else n_motor
        polarity = np.array([-1, 1, 1], dtype=np.int8)
        return Wiring(
            sensory_adjacency=rng.choice(polarity, size=(n_sensory, n_neurons)),
            adjacency=rng.choice(polarity, size=(n_neurons, n_neurons)),
            n_motor=n_motor,
            name="fully_connected",
            params={
                "n_sensory": n_sensory,
                "n_neurons": n_neurons,
                "n_motor": n_motor,
                "seed": seed,
            },
        )


class NCPWiring(Wiring):
    """A Neural Circuit Policy wiring (Lechner et al., Nature Machine Intelligence 2020).

    Defaults are the paper's lane-keeping network: 32 sensory inputs, 12 inter, 6 command and 1
    motor neuron (19 neurons); each sensory input projects to 6 inter neurons, each inter neuron to
    4 command neurons, 6 recurrent synapses among command neurons, and the motor neuron receives
    6 command neurons. Neurons left without any input (or command neurons without any output) are
    given synapses from (to) randomly drawn partners, as many as the layer's mean fan-in.

    Args:
        n_sensory: sensory inputs S.
        inter, command, motor: neurons per layer.
        sensory_fanout: inter targets per sensory input (<= inter).
        inter_fanout: command targets per inter neuron (<= command).
        recurrent_command_synapses: distinct command -> command synapses (<= command**2).
        motor_fanin: command sources per motor neuron (<= command).
        seed: the only source of randomness; the same seed gives the same wiring.
    """

    def __init__(
        self,
        n_sensory: int = 32,
        inter: int = 12,
        command: int = 6,
        motor: int = 1,
        sensory_fanout: int = 6,
        inter_fanout: int = 4,
        recurrent_command_synapses: int = 6,
        motor_fanin: int = 6,
        seed: int = 0,
    ) -> None:
        _check_positive(n_sensory=n_sensory, inter=inter, command=command, motor=motor)
        _check_range("sensory_fanout", sensory_fanout, 1, inter)
        _check_range("inter_fanout", inter_fanout, 1, command)
        _check_range("recurrent_command_synapses", recurrent_command_synapses, 0, command**2)
        _check_range("motor_fanin", motor_fanin, 1, command)
        params = {
            "n_sensory": n_sensory,
            "inter": inter,
            "command": command,
            "motor": motor,
            "sensory_fanout": sensory_fanout,
            "inter_fanout": inter_fanout,
            "recurrent_command_synapses": recurrent_command_synapses,
            "motor_fanin": motor_fanin,
            "seed": seed,
        }
        rng = np.random.default_rng(seed)
        n = motor + command + inter
        motors = np.arange(0, motor)
        commands = np.arange(motor, motor + command)
        inters = np.arange(motor + command, n)
        sensory_adj = np.zeros((n_sensory, n), dtype=np.int8)
        adj = np.zeros((n, n), dtype=np.int8)
        _connect_layers(rng, sensory_adj, np.arange(n_sensory), inters, sensory_fanout)
        _connect_layers(rng, adj, inters, commands, inter_fanout)
        _connect_recurrent(rng, adj, commands, recurrent_command_synapses)
        _connect_fanin(rng, adj, commands, motors, motor_fanin)
        types = ("motor",) * motor + ("command",) * command + ("inter",) * inter
        super().__init__(
            sensory_adj, adj, n_motor=motor, neuron_types=types, name="ncp", params=params
        )

    @classmethod
    def paper(cls, seed: int = 0) -> NCPWiring:
        """The NCP paper's 19-neuron lane-keeping wiring (12 inter, 6 command, 1 motor)."""
        return cls(seed=seed)

    @classmethod
    def drone(cls, seed: int = 0, n_sensory: int = 32) -> NCPWiring:
        """19 neurons with 4 motor neurons (vx, vy, vz, yaw rate): 10 inter, 5 command, 4 motor."""
        return cls(
            n_sensory=n_sensory,
            inter=10,
            command=5,
            motor=4,
            sensory_fanout=6,
            inter_fanout=4,
            recurrent_command_synapses=6,
            motor_fanin=4,
            seed=seed,
        )


# ---------------------------------------------------------------------- drawing helpers
def _polarity(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def _connect_layers(
    rng: np.random.Generator, adj: np.ndarray, sources: np.ndarray, targets: np.ndarray, fanout: int
) -> None:
    """Each source -> `fanout` distinct targets; then every target without input gets some."""
    for src in sources:
        for dst in rng.choice(targets, size=fanout, replace=False):
            adj[src, dst] = _polarity(rng)
    mean_fanin = max(1, round(len(sources) * fanout / len(targets)))
    for dst in targets:
        if not adj[sources, dst].any():
            for src in rng.choice(sources, size=min(mean_fanin, len(sources)), replace=False):
                adj[src, dst] = _polarity(rng)


def _connect_recurrent(
    rng: np.random.Generator, adj: np.ndarray, neurons: np.ndarray, count: int
) -> None:
    """`count` distinct (source, target) pairs among `neurons`, drawn without replacement."""
    pairs = rng.choice(len(neurons) ** 2, size=count, replace=False)
    for pair in pairs:
        src, dst = neurons[pair // len(neurons)], neurons[pair % len(neurons)]
        adj[src, dst] = _polarity(rng)


def _connect_fanin(
    rng: np.random.Generator, adj: np.ndarray, sources: np.ndarray, targets: np.ndarray, fanin: int
) -> None:
    """Each target <- `fanin` distinct sources; then every source without output gets some."""
    for dst in targets:
        for src in rng.choice(sources, size=fanin, replace=False):
            adj[src, dst] = _polarity(rng)
    mean_fanout = max(1, round(len(targets) * fanin / len(sources)))
    for src in sources:
        if not adj[src, targets].any():
            for dst in rng.choice(targets, size=min(mean_fanout, len(targets)), replace=False):
                adj[src, dst] = _polarity(rng)


def _signed_matrix(matrix: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {array.shape}")
    if not np.isin(array, (-1, 0, 1)).all():
        raise ValueError(f"{name} entries must be -1, 0 or 1")
    return array.astype(np.int8)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
