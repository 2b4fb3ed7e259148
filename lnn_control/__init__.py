"""lnn-control: a control stack for liquid neural networks.

`import lnn_control` is light: it imports neither torch nor pybullet, so that
`lnn_control.deploy` runs on a robot with only numpy, opencv and onnxruntime. When gymnasium is
installed, importing the package registers the worlds (`lnn_control/LaneKeeping-v0`, ...) with
string entry points, which import pybullet only when an env is made.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def _register_envs() -> None:
    try:
        from lnn_control.envs.registration import register_envs
    except ImportError:  # gymnasium not installed (e.g. on a robot): nothing to register
        return
    register_envs()


_register_envs()

#: public name -> (module, attribute), imported on first use (torch).
_LAZY = {
    "load_policy": ("lnn_control.policies.checkpoint", "load_step_policy"),
    "evaluate": ("lnn_control.rollout.evaluate", "evaluate"),
}


def __getattr__(name: str) -> Any:
    """`lnn_control.load_policy` (a checkpoint, "pretrained:<name>" or a .onnx file) and
    `lnn_control.evaluate`, imported on first use."""
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazy ones included (`dir(lnn_control)` shows them)."""
    return sorted({*globals(), *_LAZY})


__all__ = ["__version__", "evaluate", "load_policy"]
