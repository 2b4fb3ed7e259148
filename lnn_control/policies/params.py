"""Parameter counts: the conv head, the recurrent part (with its readout), and both together.

For a wired network (the NCPs), the dense parameter tensors hold an entry for every possible
synapse, but only the wiring's synapses take part in the computation; `rnn` counts only those
(masked entries excluded), `rnn_dense` counts every entry. For the other kinds both are equal.
"""

from __future__ import annotations

from torch import nn

from lnn_control.liquid.cfc import CfCCell
from lnn_control.liquid.ltc import LTCCell
from lnn_control.policies.base import Policy

LTC_NEURON_PARAMS = ("sigma", "mu", "w", "erev")
"""LTCCell parameters of shape (N, N), one entry per possible neuron -> neuron synapse."""
LTC_SENSORY_PARAMS = ("sensory_sigma", "sensory_mu", "sensory_w", "sensory_erev")
"""LTCCell parameters of shape (S, N), one entry per possible sensory synapse."""


def effective_count(module: nn.Module) -> int:
    """Parameters of `module` that take part in the computation (masked entries excluded)."""
    in_use: dict[int, int] = {}  # id(parameter) -> entries in use, where fewer than numel
    for sub in module.modules():
        if isinstance(sub, LTCCell):
            for name, param in sub.named_parameters(recurse=False):
                if name in LTC_NEURON_PARAMS:
                    in_use[id(param)] = sub.wiring.synapse_count
                elif name in LTC_SENSORY_PARAMS:
                    in_use[id(param)] = sub.wiring.sensory_synapse_count
        elif isinstance(sub, CfCCell) and sub.mask is not None:
            in_use[id(sub.heads.weight)] = int(sub.mask.count_nonzero())
    return sum(in_use.get(id(p), p.numel()) for p in module.parameters())


def _dense(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_counts(policy: Policy) -> dict[str, int]:
    """Counts for a policy.

    Returns:
        {"head": conv head, "rnn": recurrent part incl. readout (existing synapses only),
         "rnn_dense": the same with every dense entry, "total": head + rnn,
         "total_dense": head + rnn_dense (= sum of numel over all parameters)}.
    """
    head = _dense(policy.head)
    rnn_modules = [m for name, m in policy.named_children() if name != "head"]
    rnn_dense = sum(_dense(m) for m in rnn_modules) + sum(
        p.numel() for p in policy.parameters(recurse=False)
    )
    rnn = sum(effective_count(m) for m in rnn_modules) + sum(
        p.numel() for p in policy.parameters(recurse=False)
    )
    return {
        "head": head,
        "rnn": rnn,
        "rnn_dense": rnn_dense,
        "total": head + rnn,
        "total_dense": head + rnn_dense,
    }
