"""The package's structure as docs/architecture.md states it: layers, no cycles, no world branch.

Every `import` counts, the lazy ones inside functions included: a cycle through a function-level
import is still a cycle, and a layer that imports upwards lazily still depends on that layer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lnn_control"

#: package -> the packages of ours it may import (besides itself and the top-level helper
#: modules `io_utils`, `config_io`, `progress`, `checkpoint_io` and the package root).
ALLOWED: dict[str, set[str]] = {
    "liquid": set(),
    "envs": set(),
    "configs": set(),
    "policies": {"liquid", "deploy.runtime"},
    "rollout": {"envs", "policies"},
    "training": {"envs", "policies", "liquid", "rollout"},
    "stress": {"envs", "policies", "rollout", "reporting"},
    "explain": {"envs", "policies", "liquid", "rollout", "reporting"},
    "reporting": {"envs", "rollout", "liquid"},
    "pipelines": {
        "envs",
        "policies",
        "liquid",
        "rollout",
        "training",
        "stress",
        "reporting",
        "explain",
        "configs",
    },
    "deploy.runtime": set(),
    "deploy": {"deploy.runtime", "policies", "liquid", "envs", "rollout"},
    "cli": {
        "envs",
        "policies",
        "liquid",
        "rollout",
        "training",
        "stress",
        "explain",
        "reporting",
        "pipelines",
        "deploy",
        "deploy.runtime",
        "configs",
    },
    "pretrained": set(),
}
HELPERS = {"io_utils", "config_io", "progress", "checkpoint_io", ""}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every `lnn_control...` module named by an import anywhere in the file."""
    found: set[str] = set()
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lnn_control")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("lnn_control"):
                found |= {f"{base}.{a.name}" for a in node.names} | {base}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in _imports(path) if t in modules and t != name}
        graph[name] = targets
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts or (len(parts) == 1 and parts[0] in HELPERS):
        return ""
    if parts[0] == "deploy" and len(parts) > 1 and parts[1] == "runtime":
        return "deploy.runtime"
    return parts[0]


def test_no_import_cycles_lazy_imports_included() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def test_layers_import_only_downwards() -> None:
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if not layer:
            continue
        assert layer in ALLOWED, f"{module}: layer {layer!r} is not in the architecture table"
        for target in targets:
            other = _layer(target)
            if other and other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


WORLD_BRANCH = re.compile(
    r"is_drone|DRONE_ENV_ID|LANE_ENV_ID|==\s*['\"]lnn_control/|['\"]lnn_control/\w+-v\d['\"]\s*[=!]="
)


def test_no_world_branch_outside_envs() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "envs":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WORLD_BRANCH.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not offenders, "world facts outside envs/:\n" + "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_listed_layer_exists(package: str) -> None:
    assert (PACKAGE / package.replace(".", "/")).is_dir()
