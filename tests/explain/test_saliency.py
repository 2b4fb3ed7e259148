"""Saliency maps: shapes, ranges, determinism, the VisualBackProp maths, and that the maps point
at the pixels that actually move the policy's action."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from lnn_control.explain.saliency import gradient_saliency, overlay, visual_backprop
from lnn_control.policies import Policy, build_policy, normalize_images

IMAGE_SHAPE = (48, 64, 3)
H, W, _ = IMAGE_SHAPE


def _frames(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(40, 216, size=(n, *IMAGE_SHAPE), dtype=np.uint8)


@pytest.fixture(scope="module")
def ncp() -> Policy:
    return build_policy("ncp", image_shape=IMAGE_SHAPE, seed=0)


@pytest.mark.parametrize("method", [visual_backprop, gradient_saliency])
def test_maps_have_image_shape_range_and_are_deterministic(
    method: Callable[[Policy, np.ndarray], np.ndarray], ncp: Policy
) -> None:
    frames = _frames(3)
    maps = method(ncp, frames)
    assert maps.shape == (3, H, W)
    assert maps.dtype == np.float32
    assert maps.min() >= 0.0
    assert np.allclose(maps.max(axis=(1, 2)), 1.0)  # each frame normalised on its own
    np.testing.assert_array_equal(method(ncp, frames), maps)
    single = method(ncp, frames[1])
    assert single.shape == (1, H, W)
    np.testing.assert_allclose(single[0], maps[1], atol=1e-5)  # batching does not mix frames
    assert not np.allclose(maps[0], maps[1])  # different frames, different maps


def test_visual_backprop_matches_hand_computed_geometry() -> None:
    """Layer 1: 1x1 conv copying the red channel; layer 2: 3x3/2 conv that outputs ones.

    Then VBP = (how many layer-2 windows cover each pixel) x relu(normalised red), normalised;
    the last column, which no stride-2 window reaches in a 12-pixel-wide image, is zero.
    """
    shape = (9, 12, 3)
    policy = build_policy(
        "cnn", image_shape=shape, head={"conv_layers": [[1, 1, 1, 0], [1, 3, 2, 0]]}
    )
    first, second = (conv for conv in policy.head.convs if isinstance(conv, nn.Conv2d))
    assert first.bias is not None
    assert second.bias is not None
    with torch.no_grad():
        first.weight.zero_()
        first.weight[0, 0] = 1.0
        first.bias.zero_()
        second.weight.zero_()
        second.bias.fill_(1.0)
    frame = np.random.default_rng(3).integers(0, 256, size=shape, dtype=np.uint8)
    cover = np.zeros(shape[:2])
    for top in range(0, shape[0] - 2, 2):
        for left in range(0, shape[1] - 2, 2):
            cover[top : top + 3, left : left + 3] += 1
    red = normalize_images(torch.from_numpy(frame)[None])[0, :, :, 0].clamp_min(0).numpy()
    expected = cover * red
    expected /= expected.max()
    result = visual_backprop(policy, frame)[0]
    np.testing.assert_allclose(result, expected, atol=1e-5)
    assert np.all(result[:, -1] == 0.0)


def test_all_zero_activations_give_a_zero_map() -> None:
    policy = build_policy("cnn", image_shape=IMAGE_SHAPE, seed=1)
    with torch.no_grad():
        last = policy.head.convs[-1]
        assert isinstance(last, nn.Conv2d)
        assert last.bias is not None
        last.bias.fill_(-1e3)  # every last-layer unit is off after the ReLU
    maps = visual_backprop(policy, _frames(2))
    assert np.all(maps == 0.0)


def _checkerboard(size: int) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size]
    return np.where((rows // 2 + cols // 2) % 2 == 0, 255, 0).astype(np.uint8)[..., None]


@pytest.mark.parametrize("seed", [0, 1])
def test_visual_backprop_moves_to_an_added_pattern(seed: int) -> None:
    policy = build_policy("ncp", image_shape=IMAGE_SHAPE, seed=seed)
    rng = np.random.default_rng(seed)
    flat = rng.integers(122, 135, size=IMAGE_SHAPE, dtype=np.uint8)  # low-contrast background
    before = visual_backprop(policy, flat)[0]
    size, top, margin = 12, 18, 2
    for left in (6, W - 6 - size):
        frame = flat.copy()
        frame[top : top + size, left : left + size] = _checkerboard(size)
        after = visual_backprop(policy, frame)[0]
        box = np.zeros((H, W), dtype=bool)
        box[top - margin : top + size + margin, left - margin : left + size + margin] = True
        share_before = before[box].sum() / before.sum()
        share_after = after[box].sum() / after.sum()
        assert share_after > 0.5
        assert share_after > 3 * share_before
        centre_x = (after.sum(axis=0) * np.arange(W)).sum() / after.sum()
        assert left <= centre_x <= left + size


@pytest.mark.parametrize("kind", ["ncp", "cnn", "gru"])
def test_gradient_saliency_points_at_pixels_that_move_the_action(kind: str) -> None:
    """Jittering the k most salient pixels moves the action far more than the k least salient."""
    policy = build_policy(kind, image_shape=IMAGE_SHAPE, seed=2)
    frame = _frames(1, seed=5)[0]
    order = np.argsort(gradient_saliency(policy, frame)[0].ravel(), kind="stable")
    k, draws, jitter = 150, 6, 12
    base = policy.step(frame, None)[0][0]

    def mean_change(pixels: np.ndarray) -> float:
        changes = []
        for draw in range(draws):
            signs = np.random.default_rng(100 + draw).choice([-jitter, jitter], size=(k, 3))
            moved = frame.reshape(-1, 3).astype(np.int16)
            moved[pixels] += signs.astype(np.int16)
            action = policy.step(moved.reshape(IMAGE_SHAPE).astype(np.uint8), None)[0][0]
            changes.append(abs(float(action) - float(base)))
        return float(np.mean(changes))

    top, bottom = mean_change(order[-k:]), mean_change(order[:k])
    assert top > 0.0
    assert top > 10 * bottom


def test_gradient_saliency_depends_on_state(ncp: Policy) -> None:
    frames = _frames(1)
    state = torch.randn(1, ncp.state_size, generator=torch.Generator().manual_seed(0))
    assert not np.allclose(gradient_saliency(ncp, frames), gradient_saliency(ncp, frames, state))


def test_overlay_blends_into_uint8_rgb() -> None:
    frame = _frames(1)[0]
    saliency = np.linspace(0.0, 1.0, H * W).reshape(H, W)
    out = overlay(frame, saliency, alpha=0.5)
    assert out.shape == frame.shape
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(overlay(frame, saliency, alpha=0.0), frame)
    heat = overlay(frame, saliency, alpha=1.0)
    assert heat[-1, -1, 0] > heat[-1, -1, 2]  # high saliency is red (RGB order)
    assert heat[0, 0, 2] > heat[0, 0, 0]  # low saliency is blue


def test_bad_inputs_raise_one_line_value_errors(ncp: Policy) -> None:
    frame = _frames(1)[0]
    cases = [
        (lambda: visual_backprop(ncp, frame.astype(np.float32)), "uint8"),
        (lambda: visual_backprop(ncp, frame[:, :10]), "frames must be"),
        (lambda: gradient_saliency(ncp, frame, state=torch.zeros(2, ncp.state_size)), "state"),
        (lambda: gradient_saliency(ncp, frame, dt_s=0.0), "dt_s"),
        (lambda: gradient_saliency(ncp, frame, action_index=1), "action_index"),
        (lambda: overlay(frame, np.zeros((H, W)), alpha=1.5), "alpha"),
        (lambda: overlay(frame, np.zeros((H, W + 1))), "saliency must be"),
        (lambda: overlay(frame, np.full((H, W), 2.0)), r"\[0, 1\]"),
        (lambda: overlay(frame[..., :2], np.zeros((H, W))), "frame must be"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert "\n" not in str(info.value)
