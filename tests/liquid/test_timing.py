"""reset_state and dt validation, the two time helpers every liquid module relies on."""

from __future__ import annotations

import pytest
import torch

from lnn_control.liquid import reset_state
from lnn_control.liquid.timing import dt_sequence, dt_step


def test_reset_state_zeroes_only_the_starting_samples() -> None:
    h = torch.arange(6.0).reshape(3, 2) + 1
    out = reset_state(h, torch.tensor([False, True, False]))
    assert out.tolist() == [[1.0, 2.0], [0.0, 0.0], [5.0, 6.0]]


def test_reset_state_to_a_given_initial_state_and_gradients() -> None:
    h = torch.ones(2, 3, requires_grad=True)
    h0 = torch.full((3,), 7.0)
    out = reset_state(h, torch.tensor([1, 0]), h0)
    assert out.tolist() == [[7.0] * 3, [1.0] * 3]
    out.sum().backward()
    assert h.grad is not None
    assert h.grad.tolist() == [[0.0] * 3, [1.0] * 3]  # no gradient through a reset


def test_reset_state_checks_the_mask_shape() -> None:
    with pytest.raises(ValueError, match=r"episode_start must have shape \(2,\)"):
        reset_state(torch.zeros(2, 3), torch.tensor([True]))


def test_dt_shapes_broadcast() -> None:
    cpu, f32 = torch.device("cpu"), torch.float32
    assert dt_sequence(None, 2, 3, device=cpu, dtype=f32).tolist() == [[1.0] * 3] * 2
    assert dt_sequence(0.5, 2, 3, device=cpu, dtype=f32).shape == (2, 3)
    per_sample = dt_sequence(torch.tensor([1.0, 2.0]), 2, 3, device=cpu, dtype=f32)
    assert per_sample.tolist() == [[1.0] * 3, [2.0] * 3]
    assert dt_sequence(torch.ones(2, 3, 1), 2, 3, device=cpu, dtype=f32).shape == (2, 3)
    assert dt_step(None, 4) == 1.0
    step = dt_step(torch.tensor([0.1, 0.2]), 2)
    assert isinstance(step, torch.Tensor)
    assert step.shape == (2, 1)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("-inf")])
def test_invalid_dt_is_a_clear_error(bad: float) -> None:
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        dt_step(bad, 1)
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        dt_sequence(torch.tensor([1.0, bad]), 2, 3, device=torch.device("cpu"), dtype=torch.float32)
