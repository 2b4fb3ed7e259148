"""Checkpoints: exact round trip for every kind, and one-line errors for every broken file."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import lnn_control
from lnn_control.io_utils import sha256_bytes
from lnn_control.policies import (
    POLICY_KINDS,
    LiquidPolicy,
    Policy,
    build_policy,
    load_checkpoint,
    load_policy,
    pretrained_names,
    save_checkpoint,
)
from lnn_control.policies import checkpoint as checkpoint_module
from lnn_control.policies.checkpoint import CONFIG_FILE, WEIGHTS_FILE

SMALL_IMAGE = (48, 64, 3)
MakeImages = Callable[..., torch.Tensor]


ENV_ID = "lnn_control/LaneKeeping-v0"


def _saved(kind: str, directory: Path, **kwargs: Any) -> Policy:
    policy = build_policy(kind, image_shape=SMALL_IMAGE, seed=7)
    with torch.no_grad():  # move away from the initial weights
        for param in policy.parameters():
            param.add_(0.01 * torch.randn_like(param))
    save_checkpoint(policy, directory, env_id=ENV_ID, **kwargs)
    return policy


def _one_line_error(directory: Path, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as err:
        load_checkpoint(directory)
    assert "\n" not in str(err.value)


def _edit_config(directory: Path, **changes: Any) -> None:
    path = directory / CONFIG_FILE
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("kind", tuple(POLICY_KINDS))
def test_round_trip_gives_identical_actions(
    kind: str, tmp_path: Path, make_frames: MakeImages
) -> None:
    policy = _saved(kind, tmp_path / "ckpt", metrics={"autonomy": 0.9}, provenance={"seed": 7})
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} == {WEIGHTS_FILE, CONFIG_FILE}
    loaded, config = load_checkpoint(tmp_path / "ckpt")
    assert type(loaded) is type(policy)
    assert not loaded.training
    assert loaded.spec() == policy.spec()
    assert config["env_id"] == ENV_ID
    assert config["metrics"] == {"autonomy": 0.9}
    assert config["provenance"] == {"seed": 7}
    assert config["package_version"] == lnn_control.__version__
    assert config["preprocessing"]["image_shape"] == list(SMALL_IMAGE)
    frames = make_frames(2, 4)
    state_a, state_b = policy.initial_state(2), loaded.initial_state(2)
    for t in range(4):
        a, state_a = policy.step(frames[:, t], state_a, dt_s=0.05)
        b, state_b = loaded.step(frames[:, t], state_b, dt_s=0.05)
        np.testing.assert_array_equal(a, b)


def test_ncp_checkpoint_stores_the_wiring_adjacency(tmp_path: Path) -> None:
    policy = _saved("ncp", tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    adjacency = np.array(config["architecture"]["rnn"]["wiring"]["adjacency"])
    assert isinstance(policy, LiquidPolicy)
    assert np.count_nonzero(adjacency) == policy.wiring.synapse_count
    assert type(load_policy(tmp_path)).__name__ == "LiquidPolicy"


def test_corrupted_weights_are_detected(tmp_path: Path) -> None:
    _saved("ncp", tmp_path)
    weights = tmp_path / WEIGHTS_FILE
    blob = bytearray(weights.read_bytes())
    blob[-1] ^= 0xFF
    weights.write_bytes(bytes(blob))
    _one_line_error(tmp_path, ValueError, "content hash does not match")


def test_unreadable_weights_with_matching_hash_are_detected(tmp_path: Path) -> None:
    _saved("gru", tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not safetensors")
    _edit_config(tmp_path, weights_sha256=sha256_bytes(b"not safetensors"))
    _one_line_error(tmp_path, ValueError, "not a readable safetensors file")


def test_format_version_mismatch(tmp_path: Path) -> None:
    _saved("lstm", tmp_path)
    _edit_config(tmp_path, format_version=99)
    _one_line_error(tmp_path, ValueError, "format_version 99 is not supported")


def test_wrong_shapes_are_detected(tmp_path: Path) -> None:
    _saved("lstm", tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["architecture"]["rnn"]["hidden_size"] = 32
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    _one_line_error(tmp_path, ValueError, r"tensor 'rnn.weight_ih_l0' is .* needs")


def test_missing_tensor_is_detected(tmp_path: Path) -> None:
    _saved("cfc", tmp_path)
    tensors = load_file(tmp_path / WEIGHTS_FILE)
    del tensors["readout.bias"]
    save_file(tensors, tmp_path / WEIGHTS_FILE)
    _edit_config(tmp_path, weights_sha256=sha256_bytes((tmp_path / WEIGHTS_FILE).read_bytes()))
    _one_line_error(tmp_path, ValueError, r"missing tensors \['readout.bias'\]")


def _edit_architecture(directory: Path, **changes: Any) -> None:
    """Edit config.json's architecture (the content hash covers only the weights, so the
    edited checkpoint still passes the hash check and reaches the size checks)."""
    config = json.loads((directory / CONFIG_FILE).read_text())
    config["architecture"].update(changes)
    config["preprocessing"].update({k: v for k, v in changes.items() if k == "image_shape"})
    (directory / CONFIG_FILE).write_text(json.dumps(config))


def _fails_fast_in_one_line(directory: Path, match: str) -> None:
    started = time.perf_counter()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    _one_line_error(directory, ValueError, match)
    assert time.perf_counter() - started < 2.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 100 * 1024  # no large allocation (the old loader tried 20 GB)


@pytest.mark.parametrize("kind", ["ncp", "lstm"])
def test_huge_image_shape_fails_fast_before_any_allocation(kind: str, tmp_path: Path) -> None:
    _saved(kind, tmp_path)
    _edit_architecture(tmp_path, image_shape=[100_000, 100_000, 3])
    _fails_fast_in_one_line(
        tmp_path, r"config.json: architecture image_shape height \(px\) must be .* \[1, 4096\]"
    )


def test_image_shape_in_bounds_is_checked_against_the_weights_header(tmp_path: Path) -> None:
    """A 4096 x 4096 image passes the bounds but not the header: its head would need an
    (8, 260100, 4) map_weight (computed on the meta device, not allocated); the file holds
    (8, 24, 4)."""
    _saved("ncp", tmp_path)
    _edit_architecture(tmp_path, image_shape=[4096, 4096, 3])
    _fails_fast_in_one_line(
        tmp_path,
        r"image_shape \[4096, 4096, 3\] and the head config need head.map_weight of shape "
        r"\(8, 260100, 4\), .*model.safetensors has shape \(8, 24, 4\)",
    )


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"image_shape": [48, 64, 1]}, r"image_shape channels \(RGB\) must be .* \[3, 3\]"),
        ({"image_shape": [48, 64]}, r"image_shape must be \[height, width, 3\]"),
        ({"image_shape": [48.0, 64, 3]}, r"image_shape height \(px\) must be an integer"),
        ({"action_dim": 10**9}, r"action_dim must be an integer in \[1, 64\]"),
        ({"head": {"conv_layers": [[10**6, 3, 1, 1]]}}, "last out_channels must be"),
        ({"head": {"features_per_map": 10**6}}, "features_per_map must be"),
        ({"rnn": {"hidden_size": 10**6}}, r"rnn hidden_size must be an integer in \[1, 1024\]"),
    ],
)
def test_architecture_sizes_out_of_bounds_are_refused(
    changes: dict[str, Any], match: str, tmp_path: Path
) -> None:
    _saved("lstm", tmp_path)
    _edit_architecture(tmp_path, **changes)
    _fails_fast_in_one_line(tmp_path, match)


def test_too_many_ncp_neurons_are_refused(tmp_path: Path) -> None:
    _saved("ncp", tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["architecture"]["rnn"]["wiring"]["adjacency"] = [[0] * 3] * 10_000
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    _fails_fast_in_one_line(tmp_path, r"rnn.wiring.adjacency \(neurons\) must be a list of 1 to")


def test_malformed_safetensors_header_is_one_line(tmp_path: Path) -> None:
    _saved("gru", tmp_path)
    blob = (10**6).to_bytes(8, "little") + b"{}"
    (tmp_path / WEIGHTS_FILE).write_bytes(blob)
    _edit_config(tmp_path, weights_sha256=sha256_bytes(blob))
    _one_line_error(tmp_path, ValueError, r"not a readable safetensors file \(header length")


def test_unknown_kind_in_architecture(tmp_path: Path) -> None:
    _saved("cnn", tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["architecture"]["kind"] = "transformer"
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    _one_line_error(tmp_path, ValueError, "policy kind must be one of")


@pytest.mark.parametrize("missing", [WEIGHTS_FILE, CONFIG_FILE])
def test_missing_files(missing: str, tmp_path: Path) -> None:
    _saved("gru", tmp_path)
    (tmp_path / missing).unlink()
    _one_line_error(tmp_path, FileNotFoundError, "not found")


def test_missing_directory(tmp_path: Path) -> None:
    _one_line_error(tmp_path / "nowhere", FileNotFoundError, "checkpoint directory not found")


def test_config_that_is_not_json(tmp_path: Path) -> None:
    _saved("gru", tmp_path)
    (tmp_path / CONFIG_FILE).write_text("{oops")
    _one_line_error(tmp_path, ValueError, "is not valid JSON")


def test_metrics_that_are_not_json_are_rejected_before_writing(tmp_path: Path) -> None:
    policy = build_policy("cnn", image_shape=SMALL_IMAGE)
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        save_checkpoint(policy, tmp_path / "c", env_id=ENV_ID, metrics={"x": object()})
    assert not (tmp_path / "c").exists()


def test_unknown_pretrained_name_lists_the_available_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint_module, "PRETRAINED_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="available: none shipped yet") as err:
        load_policy("pretrained:nope")
    assert "\n" not in str(err.value)
    _saved("ncp", tmp_path / "lane_keeping_ncp")
    (tmp_path / "not_a_checkpoint").mkdir()
    assert pretrained_names() == ["lane_keeping_ncp"]
    with pytest.raises(FileNotFoundError, match="available: lane_keeping_ncp"):
        load_policy("pretrained:nope")
    with pytest.raises(FileNotFoundError, match="unknown pretrained policy"):
        load_policy("pretrained:../lane_keeping_ncp")
    assert load_policy("pretrained:lane_keeping_ncp").kind == "ncp"


def test_shipped_pretrained_folder_message() -> None:
    """Against the real package folder: whatever ships is listed in the error."""
    with pytest.raises(FileNotFoundError, match="available: ") as err:
        load_policy("pretrained:nope")
    for name in pretrained_names():
        assert name in str(err.value)
