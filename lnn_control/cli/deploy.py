"""`lnn-control deploy --config deploy/racecar_udp [--set key=value]`.

Runs the exported model on the robot: camera -> model -> safety filter -> actuator. Needs
pydantic and pyyaml for the config (the runtime itself does not). Without torch (on the robot)
run it as `python -m lnn_control.cli.deploy --config ...` (same options).

Order: the config is loaded and the safety settings checked before the model or any device
opens (a bad value: one line naming the key, exit 2). SIGINT, SIGTERM and SIGHUP then stop the
loop in order: the fail-safe goes out as the last word, telemetry is flushed and closed, and
the exit code says why (`lnn_control.deploy.runtime.stopping`): 0 normal end, 1 exception,
2 bad config, 3 too many bad frames, 129 SIGHUP, 130 SIGINT, 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from lnn_control.config_io import add_set_argument, load_config
from lnn_control.deploy.config import DeployConfig
from lnn_control.deploy.factory import make_actuator, make_camera, make_filter
from lnn_control.deploy.runtime.drone_safety import DRONE_COMMAND_SIZE
from lnn_control.deploy.runtime.loop import RunSummary
from lnn_control.deploy.runtime.loop import run as run_loop
from lnn_control.deploy.runtime.model import OnnxPolicy
from lnn_control.deploy.runtime.stopping import (
    EXIT_CODES,
    EXIT_EXCEPTION,
    StopFlag,
    exit_code,
    stop_on_signals,
)
from lnn_control.deploy.runtime.telemetry import CAR_SENT, DRONE_SENT, TelemetryWriter

EXIT_INTERRUPTED = EXIT_CODES["sigint"]
_log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config and --set."""
    parser.add_argument("--config", type=Path, default=None, help="deploy YAML config")
    add_set_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Load and check the config, open everything, run the loop; returns the exit code."""
    cfg = load_config(DeployConfig, args.config, args.overrides)
    car, drone = cfg.safety.to_safety_config(), cfg.drone_safety.to_config()  # before any device
    model = OnnxPolicy(cfg.model)
    camera = make_camera(cfg.camera, model.image_shape)
    actuator = make_actuator(cfg.actuator, model.action_dim)
    safety = make_filter(model.action_dim, car, drone)
    sent_names: tuple[str, ...] = DRONE_SENT if model.action_dim == DRONE_COMMAND_SIZE else CAR_SENT
    telemetry = (
        TelemetryWriter(cfg.telemetry_csv, model.action_dim, sent_names)
        if cfg.telemetry_csv
        else None
    )
    with stop_on_signals(StopFlag()) as flag, ExitStack() as stack:
        for resource in (camera, actuator, telemetry):  # closed in reverse: telemetry first
            if resource is not None:
                stack.enter_context(resource)
        if telemetry is not None:
            print(f"deploy: telemetry in {telemetry.path}", file=sys.stderr)
        try:
            summary = run_loop(
                camera, model, safety, actuator, cfg.loop.rate_hz, cfg.loop.max_steps, telemetry,
                stop=flag,
            )  # fmt: skip
        except Exception:
            _log.exception("deploy: the loop stopped on an exception")
            print("deploy: stopped by an exception; fail-safe sent", file=sys.stderr)
            return EXIT_EXCEPTION
    return _report(summary)


def _report(summary: RunSummary) -> int:
    print(
        f"deploy: {summary.steps} periods, {summary.model_steps} model steps, "
        f"{summary.overruns} overruns, {summary.bad_frames} bad frames, "
        f"fail-safe {summary.failsafe_counts}, stopped: {summary.stop_reason}"
    )
    return exit_code(summary.stop_reason)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m lnn_control.cli.deploy`: the deploy command without the other
    subcommands (and so without torch), for the robot."""
    parser = argparse.ArgumentParser(prog="lnn-control deploy", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"lnn-control deploy: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
