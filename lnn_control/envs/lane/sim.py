"""The lane-keeping Sim: one PyBullet client (DIRECT) with the racecar, the road and the camera.

Every PyBullet call passes `physicsClientId`, so several sims in one process never interfere.
Frames: world x/y on the ground, z up; the car's body frame has x forward, y left, z up, with its
origin at the middle of the rear axle. Positive steering turns left.

View culling (`view_culling=True`, the default): TinyRenderer draws every triangle it holds in
every frame, so the renderer holds only the chunks of road and roadside objects that the camera
may see (see `chunks`), swapped as the car drives, and the car's own meshes are left out (made
transparent) when the camera mounted on it cannot see them (see `car_bounds`). Frames are exactly
those of the whole scene and physics is untouched (the scenery has no collision shapes); a step
then costs the same on any road length. With `shadows` on, the whole road stays in the renderer
(TinyRenderer's shadow pass looks from the light, not the camera).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p
import pybullet_data
from numpy.typing import NDArray

from lnn_control.envs.lane.car_bounds import visual_boxes
from lnn_control.envs.lane.chunks import ChunkedLayers, MeshLists, ViewWindow, mesh_lists
from lnn_control.envs.lane.culling import Frustum, boxes_outside
from lnn_control.envs.lane.meshes import distractor_meshes, ground_mesh, road_meshes
from lnn_control.envs.lane.road import Road
from lnn_control.envs.lane.scenario import LaneScenario

RACECAR_URDF = f"{pybullet_data.getDataPath()}/racecar/racecar.urdf"
PHYSICS_HZ = 240
CONTROL_HZ = 20
SUBSTEPS = PHYSICS_HZ // CONTROL_HZ
CONTROL_DT_S = 1.0 / CONTROL_HZ
GRAVITY_MPS2 = 9.81
#: Constraint-solver iterations per physics step (PyBullet's default is 50).
SOLVER_ITERATIONS = 20
#: Largest steering angle of the front wheels, reached at action +-1 (rad).
MAX_STEER_RAD = 0.4
#: Distance between the rear and the front axle of the URDF (m).
WHEELBASE_M = 0.325
WHEEL_RADIUS_M = 0.05
#: Torque limit of each wheel motor, which holds the wheel speed (N m).
WHEEL_TORQUE_NM = 0.6
#: Torque limit of each steering hinge servo (N m).
STEER_TORQUE_NM = 10.0
#: Base height at which the car is dropped in, so the wheels just touch the ground (m).
SPAWN_Z_M = 0.003
WHEEL_JOINTS = (
    "left_rear_wheel_joint",
    "right_rear_wheel_joint",
    "left_front_wheel_joint",
    "right_front_wheel_joint",
)
STEER_JOINTS = ("left_steering_hinge_joint", "right_steering_hinge_joint")

# Default camera mount in the body frame, before the scenario's offsets.
CAMERA_FORWARD_M = 0.45
CAMERA_HEIGHT_M = 0.22
CAMERA_PITCH_RAD = -0.35
CAMERA_VERTICAL_FOV_DEG = 45.0
CAMERA_NEAR_M = 0.05
CAMERA_FAR_M = 40.0
LIGHT_SPECULAR = 0.05

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CarState:
    """Privileged car state: rear-axle position (m), yaw (rad, from +x toward +y), forward speed
    (m/s), and the z component of the body's up axis (1 upright, < 0 upside down)."""

    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    up_z: float

    def point_ahead(self, distance_m: float) -> tuple[float, float]:
        """World (x, y) of the point `distance_m` ahead of the rear axle along the body x axis."""
        return (
            self.x_m + distance_m * math.cos(self.yaw_rad),
            self.y_m + distance_m * math.sin(self.yaw_rad),
        )


class RacecarSim:
    """Owns a PyBullet client: builds a scenario's world, drives the car, renders the camera.

    `view_culling` (see module docstring) may be switched off before `build` to hold the whole
    scene in the renderer, as before it existed (tests and benchmarks compare the two).
    `road_bodies`: the ground, then the scenery bodies the renderer holds now; `window` the
    chunk window (None without culling); `car_hidden` whether the car is left out of frames.
    """

    def __init__(self, render_camera: bool = True, view_culling: bool = True) -> None:
        self.render_camera = render_camera
        self.view_culling = view_culling
        self.client = p.connect(p.DIRECT)
        self.car = -1
        self.road_bodies: list[int] = []
        self.window: ViewWindow | None = None
        self.car_hidden = False
        self._wheels: list[int] = []
        self._hinges: list[int] = []
        self._scenario = LaneScenario()

    # ----- world building -----
    def build(self, scenario: LaneScenario, road: Road, rng: np.random.Generator) -> None:
        """Reset the client and build ground, road, distractors and the car at the road start.

        Road visuals are skipped when `render_camera` is False (physics never touches them);
        the distractors are still drawn from `rng` so the random stream is the same either way.
        """
        self._scenario = scenario
        cid = self.client
        p.resetSimulation(physicsClientId=cid)
        p.setGravity(0.0, 0.0, -GRAVITY_MPS2, physicsClientId=cid)
        p.setPhysicsEngineParameter(
            fixedTimeStep=1.0 / PHYSICS_HZ,
            numSolverIterations=SOLVER_ITERATIONS,
            deterministicOverlappingPairs=1,
            physicsClientId=cid,
        )
        meshes = [*road_meshes(road, scenario), *distractor_meshes(road, scenario, rng)]
        # The ground plane gets the grass mesh as its visual: a plane without one would be drawn
        # by TinyRenderer with PyBullet's default checker texture.
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=cid)
        grass = (
            self._visual_shape(mesh_lists(ground_mesh(road, scenario.ground_rgb)))
            if self.render_camera
            else -1
        )
        ground = p.createMultiBody(0.0, plane, grass, physicsClientId=cid)
        p.changeDynamics(ground, -1, lateralFriction=scenario.friction, physicsClientId=cid)
        self.road_bodies = [ground]
        self.window = None
        self.car_hidden = False
        if self.render_camera and self.view_culling and not scenario.shadows:
            self.window = ViewWindow(ChunkedLayers(meshes), road)  # bodies come at render()
        elif self.render_camera:
            self.road_bodies += self._bodies([mesh_lists(m) for m in meshes])
        self._load_car(scenario)
        if self.render_camera and self.view_culling:
            self._hide_car_if_unseen()
        x, y, heading = road.pose_at(0.0)
        self.place_car(x, y, heading)

    def _bodies(self, meshes: Sequence[MeshLists | None]) -> list[int]:
        """One static, visual-only body per mesh (None skipped), created in order."""
        cid = self.client
        return [
            int(p.createMultiBody(0.0, -1, self._visual_shape(mesh), physicsClientId=cid))
            for mesh in meshes
            if mesh is not None
        ]

    def _update_window(
        self, window: ViewWindow, view: list[float], projection: list[float]
    ) -> None:
        """Swap the scenery bodies for a new chunk window if this frame needs one."""
        meshes = window.update(Frustum.from_matrices(view, projection))
        if meshes is None:
            return
        for body in reversed(self.road_bodies[1:]):  # newest first: keeps the others' order
            p.removeBody(body, physicsClientId=self.client)
        self.road_bodies = [self.road_bodies[0], *self._bodies(meshes)]

    def _hide_car_if_unseen(self) -> None:
        """Make the car's visuals transparent (TinyRenderer then skips them) if no joint angle
        brings any of them into the view of the camera mounted on it."""
        cid = self.client
        boxes = visual_boxes(cid, self.car)
        view, projection = self._camera_at(np.zeros(3), np.eye(3))  # in the car's base frame
        planes = Frustum.from_matrices(view, projection).planes
        if boxes is None or not boxes_outside(*boxes, planes).all():
            return
        for shape in p.getVisualShapeData(self.car, physicsClientId=cid):
            rgba = [*shape[7][:3], 0.0]
            p.changeVisualShape(self.car, shape[1], rgbaColor=rgba, physicsClientId=cid)
        self.car_hidden = True

    def _visual_shape(self, mesh: MeshLists) -> int:
        return int(
            p.createVisualShape(
                p.GEOM_MESH,
                vertices=mesh.vertices,
                indices=mesh.indices,
                normals=mesh.normals,
                rgbaColor=[*mesh.rgb, 1.0],
                specularColor=[0.0, 0.0, 0.0],
                physicsClientId=self.client,
            )
        )

    def _load_car(self, scenario: LaneScenario) -> None:
        cid = self.client
        self.car = p.loadURDF(RACECAR_URDF, [0.0, 0.0, SPAWN_Z_M], physicsClientId=cid)
        names = {
            p.getJointInfo(self.car, j, physicsClientId=cid)[1].decode(): j
            for j in range(p.getNumJoints(self.car, physicsClientId=cid))
        }
        self._wheels = [names[n] for n in WHEEL_JOINTS]
        self._hinges = [names[n] for n in STEER_JOINTS]
        for link in [-1, *names.values()]:
            mass = p.getDynamicsInfo(self.car, link, physicsClientId=cid)[0]
            p.changeDynamics(self.car, link, mass=mass * scenario.mass_scale, physicsClientId=cid)
        for wheel in self._wheels:
            p.changeDynamics(
                self.car, wheel, lateralFriction=scenario.friction, physicsClientId=cid
            )

    # ----- actuation and stepping -----
    def place_car(self, x_m: float, y_m: float, yaw_rad: float) -> None:
        """Put the car's rear axle at (x, y) facing `yaw_rad`, at rest, wheels straight."""
        cid = self.client
        orientation = p.getQuaternionFromEuler([0.0, 0.0, yaw_rad])
        p.resetBasePositionAndOrientation(
            self.car, [x_m, y_m, SPAWN_Z_M], orientation, physicsClientId=cid
        )
        p.resetBaseVelocity(self.car, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=cid)
        for joint in range(p.getNumJoints(self.car, physicsClientId=cid)):
            p.resetJointState(self.car, joint, 0.0, 0.0, physicsClientId=cid)

    def command(self, steer_rad: float, speed_mps: float) -> None:
        """Set the steering servo target (rad, positive left) and the wheel speed target (m/s)."""
        cid = self.client
        steer = float(np.clip(steer_rad, -1.0, 1.0))  # the URDF hinge limits (rad)
        p.setJointMotorControlArray(
            self.car,
            self._hinges,
            p.POSITION_CONTROL,
            targetPositions=[steer, steer],
            forces=[STEER_TORQUE_NM] * 2,
            physicsClientId=cid,
        )
        wheel_rad_s = speed_mps / WHEEL_RADIUS_M
        p.setJointMotorControlArray(
            self.car,
            self._wheels,
            p.VELOCITY_CONTROL,
            targetVelocities=[wheel_rad_s] * 4,
            forces=[WHEEL_TORQUE_NM] * 4,
            physicsClientId=cid,
        )

    def step(self) -> None:
        """Advance one control period (`SUBSTEPS` physics steps of 1/`PHYSICS_HZ` s)."""
        for _ in range(SUBSTEPS):
            p.stepSimulation(physicsClientId=self.client)

    # ----- state accessors -----
    def car_state(self) -> CarState:
        """The car's privileged state (see `CarState`)."""
        cid = self.client
        pos, quat = p.getBasePositionAndOrientation(self.car, physicsClientId=cid)
        lin, _ = p.getBaseVelocity(self.car, physicsClientId=cid)
        rot = p.getMatrixFromQuaternion(quat)  # row-major 3x3
        forward = (rot[0], rot[3], rot[6])
        yaw = math.atan2(forward[1], forward[0])
        speed = lin[0] * forward[0] + lin[1] * forward[1] + lin[2] * forward[2]
        return CarState(float(pos[0]), float(pos[1]), yaw, float(speed), float(rot[8]))

    # ----- camera -----
    def camera_matrices(self) -> tuple[list[float], list[float]]:
        """(view, projection) matrices of the forward camera at the car's current pose."""
        pos, quat = p.getBasePositionAndOrientation(self.car, physicsClientId=self.client)
        rot = np.array(p.getMatrixFromQuaternion(quat)).reshape(3, 3)
        return self._camera_at(np.array(pos), rot)

    def _camera_at(self, pos: FloatArray, rot: FloatArray) -> tuple[list[float], list[float]]:
        """(view, projection) of the camera for the car's base at `pos` (m), rotated by `rot`."""
        s = self._scenario
        cid = self.client
        mount = np.array(
            [
                CAMERA_FORWARD_M + s.camera_forward_offset_m,
                0.0,
                CAMERA_HEIGHT_M + s.camera_height_offset_m,
            ]
        )
        pitch = CAMERA_PITCH_RAD + s.camera_pitch_offset_rad
        yaw = s.camera_yaw_offset_rad
        look = np.array(
            [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)]
        )
        eye = pos + rot @ mount
        view = p.computeViewMatrix(
            eye.tolist(), (eye + rot @ look).tolist(), rot[:, 2].tolist(), physicsClientId=cid
        )
        aspect = s.image_width / s.image_height
        proj = p.computeProjectionMatrixFOV(
            CAMERA_VERTICAL_FOV_DEG, aspect, CAMERA_NEAR_M, CAMERA_FAR_M, physicsClientId=cid
        )
        return list(view), list(proj)

    def render(self) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
        """Render the forward camera once: (RGB uint8 (H, W, 3), raw OpenGL depth buffer float32
        (H, W) in [0, 1]; `depth_buffer_to_metres` converts it)."""
        s = self._scenario
        view, proj = self.camera_matrices()
        if self.window is not None:
            self._update_window(self.window, view, proj)
        _, _, rgba, depth, _ = p.getCameraImage(
            s.image_width,
            s.image_height,
            view,
            proj,
            shadow=int(s.shadows),
            lightDirection=list(s.light_direction),
            lightColor=list(s.light_rgb),
            lightAmbientCoeff=s.light_ambient,
            lightDiffuseCoeff=s.light_diffuse,
            lightSpecularCoeff=LIGHT_SPECULAR,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=self.client,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(s.image_height, s.image_width, 4)[..., :3]
        zbuf = np.asarray(depth, dtype=np.float32).reshape(s.image_height, s.image_width)
        return np.ascontiguousarray(rgb), zbuf

    def close(self) -> None:
        """Disconnect the client (idempotent)."""
        if self.client >= 0:
            p.disconnect(physicsClientId=self.client)
            self.client = -1


def depth_buffer_to_metres(zbuf: NDArray[np.float32]) -> NDArray[np.float32]:
    """OpenGL depth buffer values in [0, 1] -> distance along the view axis (m), shape kept."""
    near, far = CAMERA_NEAR_M, CAMERA_FAR_M
    return (far * near / (far - (far - near) * zbuf)).astype(np.float32)
