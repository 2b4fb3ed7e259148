"""SSIM of 2-D maps: identity, symmetry, monotone in noise, closed forms, input checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lnn_control.explain.ssim import mean_ssim, ssim


def _map(seed: int, shape: tuple[int, int] = (32, 40)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=shape)


def test_identical_maps_score_one() -> None:
    a = _map(0)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ssim(a * 255, a * 255, data_range=255.0) == pytest.approx(1.0, abs=1e-12)


def test_symmetric() -> None:
    a, b = _map(1), _map(2)
    assert ssim(a, b) == pytest.approx(ssim(b, a), abs=1e-12)
    assert ssim(a, b) < 0.5  # two independent noise maps share little structure


def test_decreases_as_noise_grows() -> None:
    a = _map(3)
    noise = np.random.default_rng(4).normal(size=a.shape)
    scores = [ssim(a, a + level * noise) for level in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)]
    assert all(later < earlier for earlier, later in itertools.pairwise(scores))


@pytest.mark.parametrize(
    ("m1", "m2", "data_range"), [(0.3, 0.7, 1.0), (0.0, 0.5, 1.0), (40.0, 200.0, 255.0)]
)
def test_constant_maps_match_the_luminance_closed_form(
    m1: float, m2: float, data_range: float
) -> None:
    c1 = (0.01 * data_range) ** 2
    expected = (2 * m1 * m2 + c1) / (m1**2 + m2**2 + c1)  # structure term C2 / C2 = 1
    a, b = np.full((16, 20), m1), np.full((16, 20), m2)
    assert ssim(a, b, data_range) == pytest.approx(expected, rel=1e-9)


def test_one_window_matches_the_direct_weighted_sums() -> None:
    """On 11x11 maps there is one window: SSIM from the paper's sums over a 2-D Gaussian."""
    a, b = _map(5, (11, 11)), _map(6, (11, 11))
    offsets = np.arange(11) - 5.0
    weights = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * 1.5**2))
    weights /= weights.sum()
    mu_a, mu_b = (weights * a).sum(), (weights * b).sum()
    var_a, var_b = (weights * (a - mu_a) ** 2).sum(), (weights * (b - mu_b) ** 2).sum()
    cov = (weights * (a - mu_a) * (b - mu_b)).sum()
    c1, c2 = 0.01**2, 0.03**2
    expected = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    assert ssim(a, b) == pytest.approx(expected, rel=1e-9)


def test_mean_ssim_averages_pairs() -> None:
    maps_a = [_map(7), _map(8), _map(9)]
    maps_b = [_map(7), _map(10), _map(9) + 0.1]
    expected = np.mean([ssim(a, b) for a, b in zip(maps_a, maps_b, strict=True)])
    assert mean_ssim(maps_a, maps_b) == pytest.approx(expected)
    assert mean_ssim(np.stack(maps_a), np.stack(maps_b)) == pytest.approx(expected)
    assert mean_ssim(maps_a, maps_a) == pytest.approx(1.0)


def test_bad_inputs_raise_one_line_value_errors() -> None:
    a = _map(0)
    cases = [
        (lambda: ssim(a, a[:, :-1]), "same shape"),
        (lambda: ssim(a[None], a[None]), "2-D"),
        (lambda: ssim(a[:5, :5], a[:5, :5]), "at least 11x11"),
        (lambda: ssim(a, np.full_like(a, np.nan)), "finite"),
        (lambda: ssim(a, a, data_range=0.0), "data_range"),
        (lambda: mean_ssim([a, a], [a]), "same number"),
        (lambda: mean_ssim([], []), "same number"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert "\n" not in str(info.value)
