"""Boxes bounding every visual shape of a PyBullet body in its base frame, whatever its joints do.

Used to leave the car out of TinyRenderer when the camera mounted on it cannot see it (see
`culling`): the camera moves with the base, so the answer holds for the whole episode. A link
whose visuals are rigid with the base (all joints to the base fixed) is bounded by the box of its
vertices; a link behind moving joints by the box of the ball, around the point its joints turn
about, that holds its vertices (every moving joint on its path must turn about that one point, as
the racecar's wheels and steering hinges do; otherwise the body gets no bounds).
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pybullet as p

from lnn_control.envs.lane.culling import FloatArray

#: Joint origins closer than this count as one point (m).
_SAME_POINT_M = 1e-6


@functools.lru_cache(maxsize=64)
def mesh_vertices(path: str) -> FloatArray:
    """Vertices (V, 3) of a binary or ASCII STL file, or of an OBJ file (its `v` lines)."""
    data = Path(path).read_bytes()
    if path.lower().endswith(".obj"):
        lines = data.decode(errors="replace").splitlines()
        return np.array([ln.split()[1:4] for ln in lines if ln.startswith("v ")], dtype=np.float64)
    count = struct.unpack("<I", data[80:84])[0] if len(data) >= 84 else -1
    if len(data) == 84 + 50 * count:  # binary STL: 50-byte records, 9 floats of vertices each
        records = np.frombuffer(data, dtype=np.uint8, offset=84).reshape(count, 50)
        return records[:, 12:48].copy().view("<f4").reshape(-1, 3).astype(np.float64)
    words = data.decode(errors="replace").split()
    return np.array(
        [[float(w) for w in words[i + 1 : i + 4]] for i, w in enumerate(words) if w == "vertex"]
    )


def _shape_vertices(shape: tuple[Any, ...]) -> FloatArray | None:
    """Vertices (V, 3) of one `p.getVisualShapeData` entry in its link frame, or None."""
    geometry, dims, filename = shape[2], np.asarray(shape[3], dtype=np.float64), shape[4]
    if geometry == p.GEOM_MESH and filename:
        local = mesh_vertices(filename.decode()) * dims
    elif geometry == p.GEOM_BOX:
        local = (
            0.5 * dims * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
        )
    else:
        return None
    rot = np.array(p.getMatrixFromQuaternion(shape[6])).reshape(3, 3)
    return local @ rot.T + np.asarray(shape[5])


def _link_frames(client: int, body: int) -> dict[int, tuple[FloatArray, FloatArray]]:
    """Link frames (rotation (3, 3), origin (3,)) in the base frame, link -1 the base itself."""
    base_pos, base_orn = p.getBasePositionAndOrientation(body, physicsClientId=client)
    inv_pos, inv_orn = p.invertTransform(base_pos, base_orn)
    frames = {-1: (np.eye(3), np.zeros(3))}
    for link in range(p.getNumJoints(body, physicsClientId=client)):
        state = p.getLinkState(body, link, computeForwardKinematics=True, physicsClientId=client)
        pos, orn = p.multiplyTransforms(inv_pos, inv_orn, state[4], state[5])
        frames[link] = (np.array(p.getMatrixFromQuaternion(orn)).reshape(3, 3), np.array(pos))
    return frames


def _moving_origins(
    client: int, body: int, link: int, frames: dict[int, tuple[FloatArray, FloatArray]]
) -> list[FloatArray]:
    """Origins (base frame) of the non-fixed joints on the path from `link` to the base."""
    origins = []
    while link >= 0:
        info = p.getJointInfo(body, link, physicsClientId=client)
        if info[2] != p.JOINT_FIXED:
            origins.append(frames[link][1])
        link = info[16]
    return origins


def visual_boxes(client: int, body: int) -> tuple[FloatArray, FloatArray] | None:
    """Boxes (centres, half extents (K, 3) m, base frame) holding every visual of `body` at any
    joint angles, or None when some visual cannot be bounded (see module docstring)."""
    frames = _link_frames(client, body)
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    for shape in p.getVisualShapeData(body, physicsClientId=client):
        link = int(shape[1])
        local = _shape_vertices(shape)
        origins = _moving_origins(client, body, link, frames)
        if local is None or any(np.linalg.norm(o - origins[0]) > _SAME_POINT_M for o in origins):
            return None
        rot, origin = frames[link]
        points = local @ rot.T + origin
        # slack for PyBullet's visual frames being taken from the link's inertial frame
        pad = float(np.linalg.norm(p.getDynamicsInfo(body, link, physicsClientId=client)[3]))
        if not origins:
            lo.append(points.min(axis=0) - pad)
            hi.append(points.max(axis=0) + pad)
        else:
            radius = float(np.max(np.linalg.norm(points - origins[0], axis=1))) + pad
            lo.append(origins[0] - radius)
            hi.append(origins[0] + radius)
    if not lo:
        return np.zeros((0, 3)), np.zeros((0, 3))
    low, high = np.array(lo), np.array(hi)
    return 0.5 * (low + high), 0.5 * (high - low)
