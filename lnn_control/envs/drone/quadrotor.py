"""A Crazyflie-like quadrotor in PyBullet: rotor forces, drag, ground effect, and the cascaded
velocity -> attitude -> motor controller that runs under the policy.

Frames: world x/y on the ground, z up. Body frame: x forward, y left, z up, origin at the centre
of mass. The four rotors sit in an X at `ARM_M` from the centre (45 degrees off the body axes):

    rotor 0 front-left (+x, +y), rotor 1 front-right (+x, -y),
    rotor 2 back-right (-x, -y), rotor 3 back-left (-x, +y).

Rotor i makes thrust `KF rpm_i^2` along body +z at its arm end and a reaction torque
`YAW_SIGNS[i] KM rpm_i^2` about body +z (rotors 0 and 2 spin one way, 1 and 3 the other).

The controller (`CascadedController`) runs in plain Python floats, its velocity loop (1, 2) at
60 Hz and the rest (2's thrust, 3, 4) every physics step (240 Hz):

1. velocity: the command (vx, vy in the heading frame, i.e. body frame levelled by the current yaw;
   vz world up) -> desired world acceleration, PI per axis: `a = K_V e + K_I int(e) dt` with
   e = v_cmd - v,
   horizontal part clipped to `MAX_HORIZONTAL_ACCEL_MPS2`, vertical to `MAX_VERTICAL_ACCEL_MPS2`;
2. thrust vector `F = m_nominal (a + g z)`: collective thrust `T = F . b3` (b3: body z in world),
   desired roll and pitch that point b3 along F (tilt clipped to `MAX_TILT_RAD`);
3. attitude PD: `tau_xy = I (K_ATT e_angle - D_ATT omega_body)`, yaw rate P:
   `tau_z = I_zz K_YAW_RATE (r_cmd - r)`;
4. mixer: (T, tau) -> per-rotor thrusts -> rpm = sqrt(thrust / KF), clipped to [0, `MAX_RPM`].

The controller knows only the nominal mass and inertia (a `mass_scale` knob changes the body, not
the controller); the velocity integrator absorbs the difference and steady wind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import pybullet as p

# ----- airframe (Crazyflie 2.x-like) -----
MASS_KG = 0.027
ARM_M = 0.0397
#: Thrust per rotor speed squared (N / rpm^2) and yaw reaction torque per rpm^2 (N m / rpm^2).
KF_N_PER_RPM2 = 3.16e-10
KM_NM_PER_RPM2 = 7.94e-12
INERTIA_KG_M2 = (1.4e-5, 1.4e-5, 2.17e-5)
GRAVITY_MPS2 = 9.81
#: Thrust-to-weight ratio at `MAX_RPM` (nominal mass).
THRUST_TO_WEIGHT = 2.25
MAX_RPM = math.sqrt(THRUST_TO_WEIGHT * MASS_KG * GRAVITY_MPS2 / (4.0 * KF_N_PER_RPM2))
HOVER_RPM = math.sqrt(MASS_KG * GRAVITY_MPS2 / (4.0 * KF_N_PER_RPM2))
ROTOR_RADIUS_M = 0.0231
#: Collision shape: a flat cylinder spanning the rotors (m).
BODY_RADIUS_M = 0.06
BODY_HEIGHT_M = 0.025
#: Linear aerodynamic drag on the air-relative velocity, F = -c (v - wind) (N per m/s).
DRAG_N_PER_MPS = 0.008
#: Ground-effect thrust gain 1 / (1 - (R / 4h)^2) is evaluated with h at least this (m).
GROUND_EFFECT_MIN_HEIGHT_M = 0.5 * ROTOR_RADIUS_M

_HALF_DIAGONAL_M = ARM_M / math.sqrt(2.0)
#: Rotor positions in the body frame (m), see the module docstring.
ROTOR_POSITIONS_M = (
    (_HALF_DIAGONAL_M, _HALF_DIAGONAL_M, 0.0),
    (_HALF_DIAGONAL_M, -_HALF_DIAGONAL_M, 0.0),
    (-_HALF_DIAGONAL_M, -_HALF_DIAGONAL_M, 0.0),
    (-_HALF_DIAGONAL_M, _HALF_DIAGONAL_M, 0.0),
)
YAW_SIGNS = (1.0, -1.0, 1.0, -1.0)
_FOUR_HALF_DIAGONAL_M = 4.0 * _HALF_DIAGONAL_M
_FOUR_KM = 4.0 * KM_NM_PER_RPM2
_ORIGIN = (0.0, 0.0, 0.0)

# ----- command limits (action +-1) -----
MAX_HORIZONTAL_SPEED_MPS = 1.0
MAX_VERTICAL_SPEED_MPS = 0.5
MAX_YAW_RATE_RAD_S = 1.5

# ----- controller gains -----
K_V_PER_S = 3.0
K_VZ_PER_S = 7.0
#: Integral gains on the velocity error, horizontal and vertical (m/s^2 per m).
K_I_PER_S2 = 2.0
K_IZ_PER_S2 = 16.0
#: The velocity integrator is clipped to this much acceleration (m/s^2).
INTEGRATOR_LIMIT_MPS2 = 5.0
MAX_HORIZONTAL_ACCEL_MPS2 = 4.0
MAX_VERTICAL_ACCEL_MPS2 = 6.0
MAX_TILT_RAD = math.radians(30.0)
#: Attitude PD: natural frequency 20 rad/s, damping 0.8 (angular acceleration per rad, rad/s).
K_ATT_PER_S2 = 400.0
D_ATT_PER_S = 32.0
K_YAW_RATE_PER_S = 12.0
#: The velocity loop runs every this many physics steps (240 Hz / 4 = 60 Hz).
VELOCITY_LOOP_DIVIDER = 4
_IXX, _IYY, _IZZ = INERTIA_KG_M2
_MAX_RPM2 = MAX_RPM * MAX_RPM


@dataclass(frozen=True)
class VelocityCommand:
    """What the policy commands: forward and left speed in the heading frame (m/s), climb rate
    (m/s, world up) and yaw rate (rad/s, positive counter-clockwise seen from above)."""

    vx_mps: float
    vy_mps: float
    vz_mps: float
    yaw_rate_rad_s: float

    @staticmethod
    def from_action(a: tuple[float, float, float, float]) -> VelocityCommand:
        """Scale a normalised action in [-1, 1]^4 (clipped) to the command limits."""
        return VelocityCommand(
            clip_unit(a[0]) * MAX_HORIZONTAL_SPEED_MPS,
            clip_unit(a[1]) * MAX_HORIZONTAL_SPEED_MPS,
            clip_unit(a[2]) * MAX_VERTICAL_SPEED_MPS,
            clip_unit(a[3]) * MAX_YAW_RATE_RAD_S,
        )


def clip_unit(value: float) -> float:
    """`value` as a float clipped to [-1, 1] (a normalised action component)."""
    return min(1.0, max(-1.0, float(value)))


HOVER = VelocityCommand(0.0, 0.0, 0.0, 0.0)

Vec3 = tuple[float, float, float]
Mat3 = tuple[float, float, float, float, float, float, float, float, float]


class DroneState(NamedTuple):
    """Privileged drone state. position (m) and velocity (m/s) in the world frame; roll, pitch, yaw
    (rad, ZYX Euler: R = Rz(yaw) Ry(pitch) Rx(roll)); body angular velocity (rad/s, body frame);
    rotation: body-to-world matrix, row-major."""

    position_m: Vec3
    velocity_mps: Vec3
    roll_rad: float
    pitch_rad: float
    yaw_rad: float
    body_rates_rad_s: Vec3
    rotation: Mat3

    @property
    def speed_mps(self) -> float:
        """Norm of the world velocity (m/s)."""
        vx, vy, vz = self.velocity_mps
        return math.sqrt(vx * vx + vy * vy + vz * vz)

    def to_body(self, world: Vec3) -> Vec3:
        """A world-frame vector expressed in the body frame."""
        r = self.rotation
        x, y, z = world
        return (
            r[0] * x + r[3] * y + r[6] * z,
            r[1] * x + r[4] * y + r[7] * z,
            r[2] * x + r[5] * y + r[8] * z,
        )


def rotation_from_quaternion(q: tuple[float, float, float, float]) -> Mat3:
    """Body-to-world rotation matrix (row-major) of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q
    return (
        1.0 - 2.0 * (y * y + z * z),
        2.0 * (x * y - z * w),
        2.0 * (x * z + y * w),
        2.0 * (x * y + z * w),
        1.0 - 2.0 * (x * x + z * z),
        2.0 * (y * z - x * w),
        2.0 * (x * z - y * w),
        2.0 * (y * z + x * w),
        1.0 - 2.0 * (x * x + y * y),
    )


def mix(
    thrust_n: float, torque_nm: Vec3, max_rpm: float = MAX_RPM
) -> tuple[float, float, float, float]:
    """Collective thrust (N) and body torques (N m) -> rotor speeds (rpm), clipped to [0, max_rpm].

    Inverts thrust = sum f_i, tau_x = d (f0 - f1 - f2 + f3), tau_y = d (-f0 - f1 + f2 + f3),
    tau_z = (KM / KF) (f0 - f1 + f2 - f3), with d = ARM_M / sqrt(2).
    """
    return _mix(thrust_n, torque_nm[0], torque_nm[1], torque_nm[2], max_rpm * max_rpm)


def _mix(
    thrust_n: float, tx: float, ty: float, tz: float, max_rpm2: float
) -> tuple[float, float, float, float]:
    """`mix` on scalars, with the squared rpm limit (it runs every physics step)."""
    t = 0.25 * thrust_n
    rx = tx / _FOUR_HALF_DIAGONAL_M
    ry = ty / _FOUR_HALF_DIAGONAL_M
    rz = tz * KF_N_PER_RPM2 / _FOUR_KM
    w0 = (t + rx - ry + rz) / KF_N_PER_RPM2  # squared rpm of each rotor
    w1 = (t - rx - ry - rz) / KF_N_PER_RPM2
    w2 = (t - rx + ry + rz) / KF_N_PER_RPM2
    w3 = (t + rx + ry - rz) / KF_N_PER_RPM2
    sqrt = math.sqrt
    return (
        sqrt(max_rpm2 if w0 > max_rpm2 else w0) if w0 > 0.0 else 0.0,
        sqrt(max_rpm2 if w1 > max_rpm2 else w1) if w1 > 0.0 else 0.0,
        sqrt(max_rpm2 if w2 > max_rpm2 else w2) if w2 > 0.0 else 0.0,
        sqrt(max_rpm2 if w3 > max_rpm2 else w3) if w3 > 0.0 else 0.0,
    )


def _clip(value: float, limit: float) -> float:
    return limit if value > limit else (-limit if value < -limit else value)


class CascadedController:
    """Velocity command -> rotor rpm (see the module docstring).

    `rotor_rpm` is called every physics step (240 Hz); its velocity loop runs every
    `VELOCITY_LOOP_DIVIDER`-th call (60 Hz, as on a flight controller whose outer loops run slower
    than the attitude loop) and the attitude loop, thrust and mixer on every call. State: the
    velocity-error integrator, the outer loop's last output and a call counter; `reset()` clears
    them and must be called at every episode start.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Clear the integrator and the outer-loop state (episode start)."""
        self._integral = [0.0, 0.0, 0.0]
        self._calls = 0
        self._force_n = (0.0, 0.0, MASS_KG * GRAVITY_MPS2)  # desired thrust vector, world
        self._attitude_rad = (0.0, 0.0)  # desired roll, pitch

    def rotor_rpm(
        self, state: DroneState, command: VelocityCommand, dt_s: float
    ) -> tuple[float, float, float, float]:
        """Rotor speeds (rpm) that track `command` from `state`; `dt_s` is the physics step."""
        if self._calls % VELOCITY_LOOP_DIVIDER == 0:
            self._velocity_loop(state, command, dt_s * VELOCITY_LOOP_DIVIDER)
        self._calls += 1
        fx, fy, fz = self._force_n
        roll_d, pitch_d = self._attitude_rad
        r = state.rotation
        thrust = fx * r[2] + fy * r[5] + fz * r[8]
        p_rate, q_rate, r_rate = state.body_rates_rad_s
        return _mix(
            thrust if thrust > 0.0 else 0.0,
            _IXX * (K_ATT_PER_S2 * (roll_d - state.roll_rad) - D_ATT_PER_S * p_rate),
            _IYY * (K_ATT_PER_S2 * (pitch_d - state.pitch_rad) - D_ATT_PER_S * q_rate),
            _IZZ * K_YAW_RATE_PER_S * (command.yaw_rate_rad_s - r_rate),
            _MAX_RPM2,
        )

    def _velocity_loop(self, state: DroneState, command: VelocityCommand, dt_s: float) -> None:
        """Velocity error -> desired acceleration -> thrust vector and desired roll / pitch."""
        cy, sy = math.cos(state.yaw_rad), math.sin(state.yaw_rad)
        target = (
            cy * command.vx_mps - sy * command.vy_mps,
            sy * command.vx_mps + cy * command.vy_mps,
            command.vz_mps,
        )
        gains = (K_V_PER_S, K_V_PER_S, K_VZ_PER_S)
        integral_gains = (K_I_PER_S2, K_I_PER_S2, K_IZ_PER_S2)
        accel = [0.0, 0.0, 0.0]
        for i in range(3):
            error = target[i] - state.velocity_mps[i]
            self._integral[i] = _clip(
                self._integral[i] + integral_gains[i] * error * dt_s, INTEGRATOR_LIMIT_MPS2
            )
            accel[i] = gains[i] * error + self._integral[i]
        horizontal = math.hypot(accel[0], accel[1])
        if horizontal > MAX_HORIZONTAL_ACCEL_MPS2:
            accel[0] *= MAX_HORIZONTAL_ACCEL_MPS2 / horizontal
            accel[1] *= MAX_HORIZONTAL_ACCEL_MPS2 / horizontal
        accel[2] = _clip(accel[2], MAX_VERTICAL_ACCEL_MPS2)
        fx, fy = MASS_KG * accel[0], MASS_KG * accel[1]
        fz = max(MASS_KG * (accel[2] + GRAVITY_MPS2), 0.1 * MASS_KG * GRAVITY_MPS2)
        hx, hy = cy * fx + sy * fy, -sy * fx + cy * fy  # heading frame
        norm = math.sqrt(hx * hx + hy * hy + fz * fz)
        pitch_d = _clip(math.atan2(hx, fz), MAX_TILT_RAD)
        roll_d = _clip(math.asin(_clip(-hy / norm, 1.0)), MAX_TILT_RAD)
        self._force_n = (fx, fy, fz)
        self._attitude_rad = (roll_d, pitch_d)


class Quadrotor:
    """The drone body in one PyBullet client: creation, pose reset, state, rotor and wind forces."""

    def __init__(self, client: int, mass_scale: float = 1.0, ground_effect: bool = True) -> None:
        self.client = client
        self.ground_effect = ground_effect
        collision = p.createCollisionShape(
            p.GEOM_CYLINDER, radius=BODY_RADIUS_M, height=BODY_HEIGHT_M, physicsClientId=client
        )
        # A tiny visual shape, so that TinyRenderer does not draw the collision cylinder (the
        # camera sits at the front of the body).
        visual = p.createVisualShape(
            p.GEOM_BOX,
            halfExtents=[1e-3, 1e-3, 1e-3],
            rgbaColor=[0.1, 0.1, 0.1, 1.0],
            physicsClientId=client,
        )
        self.body = int(
            p.createMultiBody(MASS_KG * mass_scale, collision, visual, physicsClientId=client)
        )
        p.changeDynamics(
            self.body,
            -1,
            localInertiaDiagonal=[i * mass_scale for i in INERTIA_KG_M2],
            linearDamping=0.0,
            angularDamping=0.0,
            physicsClientId=client,
        )

    def reset_pose(self, position_m: Vec3, yaw_rad: float) -> None:
        """Place the drone level at `position_m` facing `yaw_rad`, at rest."""
        cid = self.client
        quat = p.getQuaternionFromEuler([0.0, 0.0, yaw_rad])
        p.resetBasePositionAndOrientation(self.body, list(position_m), quat, physicsClientId=cid)
        p.resetBaseVelocity(self.body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=cid)

    def state(self) -> DroneState:
        """The current `DroneState`."""
        cid = self.client
        pos, quat = p.getBasePositionAndOrientation(self.body, cid)
        lin, (wx, wy, wz) = p.getBaseVelocity(self.body, cid)
        r = rotation_from_quaternion(quat)
        rates = (
            r[0] * wx + r[3] * wy + r[6] * wz,
            r[1] * wx + r[4] * wy + r[7] * wz,
            r[2] * wx + r[5] * wy + r[8] * wz,
        )
        roll, pitch, yaw = (
            math.atan2(r[7], r[8]),
            math.asin(_clip(-r[6], 1.0)),
            math.atan2(r[3], r[0]),
        )
        return DroneState(pos, lin, roll, pitch, yaw, rates, r)

    def apply_wrench(
        self, state: DroneState, rpm: tuple[float, float, float, float], wind_mps: Vec3
    ) -> None:
        """Apply one physics step's rotor thrusts, yaw torque and drag as one force and one
        torque on the body (body frame, at the centre of mass).

        Each rotor's thrust f_i = kf w_i^2 (x the ground-effect gain 1 / (1 - (R / 4h)^2) near
        the ground) acts along body z at r_i, so the rotors give the force (0, 0, sum f_i) and
        the torque sum r_i x (0, 0, f_i) = (sum y_i f_i, -sum x_i f_i, km sum s_i w_i^2); drag
        -c (v - wind) (world frame) is rotated into the body frame. Two PyBullet calls instead of
        six, the same rigid-body dynamics. This runs every physics step, so the sums over
        `ROTOR_POSITIONS_M` and `YAW_SIGNS` are written out in scalars (the same terms in the same
        order, so the same floating-point results).
        """
        gain = KF_N_PER_RPM2
        if self.ground_effect:
            h = max(state.position_m[2], GROUND_EFFECT_MIN_HEIGHT_M)
            gain /= 1.0 - (ROTOR_RADIUS_M / (4.0 * h)) ** 2
        w0, w1, w2, w3 = rpm
        s0, s1, s2, s3 = w0 * w0, w1 * w1, w2 * w2, w3 * w3
        f0, f1, f2, f3 = gain * s0, gain * s1, gain * s2, gain * s3
        d = _HALF_DIAGONAL_M  # rotor i sits at (+-d, +-d, 0)
        torque = (
            f0 * d - f1 * d - f2 * d + f3 * d,
            -(f0 * d + f1 * d - f2 * d - f3 * d),
            KM_NM_PER_RPM2 * (s0 - s1 + s2 - s3),
        )
        (vx, vy, vz), (ux, uy, uz), r = state.velocity_mps, wind_mps, state.rotation
        dx, dy, dz = (
            -DRAG_N_PER_MPS * (vx - ux),
            -DRAG_N_PER_MPS * (vy - uy),
            -DRAG_N_PER_MPS * (vz - uz),
        )
        force = (
            r[0] * dx + r[3] * dy + r[6] * dz,  # drag in the body frame: R^T drag
            r[1] * dx + r[4] * dy + r[7] * dz,
            r[2] * dx + r[5] * dy + r[8] * dz + (f0 + f1 + f2 + f3),
        )
        cid = self.client
        p.applyExternalForce(self.body, -1, force, _ORIGIN, p.LINK_FRAME, cid)
        p.applyExternalTorque(self.body, -1, torque, p.LINK_FRAME, cid)
