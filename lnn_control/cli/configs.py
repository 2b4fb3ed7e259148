"""`lnn-control configs`: the packaged configs, by folder, with where they are."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control configs` (none)."""


def run(args: argparse.Namespace) -> int:
    """Print every packaged config name; any command taking a config accepts the name."""
    from lnn_control.configs import CONFIG_DIR, packaged_configs

    configs = packaged_configs()
    groups: dict[str, list[str]] = {}
    for name in configs:
        folder = name.rsplit("/", 1)[0] if "/" in name else "recipes (lnn-control train, demo)"
        groups.setdefault(folder, []).append(name)
    for folder, names in groups.items():
        print(f"{folder}:")
        for name in names:
            print(f"  {name}")
    print(f"\n{len(configs)} configs in {CONFIG_DIR}; pass a name (e.g. --config lane_keeping_il,")
    print("--suite lane_quick) or a path to your own YAML file.")
    return 0
