"""The conv head: shapes, per-image normalisation inside the model, the per-map linear layers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from lnn_control.policies import ConvHead, normalize_images
from lnn_control.policies.perception import PAPER_CONV_LAYERS, conv_output_size

SMALL_IMAGE = (48, 64, 3)
MakeImages = Callable[..., torch.Tensor]


@pytest.mark.parametrize("shape", [(64, 160, 3), (48, 64, 3), (78, 200, 3), (120, 160, 3)])
def test_features_shape_and_dtype_for_several_image_sizes(
    shape: tuple[int, int, int], make_images: MakeImages
) -> None:
    head = ConvHead(shape)
    features = head(make_images(3, shape))
    assert head.features_dim == 32
    assert features.shape == (3, 32)
    assert features.dtype == torch.float32


def test_default_last_feature_map_is_6x18() -> None:
    assert ConvHead().map_shape == (8, 6, 18)
    assert conv_output_size(64, PAPER_CONV_LAYERS) == 6


def test_too_small_image_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="too small") as err:
        ConvHead((16, 16, 3))
    assert "\n" not in str(err.value)


def test_wrong_image_shape_is_rejected() -> None:
    head = ConvHead(SMALL_IMAGE)
    with pytest.raises(ValueError, match="channels-last"):
        head(torch.zeros(2, 3, 48, 64, dtype=torch.uint8))


def test_normalize_images_gives_zero_mean_unit_std_per_image_and_channel(
    make_images: MakeImages,
) -> None:
    images = make_images(4)
    out = normalize_images(images)
    assert out.mean(dim=(1, 2)).abs().max() < 1e-4
    assert (out.std(dim=(1, 2), correction=0) - 1).abs().max() < 1e-2


def test_flat_image_normalises_to_zeros_not_nan() -> None:
    out = normalize_images(torch.full((1, 8, 8, 3), 77, dtype=torch.uint8))
    assert torch.isfinite(out).all()
    assert out.abs().max() < 1e-4


def _relative_change(head: ConvHead, a: torch.Tensor, b: torch.Tensor) -> float:
    """|f(a) - f(b)| relative to how far f moves between two different images."""
    with torch.no_grad():
        fa, fb = head(a), head(b)
        baseline = (fa - fa.roll(1, dims=0)).norm()
    return float((fa - fb).norm() / baseline)


def test_brightness_scaling_barely_changes_features(make_images: MakeImages) -> None:
    head = ConvHead(SMALL_IMAGE)
    images = make_images(4)
    darker = (images.float() * 0.5).to(torch.uint8)
    assert _relative_change(head, images, darker) < 0.05


def test_brightness_offset_barely_changes_features(make_images: MakeImages) -> None:
    head = ConvHead(SMALL_IMAGE)
    images = make_images(4)
    assert _relative_change(head, images, images + 40) < 1e-3


def test_different_images_give_different_features(make_images: MakeImages) -> None:
    head = ConvHead(SMALL_IMAGE)
    with torch.no_grad():
        features = head(make_images(4))
    distances = torch.cdist(features, features)
    off_diagonal = distances[~torch.eye(4, dtype=torch.bool)]
    assert off_diagonal.min() > 1e-3 * features.norm(dim=1).mean()


def test_float_input_matches_uint8_input(make_images: MakeImages) -> None:
    head = ConvHead(SMALL_IMAGE)
    images = make_images(2)
    with torch.no_grad():
        from_uint8 = head(images)
        from_unit_float = head(images.float() / 255.0)
    assert torch.allclose(from_uint8, from_unit_float, atol=1e-5)


def test_each_feature_group_reads_only_its_own_map(make_images: MakeImages) -> None:
    """The batched per-map linear equals one nn.Linear per last feature map."""
    head = ConvHead(SMALL_IMAGE)
    images = make_images(3)
    with torch.no_grad():
        maps = head.feature_maps(images).flatten(2)  # (N, 8, P)
        features = head(images).unflatten(1, (8, 4))
        for c in range(8):
            expected = maps[:, c] @ head.map_weight[c] + head.map_bias[c]
            assert torch.allclose(features[:, c], expected, atol=1e-5)


def test_gradient_reaches_first_conv_from_uint8_input(make_images: MakeImages) -> None:
    head = ConvHead(SMALL_IMAGE)
    head(make_images(2)).square().sum().backward()
    conv = head.convs[0]
    assert isinstance(conv, torch.nn.Conv2d)
    grad = conv.weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0
