"""Typed configs: overrides and one-line errors that name the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lnn_control.cli import main
from lnn_control.config_io import apply_overrides, dump_config, load_config
from lnn_control.training.config import ILConfig

BROKEN_YAML = "train:\n  epochs: [1, 2\n  lr: 3\n"
"""An unclosed flow list: the parser fails at line 3, column 5 (the ':' after lr)."""


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
    root = Path(__file__).resolve().parents[1] / "lnn_control" / "configs"
    for name in ("lane_keeping_il.yaml", "demo.yaml"):
        load_config(ILConfig, root / name)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (BROKEN_YAML, "3:5", "expected ',' or ']'"),
        ("a: 1\n  b: 2\n", "2:4", "mapping values are not allowed here"),
        ("a: *nowhere\n", "1:4", "found undefined alias 'nowhere'"),
        ("a: b\n\tc: \x07\n", "2:5", "character #x0007 is not allowed"),
    ],
)
def test_yaml_syntax_error_is_one_line_with_file_line_and_column(
    text: str, where: str, problem: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"invalid YAML: {problem}")) as err:
        load_config(ILConfig, path)
    assert str(err.value).startswith(f"{path}:{where}: invalid YAML: ")
    assert "\n" not in str(err.value)


def test_set_value_that_is_not_yaml_names_the_override() -> None:
    with pytest.raises(ValueError, match=r"--set train.epochs=\[1: the value is not valid YAML"):
        load_config(ILConfig, None, ["train.epochs=[1"])


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--config", "{}"],
        ["train", "--config", "{}", "--seeds", "0", "1"],
        ["stress", "--policy", "pretrained:lane_keeping_ncp", "--suite", "{}"],
        ["experiment", "--config", "{}"],
        ["deploy", "--config", "{}"],
    ],
    ids=["train", "train-seeds", "stress", "experiment", "deploy"],
)
def test_cli_reports_a_broken_yaml_config_in_one_line_without_traceback(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_YAML)
    code = main([a.format(path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"lnn-control {argv[0]}: error: {path}:3:5: invalid YAML: " + (
        "expected ',' or ']', but got ':' (while parsing a flow sequence)\n"
    )


def test_packaged_configs_are_found_by_name_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lnn_control.configs import CONFIG_DIR, packaged_configs, resolve_config

    monkeypatch.chdir(tmp_path)
    assert resolve_config("lane_keeping_il") == CONFIG_DIR / "lane_keeping_il.yaml"
    assert resolve_config("lane_quick") == CONFIG_DIR / "stress" / "lane_quick.yaml"
    assert resolve_config("stress/lane_quick.yaml") == CONFIG_DIR / "stress" / "lane_quick.yaml"
    assert resolve_config("configs/demo.yaml") == CONFIG_DIR / "demo.yaml"  # the old path
    own = tmp_path / "lane_keeping_il.yaml"
    own.write_text("run_dir: mine\n")
    assert resolve_config("lane_keeping_il.yaml").resolve() == own  # an existing file wins
    assert load_config(ILConfig, "demo").run_dir
    assert {"demo", "stress/lane_quick", "deploy/racecar_udp"} <= set(packaged_configs())
    with pytest.raises(FileNotFoundError, match="no packaged config of that name"):
        resolve_config("no_such_recipe")


def test_configs_command_lists_the_packaged_configs(capsys: pytest.CaptureFixture[str]) -> None:
    from lnn_control.cli import main

    assert main(["configs"]) == 0
    printed = capsys.readouterr().out
    assert "  lane_keeping_il" in printed
    assert "  stress/lane_quick" in printed
