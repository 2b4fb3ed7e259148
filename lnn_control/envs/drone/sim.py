"""`DroneSim`: the PyBullet side of `lnn_control/DroneNav-v0` (scene, drone, physics substeps,
camera). The task and the gymnasium API live in `env`.

One control step is `scenario.substeps` physics steps (240 Hz), each: the cascaded controller on
the drone's state, one body force and torque, `stepSimulation`, and a contact query. The query is
skipped while the drone is provably far from everything it could touch: its bounding sphere more
than `CONTACT_QUERY_MARGIN_M` above the ground and outside every obstacle's bounding cylinder
grown by that margin (obstacles rise above the ceiling, so their height is ignored). Bullet
reports contact points only within a few centimetres (collision margins plus the contact breaking
threshold; over 136 crashes into the ground, trunks and buildings, the first point was reported
only once the bounding sphere touched the surface), so the answer there is always "none" and
skipping it changes nothing (`tests/envs/test_drone_sim.py` checks against querying every step).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pybullet as p
from numpy.typing import NDArray

from lnn_control.envs.drone.quadrotor import (
    BODY_HEIGHT_M,
    BODY_RADIUS_M,
    CascadedController,
    DroneState,
    Quadrotor,
    VelocityCommand,
)
from lnn_control.envs.drone.scenario import PHYSICS_HZ, DroneScenario
from lnn_control.envs.drone.scene import Layout, SceneBodies, build_scene

Obs = NDArray[np.uint8]
Vec3 = tuple[float, float, float]

PHYSICS_DT_S = 1.0 / PHYSICS_HZ
GRAVITY_MPS2 = 9.81
# Camera mount in the body frame, before the scenario's offsets.
CAMERA_FORWARD_M = 0.04
CAMERA_HEIGHT_M = 0.01
CAMERA_PITCH_RAD = 0.0
CAMERA_VERTICAL_FOV_DEG = 60.0
CAMERA_NEAR_M = 0.02
CAMERA_FAR_M = 40.0
LIGHT_AMBIENT = 0.6
LIGHT_DIFFUSE = 0.35
LIGHT_SPECULAR = 0.05
#: The contact query runs only within this distance (m) of the ground or an obstacle's bounding
#: cylinder, measured from the drone's bounding sphere (see the module docstring).
CONTACT_QUERY_MARGIN_M = 0.25
_BOUNDING_RADIUS_M = math.hypot(BODY_RADIUS_M, 0.5 * BODY_HEIGHT_M)


class DroneSim:
    """Owns a PyBullet client: builds an arena, steps the drone under its controller, renders."""

    def __init__(self, render_camera: bool = True) -> None:
        self.render_camera = render_camera
        self.client = p.connect(p.DIRECT)
        self.controller = CascadedController()
        self.scenario = DroneScenario()
        self.drone: Quadrotor | None = None
        self.bodies = SceneBodies(-1, (), ())
        self._obstacles: tuple[tuple[float, float, float], ...] = ()
        self._projection: list[float] | None = None
        self._light_direction = list(self.scenario.light_direction)

    def build(self, scenario: DroneScenario, layout: Layout) -> None:
        """Reset the client, build the arena of `layout` and put the drone at its start, at rest,
        with the controller's integrator cleared."""
        self.scenario = scenario
        self._projection = None
        self._light_direction = list(scenario.light_direction)
        cid = self.client
        p.resetSimulation(physicsClientId=cid)
        p.setGravity(0.0, 0.0, -GRAVITY_MPS2, physicsClientId=cid)
        p.setPhysicsEngineParameter(
            fixedTimeStep=PHYSICS_DT_S, deterministicOverlappingPairs=1, physicsClientId=cid
        )
        self.bodies = build_scene(cid, scenario, layout, render=self.render_camera)
        self._obstacles = tuple((o.x_m, o.y_m, o.bounding_radius_m) for o in layout.obstacles)
        self.drone = Quadrotor(cid, scenario.mass_scale, scenario.ground_effect)
        self.drone.reset_pose(layout.start_position_m, layout.start_yaw_rad)
        self.controller.reset()

    def _drone(self) -> Quadrotor:
        if self.drone is None:
            raise RuntimeError("call build() (env.reset()) before stepping the drone")
        return self.drone

    def step(self, command: VelocityCommand, wind_mps: Vec3) -> tuple[bool, DroneState]:
        """Advance one control period (`scenario.substeps` physics steps) tracking `command` under
        `wind_mps`. Returns (whether the drone touched anything on any substep, its state after
        the last substep)."""
        drone = self._drone()
        cid, body, controller = self.client, drone.body, self.controller
        state = drone.state()
        x0, y0, _ = state.position_m
        room_m = self._horizontal_room_m(x0, y0)
        floor_m = _BOUNDING_RADIUS_M + CONTACT_QUERY_MARGIN_M
        collided = False
        for _ in range(self.scenario.substeps):
            drone.apply_wrench(state, controller.rotor_rpm(state, command, PHYSICS_DT_S), wind_mps)
            p.stepSimulation(cid)
            state = drone.state()
            if collided:
                continue
            x, y, z = state.position_m
            if z < floor_m or math.hypot(x - x0, y - y0) >= room_m:  # near something
                collided = bool(p.getContactPoints(bodyA=body, physicsClientId=cid))
        return collided, state

    def _horizontal_room_m(self, x: float, y: float) -> float:
        """How far (m) the drone may move horizontally from (x, y) before the contact query is
        needed for the obstacles (inf without obstacles; <= 0 when already near one)."""
        hypot = math.hypot
        gaps = [hypot(x - ox, y - oy) - radius for ox, oy, radius in self._obstacles]
        return min(gaps, default=math.inf) - _BOUNDING_RADIUS_M - CONTACT_QUERY_MARGIN_M

    def drone_state(self) -> DroneState:
        """The drone's current privileged state."""
        return self._drone().state()

    def camera_matrices(self, state: DroneState | None = None) -> tuple[list[float], list[float]]:
        """(view, projection) matrices of the forward camera at the drone's pose (`state`, or the
        current one). Plain floats: this runs every control step."""
        s = self.scenario
        if state is None:
            state = self._drone().state()
        r = state.rotation
        fwd = CAMERA_FORWARD_M
        up = CAMERA_HEIGHT_M + s.camera_height_offset_m
        pitch = CAMERA_PITCH_RAD + s.camera_pitch_offset_rad
        lx, lz = math.cos(pitch), math.sin(pitch)
        px, py, pz = state.position_m
        eye = [
            px + r[0] * fwd + r[2] * up,
            py + r[3] * fwd + r[5] * up,
            pz + r[6] * fwd + r[8] * up,
        ]
        target = [eye[0] + r[0] * lx + r[2] * lz, eye[1] + r[3] * lx + r[5] * lz]
        target.append(eye[2] + r[6] * lx + r[8] * lz)
        view = p.computeViewMatrix(eye, target, [r[2], r[5], r[8]], physicsClientId=self.client)
        if self._projection is None:
            self._projection = list(
                p.computeProjectionMatrixFOV(
                    CAMERA_VERTICAL_FOV_DEG,
                    s.image_width / s.image_height,
                    CAMERA_NEAR_M,
                    CAMERA_FAR_M,
                    physicsClientId=self.client,
                )
            )
        return list(view), self._projection

    def render(self, state: DroneState | None = None) -> Obs:
        """Render the forward camera once at `state` (or the current pose): RGB uint8 (H, W, 3)."""
        s = self.scenario
        view, proj = self.camera_matrices(state)
        _, _, rgba, _, _ = p.getCameraImage(
            s.image_width,
            s.image_height,
            view,
            proj,
            lightDirection=self._light_direction,
            lightColor=[1.0, 1.0, 1.0],
            lightAmbientCoeff=LIGHT_AMBIENT * s.light_brightness,
            lightDiffuseCoeff=LIGHT_DIFFUSE * s.light_brightness,
            lightSpecularCoeff=LIGHT_SPECULAR,
            shadow=0,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=self.client,
        )
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(s.image_height, s.image_width, 4)
        # cv2 drops the alpha channel ~30x faster than a numpy strided copy at 64 x 96.
        return np.asarray(cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB), dtype=np.uint8)

    def close(self) -> None:
        """Disconnect the client (idempotent)."""
        if self.client >= 0:
            p.disconnect(physicsClientId=self.client)
            self.client = -1
