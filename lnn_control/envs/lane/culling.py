"""View-frustum tests for TinyRenderer culling (pure numpy, no pybullet).

TinyRenderer (`p.ER_TINY_RENDERER`) has no culling of its own: every triangle of every body is
transformed, clipped and bounded on screen in every frame. A triangle writes no pixel and no depth
when all its vertices lie outside one plane of the camera's view frustum, because then (bullet3
`examples/TinyRenderer`, `our_gl.cpp`): outside a side plane its screen bounding box is empty;
beyond the far plane, or nearer than the near plane, every fragment fails the depth-range test
of `triangle()`; with a vertex behind the camera it is clipped to the part beyond the near plane
(`clipTriangleAgainstNearplane`), which again lies outside that side plane, or is nothing. Such
triangles can leave the renderer without changing a frame; this module finds them.

A frustum is given by its 6 planes, float64 (6, 4): rows (nx, ny, nz, d) with a unit normal, so
that `n . x + d` is the signed distance (m) of a world point x, positive inside. Boxes are
axis-aligned, given as centres and half extents (K, 3) m.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: A box counts as outside a plane only when it is at least this far outside (m): far above the
#: float32 rounding of TinyRenderer's transforms for scenes within a few kilometres of the origin.
CULL_MARGIN_M = 0.05

_NDC_CORNERS = np.array(
    [[x, y, z, 1.0] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)]
)


@dataclass(frozen=True)
class Frustum:
    """A camera's view frustum in the world frame: `planes` (6, 4) (see module docstring), the
    8 `corners` (8, 3) m whose convex hull it is, and the camera position `eye` (3,) m. Planes
    come in the order left, bottom, near, right, top, far."""

    planes: FloatArray
    corners: FloatArray
    eye: FloatArray

    @classmethod
    def from_matrices(cls, view: Sequence[float], projection: Sequence[float]) -> Frustum:
        """The frustum of PyBullet's column-major 16-float view and projection matrices."""
        view_t = np.array(view, dtype=np.float64).reshape(4, 4)  # row-major: the transpose
        to_world = view_t[:3, :3].T  # rotates camera-frame row vectors into the world frame
        eye = -view_t[:3, :3] @ view_t[3, :3]
        camera = _camera_space(tuple(projection))
        normals = camera.planes[:, :3] @ to_world
        planes = np.concatenate([normals, (camera.planes[:, 3] - normals @ eye)[:, None]], axis=1)
        return cls(planes, camera.corners @ to_world + eye, eye)

    def moved(self, rotation: FloatArray, translation: FloatArray) -> Frustum:
        """This frustum moved rigidly by x -> rotation @ x + translation (m)."""
        normals = self.planes[:, :3] @ rotation.T
        offsets = self.planes[:, 3] - normals @ translation
        planes = np.concatenate([normals, offsets[:, None]], axis=1)
        corners = self.corners @ rotation.T + translation
        return Frustum(planes, corners, rotation @ self.eye + translation)


@functools.lru_cache(maxsize=16)
def _camera_space(projection: tuple[float, ...]) -> Frustum:
    """The frustum, in the camera frame, of a column-major projection matrix."""
    clip = np.asarray(projection, dtype=np.float64).reshape(4, 4).T
    planes = np.concatenate([clip[3] + clip[:3], clip[3] - clip[:3]])
    planes /= np.linalg.norm(planes[:, :3], axis=1, keepdims=True)
    corners = np.linalg.inv(clip) @ _NDC_CORNERS.T
    return Frustum(planes, np.ascontiguousarray((corners[:3] / corners[3]).T), np.zeros(3))


def boxes_outside(
    centres: FloatArray, halves: FloatArray, planes: FloatArray, margin_m: float = CULL_MARGIN_M
) -> BoolArray:
    """Whether each box (K,) lies entirely outside a frustum, for each frustum.

    `planes` is (6, 4) for one frustum or (F, 6, 4) for F of them; the result is (K,) or (K, F).
    A box is outside when all its corners are more than `margin_m` outside one plane; `halves`
    must be >= 0.
    """
    outside = boxes_outside_stacked(np.concatenate([centres, halves], axis=1), planes, margin_m)
    return outside[:, 0] if planes.ndim == 2 else outside


def boxes_outside_stacked(
    boxes: FloatArray, planes: FloatArray, margin_m: float = CULL_MARGIN_M
) -> BoolArray:
    """`boxes_outside` for boxes given as rows (centre, half extents) (K, 6); result (K, F)."""
    stacked = planes.reshape(-1, 4)
    normals = stacked[:, :3]
    # the largest signed distance over a box's corners, for each plane: (K, 6F)
    reach = boxes[:, :3] @ normals.T + boxes[:, 3:] @ np.abs(normals).T
    inside = reach >= -margin_m - stacked[:, 3]
    return np.logical_not(inside.reshape(len(boxes), len(stacked) // 6, 6).all(axis=2))


def triangle_boxes(
    vertices: FloatArray, triangles: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Centres and half extents (T, 3) m of the bounding boxes of triangles (T, 3) of vertices."""
    corners = vertices[triangles]
    lo, hi = corners.min(axis=1), corners.max(axis=1)
    return 0.5 * (lo + hi), 0.5 * (hi - lo)


def yaw_rotation(angle_rad: float) -> FloatArray:
    """Rotation (3, 3) about +z by `angle_rad`."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
