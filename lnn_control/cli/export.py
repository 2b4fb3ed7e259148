"""`lnn-control export --policy P --out model.onnx`: one control step as ONNX + sidecar JSON."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--policy (checkpoint directory or pretrained:<name>) and --out (.onnx path)."""
    parser.add_argument("--policy", required=True, help="checkpoint directory or pretrained:<name>")
    parser.add_argument("--out", type=Path, required=True, help="the .onnx file to write")


def run(args: argparse.Namespace) -> int:
    """Export; prints the two paths. An --out not ending in .onnx: ValueError, nothing written."""
    if Path(args.out).suffix.lower() != ".onnx":  # before importing torch: a fast, clear error
        raise ValueError(
            f"--out must end in .onnx (the sidecar .json goes beside it), got {args.out}"
        )
    from lnn_control.deploy.export import export_policy  # torch: only when exporting

    onnx_path, sidecar_path = export_policy(args.policy, args.out)
    print(f"wrote {onnx_path} and {sidecar_path}")
    return 0
