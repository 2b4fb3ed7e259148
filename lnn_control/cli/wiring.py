"""`lnn-control wiring`: build an NCP wiring, print its synapse counts, save it as JSON or PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

PRESETS = ("paper", "drone")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lnn-control wiring`."""
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="paper",
        help="paper: 19 neurons, 1 motor; drone: 19 neurons, 4 motor",
    )
    parser.add_argument("--seed", type=int, default=0, help="wiring seed (default 0)")
    parser.add_argument("--sensory", type=int, default=32, help="sensory inputs (default 32)")
    parser.add_argument(
        "--json", type=Path, help="write the wiring (adjacency matrices) as JSON here"
    )
    parser.add_argument("--plot", type=Path, help="write a PNG drawing of the wiring here")


def run(args: argparse.Namespace) -> int:
    """Build the wiring and report or save it."""
    from lnn_control.io_utils import atomic_write_bytes
    from lnn_control.liquid.wiring import NCPWiring

    if args.preset == "paper":
        wiring = NCPWiring(n_sensory=args.sensory, seed=args.seed)
    else:
        wiring = NCPWiring.drone(seed=args.seed, n_sensory=args.sensory)
    print(wiring.summary())
    if args.json:
        atomic_write_bytes(args.json, wiring.to_json().encode())
        print(f"wrote {args.json}")
    if args.plot:
        from lnn_control.liquid.wiring_plot import plot_wiring

        plot_wiring(wiring, args.plot)
        print(f"wrote {args.plot}")
    return 0
