"""`drive` CLI module: records a GIF and a plot from an expert drive."""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v2 as imageio
import pytest

from lnn_control.cli import drive as drive_cli
from lnn_control.envs.lane.record import GIF_UPSCALE


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    drive_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.slow
def test_drive_writes_gif_and_plot(tmp_path: Path) -> None:
    args = _args(
        "--expert", "stanley", "--seed", "1000001", "--seconds", "1", "--out", str(tmp_path)
    )
    assert drive_cli.run(args) == 0
    gif = imageio.mimread(tmp_path / "drive_stanley_1000001.gif")
    assert len(gif) == 21  # the reset frame + 20 steps
    assert gif[0].shape[:2] == (64 * GIF_UPSCALE, 160 * GIF_UPSCALE)
    png = imageio.imread(tmp_path / "drive_stanley_1000001.png")
    assert png.ndim == 3
    assert png.std() > 10


def test_drive_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--seconds"):
        drive_cli.run(_args("--seconds", "0", "--out", str(tmp_path)))
    with pytest.raises(ValueError, match="noise_std"):
        drive_cli.run(_args("--noise-std", "2", "--out", str(tmp_path)))
