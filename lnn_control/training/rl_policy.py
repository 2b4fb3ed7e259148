"""Our policies inside sb3-contrib's RecurrentPPO.

RecurrentPPO expects an `nn.LSTM` (`lstm_actor`) fed features (T, B, F) with an (h, c) state of
shape (1, B, hidden). `CoreAdapter` presents any `lnn_control` Policy's recurrent core that way:
h carries the policy's state (19 LTC neurons for the NCP), c is unused (zeros). Per step it
outputs [pre-squash action (A), new state (S)]; `TanhMean` turns the first A entries into the
Gaussian mean tanh(pre), exactly the imitation policy's action, so PPO starts from it. The value
head reads the same latent, detached (sb3's `shared_lstm`), so critic gradients do not move the
actor. The conv head is the features extractor (`HeadExtractor`), trainable or frozen.

State resets: sb3 multiplies the state by (1 - episode_start) before each step, in rollouts and
in training; zeros are every lnn_control policy's initial state, so a reset is the same as
`Policy.initial_state`.

    model = RecurrentPPO(LiquidRecurrentPolicy, vec_env,
                         policy_kwargs=liquid_policy_kwargs(policy, freeze_head=True))
    load_weights(model.policy, policy)          # start from the imitation weights
    trained = extract_policy(model.policy)      # back to an lnn_control Policy -> save_checkpoint
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from lnn_control.policies.base import Policy
from lnn_control.policies.perception import ConvHead
from lnn_control.policies.registry import policy_from_spec

VALUE_NET_ARCH = [64, 64]


class HeadExtractor(BaseFeaturesExtractor):
    """The policy's conv head on sb3's channel-first images in [0, 1] (after VecTransposeImage
    and sb3's /255): permuted back to (B, H, W, 3); the head normalises each image itself."""

    def __init__(self, observation_space: gym.Space[Any], head: ConvHead, freeze: bool) -> None:
        super().__init__(observation_space, int(head.features_dim))
        self.head = head
        self.frozen = freeze
        for p in self.head.parameters():
            p.requires_grad_(not freeze)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) or (B, H, W, 3) floats -> (B, F) features."""
        images = observations
        if images.shape[1] == 3 and images.shape[-1] != 3:
            images = images.permute(0, 2, 3, 1)
        return self.head(images)


class CoreAdapter(nn.Module):
    """A Policy's recurrent core with nn.LSTM's call signature (see the module docstring)."""

    num_layers = 1

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy
        self.input_size = int(policy.head.features_dim)
        self.state_size = int(policy.state_size)
        self.hidden_size = max(1, self.state_size)  # sb3 needs a non-empty state tensor
        self.action_dim = int(policy.action_dim)
        self.output_size = self.action_dim + self.state_size

    def forward(
        self, x: torch.Tensor, states: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x (T, B, F), (h, c) each (1, B, hidden) -> (T, B, A + S), (h', c)."""
        h, c = states
        state = h[0, :, : self.state_size]
        batch = x.shape[1]
        dt = torch.ones(batch, 1, dtype=x.dtype, device=x.device)
        outputs = []
        for features in x:
            pre, state = self.policy.core(features[:, None], dt, None, state)
            outputs.append(torch.cat([pre[:, 0], state], dim=-1))
        new_h = h if self.state_size == 0 else state[None]
        return torch.stack(outputs), (new_h, c)


class TanhMean(nn.Module):
    """Gaussian mean = tanh(pre-squash action), the first `action_dim` latent entries."""

    def __init__(self, action_dim: int) -> None:
        super().__init__()
        self.action_dim = action_dim

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, A + S) -> (B, A)."""
        return torch.tanh(latent[:, : self.action_dim])


class LiquidRecurrentPolicy(RecurrentActorCriticPolicy):
    """RecurrentActorCriticPolicy whose features extractor, recurrent core and action mean are an
    lnn_control Policy's (rebuilt from `liquid_spec`, JSON-ready, so sb3 can save and load it)."""

    def __init__(
        self,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        lr_schedule: Any,
        liquid_spec: dict[str, Any] | None = None,
        freeze_head: bool = False,
        log_std_init: float = -1.0,
        **kwargs: Any,
    ) -> None:
        if liquid_spec is None:
            raise ValueError("LiquidRecurrentPolicy needs policy_kwargs['liquid_spec']")
        liquid = policy_from_spec(liquid_spec)
        # Lists keep them out of the module tree until nn.Module.__init__ has run.
        self._liquid = [liquid]
        self._pending = [CoreAdapter(liquid)]
        adapter = self._pending[0]
        kwargs.update(
            features_extractor_class=HeadExtractor,
            features_extractor_kwargs={"head": liquid.head, "freeze": freeze_head},
            net_arch={"pi": [], "vf": list(VALUE_NET_ARCH)},
            lstm_hidden_size=adapter.hidden_size,
            shared_lstm=True,
            enable_critic_lstm=False,
            share_features_extractor=True,
            ortho_init=False,
        )
        super().__init__(
            observation_space, action_space, lr_schedule, log_std_init=log_std_init, **kwargs
        )
        self.liquid_spec = liquid_spec
        self.freeze_head = freeze_head
        self.lstm_actor = adapter  # type: ignore[assignment]
        self.action_net = TanhMean(adapter.action_dim)
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            [p for p in self.parameters() if p.requires_grad],
            lr=lr_schedule(1),
            **self.optimizer_kwargs,
        )

    def _build_mlp_extractor(self) -> None:
        self.lstm_output_dim = self._pending[0].output_size
        super()._build_mlp_extractor()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        for key in ("features_extractor_class", "features_extractor_kwargs", "net_arch"):
            data.pop(key, None)
        for key in ("lstm_hidden_size", "shared_lstm", "enable_critic_lstm", "ortho_init"):
            data.pop(key, None)
        data.update(liquid_spec=self.liquid_spec, freeze_head=self.freeze_head)
        return data

    @property
    def liquid(self) -> Policy:
        """The lnn_control Policy whose modules PPO trains (shared, not copied)."""
        return self._liquid[0]


def liquid_policy_kwargs(policy: Policy, freeze_head: bool) -> dict[str, Any]:
    """policy_kwargs for RecurrentPPO(LiquidRecurrentPolicy, ...) mirroring `policy`."""
    return {"liquid_spec": policy.spec(), "freeze_head": freeze_head}


def load_weights(sb3_policy: Any, policy: Policy) -> None:
    """Copy `policy`'s weights (e.g. the imitation result) into the sb3 policy's copy."""
    sb3_policy.liquid.load_state_dict(policy.state_dict())


def extract_policy(sb3_policy: Any) -> Policy:
    """A fresh lnn_control Policy with the PPO-trained weights (eval mode)."""
    fresh = policy_from_spec(sb3_policy.liquid_spec)
    fresh.load_state_dict(sb3_policy.liquid.state_dict())
    return fresh.eval()
