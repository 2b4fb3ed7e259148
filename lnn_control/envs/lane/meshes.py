"""Triangle meshes of the road, its markings and roadside distractors (pure numpy, no pybullet).

Every mesh is a `Mesh`: vertices (V, 3) m, normals (V, 3), indices (3T,) into vertices, and one
RGB colour. Flat meshes wind counter-clockwise seen from above (+z), so they face the sky.
Each colour becomes one PyBullet body, so the whole road is a handful of bodies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.lane.road import SAMPLE_SPACING_M, FloatArray, Road
from lnn_control.envs.lane.scenario import RGB, LaneScenario

#: Heights of the stacked flat layers above the ground (m); small steps avoid z-fighting.
ROAD_Z_M = 0.002
MARKING_Z_M = 0.004
#: Width of a painted lane line (m).
LINE_WIDTH_M = 0.05
#: Dashed centre line: painted length and period (m).
DASH_LENGTH_M = 0.5
DASH_PERIOD_M = 1.0
#: Grass extends this far around the road's bounding box (m).
GROUND_MARGIN_M = 40.0
#: Distractors stand this far outside the road edge, at least / at most (m).
DISTRACTOR_GAP_M = (0.3, 2.5)

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Mesh:
    """A single-colour triangle mesh: vertices (V, 3) m, normals (V, 3), indices (3T,)."""

    vertices: FloatArray
    normals: FloatArray
    indices: IntArray
    rgb: RGB

    @property
    def num_triangles(self) -> int:
        """Number of triangles."""
        return int(self.indices.shape[0] // 3)


def _strip(right: FloatArray, left: FloatArray, z_m: float, rgb: RGB) -> Mesh:
    """A flat ribbon between two (N, 2) polylines, facing +z."""
    n = right.shape[0]
    verts = np.concatenate([right, left])
    verts = np.concatenate([verts, np.full((2 * n, 1), z_m)], axis=1)
    r = np.arange(n - 1)
    lft = r + n
    tris = np.stack([r, r + 1, lft, lft, r + 1, lft + 1], axis=1).reshape(-1)
    normals = np.tile([0.0, 0.0, 1.0], (2 * n, 1))
    return Mesh(verts, normals, tris.astype(np.int64), rgb)


def _merge(meshes: list[Mesh], rgb: RGB) -> Mesh:
    """One mesh holding all triangles of `meshes`, coloured `rgb`."""
    offsets = np.cumsum([0] + [m.vertices.shape[0] for m in meshes[:-1]])
    return Mesh(
        np.concatenate([m.vertices for m in meshes]),
        np.concatenate([m.normals for m in meshes]),
        np.concatenate([m.indices + off for m, off in zip(meshes, offsets, strict=True)]),
        rgb,
    )


def _line(road: Road, lateral_m: float, z_m: float, rgb: RGB) -> Mesh:
    half = 0.5 * LINE_WIDTH_M
    return _strip(
        road.offset_polyline(lateral_m - half), road.offset_polyline(lateral_m + half), z_m, rgb
    )


def road_meshes(road: Road, scenario: LaneScenario) -> list[Mesh]:
    """Asphalt, solid edge lines and the (dashed or solid) centre line, one mesh per colour."""
    w = scenario.lane_width_m
    asphalt = _strip(
        road.offset_polyline(-0.5 * w),
        road.offset_polyline(1.5 * w),
        ROAD_Z_M,
        scenario.asphalt_rgb,
    )
    edges = _merge(
        [
            _line(road, -0.5 * w, MARKING_Z_M, scenario.edge_line_rgb),
            _line(road, 1.5 * w, MARKING_Z_M, scenario.edge_line_rgb),
        ],
        scenario.edge_line_rgb,
    )
    centre = _line(road, 0.5 * w, MARKING_Z_M, scenario.centre_line_rgb)
    if scenario.dashed_centre:
        centre = _dashes(centre, road.s)
    return [asphalt, edges, centre]


def _dashes(line: Mesh, s: FloatArray) -> Mesh:
    """Keep only the quads of a line strip that fall in the painted part of each dash period."""
    painted = np.mod(s[:-1], DASH_PERIOD_M) < DASH_LENGTH_M - 0.5 * SAMPLE_SPACING_M
    quads = line.indices.reshape(-1, 6)[painted]
    return Mesh(line.vertices, line.normals, quads.reshape(-1), line.rgb)


def ground_mesh(road: Road, rgb: RGB) -> Mesh:
    """A flat quad under the whole road plus `GROUND_MARGIN_M`, at z = 0, facing +z."""
    lo = road.xy.min(axis=0) - GROUND_MARGIN_M
    hi = road.xy.max(axis=0) + GROUND_MARGIN_M
    right = np.array([[lo[0], lo[1]], [hi[0], lo[1]]])
    left = np.array([[lo[0], hi[1]], [hi[0], hi[1]]])
    return _strip(right, left, 0.0, rgb)


def box_mesh(center: FloatArray, half_extents: FloatArray, rgb: RGB) -> Mesh:
    """An axis-aligned box (24 vertices, outward normals), center and half extents in m."""
    corners, normals, tris = _unit_box()
    return Mesh(center + corners * half_extents, normals.copy(), tris.copy(), rgb)


@functools.cache
def _unit_box() -> tuple[FloatArray, FloatArray, IntArray]:
    """Corners (24, 3) of a cube of half size 1 (4 per face), their face normals, triangles."""
    verts: list[FloatArray] = []
    normals: list[FloatArray] = []
    tris: list[int] = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1.0
            v = np.cross(n, u)
            base = len(verts)
            verts.extend(n + a * u + b * v for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)))
            normals.extend([n] * 4)
            tris.extend([base, base + 1, base + 2, base, base + 2, base + 3])
    return np.array(verts), np.array(normals), np.array(tris, dtype=np.int64)


#: (half extents m, rgb) of each distractor part, by kind.
_DISTRACTOR_PARTS: dict[str, list[tuple[tuple[float, float, float], float, RGB]]] = {
    # (half extents, centre height above ground, colour)
    "posts": [((0.03, 0.03, 0.35), 0.35, (0.95, 0.55, 0.1))],
    "boxes": [((0.18, 0.18, 0.18), 0.18, (0.6, 0.2, 0.15))],
    "trees": [((0.05, 0.05, 0.4), 0.4, (0.4, 0.25, 0.1)), ((0.3, 0.3, 0.4), 1.0, (0.1, 0.35, 0.1))],
}


def distractor_meshes(road: Road, scenario: LaneScenario, rng: np.random.Generator) -> list[Mesh]:
    """Roadside posts, boxes and trees, drawn from `rng`, merged into one mesh per colour.

    The count is Poisson with mean density x road length; objects that would land on any part of
    the road (e.g. inside a tight curve) are dropped.
    """
    if scenario.distractor_kind == "none" or scenario.distractor_density_per_m == 0.0:
        return []
    kinds = (
        ["posts", "boxes", "trees"]
        if scenario.distractor_kind == "mixed"
        else [scenario.distractor_kind]
    )
    count = int(rng.poisson(scenario.distractor_density_per_m * road.length_m))
    s = rng.uniform(START_CLEAR_M, road.length_m, size=count)
    side = rng.choice([-1.0, 1.0], size=count)
    gap = rng.uniform(*DISTRACTOR_GAP_M, size=count)
    kind_index = rng.integers(0, len(kinds), size=count)
    w = scenario.lane_width_m
    road_middle = road.offset_polyline(0.5 * w)
    by_colour: dict[RGB, list[Mesh]] = {}
    for s_i, side_i, gap_i, k_i in zip(s, side, gap, kind_index, strict=True):
        edge = 1.5 * w if side_i > 0 else -0.5 * w
        x, y, heading = road.pose_at(float(s_i))
        lateral = edge + side_i * gap_i
        xy = np.array([x - lateral * np.sin(heading), y + lateral * np.cos(heading)])
        if _too_close_to_road(road_middle, xy, w):
            continue
        for half, height, rgb in _DISTRACTOR_PARTS[kinds[int(k_i)]]:
            centre = np.array([xy[0], xy[1], height])
            by_colour.setdefault(rgb, []).append(box_mesh(centre, np.array(half), rgb))
    return [_merge(parts, rgb) for rgb, parts in by_colour.items()]


#: No distractors over the first metres of road, where the car starts (m).
START_CLEAR_M = 3.0


def _too_close_to_road(road_middle: FloatArray, xy: FloatArray, lane_width_m: float) -> bool:
    """Whether a point lies on the road (plus a small clearance); road_middle is (N, 2) m."""
    distance = np.min(np.hypot(*(road_middle - xy).T))
    return bool(distance < lane_width_m + DISTRACTOR_GAP_M[0] - 0.05)
