"""Labels that become file names, and writes that must stay inside their output directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lnn_control.io_utils import (
    LABEL_MAX_CHARS,
    atomic_write_json,
    check_label,
    path_inside,
)
from lnn_control.pipelines.experiment import ExperimentConfig, run_dir


@pytest.mark.parametrize(
    "label",
    ["ncp", "cnn_s0", "paper_variance_0.3", "gaussian-noise", "A1", "x" * LABEL_MAX_CHARS],
)
def test_plain_labels_are_accepted(label: str) -> None:
    assert check_label(label, "policy label") == label


@pytest.mark.parametrize(
    "label",
    ["", ".", "..", "../x", "a/b", "a\\b", "a..b", ".hidden", "a b", "fog\n", "é", "x" * 101, 3],
)
def test_labels_that_are_not_plain_names_are_refused_in_one_line(label: object) -> None:
    with pytest.raises(
        ValueError, match=r"condition label .* cannot be a file name; allowed: "
    ) as err:
        check_label(label, "condition label")
    assert "\n" not in str(err.value)


def test_paths_must_resolve_inside_the_output_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert path_inside(out, "cells", "a", "s1_1.json") == out / "cells" / "a" / "s1_1.json"
    with pytest.raises(ValueError, match="resolves outside the output directory"):
        path_inside(out, "cells/a/../../../x.json")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out.mkdir()
    os.symlink(outside, out / "link")
    with pytest.raises(ValueError, match="resolves outside the output directory"):
        atomic_write_json(out / "link" / "x.json", {"a": 1}, root=out)
    with pytest.raises(ValueError, match="resolves outside the output directory"):
        atomic_write_json(out / ".." / "x.json", {"a": 1}, root=out)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["elsewhere", "link", "out"]
    assert atomic_write_json(out / "in.json", {"a": 1}, root=out).read_text() == '{\n  "a": 1\n}\n'


def test_experiment_run_names_are_plain_names_inside_run_root(tmp_path: Path) -> None:
    config = ExperimentConfig(run_root=str(tmp_path))
    assert run_dir(config, "ncp", 2) == tmp_path / "ncp_s2"
    with pytest.raises(ValueError, match=r"experiment run name '\.\./x_s0' cannot be a file name"):
        run_dir(config, "../x", 0)
