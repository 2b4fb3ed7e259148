"""Packaged YAML configs, found by name from any directory.

    resolve_config("lane_keeping_il")        # -> .../lnn_control/configs/lane_keeping_il.yaml
    resolve_config("lane_quick")             # -> .../configs/stress/lane_quick.yaml (unique name)
    resolve_config("stress/lane_quick")      # the same, with its folder
    resolve_config("my_recipe.yaml")         # an existing file is used as it is
    resolve_config("configs/demo.yaml")      # the old repository path still names demo.yaml

`lnn-control configs` lists them: recipes at the top level, `stress/` suites, `deploy/` robot
configs, `experiments/`.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
_OLD_PREFIX = "configs/"


def packaged_configs() -> dict[str, Path]:
    """Every packaged config: name ("lane_keeping_il", "stress/lane_quick") -> file."""
    return {
        path.relative_to(CONFIG_DIR).with_suffix("").as_posix(): path
        for path in sorted(CONFIG_DIR.rglob("*.yaml"))
    }


def resolve_config(value: str | Path) -> Path:
    """The config file `value` names: an existing file, else a packaged config by name (with
    or without its folder and `.yaml`); FileNotFoundError (one line) otherwise."""
    path = Path(value)
    if path.is_file():
        return path
    name = str(value).removeprefix(_OLD_PREFIX).removesuffix(".yaml")
    configs = packaged_configs()
    if name in configs:
        return configs[name]
    matches = [p for key, p in configs.items() if key.rsplit("/", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(key for key in configs if key.rsplit("/", 1)[-1] == name)
        raise FileNotFoundError(f"config {str(value)!r} is ambiguous: name one of {names}")
    raise FileNotFoundError(
        f"config not found: {value} (no such file and no packaged config of that name; "
        "`lnn-control configs` lists them)"
    )
