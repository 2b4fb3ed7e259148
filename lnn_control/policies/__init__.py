"""Policies: conv perception head -> recurrent core (NCP or a baseline) -> action in [-1, 1].

from lnn_control.policies import build_policy, load_policy
policy = build_policy("ncp", image_shape=(64, 160, 3), action_dim=1, seed=0)
state = policy.initial_state(batch_size=1)
action, state = policy.step(obs, state, dt_s=None)  # obs uint8 (H, W, 3); seconds
pre, last = policy.forward_sequence(obs_bt, dt_s, episode_start)   # training (B, T, ...)
save_checkpoint(policy, "runs/x/ckpt", env_id="lnn_control/LaneKeeping-v0")
policy = load_policy("runs/x/ckpt")                 # or "pretrained:<name>"
"""

from lnn_control.policies.base import NOMINAL_DT_S, Policy
from lnn_control.policies.baselines import (
    CfCPolicy,
    CTRNNPolicy,
    FeedforwardPolicy,
    GRUPolicy,
    LSTMPolicy,
)
from lnn_control.policies.checkpoint import (
    load_checkpoint,
    load_policy,
    pretrained_names,
    save_checkpoint,
)
from lnn_control.policies.liquid_policy import LiquidPolicy
from lnn_control.policies.params import parameter_counts
from lnn_control.policies.perception import ConvHead, normalize_images
from lnn_control.policies.registry import POLICY_KINDS, build_policy, policy_from_spec

__all__ = [
    "NOMINAL_DT_S",
    "POLICY_KINDS",
    "CTRNNPolicy",
    "CfCPolicy",
    "ConvHead",
    "FeedforwardPolicy",
    "GRUPolicy",
    "LSTMPolicy",
    "LiquidPolicy",
    "Policy",
    "build_policy",
    "load_checkpoint",
    "load_policy",
    "normalize_images",
    "parameter_counts",
    "policy_from_spec",
    "pretrained_names",
    "save_checkpoint",
]
