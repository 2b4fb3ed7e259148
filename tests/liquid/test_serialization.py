"""Save/load through safetensors + JSON: exact round trip and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lnn_control.liquid import LTC, CfC, NCPWiring, load_liquid, save_liquid
from lnn_control.liquid.serialization import CONFIG_FILE, WEIGHTS_FILE


@pytest.mark.parametrize(
    "make",
    [
        lambda: LTC(32, NCPWiring.paper(seed=5)),
        lambda: LTC(32, NCPWiring.drone(seed=2), ode_unfolds=3, input_mapping="linear"),
        lambda: CfC(32, NCPWiring.paper(seed=1), mode="no_gate"),
        lambda: CfC(32, 12, backbone_layers=2, backbone_units=20),
    ],
    ids=["ltc", "ltc_drone", "cfc_wired", "cfc_full"],
)
def test_round_trip_gives_identical_outputs(make: object, tmp_path: Path) -> None:
    model = make()  # type: ignore[operator]
    save_liquid(model, tmp_path / "ckpt")
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} == {WEIGHTS_FILE, CONFIG_FILE}
    loaded = load_liquid(tmp_path / "ckpt")
    assert type(loaded) is type(model)
    assert loaded.wiring == model.wiring
    x = torch.randn(2, 9, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x, dt=0.5)[0], model(x, dt=0.5)[0])


def _saved(tmp_path: Path) -> Path:
    return save_liquid(LTC(32, NCPWiring.paper(seed=0)), tmp_path / "ckpt")


def test_corrupt_weights_are_detected(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    blob = bytearray((path / WEIGHTS_FILE).read_bytes())
    blob[-3] ^= 0xFF
    (path / WEIGHTS_FILE).write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="content hash does not match"):
        load_liquid(path)


def test_version_mismatch_is_one_line(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    config = json.loads((path / CONFIG_FILE).read_text())
    config["format_version"] = 42
    (path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ValueError, match="format_version 42 is not supported") as info:
        load_liquid(path)
    assert "\n" not in str(info.value)


def test_shape_mismatch_names_the_tensor(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    config = json.loads((path / CONFIG_FILE).read_text())
    config["architecture"]["wiring"] = NCPWiring.drone(seed=0).to_dict()
    (path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ValueError, match="output_w"):
        load_liquid(path)


def test_missing_files_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="liquid checkpoint directory not found"):
        load_liquid(tmp_path / "nowhere")
    path = _saved(tmp_path)
    (path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_liquid(path)


def test_no_pickle_is_written(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    assert (path / WEIGHTS_FILE).read_bytes()[:2] != b"\x80\x04"  # no pickle protocol header
    json.loads((path / CONFIG_FILE).read_text())  # plain JSON
