"""Road and roadside scenery cut into chunks, and the window of chunks the renderer holds.

The lane world's scenery is a few single-colour layer meshes (asphalt, lines, one per distractor
colour; see `meshes`), each as long as the road. `ChunkedLayers` cuts every layer by the x of its
triangles' centroids into `CHUNK_LENGTH_M` bins (the road heading stays within +-60 degrees of +x,
so x grows along the road and a bin is a short stretch of it), with one bounding box per chunk.

`ViewWindow` decides which chunks the renderer holds: every chunk that the camera frustum may
touch (see `culling`), plus the chunks the camera will need while the car drives the next
`LOOKAHEAD_M` along the road (with `HEADING_SLACK_RAD` of heading either way), so that the window
is rebuilt only every few metres. A window's layer mesh keeps its triangles in their original
order and leaves out only triangles of chunks outside every frustum, which draw nothing: the
frames are exactly those of the whole scene.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lnn_control.envs.common import RGB
from lnn_control.envs.lane.culling import (
    FloatArray,
    Frustum,
    boxes_outside,
    boxes_outside_stacked,
    triangle_boxes,
    yaw_rotation,
)
from lnn_control.envs.lane.meshes import Mesh
from lnn_control.envs.lane.road import SAMPLE_SPACING_M, Road

IntArray = NDArray[np.int64]

#: Length of road (along x) per chunk (m).
CHUNK_LENGTH_M = 2.0
#: A rebuilt window also holds what the camera needs over this much road ahead (m) ...
LOOKAHEAD_M = 12.0
#: ... at camera poses this far apart along the road (m) ...
LOOKAHEAD_STEP_M = 2.0
#: ... each also turned this far left and right about the camera (rad).
HEADING_SLACK_RAD = 0.1


class ChunkedLayers:
    """Layer meshes cut into chunks by x (see module docstring).

    Chunk k holds the triangles whose centroid x lies in [x0 + k L, x0 + (k + 1) L), L the chunk
    length; `boxes` are the chunks' bounding boxes (centres, half extents (K, 3) m) over all
    layers; a chunk without triangles has a zero box at the origin and is never selected.
    """

    def __init__(self, meshes: Sequence[Mesh], chunk_length_m: float = CHUNK_LENGTH_M) -> None:
        if not chunk_length_m > 0.0:
            raise ValueError(f"chunk_length_m must be > 0, got {chunk_length_m!r}")
        self.meshes = list(meshes)
        self.chunk_length_m = chunk_length_m
        triangles = [m.indices.reshape(-1, 3) for m in self.meshes]
        boxes = [triangle_boxes(m.vertices, t) for m, t in zip(self.meshes, triangles, strict=True)]
        centroid_x = [
            m.vertices[t, 0].mean(axis=1) for m, t in zip(self.meshes, triangles, strict=True)
        ]
        all_x = np.concatenate([np.zeros(0), *centroid_x])
        self.x0_m = float(all_x.min()) if all_x.size else 0.0
        chunk_of = [((x - self.x0_m) // chunk_length_m).astype(np.int64) for x in centroid_x]
        self.num_chunks = int(max((c.max() + 1 for c in chunk_of if c.size), default=0))
        # how far a triangle reaches in x beyond its chunk's bin (m)
        self._reach_m = max(
            (
                float(np.max(np.abs(c[:, 0] - x) + h[:, 0]))
                for (c, h), x in zip(boxes, centroid_x, strict=True)
                if x.size
            ),
            default=0.0,
        )
        self._order = [np.argsort(c, kind="stable") for c in chunk_of]
        self._starts = [
            np.searchsorted(c[o], np.arange(self.num_chunks + 1))
            for c, o in zip(chunk_of, self._order, strict=True)
        ]
        self.centres, self.halves, self.nonempty = self._chunk_boxes(boxes, chunk_of)
        self._boxes = np.concatenate([self.centres, self.halves], axis=1)
        self._rows = [_shared_rows(m) for m in self.meshes]

    def _chunk_boxes(
        self, boxes: list[tuple[FloatArray, FloatArray]], chunk_of: list[IntArray]
    ) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
        lo = np.full((self.num_chunks, 3), np.inf)
        hi = np.full((self.num_chunks, 3), -np.inf)
        for (centre, half), chunk in zip(boxes, chunk_of, strict=True):
            np.minimum.at(lo, chunk, centre - half)
            np.maximum.at(hi, chunk, centre + half)
        nonempty = np.isfinite(lo[:, 0])
        lo[~nonempty] = 0.0
        hi[~nonempty] = 0.0
        return 0.5 * (lo + hi), 0.5 * (hi - lo), nonempty

    def span(self, x_lo_m: float, x_hi_m: float) -> slice:
        """The chunks (a slice of ids) that may hold a triangle reaching into [x_lo_m, x_hi_m]."""
        first = math.floor((x_lo_m - self._reach_m - self.x0_m) / self.chunk_length_m)
        last = math.floor((x_hi_m + self._reach_m - self.x0_m) / self.chunk_length_m)
        return slice(min(max(first, 0), self.num_chunks), min(max(last + 1, 0), self.num_chunks))

    def seen_by(self, frusta: Sequence[Frustum]) -> IntArray:
        """Ids (ascending) of the non-empty chunks that may touch any of `frusta`."""
        corner_x = np.array([f.corners[:, 0] for f in frusta])
        near = self.span(float(corner_x.min()), float(corner_x.max()))
        planes = np.array([f.planes for f in frusta])
        outside = boxes_outside_stacked(self._boxes[near], planes).all(axis=1)
        return np.flatnonzero(~outside & self.nonempty[near]) + near.start

    def triangles(self, ids: IntArray) -> list[IntArray]:
        """Per layer, the (ascending) indices of its triangles in the chunks `ids`."""
        return [
            np.sort(
                np.concatenate([np.zeros(0, np.int64), *(order[st[k] : st[k + 1]] for k in ids)])
            )
            for order, st in zip(self._order, self._starts, strict=True)
        ]

    def triangles_seen_by(self, frustum: Frustum) -> list[IntArray]:
        """Per layer, the (ascending) indices of the triangles that may touch `frustum`: those
        not entirely outside one of its planes (see `culling`)."""
        out = []
        for mesh, tris in zip(self.meshes, self.triangles(self.seen_by([frustum])), strict=True):
            boxes = triangle_boxes(mesh.vertices, mesh.indices.reshape(-1, 3)[tris])
            out.append(tris[~boxes_outside(*boxes, frustum.planes)])
        return out

    def layer_meshes(self, ids: IntArray) -> list[Mesh | None]:
        """Each layer restricted to the chunks `ids`, triangles in their original order (None for
        a layer with no triangle there); vertices are re-indexed to those used."""
        return self.meshes_of(self.triangles(ids))

    def layer_lists(self, ids: IntArray) -> list[MeshLists | None]:
        """`layer_meshes(ids)` as `MeshLists`."""
        return self.lists_of(self.triangles(ids))

    def meshes_of(self, triangles: Sequence[IntArray]) -> list[Mesh | None]:
        """Each layer restricted to its `triangles` (ascending indices), as a `Mesh` whose
        vertices are those used, or None where there are none."""
        out: list[Mesh | None] = []
        for mesh, tris in zip(self.meshes, triangles, strict=True):
            picked = _reindex(mesh, tris)
            out.append(
                None
                if picked is None
                else Mesh(mesh.vertices[picked[0]], mesh.normals[picked[0]], picked[1], mesh.rgb)
            )
        return out

    def lists_of(self, triangles: Sequence[IntArray]) -> list[MeshLists | None]:
        """`meshes_of(triangles)` as `MeshLists` whose vertex and normal rows and index ints are
        shared by all the lists made from these layers."""
        out: list[MeshLists | None] = []
        for mesh, (vertices, normals), tris in zip(self.meshes, self._rows, triangles, strict=True):
            picked = _reindex(mesh, tris)
            if picked is None:
                out.append(None)
                continue
            used, local = picked[0].tolist(), picked[1].tolist()
            ints = _shared_ints(len(used))
            out.append(
                MeshLists(
                    [vertices[i] for i in used],
                    [normals[i] for i in used],
                    [ints[i] for i in local],
                    mesh.rgb,
                )
            )
        return out


def _reindex(mesh: Mesh, triangles: IntArray) -> tuple[IntArray, IntArray] | None:
    """The vertices (ascending) used by `triangles` of `mesh`, and their indices (3T,) into
    those; None for no triangles."""
    if triangles.size == 0:
        return None
    used, local = np.unique(mesh.indices.reshape(-1, 3)[triangles], return_inverse=True)
    return used, local.reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class MeshLists:
    """A `Mesh` as the nested lists `p.createVisualShape` takes: `vertices` and `normals` (V lists
    of 3 floats, m), `indices` (3T ints) and `rgb`.

    PyBullet's createVisualShape never releases the sequences it is given (pybullet 3.2.7: the
    outer lists and each row stay referenced), so windows share their rows and index ints, which
    keeps that leak to the outer lists (8 bytes per row or index) per window built.
    """

    vertices: list[list[float]]
    normals: list[list[float]]
    indices: list[int]
    rgb: RGB


def mesh_lists(mesh: Mesh) -> MeshLists:
    """A mesh as new `MeshLists`."""
    return MeshLists(mesh.vertices.tolist(), mesh.normals.tolist(), mesh.indices.tolist(), mesh.rgb)


_INTS: list[int] = []


def _shared_ints(count: int) -> list[int]:
    """A list whose item i is the int i, the same int objects on every call."""
    if len(_INTS) < count:
        _INTS.extend(range(len(_INTS), count))
    return _INTS


class ViewWindow:
    """The chunks of a `ChunkedLayers` that the renderer holds (see module docstring).

    `update(frustum)` before each frame returns the layer meshes of a new window when the camera
    needs a chunk the current one lacks (the caller swaps the bodies), else None. `road`
    (optional) predicts the camera poses ahead; without it a window holds what one frame needs.
    `held` marks the chunks held; `rebuilds` counts the windows built.
    """

    def __init__(self, layers: ChunkedLayers, road: Road | None = None) -> None:
        self.layers = layers
        self.road = road
        self.held = np.zeros(layers.num_chunks, dtype=np.bool_)
        self.rebuilds = 0

    def update(self, frustum: Frustum) -> list[MeshLists | None] | None:
        """The layer meshes of a new window if this frame needs a chunk not held, else None."""
        if bool(np.all(self.held[self.layers.seen_by([frustum])])):
            return None
        ids = self.layers.seen_by(self._predicted(frustum))
        self.held[:] = False
        self.held[ids] = True
        self.rebuilds += 1
        return self.layers.layer_lists(ids)

    def _predicted(self, frustum: Frustum) -> list[Frustum]:
        """This frustum, then its predicted poses: moved along the road from the sample nearest
        the camera, turned by -slack, 0 and +slack about the camera."""
        frusta = [frustum]
        if self.road is None:
            return frusta
        xy, heading, eye = self.road.xy, self.road.heading, frustum.eye
        i = int(np.clip(np.searchsorted(xy[:, 0], eye[0]), 0, len(heading) - 1))
        step = max(1, round(LOOKAHEAD_STEP_M / SAMPLE_SPACING_M))
        last = min(i + round(LOOKAHEAD_M / SAMPLE_SPACING_M), len(heading) - 1)
        turns = [yaw_rotation(a) for a in (-HEADING_SLACK_RAD, 0.0, HEADING_SLACK_RAD)]
        for j in range(i, last + 1, step):
            road_rot = yaw_rotation(float(heading[j] - heading[i]))
            road_shift = np.append(xy[j] - road_rot[:2, :2] @ xy[i], 0.0)
            for turn in turns:
                rot = road_rot @ turn
                frusta.append(frustum.moved(rot, road_rot @ (eye - turn @ eye) + road_shift))
        return frusta


def _shared_rows(mesh: Mesh) -> tuple[list[list[float]], list[list[float]]]:
    """A mesh's vertex rows and normal rows as lists (equal normals share one list)."""
    shared: dict[tuple[float, ...], list[float]] = {}
    normals = [shared.setdefault(tuple(row), row) for row in mesh.normals.tolist()]
    return mesh.vertices.tolist(), normals
