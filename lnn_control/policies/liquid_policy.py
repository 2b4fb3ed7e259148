"""`LiquidPolicy`: conv head -> 19-neuron Neural Circuit Policy -> action.

The head's 32 features are the NCP's sensory inputs; the motor neurons are the outputs. With the
LTC cell (default, kind "ncp") the LTC's output affine map (`v_motor * output_w + output_b`) gives
the action before the tanh squash; with the wired CfC cell (kind "ncp_cfc") the motor neurons'
states go through the same kind of per-motor affine map, added here.

Wirings: `NCPWiring.paper(seed)` (12 inter, 6 command, 1 motor) for one action (steering),
`NCPWiring.drone(seed)` (10 inter, 5 command, 4 motor) for four (vx, vy, vz, yaw rate); pass
`wiring=` for anything else.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from lnn_control.liquid import LTC, CfC, NCPWiring, Wiring
from lnn_control.policies.base import NOMINAL_DT_S, ImageShape, Policy, seeded
from lnn_control.policies.perception import DEFAULT_IMAGE_SHAPE

CELL_KINDS = {"ltc": "ncp", "cfc": "ncp_cfc"}
"""Liquid cell -> policy kind."""
DRONE_ACTIONS = 4


def default_wiring(action_dim: int, n_sensory: int, seed: int) -> NCPWiring:
    """The paper's 19-neuron NCP for 1 action, the drone's 19-neuron NCP for 4 actions."""
    if action_dim == 1:
        return NCPWiring(n_sensory=n_sensory, seed=seed)
    if action_dim == DRONE_ACTIONS:
        return NCPWiring.drone(seed=seed, n_sensory=n_sensory)
    raise ValueError(
        f"no default NCP wiring for action_dim={action_dim} (defaults exist for 1 and 4); "
        f"pass wiring=NCPWiring(n_sensory=..., motor={action_dim}, ...)"
    )


class LiquidPolicy(Policy):
    """Conv head -> NCP of LTC (or wired CfC) neurons -> action.

    Args:
        image_shape, action_dim, seed, nominal_dt_s, head: see `Policy`.
        cell: "ltc" (liquid time-constant, kind "ncp") or "cfc" (wired closed-form, "ncp_cfc").
        wiring: the NCP; default `default_wiring(action_dim, head features, seed)`. Its
            `n_sensory` must equal the head's `features_dim`, its `n_motor` the `action_dim`.
        **cell_kwargs: passed to `LTC` (e.g. `ode_unfolds`) or `CfC` (e.g. `mode`).
    """

    rnn: LTC | CfC

    def __init__(
        self,
        image_shape: ImageShape = DEFAULT_IMAGE_SHAPE,
        action_dim: int = 1,
        seed: int = 0,
        nominal_dt_s: float = NOMINAL_DT_S,
        head: dict[str, Any] | None = None,
        cell: str = "ltc",
        wiring: Wiring | None = None,
        **cell_kwargs: Any,
    ) -> None:
        if cell not in CELL_KINDS:
            raise ValueError(f"cell must be one of {sorted(CELL_KINDS)}, got {cell!r}")
        super().__init__(CELL_KINDS[cell], image_shape, action_dim, seed, nominal_dt_s, head)
        features = self.head.features_dim
        wiring = default_wiring(action_dim, features, seed) if wiring is None else wiring
        if (wiring.n_sensory, wiring.n_motor) != (features, action_dim):
            raise ValueError(
                f"wiring has {wiring.n_sensory} sensory inputs and {wiring.n_motor} motor "
                f"neurons; this policy needs {features} and {action_dim}"
            )
        self.cell_kind = cell
        self.cell_kwargs = dict(cell_kwargs)
        with seeded(self.seed):
            if cell == "ltc":
                self.rnn = LTC(features, wiring, **cell_kwargs)
            else:
                self.rnn = CfC(features, wiring, **cell_kwargs)
                self.output_w = nn.Parameter(torch.ones(action_dim))
                self.output_b = nn.Parameter(torch.zeros(action_dim))

    @property
    def wiring(self) -> Wiring:
        """The NCP wiring (adjacency matrices)."""
        wiring = self.rnn.wiring
        assert wiring is not None  # always wired here
        return wiring

    @property
    def state_size(self) -> int:
        """Neurons N (19 for the NCPs)."""
        return self.wiring.n_neurons

    def core(
        self,
        features: torch.Tensor,
        dt: torch.Tensor,
        episode_start: torch.Tensor | None,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) features, (B, T) dt in nominal steps -> (B, T, A) pre-squash, (B, N)."""
        y, last = self.rnn(features, state, dt=dt, episode_start=episode_start)[:2]
        if self.cell_kind == "cfc":
            y = torch.addcmul(self.output_b, y, self.output_w)
        return y, last

    def rnn_config(self) -> dict[str, Any]:
        """{"cell", "wiring" (adjacency via `Wiring.to_dict`), "cell_kwargs"}."""
        return {
            "cell": self.cell_kind,
            "wiring": self.wiring.to_dict(),
            "cell_kwargs": dict(self.cell_kwargs),
        }

    @classmethod
    def rnn_kwargs(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Constructor keyword arguments from `rnn_config()` output."""
        return {
            "cell": config["cell"],
            "wiring": Wiring.from_dict(config["wiring"]),
            **dict(config.get("cell_kwargs") or {}),
        }
