"""Perturbation wrappers: they change the image as specified, are seeded, reject bad input."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
import pytest

from lnn_control.envs.perturb import (
    PERTURBATIONS,
    Brightness,
    Contrast,
    DefocusBlur,
    Fog,
    FrameDrop,
    GaussianNoise,
    Glare,
    Jpeg,
    LowLight,
    MotionBlur,
    ObsLatency,
    PerturbedEpisodes,
    Pixelate,
    Rain,
    SaltPepper,
    Shadows,
    ShotNoise,
    Snow,
    make_wrapper,
)
from lnn_control.envs.perturb.light import SHADOW_LIGHT, SKYLIGHT_TINT
from lnn_control.envs.perturb.sensor import GAUSSIAN_STD
from lnn_control.envs.perturb.weather import FOG_RGB

H, W = 32, 40
#: Perturbations whose output depends on the random generator (beyond per-episode state).
RANDOM = ("gaussian_noise", "shot_noise", "salt_pepper", "frame_drop", "low_light", "rain", "snow")
#: Perturbations drawing per-episode state from the generator.
EPISODIC = ("glare", "shadows")
TEMPORAL = ("frame_drop", "obs_latency")


class _Flat(gym.Env[np.ndarray, np.ndarray]):
    """A stand-in camera: a flat grey frame (no simulator needed)."""

    observation_space = gym.spaces.Box(0, 255, (H, W, 3), np.uint8)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.full((H, W, 3), 128, np.uint8), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.full((H, W, 3), 128, np.uint8), 0.0, False, False, {}


def camera_frame(t: int) -> np.ndarray:
    """The stand-in camera's frame at step t: a fixed random texture rolled by t columns, with t
    stamped in the top-left pixel, so that every step's frame differs."""
    texture = np.random.default_rng(0).integers(40, 216, (H, W, 3), dtype=np.uint8)
    frame = np.roll(texture, t, axis=1)
    frame[0, 0] = t % 256
    frame[0, 1] = t // 256
    return frame


def stamped_step(frame: np.ndarray) -> int:
    """The step t stamped into a `camera_frame(t)`."""
    return int(frame[0, 0, 0]) + 256 * int(frame[0, 1, 0])


class _Camera(gym.Env[np.ndarray, np.ndarray]):
    """A stand-in camera with a textured frame that changes every step and a depth image (far at
    the top row, 20 m, near at the bottom, 0.5 m)."""

    observation_space = gym.spaces.Box(0, 255, (H, W, 3), np.uint8)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def __init__(self) -> None:
        self.t = 0

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return camera_frame(0), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return camera_frame(self.t), 0.0, False, False, {}

    def depth_m(self) -> np.ndarray:
        rows = np.linspace(20.0, 0.5, H, dtype=np.float32)
        return np.repeat(rows[:, None], W, axis=1)


def frames(env: gym.Env[Any, Any], seed: int, steps: int = 6) -> np.ndarray:
    """Reset on `seed` and step `steps` times: (steps + 1, H, W, 3) observations."""
    obs = [env.reset(seed=seed)[0]]
    obs += [env.step(np.zeros(1, np.float32))[0] for _ in range(steps)]
    return np.array(obs)


def highpass_energy(image: np.ndarray) -> float:
    """Mean squared Laplacian: the high-frequency energy of an image."""
    return float(np.mean(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F) ** 2))


# --- every perturbation ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_every_perturbation_is_deterministic_and_keeps_shape(name: str) -> None:
    for severity in (1, 5):
        a = frames(make_wrapper(name, severity)(_Camera()), seed=3)
        b = frames(make_wrapper(name, severity)(_Camera()), seed=3)
        assert a.dtype == np.uint8
        assert a.shape == (7, H, W, 3)
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", RANDOM + EPISODIC)
def test_random_perturbations_differ_across_seeds(name: str) -> None:
    kwargs = {"probability": 0.5} if name == "frame_drop" else {}
    a = frames(make_wrapper(name, 3, **kwargs)(_Camera()), seed=3, steps=12)
    b = frames(make_wrapper(name, 3, **kwargs)(_Camera()), seed=4, steps=12)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", sorted(set(PERTURBATIONS) - set(TEMPORAL)))
def test_every_image_perturbation_changes_the_frame(name: str) -> None:
    clean = frames(_Camera(), seed=3)
    for severity in (1, 3, 5):
        perturbed = frames(make_wrapper(name, severity)(_Camera()), seed=3)
        assert not np.array_equal(perturbed, clean), (name, severity)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
@pytest.mark.parametrize("bad", [0, 6, 2.5, True, "3"])
def test_bad_severity_is_rejected(name: str, bad: object) -> None:
    with pytest.raises(ValueError, match=r"severity must be an integer in 1..5"):
        PERTURBATIONS[name](_Camera(), severity=bad)  # type: ignore[arg-type]


BAD_ARGUMENTS = [
    (GaussianNoise, {"std": 2.0}, "std must be in"),
    (ShotNoise, {"photons": 0.5}, r"photons must be a number in \[1.0, 10000.0\]"),
    (SaltPepper, {"amount": 0.0}, r"amount must be a number in \(0.0, 1.0\]"),
    (SaltPepper, {"amount": float("nan")}, "amount must be"),
    (MotionBlur, {"length": 0.9}, r"length must be a number in \(0.0, 0.5\]"),
    (MotionBlur, {"angle_deg": 400.0}, r"angle_deg must be a number in \[-180.0, 180.0\]"),
    (DefocusBlur, {"radius": -1.0}, r"radius must be a number in \(0.0, 0.2\]"),
    (Jpeg, {"quality": 0}, r"quality must be an integer in \[1, 100\]"),
    (Jpeg, {"quality": 50.5}, "quality must be an integer"),
    (Pixelate, {"scale": 1.5}, r"scale must be a number in \(0.0, 1.0\]"),
    (FrameDrop, {"probability": 1.0}, r"probability must be a number in \[0.0, 0.95\]"),
    (ObsLatency, {"steps": -1}, r"steps must be an integer in \[0, 50\]"),
    (Fog, {"beta_per_m": 0.0}, r"beta_per_m must be a number in \(0.0, 20.0\]"),
    (Fog, {"fog_rgb": (1.0, 2.0, 0.0)}, r"fog_rgb\[1\] must be a number in \[0.0, 1.0\]"),
    (Fog, {"fog_rgb": (1.0,)}, "fog_rgb must be 3 numbers"),
    (Shadows, {"drift": 0.5}, r"drift must be a number in \[0.0, 0.2\]"),
    (Brightness, {"delta": 2.0}, r"delta must be a number in \[-1.0, 1.0\]"),
    (Brightness, {"gamma": 0.0}, r"gamma must be a number in \[0.1, 10.0\]"),
    (Contrast, {"factor": -0.1}, r"factor must be a number in \[0.0, 4.0\]"),
]


@pytest.mark.parametrize(("cls", "kwargs", "match"), BAD_ARGUMENTS)
def test_bad_arguments_are_rejected(cls: type, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cls(_Camera(), severity=1, **kwargs)


def test_make_wrapper() -> None:
    wrapped = make_wrapper("low_light", 4)(_Flat())
    assert isinstance(wrapped, LowLight)
    assert wrapped.severity == 4
    assert isinstance(make_wrapper("jpeg", 2, quality=50)(_Flat()), Jpeg)
    with pytest.raises(ValueError, match="unknown perturbation 'haze'; available: brightness"):
        make_wrapper("haze", 1)
    with pytest.raises(ValueError, match="severity must be"):
        make_wrapper("fog", 9)


# --- sensor noise --------------------------------------------------------------------------------


def test_gaussian_noise_has_the_stated_std_and_is_seeded() -> None:
    env = GaussianNoise(_Flat(), severity=2)
    a, _ = env.reset(seed=5)
    b, _ = GaussianNoise(_Flat(), severity=2).reset(seed=5)
    c, _ = env.reset(seed=6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.std(a / 255.0) == pytest.approx(GAUSSIAN_STD[2], rel=0.1)
    paper, _ = GaussianNoise(_Flat(), variance=0.1).reset(seed=1)
    assert np.std(paper / 255.0) > 0.2  # clipped at [0, 1], still far noisier


def test_shot_noise_is_poisson() -> None:
    obs, _ = ShotNoise(_Flat(), photons=20.0).reset(seed=1)
    level = 128 / 255
    assert np.mean(obs / 255.0) == pytest.approx(level, abs=0.01)
    assert np.std(obs / 255.0) == pytest.approx(np.sqrt(level / 20.0), rel=0.1)
    stds = [np.std(ShotNoise(_Flat(), severity=s).reset(seed=1)[0]) for s in (1, 3, 5)]
    assert stds[0] < stds[1] < stds[2]


def test_salt_pepper_sets_the_expected_fraction_to_black_and_white() -> None:
    obs, _ = SaltPepper(_Flat(), amount=0.2).reset(seed=2)
    black = np.all(obs == 0, axis=-1).mean()
    white = np.all(obs == 255, axis=-1).mean()
    assert black == pytest.approx(0.1, abs=0.025)
    assert white == pytest.approx(0.1, abs=0.025)
    assert np.all((obs == 0) | (obs == 255) | (obs == 128))


# --- blur, compression, resolution ---------------------------------------------------------------


@pytest.mark.parametrize("cls", [MotionBlur, DefocusBlur])
def test_blur_removes_high_frequencies_more_with_severity(cls: type) -> None:
    texture = np.random.default_rng(0).integers(0, 256, (64, 160, 3), dtype=np.uint8)
    clean = highpass_energy(texture)
    energy = [highpass_energy(cls(_Flat(), severity=s).perturb(texture)) for s in (1, 3, 5)]
    assert clean > energy[0] > energy[1] > energy[2]
    assert energy[2] < 0.3 * clean


def test_motion_blur_follows_its_direction() -> None:
    stripes = np.zeros((H, W, 3), np.uint8)
    stripes[:, ::2] = 255  # vertical stripes: high frequency along x only
    horizontal = MotionBlur(_Flat(), severity=5).perturb(stripes)
    vertical = MotionBlur(_Flat(), severity=5, angle_deg=90.0).perturb(stripes)
    assert np.std(horizontal) < 0.3 * np.std(stripes)
    assert np.std(vertical) > 0.9 * np.std(stripes)


def test_jpeg_error_grows_as_quality_drops() -> None:
    def gray(image: np.ndarray) -> np.ndarray:  # luma: JPEG halves chroma at any quality
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)

    clean = gray(camera_frame(0))

    def error(**kwargs: Any) -> float:
        out = Jpeg(_Camera(), **kwargs).reset(seed=0)[0]
        return float(np.mean(np.abs(gray(out) - clean)))

    assert error(quality=100) < 3.0
    assert error(quality=100) < error(severity=1) < error(severity=5)
    assert error(severity=5) > 10.0


def test_pixelate_makes_blocks() -> None:
    out = Pixelate(_Camera(), scale=0.25).reset(seed=0)[0]
    distinct_columns = len(np.unique(out[5], axis=0))
    assert distinct_columns <= W // 4 + 1
    assert out.shape == (H, W, 3)


# --- temporal -----------------------------------------------------------------------------------


def test_frame_drop_repeats_frames_at_the_expected_rate() -> None:
    steps = 600
    obs = frames(FrameDrop(_Camera(), probability=0.35), seed=7, steps=steps)
    repeated = np.array([np.array_equal(obs[i], obs[i - 1]) for i in range(1, steps + 1)])
    assert repeated.mean() == pytest.approx(0.35, abs=0.06)
    fresh = [np.array_equal(o, camera_frame(stamped_step(o))) for o in obs]
    assert all(fresh)  # every observation is a real (possibly stale) frame
    assert np.array_equal(obs[0], camera_frame(0))  # the reset frame is never dropped


def test_obs_latency_delays_by_exactly_k_steps_and_resets() -> None:
    k = 3
    env = ObsLatency(_Camera(), steps=k)
    for _ in range(2):  # the second episode must not see the first one's frames
        obs = frames(env, seed=1, steps=10)
        for t, o in enumerate(obs):
            assert np.array_equal(o, camera_frame(max(0, t - k))), t
    assert np.array_equal(frames(ObsLatency(_Camera(), steps=0), seed=1)[4], camera_frame(4))


# --- light ------------------------------------------------------------------------------------


def test_low_light_darkens_with_severity() -> None:
    means = [LowLight(_Flat(), severity=s).reset(seed=0)[0].mean() for s in (1, 3, 5)]
    assert means[0] > means[1] > means[2]
    assert means[2] < 20


def test_brightness_changes_the_mean_and_clips() -> None:
    out = Brightness(_Flat(), delta=0.2).reset(seed=0)[0]
    assert out.mean() == pytest.approx(128 + 0.2 * 255, abs=1.0)
    assert Brightness(_Flat(), delta=1.0).reset(seed=0)[0].min() == 255
    darker = Brightness(_Flat(), delta=0.0, gamma=2.0).reset(seed=0)[0]
    assert darker.mean() == pytest.approx(255 * (128 / 255) ** 2, abs=1.0)
    means = [Brightness(_Camera(), severity=s).reset(seed=0)[0].mean() for s in (1, 3, 5)]
    assert means[0] < means[1] < means[2]


def test_contrast_scales_the_spread_about_the_mean() -> None:
    clean = camera_frame(0).astype(np.float32)
    out = Contrast(_Camera(), factor=0.5).reset(seed=0)[0].astype(np.float32)
    assert out.mean() == pytest.approx(clean.mean(), abs=1.0)
    assert out.std() == pytest.approx(0.5 * clean.std(), rel=0.05)


def test_glare_is_brightest_near_its_sun_which_stays_put_within_an_episode() -> None:
    env = Glare(_Flat(), severity=5)
    obs = frames(env, seed=2, steps=3)
    assert all(np.array_equal(o, obs[0]) for o in obs)  # static sun on a static scene
    sun_x, sun_y = env._sun
    ys, xs = np.mgrid[0:H, 0:W]
    distance = np.hypot(xs - sun_x * W, ys - sun_y * H)
    level = obs[0].astype(float).sum(-1)
    assert level[distance < 4].mean() > level[distance > 20].mean() + 30
    assert obs[0].mean() > 128 + 40
    other = frames(Glare(_Flat(), severity=5), seed=3, steps=0)[0]
    assert not np.array_equal(other, obs[0])


def test_shadows_darken_fixed_polygons_or_drift() -> None:
    static = frames(Shadows(_Flat(), severity=4), seed=1, steps=4)
    assert all(np.array_equal(o, static[0]) for o in static)
    shaded = static[0][..., 0] < 128
    assert 0.02 < shaded.mean() < 0.8
    expected = round(128 * SHADOW_LIGHT[4] * SKYLIGHT_TINT[0])
    assert np.all(np.abs(static[0][..., 0][shaded].astype(int) - expected) <= 1)
    moving = frames(Shadows(_Flat(), severity=4, drift=0.05), seed=1, steps=4)
    assert not np.array_equal(moving[0], moving[4])


# --- weather ------------------------------------------------------------------------------------


def test_fog_moves_far_pixels_toward_the_fog_colour_more_than_near_ones() -> None:
    clean = camera_frame(0).astype(np.float32)
    fog = np.array(FOG_RGB, np.float32) * 255
    residual = []
    for s in (1, 3, 5):
        out = Fog(_Camera(), severity=s).reset(seed=0)[0].astype(np.float32)
        ratio = np.abs(out - fog).mean(axis=(1, 2)) / np.abs(clean - fog).mean(axis=(1, 2))
        assert ratio[0] < ratio[H // 2] < ratio[-1]  # top row is far (20 m), bottom near
        residual.append(ratio.mean())
    assert residual[0] > residual[1] > residual[2]


def test_fog_needs_depth() -> None:
    with pytest.raises(ValueError, match="fog needs an env with depth: _Flat has no depth_m"):
        Fog(_Flat(), severity=1)


def test_rain_darkens_and_adds_bright_streaks() -> None:
    clean = _Flat().reset()[0]
    bright = []
    for s in (1, 3, 5):
        out = Rain(_Flat(), severity=s).reset(seed=0)[0]
        assert np.median(out) < np.median(clean)
        bright.append(np.mean(out[..., 0] > 160))
    assert 0.0 < bright[0] < bright[1] < bright[2]


def test_snow_whitens_the_ground_and_adds_flakes() -> None:
    out = [Snow(_Flat(), severity=s).reset(seed=0)[0].astype(float) for s in (1, 3, 5)]
    assert 128 < out[0].mean() < out[1].mean() < out[2].mean()
    assert out[2][-4:].mean() > out[2][:4].mean()  # more snow cover near the car


# --- a share of perturbed episodes (RL fine-tuning) --------------------------------------------


def _perturbed_flags(probability: float, seed: int, episodes: int) -> list[bool]:
    env = PerturbedEpisodes(_Flat(), make_wrapper("gaussian_noise", 3), probability)
    flags = [env.reset(seed=seed)[1]["perturbed"]]
    for _ in range(episodes - 1):
        obs, info = env.reset()
        flags.append(info["perturbed"])
        step_obs = env.step(np.zeros(1, np.float32))[0]
        flat = bool((obs == 128).all()) and bool((step_obs == 128).all())
        assert flat != info["perturbed"]  # noisy frames exactly in the perturbed episodes
    return flags


def test_perturbed_episodes_draw_the_share_and_repeat_with_the_seed() -> None:
    flags = _perturbed_flags(0.75, seed=3, episodes=400)
    assert 0.68 < np.mean(flags) < 0.82
    assert _perturbed_flags(0.75, seed=3, episodes=400) == flags
    assert _perturbed_flags(0.75, seed=4, episodes=400) != flags
    assert all(_perturbed_flags(1.0, seed=0, episodes=20))


@pytest.mark.parametrize("probability", [-0.1, 1.5, float("nan")])
def test_perturbed_episodes_reject_a_bad_probability(probability: float) -> None:
    with pytest.raises(ValueError, match=r"probability must be a number in \[0.0, 1.0\]"):
        PerturbedEpisodes(_Flat(), make_wrapper("fog", 1), probability)
