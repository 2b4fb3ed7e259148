"""`lnn-control export` and `lnn-control deploy` modules (add_arguments / run)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from lnn_control.cli import deploy as deploy_cli
from lnn_control.cli import export as export_cli
from lnn_control.config_io import load_config
from lnn_control.deploy.config import DeployConfig
from lnn_control.policies import build_policy, save_checkpoint
from tests.deploy.conftest import SMALL_IMAGE
from tests.deploy.test_runtime import write_video

CONFIG_DIR = Path(__file__).resolve().parents[2] / "lnn_control" / "configs" / "deploy"


def parse(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIG_DIR.glob("*.yaml")))
def test_shipped_configs_validate(name: str) -> None:
    assert isinstance(load_config(DeployConfig, CONFIG_DIR / name), DeployConfig)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match=r"safety\.max_rate"):
        load_config(DeployConfig, CONFIG_DIR / "racecar_udp.yaml", ["safety.max_rate=3"])


def test_export_then_deploy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = build_policy("ncp", image_shape=SMALL_IMAGE, seed=5)
    save_checkpoint(policy, tmp_path / "ckpt", env_id="lnn_control/LaneKeeping-v0")
    onnx_path = tmp_path / "model.onnx"
    args = parse(export_cli, ["--policy", str(tmp_path / "ckpt"), "--out", str(onnx_path)])
    assert export_cli.run(args) == 0
    assert json.loads(onnx_path.with_suffix(".json").read_text())["kind"] == "ncp"
    video = write_video(tmp_path / "v.avi", frames=10)
    telemetry = tmp_path / "t.csv"
    overrides = [
        f"model={onnx_path}", "camera.source=video", f"camera.path={video}",
        "actuator.backend=log", "loop.rate_hz=100", f"telemetry_csv={telemetry}",
        "safety.max_frame_age_s=1.0",
    ]  # fmt: skip
    argv = ["--config", str(CONFIG_DIR / "racecar_udp.yaml")]
    for item in overrides:
        argv += ["--set", item]
    assert deploy_cli.run(parse(deploy_cli, argv)) == 0
    assert "10 model steps" in capsys.readouterr().out
    with telemetry.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(1 for r in rows if r["raw_0"]) == 10  # one model step per frame
    assert (rows[-1]["event"], rows[-1]["failsafe"]) == ("end", "1")  # the last word
