"""Policy kinds by name: `build_policy("ncp")`, and rebuilding a policy from its `spec()`.

`check_spec_sizes` and `head_tensor_shapes` let a loader check an architecture read from a file
(sane bounds, and the shapes the conv head will have) without allocating any weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from lnn_control.policies.base import Policy
from lnn_control.policies.baselines import (
    CfCPolicy,
    CTRNNPolicy,
    FeedforwardPolicy,
    GRUPolicy,
    LSTMPolicy,
)
from lnn_control.policies.liquid_policy import LiquidPolicy
from lnn_control.policies.perception import (
    DEFAULT_IMAGE_SHAPE,
    FEATURES_PER_MAP,
    PAPER_CONV_LAYERS,
    RGB_CHANNELS,
    ConvHead,
)

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

# Bounds on architectures read from files (the shipped policies are far below every one of them).
MAX_IMAGE_SIDE_PX = 4096
MAX_ACTION_DIM = 64
MAX_CONV_LAYERS = 16
MAX_FEATURES = 256
"""Head output features (last conv maps x features per map); the paper's NCP has 32."""
MAX_UNITS = 1024
"""Hidden units of a baseline core or a CfC backbone layer."""
MAX_NEURONS = 256
"""Neurons of an NCP wiring (the paper's has 19)."""
MAX_LAYERS = 16
MAX_ODE_UNFOLDS = 100


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


def _int_in(value: object, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"architecture {key} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _rows(value: object, key: str, high: int) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= high:
        size = len(value) if isinstance(value, list) else type(value).__name__
        raise ValueError(f"architecture {key} must be a list of 1 to {high} rows, got {size}")


def _check_image_shape(shape: object) -> None:
    if not isinstance(shape, list) or len(shape) != 3:
        raise ValueError(f"architecture image_shape must be [height, width, 3], got {shape!r}")
    _int_in(shape[0], "image_shape height (px)", 1, MAX_IMAGE_SIDE_PX)
    _int_in(shape[1], "image_shape width (px)", 1, MAX_IMAGE_SIDE_PX)
    _int_in(shape[2], "image_shape channels (RGB)", RGB_CHANNELS, RGB_CHANNELS)


def _check_head(head: dict[str, Any]) -> None:
    layers = head.get("conv_layers", [list(PAPER_CONV_LAYERS[-1])])
    _rows(layers, "head.conv_layers", MAX_CONV_LAYERS)
    if not isinstance(layers[-1], Sequence) or not layers[-1]:
        raise ValueError(f"architecture head.conv_layers rows must be lists, got {layers[-1]!r}")
    maps = _int_in(layers[-1][0], "head.conv_layers last out_channels", 1, MAX_FEATURES)
    per_map = head.get("features_per_map", FEATURES_PER_MAP)
    per_map = _int_in(per_map, "head.features_per_map", 1, MAX_FEATURES)
    _int_in(maps * per_map, "head features (maps x features_per_map)", 1, MAX_FEATURES)


def _check_core(rnn: dict[str, Any]) -> None:
    sizes = {**rnn, **(rnn.get("cell_kwargs") or {})}
    for key, high in (
        ("hidden_size", MAX_UNITS),
        ("backbone_units", MAX_UNITS),
        ("backbone_layers", MAX_LAYERS),
        ("ode_unfolds", MAX_ODE_UNFOLDS),
    ):
        if sizes.get(key) is not None:
            _int_in(sizes[key], f"rnn {key}", 1, high)
    wiring = rnn.get("wiring")
    if isinstance(wiring, dict):
        _rows(wiring.get("adjacency"), "rnn.wiring.adjacency (neurons)", MAX_NEURONS)
        _rows(wiring.get("sensory_adjacency"), "rnn.wiring.sensory_adjacency", MAX_FEATURES)


def check_spec_sizes(spec: dict[str, Any]) -> None:
    """One-line ValueError when a `Policy.spec()` read from a file has a size out of bounds:
    image sides 1..MAX_IMAGE_SIDE_PX px with 3 channels, action_dim, conv layers, head features,
    hidden units, NCP neurons, ODE unfolds (the MAX_* constants). Allocates nothing."""
    _check_image_shape(spec.get("image_shape"))
    _int_in(spec.get("action_dim"), "action_dim", 1, MAX_ACTION_DIM)
    for key, check in (("head", _check_head), ("rnn", _check_core)):
        section = spec.get(key)
        if not isinstance(section, dict):
            raise ValueError(f"architecture {key} must be a JSON object, got {section!r}")
        check(section)


def head_tensor_shapes(spec: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """{"head.<name>": shape} of the conv head `spec` describes, built on the meta device (no
    memory), for comparison with a weights file; one-line ValueError if malformed."""
    try:
        with torch.device("meta"):
            head = ConvHead(tuple(spec["image_shape"]), **dict(spec["head"]))
    except (KeyError, TypeError, ZeroDivisionError, RuntimeError) as err:
        raise ValueError(f"malformed head in the policy spec: {err!r}") from None
    return {f"head.{name}": tuple(t.shape) for name, t in head.state_dict().items()}
