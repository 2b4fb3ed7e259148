"""The runtime imports and runs with torch, pybullet, gymnasium, pydantic and yaml blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SUBPROCESS_TIMEOUT_S = 60

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {"torch", "pybullet", "gymnasium", "pydantic", "yaml"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked on the robot: {name}")
            return None

    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.meta_path.insert(0, Block())

    import numpy as np
    import lnn_control.deploy as deploy
    model = deploy.OnnxPolicy(sys.argv[1])
    state = model.initial_state()
    image = np.full(model.image_shape, 100, np.uint8)
    for _ in range(3):
        action, state = model.step(image, state, 0.05)
    actuator = deploy.LogActuator()
    camera = deploy.QueueCamera(model.image_shape)
    for _ in range(3):
        camera.put(image)
    camera.end()
    summary = deploy.run(camera, model, deploy.SafetyFilter(), actuator, rate_hz=200.0)
    loaded = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    # periods without a frame yet (a loaded machine) add fail-safe commands before the frame
    print("OK", action.shape, summary.model_steps, len(actuator.sent) >= 2,
          not actuator.sent[-1].any())
    """
)


def test_runtime_without_torch(exported: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(exported["ncp"])],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["OK", "(1,)", "1", "True", "True"], result.stdout


def test_blocker_really_blocks() -> None:
    """The same blocker makes `import torch` fail (so the test above can fail)."""
    probe = SCRIPT.split("import numpy as np")[0] + "\nimport torch\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S
    )
    assert result.returncode != 0
    assert "blocked on the robot: torch" in result.stderr
