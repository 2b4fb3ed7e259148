"""Typed configs: overrides and one-line errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from lnn_control.config_io import apply_overrides, dump_config, load_config
from lnn_control.training.config import ILConfig


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  policy: lstm\n  epochs: 3\n")
    cfg = load_config(ILConfig, path, ["train.epochs=5", "env.scenario={lane_width_m: 0.9}"])
    assert cfg.train.policy == "lstm"
    assert cfg.train.epochs == 5
    assert cfg.env.scenario == {"lane_width_m": 0.9}
    assert cfg.collect.seed_start < 1_000_000 <= cfg.eval.seed_start
    assert load_config(ILConfig, None, []).model_dump() == ILConfig().model_dump()
    assert "policy: lstm" in dump_config(cfg)


def test_unknown_key_names_it_and_lists_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown config key 'train.epoch'; allowed here: .*epochs"
    ):
        load_config(ILConfig, None, ["train.epoch=3"])


def test_bad_value_names_key_value_and_rule() -> None:
    with pytest.raises(ValueError, match=r"config key 'train.lr'.*greater than 0.*-1") as info:
        load_config(ILConfig, None, ["train.lr=-1"])
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"train.policy.*'ncp'.*transformer"):
        load_config(ILConfig, None, ["train.policy=transformer"])
    with pytest.raises(ValueError, match=r"eval\.seed_start"):
        load_config(ILConfig, None, ["eval.seed_start=5"])  # held-out seeds start at 1,000,000


def test_malformed_overrides_and_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides({}, ["train.epochs"])
    with pytest.raises(ValueError, match="is not a section"):
        apply_overrides({"train": 3}, ["train.epochs=1"])
    with pytest.raises(FileNotFoundError, match="config not found"):
        load_config(ILConfig, tmp_path / "missing.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="YAML mapping"):
        load_config(ILConfig, bad)


def test_shipped_configs_validate() -> None:
    root = Path(__file__).resolve().parents[1] / "configs"
    for name in ("lane_keeping_il.yaml", "demo.yaml"):
        load_config(ILConfig, root / name)
