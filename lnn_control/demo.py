"""`lnn-control demo`: the end-to-end job behind `make demo`.

Not yet: training, closed-loop evaluation and the report land with the imitation-learning issue.
Until then the command says so plainly and exits with status 0.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo takes no arguments yet."""


def run(args: argparse.Namespace) -> int:
    """Print what the demo will do once the training pipeline lands."""
    print(
        "lnn-control demo: not yet. The end-to-end demo (collect expert drives, train the NCP by "
        "imitation, evaluate closed loop, stress-test, write runs/demo/report.html) lands with "
        "the imitation-learning issue. `make test` is real today."
    )
    return 0
