"""Policy kinds by name: `build_policy("ncp")`, and rebuilding a policy from its `spec()`."""

from __future__ import annotations

from typing import Any

from lnn_control.policies.base import Policy
from lnn_control.policies.baselines import (
    CfCPolicy,
    CTRNNPolicy,
    FeedforwardPolicy,
    GRUPolicy,
    LSTMPolicy,
)
from lnn_control.policies.liquid_policy import LiquidPolicy
from lnn_control.policies.perception import DEFAULT_IMAGE_SHAPE

POLICY_KINDS: dict[str, type[Policy]] = {
    "ncp": LiquidPolicy,
    "ncp_cfc": LiquidPolicy,
    "cnn": FeedforwardPolicy,
    "lstm": LSTMPolicy,
    "gru": GRUPolicy,
    "ctrnn": CTRNNPolicy,
    "cfc": CfCPolicy,
}
"""Policy kind -> class. "ncp" is the LTC NCP, "ncp_cfc" the wired-CfC NCP (both LiquidPolicy)."""

KIND_DEFAULTS: dict[str, dict[str, Any]] = {"ncp": {"cell": "ltc"}, "ncp_cfc": {"cell": "cfc"}}


def _check_kind(kind: object) -> type[Policy]:
    if kind not in POLICY_KINDS:
        raise ValueError(f"policy kind must be one of {sorted(POLICY_KINDS)}, got {kind!r}")
    return POLICY_KINDS[str(kind)]


def build_policy(
    kind: str,
    image_shape: tuple[int, int, int] = DEFAULT_IMAGE_SHAPE,
    action_dim: int = 1,
    seed: int = 0,
    **kwargs: Any,
) -> Policy:
    """A freshly initialised policy of `kind` (see POLICY_KINDS).

    Args:
        kind: "ncp", "ncp_cfc", "cnn", "lstm", "gru", "ctrnn" or "cfc".
        image_shape: (H, W, 3) camera images.
        action_dim: actions per step (1 steering; 4 drone velocities).
        seed: seeds the weights (and the NCP wiring).
        **kwargs: the class's other arguments (nominal_dt_s, head, hidden_size, ...).
    """
    cls = _check_kind(kind)
    arguments = {**KIND_DEFAULTS.get(kind, {}), **kwargs}
    try:
        policy = cls(image_shape=image_shape, action_dim=action_dim, seed=seed, **arguments)
    except TypeError as err:
        raise ValueError(f"bad arguments for policy kind {kind!r}: {err}") from None
    if policy.kind != kind:
        raise ValueError(f"arguments {kwargs} turn kind {kind!r} into {policy.kind!r}")
    return policy


def policy_from_spec(spec: dict[str, Any]) -> Policy:
    """A freshly initialised policy from `Policy.spec()`; one-line ValueError if malformed."""
    cls = _check_kind(spec.get("kind"))
    try:
        policy = cls.from_spec(spec)
    except (KeyError, TypeError) as err:
        raise ValueError(f"malformed policy spec for kind {spec.get('kind')!r}: {err!r}") from None
    if policy.kind != spec["kind"]:
        raise ValueError(f"policy spec says kind {spec['kind']!r} but describes {policy.kind!r}")
    return policy
