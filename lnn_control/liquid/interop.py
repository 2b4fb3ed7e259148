"""`from_ncps`: convert an ncps (https://github.com/mlech26l/ncps) torch module into ours.

ncps is not a dependency: this module only reads attributes of the object it is given. Supported:

- `ncps.torch.LTC` and `ncps.torch.LTCCell` (any wiring; mixed_memory off) -> `LTC` / `LTCCell`
  with identical outputs. ncps' LTC is batch-first with return_sequences; ours always is.
- `ncps.torch.CfC` with an int number of units (fully connected, any backbone; no mixed memory,
  no projection) -> `CfC` with identical outputs.

A wired ncps CfC is refused: it updates the inter, command and motor layers one after another
within a step, with all-to-all recurrence inside each layer, so no weights make our wired CfC
(all neurons at once, only the drawn synapses) compute the same function.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lnn_control.liquid.cfc import CfC
from lnn_control.liquid.ltc import LTC, LTCCell
from lnn_control.liquid.wiring import NEURON_TYPES, Wiring

_LTC_PARAMS = (
    "gleak",
    "vleak",
    "cm",
    "sigma",
    "mu",
    "w",
    "erev",
    "sensory_sigma",
    "sensory_mu",
    "sensory_w",
    "sensory_erev",
    "input_w",
    "input_b",
    "output_w",
    "output_b",
)
_POSITIVE = ("gleak", "cm", "w", "sensory_w")  # softplus-constrained in our cell
_ACTIVATION_NAMES = {
    "LeCun": "lecun_tanh",
    "Tanh": "tanh",
    "ReLU": "relu",
    "SiLU": "silu",
    "GELU": "gelu",
}


def from_ncps(module: nn.Module) -> LTC | LTCCell | CfC:
    """Our equivalent of an ncps LTC, LTCCell or fully connected CfC, with the same parameters."""
    name = type(module).__name__
    if name == "LTC" and hasattr(module, "rnn_cell"):
        if getattr(module, "use_mixed", False):
            raise ValueError(
                "ncps LTC with mixed_memory=True is not supported (no LSTM memory here)"
            )
        cell = _convert_ltc_cell(module.rnn_cell)
        ours = LTC(
            cell.input_size,
            cell.wiring,
            cell.ode_unfolds,
            cell.input_mapping,
            cell.output_mapping,
            cell.epsilon,
        )
        ours.cell.load_state_dict(cell.state_dict())
        return ours
    if name == "LTCCell":
        return _convert_ltc_cell(module)
    if name == "CfC" and hasattr(module, "rnn_cell"):
        return _convert_cfc(module)
    raise ValueError(
        f"from_ncps supports ncps.torch.LTC, LTCCell and fully connected CfC, got {name}"
    )


def _convert_ltc_cell(cell: Any) -> LTCCell:
    wiring = _wiring_from_ltc(cell)
    ours = LTCCell(
        wiring,
        ode_unfolds=int(cell._ode_unfolds),
        input_mapping=cell._input_mapping,
        output_mapping=cell._output_mapping,
        epsilon=float(cell._epsilon),
    )
    implicit = bool(cell._implicit_param_constraints)
    state = {}
    for key in _LTC_PARAMS:
        if key not in cell._params:
            continue
        value = cell._params[key].detach().clone().float()
        if key in _POSITIVE and not implicit:
            value = _inverse_softplus(value, key)
        state[key] = value
    ours.load_state_dict(state)
    return ours


def _wiring_from_ltc(cell: Any) -> Wiring:
    mask = cell._params["sparsity_mask"].detach().cpu().numpy() != 0
    s_mask = cell._params["sensory_sparsity_mask"].detach().cpu().numpy() != 0
    polarity = np.where(cell._params["erev"].detach().cpu().numpy() < 0, -1, 1)
    s_polarity = np.where(cell._params["sensory_erev"].detach().cpu().numpy() < 0, -1, 1)
    ncps_wiring = cell._wiring
    n = mask.shape[0]
    types: tuple[str, ...] | None = None
    if hasattr(ncps_wiring, "get_type_of_neuron"):
        found = tuple(str(ncps_wiring.get_type_of_neuron(i)) for i in range(n))
        types = found if all(t in NEURON_TYPES for t in found) else None
    return Wiring(
        sensory_adjacency=s_mask * s_polarity,
        adjacency=mask * polarity,
        n_motor=int(cell.motor_size),
        neuron_types=types
        if types is not None and types.count("motor") == cell.motor_size
        else None,
        name=f"ncps_{type(ncps_wiring).__name__.lower()}",
    )


def _inverse_softplus(value: torch.Tensor, name: str) -> torch.Tensor:
    """x with softplus(x) == value, for the positive parameters ncps keeps unconstrained."""
    if (value <= 0).any():
        raise ValueError(
            f"ncps parameter {name!r} has entries <= 0; call apply_weight_constraints() first "
            "(ours keeps it positive through softplus)"
        )
    return value + torch.log(-torch.expm1(-value))


def _convert_cfc(module: Any) -> CfC:
    if getattr(module, "wired_mode", False) or hasattr(module, "wiring"):
        raise ValueError(
            "a wired ncps CfC updates its layers one after another with all-to-all recurrence "
            "inside each layer; lnn_control's wired CfC follows the synapses only, so their maths "
            "differ and no conversion can match. Convert a fully connected CfC, or train ours."
        )
    if getattr(module, "use_mixed", False) or module.proj_size is not None:
        raise ValueError("ncps CfC with mixed_memory or proj_size is not supported")
    cell = module.rnn_cell
    linears = [m for m in cell.backbone or [] if isinstance(m, nn.Linear)]
    activations = [m for m in cell.backbone or [] if type(m).__name__ in _ACTIVATION_NAMES]
    dropouts = [m.p for m in cell.backbone or [] if isinstance(m, nn.Dropout)]
    ours = CfC(
        cell.input_size,
        cell.hidden_size,
        mode=cell.mode,
        backbone_units=linears[0].out_features if linears else 128,
        backbone_layers=len(linears),
        backbone_dropout=dropouts[0] if dropouts else 0.0,
        activation=_ACTIVATION_NAMES[type(activations[0]).__name__]
        if activations
        else "lecun_tanh",
    )
    heads = [cell.ff1] if cell.mode == "pure" else [cell.ff1, cell.ff2, cell.time_a, cell.time_b]
    state = {
        "cell.heads.weight": torch.cat([h.weight for h in heads]),
        "cell.heads.bias": torch.cat([h.bias for h in heads]),
    }
    for i, layer in enumerate(linears):
        state[f"cell.backbone.{i}.weight"] = layer.weight
        state[f"cell.backbone.{i}.bias"] = layer.bias
    if cell.mode == "pure":
        state["cell.w_tau"] = cell.w_tau.reshape(-1)
        state["cell.A"] = cell.A.reshape(-1)
    ours.load_state_dict({k: v.detach().clone().float() for k, v in state.items()})
    return ours
