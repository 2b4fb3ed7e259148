"""The conv perception head: camera image -> 32 sensory features for the NCP.

After Lechner et al. (Nature Machine Intelligence 2020): five conv layers (24@5x5/2, 36@5x5/2,
48@3x3/2, 64@3x3/1, 8@3x3/1, ReLU after each), then every one of the 8 last feature maps is
flattened and mapped by its own linear layer to 4 features: 8 x 4 = 32 sensory inputs. The paper
used 78x200 images without padding; at our default 64x160 (and down to 21x21) the two stride-1
layers use padding 1 so the last maps stay at least 1x1 (6x18 at 64x160, 4x6 at 48x64).

Normalisation lives inside the model, so deployment cannot forget it: each image is standardised
per channel (subtract its own mean, divide by its own standard deviation + `eps`), which makes the
features insensitive to brightness and contrast. The head is a features extractor in the spirit
of stable-baselines3's `BaseFeaturesExtractor` (attribute `features_dim`), as a plain `nn.Module`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

UINT8_MAX = 255.0
NORM_EPS = 1e-3
"""Added to the per-image std (image in [0, 1] units), so a flat image maps to zeros."""

ConvSpec = tuple[int, int, int, int]
"""One conv layer: (out_channels, kernel_size, stride, padding)."""

PAPER_CONV_LAYERS: tuple[ConvSpec, ...] = (
    (24, 5, 2, 0),
    (36, 5, 2, 0),
    (48, 3, 2, 0),
    (64, 3, 1, 1),
    (8, 3, 1, 1),
)
FEATURES_PER_MAP = 4
DEFAULT_IMAGE_SHAPE = (64, 160, 3)
RGB_CHANNELS = 3


def normalize_images(images: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Per-image, per-channel standardisation.

    Args:
        images: (N, H, W, 3) uint8 in [0, 255], or float in any fixed scale (uint8 is divided
            by 255 first; since the result is scale-free, floats in [0, 1] or [0, 255] agree
            up to `eps`).
        eps: added to the std, in [0, 1] image units.

    Returns:
        (N, H, W, 3) float32: zero mean and (about) unit std per image and channel.
    """
    x = images.float() / UINT8_MAX if images.dtype == torch.uint8 else images.float()
    pixels = x.flatten(1, 2)  # (N, H*W, 3)
    mean = pixels.mean(dim=1, keepdim=True)
    # One pass for both moments (E[x^2] - E[x]^2), ~40% faster than centring first; the
    # float32 cancellation error is far below `eps` for images in [0, 1] or [0, 255].
    var = (pixels.square().mean(dim=1, keepdim=True) - mean.square()).clamp_min(0.0)
    scale = 1.0 / (var.sqrt() + eps)
    return torch.addcmul(-mean * scale, pixels, scale).view(x.shape)


def conv_output_size(size: int, layers: tuple[ConvSpec, ...]) -> int:
    """Spatial size (pixels) after `layers` for an input of `size` pixels along one axis."""
    for _, kernel, stride, padding in layers:
        size = (size + 2 * padding - kernel) // stride + 1
    return size


class ConvHead(nn.Module):
    """Camera image -> sensory features: (N, H, W, 3) uint8/float -> (N, features_dim) float32.

    Args:
        image_shape: (H, W, 3) of the images it will see; fixes the per-map linear layers.
        conv_layers: (out_channels, kernel, stride, padding) per conv layer (ReLU after each).
        features_per_map: outputs of the linear map of each last feature map.
        eps: std offset of the per-image normalisation (see `normalize_images`).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = DEFAULT_IMAGE_SHAPE,
        conv_layers: tuple[ConvSpec, ...] | list[list[int]] = PAPER_CONV_LAYERS,
        features_per_map: int = FEATURES_PER_MAP,
        eps: float = NORM_EPS,
    ) -> None:
        super().__init__()
        layers = tuple((int(a), int(b), int(c), int(d)) for a, b, c, d in conv_layers)
        height, width, channels = (int(v) for v in image_shape)
        if channels != RGB_CHANNELS or not layers or features_per_map < 1 or eps <= 0:
            raise ValueError(
                f"ConvHead needs image_shape (H, W, 3), >= 1 conv layer, features_per_map >= 1 "
                f"and eps > 0; got {tuple(image_shape)}, {len(layers)}, {features_per_map}, {eps}"
            )
        out_h, out_w = conv_output_size(height, layers), conv_output_size(width, layers)
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"image {height}x{width} is too small for the conv layers "
                f"(last feature map would be {out_h}x{out_w}); use a larger image"
            )
        self.image_shape = (height, width, channels)
        self.conv_layers = layers
        self.features_per_map = int(features_per_map)
        self.eps = float(eps)
        self.map_shape = (layers[-1][0], out_h, out_w)
        in_channels = [channels] + [spec[0] for spec in layers[:-1]]
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, kernel, stride, padding)
            for c_in, (c_out, kernel, stride, padding) in zip(in_channels, layers, strict=True)
        )
        n_maps, pixels = layers[-1][0], out_h * out_w
        bound = 1.0 / math.sqrt(pixels)  # nn.Linear's default init range, per map
        self.map_weight = nn.Parameter(torch.empty(n_maps, pixels, features_per_map))
        self.map_bias = nn.Parameter(torch.empty(n_maps, features_per_map))
        nn.init.uniform_(self.map_weight, -bound, bound)
        nn.init.uniform_(self.map_bias, -bound, bound)

    @property
    def features_dim(self) -> int:
        """Output features per image (8 maps x 4 = 32 by default)."""
        return self.map_shape[0] * self.features_per_map

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments except `image_shape`."""
        return {
            "conv_layers": [list(spec) for spec in self.conv_layers],
            "features_per_map": self.features_per_map,
            "eps": self.eps,
        }

    def feature_maps(self, images: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) images -> (N, C, h, w) last conv feature maps (after ReLU)."""
        if images.dim() != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"images must be (N, {', '.join(map(str, self.image_shape))}) channels-last, "
                f"got {tuple(images.shape)}"
            )
        x = normalize_images(images, self.eps).to(self.map_weight.dtype)
        x = x.permute(0, 3, 1, 2)  # NCHW view with channels-last memory: no copy
        for conv in self.convs:
            x = F.relu(conv(x))
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 or float images -> (N, features_dim) float32 features.

        Each last feature map c (h x w pixels) goes through its own linear map
        (h*w -> features_per_map); all maps at once as one batched matmul.
        """
        maps = self.feature_maps(images).flatten(2)  # (N, C, P)
        features = torch.einsum("ncp,cpf->ncf", maps, self.map_weight) + self.map_bias
        return features.flatten(1)
