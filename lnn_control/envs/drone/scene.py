"""The drone arena: a seeded layout (start, target, obstacles, wind direction) and its PyBullet
bodies (ground, a forest of trunks or box buildings, the target: a red sphere on a pole).

`sample_layout` is pure numpy; `build_scene` turns a layout into bodies in one client. Obstacles of
one colour become one triangle mesh, so the scene is a handful of bodies whatever the density; the
obstacle collision shapes live in static compound bodies of at most 16 shapes (PyBullet's limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from lnn_control.envs.common import RGB
from lnn_control.envs.drone.scenario import DroneScenario
from lnn_control.envs.lane.meshes import Mesh, box_mesh

Vec3 = tuple[float, float, float]

#: Obstacles keep at least this horizontal gap between their (bounding) surfaces (m).
MIN_OBSTACLE_GAP_M = 0.5
#: Placement tries per obstacle before it is dropped.
PLACEMENT_TRIES = 30
#: Trunks rise this far above the ceiling, where their canopy sits (m).
TRUNK_ABOVE_CEILING_M = 0.8
CANOPY_HALF_EXTENTS_M = (0.6, 0.6, 0.5)
#: Buildings rise above the ceiling by a height drawn in this range (m).
BUILDING_ABOVE_CEILING_M = (0.5, 4.0)
#: A building's half width is this times the drawn obstacle radius.
BUILDING_WIDTH_SCALE = 2.5
CYLINDER_SIDES = 10
TARGET_RADIUS_M = 0.15
TARGET_RGB: RGB = (0.9, 0.05, 0.05)
POLE_RADIUS_M = 0.02
POLE_RGB: RGB = (0.92, 0.92, 0.92)
#: The ground quad extends this far beyond the arena (m), so the horizon is ground, not sky.
GROUND_MARGIN_M = 40.0


@dataclass(frozen=True)
class Obstacle:
    """A vertical trunk (cylinder of `radius_m`) or, when `box`, an axis-aligned square building
    of half width `radius_m`; centred at (x, y) on the ground, `height_m` tall."""

    x_m: float
    y_m: float
    radius_m: float
    height_m: float
    box: bool
    colour_index: int

    @property
    def bounding_radius_m(self) -> float:
        """Radius of the smallest vertical cylinder around the obstacle (m)."""
        return self.radius_m * math.sqrt(2.0) if self.box else self.radius_m


@dataclass(frozen=True)
class Layout:
    """One episode's arena: start position (m) and yaw (rad), target centre (m), obstacles, and
    the direction the steady wind blows toward (rad, from +x toward +y)."""

    start_position_m: Vec3
    start_yaw_rad: float
    target_position_m: Vec3
    obstacles: tuple[Obstacle, ...]
    wind_direction_rad: float


def sample_layout(scenario: DroneScenario, rng: np.random.Generator) -> Layout:
    """Draw an arena from `rng`: the drone above the origin with a uniform heading, the target at a
    distance and bearing (from that heading) drawn from the scenario's ranges, and a Poisson
    number of obstacles placed uniformly, kept `obstacle_clearance_m` from the start and the
    target and `MIN_OBSTACLE_GAP_M` from each other (an obstacle with no room is dropped)."""
    s = scenario
    yaw = float(rng.uniform(-math.pi, math.pi))
    distance = float(rng.uniform(*s.target_distance_range_m))
    bearing = float(rng.uniform(*s.target_bearing_range_rad))
    height = float(rng.uniform(*s.target_height_range_m))
    target = (distance * math.cos(yaw + bearing), distance * math.sin(yaw + bearing), height)
    wind_direction = float(rng.uniform(-math.pi, math.pi))
    half = s.arena_half_size_m
    urban = s.scenery == "urban"
    colours = len(s.palette.obstacles)
    count = int(rng.poisson(s.obstacle_density_per_m2 * (2.0 * half) ** 2))
    placed: list[Obstacle] = []
    for _ in range(count):
        radius = float(rng.uniform(*s.obstacle_radius_range_m))
        if urban:
            radius *= BUILDING_WIDTH_SCALE
            height_m = s.ceiling_m + float(rng.uniform(*BUILDING_ABOVE_CEILING_M))
        else:
            height_m = s.ceiling_m + TRUNK_ABOVE_CEILING_M
        colour = int(rng.integers(0, colours))
        bound = radius * math.sqrt(2.0) if urban else radius
        xy = rng.uniform(-half + bound, half - bound, size=(PLACEMENT_TRIES, 2))
        for x, y in xy:
            if _fits(float(x), float(y), bound, target, placed, s.obstacle_clearance_m):
                placed.append(Obstacle(float(x), float(y), radius, height_m, urban, colour))
                break
    return Layout((0.0, 0.0, s.start_height_m), yaw, target, tuple(placed), wind_direction)


def _fits(
    x: float, y: float, bound: float, target: Vec3, placed: list[Obstacle], clearance: float
) -> bool:
    if math.hypot(x, y) - bound < clearance:
        return False
    if math.hypot(x - target[0], y - target[1]) - bound < clearance:
        return False
    return all(
        math.hypot(x - o.x_m, y - o.y_m) - bound - o.bounding_radius_m >= MIN_OBSTACLE_GAP_M
        for o in placed
    )


# ----- meshes -----
def cylinder_mesh(x_m: float, y_m: float, radius_m: float, height_m: float, rgb: RGB) -> Mesh:
    """A vertical `CYLINDER_SIDES`-sided prism from the ground up, with a top cap."""
    n = CYLINDER_SIDES
    angles = 2.0 * math.pi * np.arange(n) / n
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    rim_x = x_m + radius_m * ring[:, 0]
    rim_y = y_m + radius_m * ring[:, 1]
    bottom = np.column_stack([rim_x, rim_y, np.zeros(n)])
    top = np.column_stack([rim_x, rim_y, np.full(n, height_m)])
    side_normals = np.column_stack([ring, np.zeros(n)])
    cap = np.array([[x_m, y_m, height_m]])
    vertices = np.concatenate([bottom, top, top, cap])
    normals = np.concatenate([side_normals, side_normals, np.tile([0.0, 0.0, 1.0], (n + 1, 1))])
    i = np.arange(n)
    j = (i + 1) % n
    sides = np.stack([i, j, n + j, i, n + j, n + i], axis=1).reshape(-1)
    caps = np.stack([2 * n + i, 2 * n + j, np.full(n, 3 * n)], axis=1).reshape(-1)
    return Mesh(vertices, normals, np.concatenate([sides, caps]).astype(np.int64), rgb)


def merge_meshes(meshes: list[Mesh], rgb: RGB) -> Mesh:
    """One mesh holding all triangles of `meshes`, coloured `rgb`."""
    offsets = np.cumsum([0] + [m.vertices.shape[0] for m in meshes[:-1]])
    return Mesh(
        np.concatenate([m.vertices for m in meshes]),
        np.concatenate([m.normals for m in meshes]),
        np.concatenate([m.indices + off for m, off in zip(meshes, offsets, strict=True)]),
        rgb,
    )


def ground_quad(half_size_m: float, rgb: RGB) -> Mesh:
    """A flat square of half size `half_size_m` at z = 0 facing +z."""
    h = half_size_m
    vertices = np.array([[-h, -h, 0.0], [h, -h, 0.0], [h, h, 0.0], [-h, h, 0.0]])
    normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    return Mesh(vertices, normals, np.array([0, 1, 2, 0, 2, 3], dtype=np.int64), rgb)


def obstacle_meshes(scenario: DroneScenario, obstacles: tuple[Obstacle, ...]) -> list[Mesh]:
    """Trunks (and canopies) or buildings, merged into one mesh per colour (obstacle colours
    first, in palette order)."""
    palette = scenario.palette
    by_colour: dict[RGB, list[Mesh]] = {}
    for o in obstacles:
        rgb = palette.obstacles[o.colour_index]
        if o.box:
            centre = np.array([o.x_m, o.y_m, 0.5 * o.height_m])
            half = np.array([o.radius_m, o.radius_m, 0.5 * o.height_m])
            by_colour.setdefault(rgb, []).append(box_mesh(centre, half, rgb))
        else:
            by_colour.setdefault(rgb, []).append(
                cylinder_mesh(o.x_m, o.y_m, o.radius_m, o.height_m, rgb)
            )
    for k, o in enumerate(obstacles):
        if not o.box and palette.canopies:
            rgb = palette.canopies[k % len(palette.canopies)]
            centre = np.array([o.x_m, o.y_m, o.height_m])
            by_colour.setdefault(rgb, []).append(
                box_mesh(centre, np.array(CANOPY_HALF_EXTENTS_M), rgb)
            )
    return [merge_meshes(parts, rgb) for rgb, parts in by_colour.items()]


# ----- bodies -----
#: PyBullet's createCollisionShapeArray keeps at most this many shapes (it drops the rest
#: silently), so obstacles are split over several static bodies.
SHAPES_PER_BODY = 16


@dataclass(frozen=True)
class SceneBodies:
    """PyBullet body ids: the ground, the obstacles' compound collision bodies (at most
    `SHAPES_PER_BODY` shapes each; none without obstacles), and the visual-only bodies (target,
    pole, extra obstacle colours)."""

    ground: int
    obstacles: tuple[int, ...]
    visuals: tuple[int, ...]


def _visual(client: int, mesh: Mesh) -> int:
    return int(
        p.createVisualShape(
            p.GEOM_MESH,
            vertices=mesh.vertices.tolist(),
            indices=mesh.indices.tolist(),
            normals=mesh.normals.tolist(),
            rgbaColor=[*mesh.rgb, 1.0],
            specularColor=[0.0, 0.0, 0.0],
            physicsClientId=client,
        )
    )


def build_scene(
    client: int, scenario: DroneScenario, layout: Layout, render: bool = True
) -> SceneBodies:
    """Create the ground, obstacles and target of `layout` in `client` (after resetSimulation).

    With `render` False only collision bodies are built (nothing is drawn then).
    """
    plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=client)
    ground_visual = -1
    if render:
        size = scenario.arena_half_size_m + GROUND_MARGIN_M
        ground_visual = _visual(client, ground_quad(size, scenario.palette.ground))
    ground = int(p.createMultiBody(0.0, plane, ground_visual, physicsClientId=client))
    meshes = obstacle_meshes(scenario, layout.obstacles) if render else []
    visuals: list[int] = []
    obstacle_bodies: list[int] = []
    for start in range(0, len(layout.obstacles), SHAPES_PER_BODY):
        chunk = layout.obstacles[start : start + SHAPES_PER_BODY]
        obstacle_bodies.append(_obstacle_body(client, chunk, meshes[0] if meshes else None))
        meshes = meshes[1:]
    if render:
        tx, ty, tz = layout.target_position_m
        pole_top = tz - TARGET_RADIUS_M
        meshes.append(cylinder_mesh(tx, ty, POLE_RADIUS_M, pole_top, POLE_RGB))
        visuals += [
            int(p.createMultiBody(0.0, -1, _visual(client, m), physicsClientId=client))
            for m in meshes
        ]
        sphere = p.createVisualShape(
            p.GEOM_SPHERE,
            radius=TARGET_RADIUS_M,
            rgbaColor=[*TARGET_RGB, 1.0],
            specularColor=[0.0, 0.0, 0.0],
            physicsClientId=client,
        )
        visuals.append(
            int(p.createMultiBody(0.0, -1, sphere, [tx, ty, tz], physicsClientId=client))
        )
    return SceneBodies(ground, tuple(obstacle_bodies), tuple(visuals))


def _obstacle_body(client: int, obstacles: tuple[Obstacle, ...], mesh: Mesh | None) -> int:
    """One static body holding the collision shapes of `obstacles` (at most `SHAPES_PER_BODY`);
    `mesh` (or a tiny box, so that TinyRenderer never draws the collision shapes) is its
    visual."""
    if len(obstacles) > SHAPES_PER_BODY:
        raise ValueError(f"one body holds at most {SHAPES_PER_BODY} shapes, got {len(obstacles)}")
    types, radii, lengths, halves, frames = [], [], [], [], []
    for o in obstacles:
        types.append(p.GEOM_BOX if o.box else p.GEOM_CYLINDER)
        radii.append(o.radius_m)
        lengths.append(o.height_m)
        halves.append([o.radius_m, o.radius_m, 0.5 * o.height_m])
        frames.append([o.x_m, o.y_m, 0.5 * o.height_m])
    collision = p.createCollisionShapeArray(
        shapeTypes=types,
        radii=radii,
        lengths=lengths,
        halfExtents=halves,
        collisionFramePositions=frames,
        physicsClientId=client,
    )
    if mesh is not None:
        visual = _visual(client, mesh)
    else:
        visual = p.createVisualShape(
            p.GEOM_BOX,
            halfExtents=[1e-3] * 3,
            visualFramePosition=[0, 0, -1],
            physicsClientId=client,
        )
    return int(p.createMultiBody(0.0, collision, visual, physicsClientId=client))
