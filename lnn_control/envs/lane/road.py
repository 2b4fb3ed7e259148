"""Road geometry: the lane centre line as an arc-length parametrised polyline.

World frame: x forward at the start, y left, z up; the lane centre starts at the origin heading
+x. The road is a sequence of straights and constant-curvature arcs drawn from a
`numpy.random.Generator`. Its heading never leaves +-`MAX_ROAD_HEADING_RAD`, so the centre line is
a graph over x and never crosses itself (two points more than a few metres apart along the road are
also apart in space). The car drives in the right lane of a two-lane road: the road's right edge
is half a lane to the right of the centre line (-y side when heading +x), the centre marking half a
lane to the left and the left edge 1.5 lanes to the left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.lane.scenario import LaneScenario

#: Spacing of the centre-line samples (m).
SAMPLE_SPACING_M = 0.25
#: The road heading stays within +-60 degrees of +x, which rules out self-crossing roads.
MAX_ROAD_HEADING_RAD = np.pi / 3
#: Straight run at the start of every road, so episodes begin calmly (m).
START_STRAIGHT_M = 4.0
#: `curvature_ahead` is the mean curvature over this much road ahead of the car (m).
CURVATURE_LOOKAHEAD_M = 1.5
#: Projection searches this far behind / ahead of the previous match (m).
_SEARCH_BEHIND_M = 3.0
_SEARCH_AHEAD_M = 6.0

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RoadPoint:
    """A car position expressed relative to the road.

    s_m: arc length of the closest centre-line point; lateral_m: signed offset, positive left of
    the centre line; heading_error_rad: car yaw minus road heading, wrapped to (-pi, pi];
    curvature_ahead_per_m: mean signed curvature (positive turns left) over the next
    `CURVATURE_LOOKAHEAD_M`; index: the centre-line sample at or before s_m.
    """

    s_m: float
    lateral_m: float
    heading_error_rad: float
    curvature_ahead_per_m: float
    index: int


class Road:
    """An arc-length parametrised lane centre line.

    Arrays (N samples, `SAMPLE_SPACING_M` apart): `xy` (N, 2) m, `heading` (N,) rad,
    `curvature` (N,) 1/m, `s` (N,) m.
    """

    def __init__(self, curvature: FloatArray) -> None:
        """Integrate a per-sample curvature profile (1/m, shape (N,)) from the origin."""
        self.curvature = np.asarray(curvature, dtype=np.float64)
        n = self.curvature.shape[0]
        self.s = np.arange(n, dtype=np.float64) * SAMPLE_SPACING_M
        dtheta = self.curvature[:-1] * SAMPLE_SPACING_M
        self.heading = np.concatenate([[0.0], np.cumsum(dtheta)])
        mid = self.heading[:-1] + 0.5 * dtheta  # exact chords of the circular arcs
        chord = SAMPLE_SPACING_M * np.sinc(dtheta / (2.0 * np.pi))  # 2 sin(dtheta/2) / kappa
        steps = chord[:, None] * np.stack([np.cos(mid), np.sin(mid)], axis=1)
        self.xy = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])

    @property
    def length_m(self) -> float:
        """Arc length of the whole centre line (m)."""
        return float(self.s[-1])

    def pose_at(self, s_m: float) -> tuple[float, float, float]:
        """Centre-line (x m, y m, heading rad) at arc length `s_m` (clamped to the road)."""
        s_m = float(np.clip(s_m, 0.0, self.length_m))
        i = min(int(s_m / SAMPLE_SPACING_M), len(self.s) - 2)
        t = (s_m - self.s[i]) / SAMPLE_SPACING_M
        x, y = (1.0 - t) * self.xy[i] + t * self.xy[i + 1]
        heading = self.heading[i] + t * (self.heading[i + 1] - self.heading[i])
        return float(x), float(y), float(heading)

    def offset_polyline(self, lateral_m: float) -> FloatArray:
        """The centre line shifted `lateral_m` to the left (negative: right), shape (N, 2) m."""
        normal = np.stack([-np.sin(self.heading), np.cos(self.heading)], axis=1)
        return self.xy + lateral_m * normal

    def curvature_ahead(self, s_m: float, lookahead_m: float = CURVATURE_LOOKAHEAD_M) -> float:
        """Mean signed curvature over [s_m, s_m + lookahead_m] (1/m)."""
        i0 = int(np.clip(s_m / SAMPLE_SPACING_M, 0, len(self.s) - 1))
        i1 = int(np.clip((s_m + lookahead_m) / SAMPLE_SPACING_M, i0 + 1, len(self.s)))
        return float(np.mean(self.curvature[i0:i1]))

    def project(self, x_m: float, y_m: float, yaw_rad: float, hint_index: int) -> RoadPoint:
        """Project a point onto the centre line, searching near `hint_index` (a sample index).

        The search window is a few metres around the hint, so a previous match keeps the
        projection on the right stretch of road; pass 0 at the start of an episode.
        """
        lo = max(0, hint_index - int(_SEARCH_BEHIND_M / SAMPLE_SPACING_M))
        hi = min(len(self.s) - 1, hint_index + int(_SEARCH_AHEAD_M / SAMPLE_SPACING_M))
        a = self.xy[lo:hi]
        seg = self.xy[lo + 1 : hi + 1] - a
        rel = np.array([x_m, y_m]) - a
        t = np.clip(np.einsum("ij,ij->i", rel, seg) / SAMPLE_SPACING_M**2, 0.0, 1.0)
        closest = a + t[:, None] * seg
        k = int(np.argmin(np.sum((np.array([x_m, y_m]) - closest) ** 2, axis=1)))
        i = lo + k
        s_m = float(self.s[i] + t[k] * SAMPLE_SPACING_M)
        seg_dir = seg[k] / SAMPLE_SPACING_M
        lateral = float(seg_dir[0] * rel[k, 1] - seg_dir[1] * rel[k, 0])
        road_heading = self.heading[i] + t[k] * (self.heading[i + 1] - self.heading[i])
        heading_error = float(_wrap(yaw_rad - road_heading))
        return RoadPoint(s_m, lateral, heading_error, self.curvature_ahead(s_m), i)


def _wrap(angle: float) -> float:
    """Wrap an angle to (-pi, pi] (rad)."""
    return float(np.pi - np.mod(np.pi - angle, 2.0 * np.pi))


def generate_road(scenario: LaneScenario, rng: np.random.Generator) -> Road:
    """Draw a road of `scenario.road_length_m` (+ a lookahead margin) from `rng`.

    Segments alternate at random between straights (probability `straight_probability`) and arcs
    with |curvature| in `curvature_range_per_m`; an arc whose turn would take the heading past
    +-`MAX_ROAD_HEADING_RAD` turns the other way instead, and is shortened if still too long.
    """
    n = int(np.ceil((scenario.road_length_m + _SEARCH_AHEAD_M) / SAMPLE_SPACING_M)) + 1
    curvature = np.zeros(n)
    i = int(START_STRAIGHT_M / SAMPLE_SPACING_M)
    heading = 0.0
    k_low, k_high = scenario.curvature_range_per_m
    l_low, l_high = scenario.segment_length_range_m
    while i < n:
        length = rng.uniform(l_low, l_high)
        count = max(1, round(length / SAMPLE_SPACING_M))
        if rng.random() < scenario.straight_probability:
            i += count
            continue
        k = rng.uniform(k_low, k_high) * rng.choice([-1.0, 1.0])
        if abs(heading + k * count * SAMPLE_SPACING_M) > MAX_ROAD_HEADING_RAD:
            k = -k
        room = MAX_ROAD_HEADING_RAD - np.sign(k) * heading
        if k != 0.0:
            count = max(0, min(count, int(room / (abs(k) * SAMPLE_SPACING_M))))
        curvature[i : i + count] = k
        heading += k * min(count, n - i) * SAMPLE_SPACING_M
        i += max(count, 1)
    return Road(curvature)
