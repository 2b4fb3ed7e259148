"""The `lnn-control` entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lnn_control.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lnn_control.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "wiring" in done.stdout


def test_wiring_command_writes_json_and_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "wiring",
            "--preset",
            "drone",
            "--seed",
            "4",
            "--json",
            str(tmp_path / "w.json"),
            "--plot",
            str(tmp_path / "w.png"),
        ]
    )
    assert code == 0
    assert "19 neurons" in capsys.readouterr().out
    data = json.loads((tmp_path / "w.json").read_text())
    assert data["n_motor"] == 4
    assert data["params"]["seed"] == 4
    assert (tmp_path / "w.png").stat().st_size > 10_000


def test_bad_choice_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["wiring", "--preset", "octopus"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_deploy_parses_without_importing_torch_or_other_subcommands() -> None:
    """`lnn-control deploy --help` on a robot: only the deploy module is loaded."""
    script = (
        "import sys\n"
        "from lnn_control.cli import main\n"
        "try:\n"
        "    main(['deploy', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('torch', 'pybullet') if m in sys.modules)\n"
        "others = sorted(m for m in sys.modules if m.startswith('lnn_control.cli.')\n"
        "                and m != 'lnn_control.cli.deploy')\n"
        "print('LOADED', heavy, others)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "LOADED [] []"
