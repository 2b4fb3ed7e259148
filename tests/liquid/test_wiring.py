"""NCP wiring: determinism, exact synapse counts, no duplicates, serialisation, plotting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lnn_control.liquid import NCPWiring, Wiring


def _layer(w: Wiring, kind: str) -> np.ndarray:
    return np.array(w.neurons_of_type(kind))


def test_paper_wiring_has_the_papers_structure() -> None:
    w = NCPWiring.paper(seed=0)
    assert (w.n_neurons, w.n_sensory, w.n_motor) == (19, 32, 1)
    assert [len(w.neurons_of_type(t)) for t in ("inter", "command", "motor")] == [12, 6, 1]
    inter, command, motor = (_layer(w, t) for t in ("inter", "command", "motor"))
    # every sensory input projects to exactly 6 inter neurons and to nothing else
    assert (np.count_nonzero(w.sensory_adjacency[:, inter], axis=1) == 6).all()
    assert np.count_nonzero(w.sensory_adjacency) == np.count_nonzero(w.sensory_adjacency[:, inter])
    # every inter neuron projects to exactly 4 command neurons
    assert (np.count_nonzero(w.adjacency[np.ix_(inter, command)], axis=1) == 4).all()
    assert np.count_nonzero(w.adjacency[np.ix_(command, command)]) == 6
    assert np.count_nonzero(w.adjacency[np.ix_(command, motor)]) == 6
    assert w.synapse_counts() == {
        "command->command": 6,
        "command->motor": 6,
        "inter->command": 48,
        "sensory->inter": 192,
    }
    assert w.synapse_count == 60
    assert w.sensory_synapse_count == 192


def test_drone_wiring_keeps_19_neurons_with_4_motor() -> None:
    w = NCPWiring.drone(seed=1)
    assert w.n_neurons == 19
    assert w.n_motor == 4
    assert w.neurons_of_type("motor") == [0, 1, 2, 3]
    motor = _layer(w, "motor")
    assert (np.count_nonzero(w.adjacency[:, motor], axis=0) >= 4).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_every_neuron_is_reachable_and_driving(seed: int) -> None:
    w = NCPWiring(seed=seed)
    inter, command = _layer(w, "inter"), _layer(w, "command")
    assert w.sensory_adjacency[:, inter].any(axis=0).all()  # each inter neuron has input
    assert w.adjacency[np.ix_(inter, command)].any(axis=0).all()  # each command has input
    assert w.adjacency[command][:, _layer(w, "motor")].any(axis=1).all()  # each command drives
    assert set(np.unique(w.adjacency)) <= {-1, 0, 1}


def test_same_seed_same_wiring_and_other_seed_differs() -> None:
    assert NCPWiring(seed=7) == NCPWiring(seed=7)
    assert NCPWiring(seed=7) != NCPWiring(seed=8)


def test_json_round_trip_is_exact() -> None:
    w = NCPWiring.drone(seed=3)
    back = Wiring.from_json(w.to_json())
    assert back == w
    assert back.neuron_types == w.neuron_types
    assert back.params["seed"] == 3


def test_fully_connected_wiring() -> None:
    w = Wiring.fully_connected(n_sensory=5, n_neurons=7, seed=0)
    assert w.synapse_count == 49
    assert w.sensory_synapse_count == 35
    assert w.n_motor == 7


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sensory_fanout": 13}, "sensory_fanout"),
        ({"inter_fanout": 0}, "inter_fanout"),
        ({"recurrent_command_synapses": 37}, "recurrent_command_synapses"),
        ({"motor_fanin": 7}, "motor_fanin"),
        ({"command": 0}, "command"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        NCPWiring(**kwargs)


def test_malformed_matrices_are_rejected() -> None:
    with pytest.raises(ValueError, match="entries must be -1, 0 or 1"):
        Wiring(np.full((2, 3), 2), np.zeros((3, 3)), n_motor=1)
    with pytest.raises(ValueError, match="square"):
        Wiring(np.zeros((2, 3)), np.zeros((3, 4)), n_motor=1)
    with pytest.raises(ValueError, match="format_version"):
        Wiring.from_dict({"format_version": 99})


def test_plot_writes_a_png(tmp_path: Path) -> None:
    from lnn_control.liquid.wiring_plot import plot_wiring

    out = tmp_path / "wiring.png"
    plot_wiring(NCPWiring.paper(seed=0), out, activity=np.linspace(-1, 1, 19))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
