"""View culling of the lane world: the renderer holds only the scenery chunks the camera may see,
and frames, depth and physics stay exactly those of the whole scene."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import pybullet as p
import pybullet_data
import pytest
from numpy.typing import NDArray

from lnn_control.envs.lane.car_bounds import mesh_vertices, visual_boxes
from lnn_control.envs.lane.chunks import ChunkedLayers, ViewWindow
from lnn_control.envs.lane.culling import Frustum, boxes_outside, triangle_boxes
from lnn_control.envs.lane.env import LaneKeepingEnv
from lnn_control.envs.lane.expert import PurePursuitExpert
from lnn_control.envs.lane.meshes import box_mesh, distractor_meshes, road_meshes
from lnn_control.envs.lane.road import generate_road
from lnn_control.envs.lane.scenario import LaneScenario

#: Many roadside objects of every kind, so that frames show them often.
BUSY = LaneScenario(distractor_kind="mixed", distractor_density_per_m=0.6, road_length_m=250.0)


@dataclasses.dataclass
class Drive:
    """Per-step frames (T, H, W, 3), depth (T, H, W) m, car poses (T, 4) (x, y, yaw, speed)."""

    frames: NDArray[np.uint8]
    depth: NDArray[np.float32]
    poses: NDArray[np.float64]
    env: LaneKeepingEnv


@pytest.fixture
def drive() -> Iterator[Callable[..., Drive]]:
    """`drive(scenario, seed, steps, culling, intervention=False)`: the pure-pursuit expert with a
    weave added to its steering (so the car swerves and, with intervention, leaves the lane)."""
    made: list[LaneKeepingEnv] = []

    def run(
        scenario: LaneScenario, seed: int, steps: int, culling: bool, weave: float = 0.3
    ) -> Drive:
        env = LaneKeepingEnv(scenario, depth_in_info=True, intervention=True)
        made.append(env)
        env.sim.view_culling = culling
        expert = PurePursuitExpert()
        obs, info = env.reset(seed=seed)
        expert.reset(seed)
        frames, depth, poses = [obs], [info["depth_m"]], []
        for i in range(steps):
            action = expert.act(env.privileged_state()).executed + weave * np.sin(i / 6.0)
            obs, _, terminated, truncated, info = env.step(np.clip(action, -1, 1, dtype=np.float32))
            car = env.sim.car_state()
            frames.append(obs)
            depth.append(info["depth_m"])
            poses.append((car.x_m, car.y_m, car.yaw_rad, car.speed_mps))
            if terminated or truncated:
                break
        return Drive(np.array(frames), np.array(depth), np.array(poses), env)

    yield run
    for env in made:
        env.close()


def _assert_same_drive(a: Drive, b: Drive) -> None:
    assert len(a.frames) == len(b.frames)
    np.testing.assert_array_equal(a.poses, b.poses)  # physics untouched
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.depth, b.depth)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "road_length_m", "steps", "weave"),
    [(1_000_003, 250.0, 400, 0.3), (17, 1000.0, 300, 0.0), (5, 250.0, 300, 0.9)],
)
def test_culled_frames_equal_whole_scene_frames_over_a_drive(
    drive: Callable[..., Drive], seed: int, road_length_m: float, steps: int, weave: float
) -> None:
    scenario = dataclasses.replace(BUSY, road_length_m=road_length_m)
    culled = drive(scenario, seed, steps, True, weave)
    whole = drive(scenario, seed, steps, False, weave)
    _assert_same_drive(culled, whole)
    assert culled.env.sim.car_hidden
    assert not whole.env.sim.car_hidden
    window = culled.env.sim.window
    assert window is not None
    assert whole.env.sim.window is None
    assert 1 <= window.rebuilds <= steps // 20  # a window lasts a couple of metres at least
    assert culled.frames.std() > 20.0  # real pictures


@pytest.mark.slow
def test_culled_frames_equal_with_the_car_in_view_and_with_shadows(
    drive: Callable[..., Drive],
) -> None:
    # camera pulled back over the car and pitched down: the car is in the picture
    in_view = dataclasses.replace(
        BUSY, camera_forward_offset_m=-0.5, camera_height_offset_m=0.3, camera_pitch_offset_rad=-0.4
    )
    culled = drive(in_view, 3, 120, True)
    _assert_same_drive(culled, drive(in_view, 3, 120, False))
    assert not culled.env.sim.car_hidden
    assert culled.env.sim.window is not None
    shadows = dataclasses.replace(BUSY, shadows=True)
    culled = drive(shadows, 4, 40, True)
    _assert_same_drive(culled, drive(shadows, 4, 40, False))
    assert culled.env.sim.window is None  # the shadow pass looks from the light: whole road


def test_window_triangles_do_not_grow_with_road_length() -> None:
    held: dict[float, tuple[int, int]] = {}
    for length in (250.0, 3000.0):
        env = LaneKeepingEnv(dataclasses.replace(BUSY, road_length_m=length))
        expert = PurePursuitExpert()
        try:
            env.reset(seed=11)
            expert.reset(11)
            counts = []
            for _ in range(60):
                env.step(expert.act(env.privileged_state()).executed)
                window = env.sim.window
                assert window is not None
                ids = np.flatnonzero(window.held)
                meshes = window.layers.layer_meshes(ids)
                counts.append(sum(m.num_triangles for m in meshes if m is not None))
            assert env.sim.window is not None
            layers = env.sim.window.layers.meshes
            held[length] = (max(counts), sum(m.num_triangles for m in layers))
        finally:
            env.close()
    # same seed: the same first 250 m of road (the roadside objects differ)
    assert 0.8 < held[3000.0][0] / held[250.0][0] < 1.25
    assert held[3000.0][0] < 0.03 * held[3000.0][1]
    assert len(held) == 2


def _scene(seed: int = 2) -> tuple[LaneScenario, ChunkedLayers, LaneKeepingEnv]:
    env = LaneKeepingEnv(BUSY)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    road = generate_road(BUSY, rng)
    layers = ChunkedLayers([*road_meshes(road, BUSY), *distractor_meshes(road, BUSY, rng)])
    return BUSY, layers, env


def test_window_holds_every_triangle_in_view_in_the_original_order() -> None:
    _, layers, env = _scene()
    try:
        window = ViewWindow(layers, env.task.road)
        expert = PurePursuitExpert()
        expert.reset(2)
        for _ in range(80):
            env.step(expert.act(env.privileged_state()).executed)
            frustum = Frustum.from_matrices(*env.sim.camera_matrices())
            window.update(frustum)
            held = layers.triangles(np.flatnonzero(window.held))
            seen = layers.triangles_seen_by(frustum)
            for mesh, kept, in_view in zip(layers.meshes, held, seen, strict=True):
                boxes = triangle_boxes(mesh.vertices, mesh.indices.reshape(-1, 3))
                np.testing.assert_array_equal(  # per triangle, as the whole layer would give
                    np.flatnonzero(~boxes_outside(*boxes, frustum.planes)), in_view
                )
                assert np.isin(in_view, kept).all()
                assert np.all(np.diff(kept) > 0)
        asphalt = layers.layer_meshes(np.flatnonzero(window.held))[0]
        assert asphalt is not None
        np.testing.assert_array_equal(  # the same triangles, in the same order
            asphalt.vertices[asphalt.indices],
            layers.meshes[0].vertices[layers.meshes[0].indices.reshape(-1, 3)[held[0]].ravel()],
        )
        assert 1 <= window.rebuilds <= 8
        assert held[0].size < layers.meshes[0].num_triangles // 3
    finally:
        env.close()


def test_windows_share_their_rows_and_index_ints() -> None:
    # pybullet.createVisualShape never releases what it is given: windows must not make new rows
    _, layers, env = _scene()
    env.close()
    ids = np.arange(5, 60)
    a, b = layers.layer_lists(ids)[0], layers.layer_lists(ids[3:])[0]
    again = layers.layer_lists(ids)[0]
    assert a is not None
    assert b is not None
    assert again is not None
    assert a.vertices[-1] is b.vertices[-1]  # the same row objects, not copies
    assert a.normals[0] is a.normals[-1]  # one list per distinct normal
    big = [(i, j) for i, j in zip(a.indices, again.indices, strict=True) if i > 256]
    assert big
    assert all(i is j for i, j in big)
    mesh = layers.layer_meshes(ids)[0]
    assert mesh is not None
    np.testing.assert_array_equal(np.array(a.vertices), mesh.vertices)
    np.testing.assert_array_equal(np.array(a.indices), mesh.indices)


def test_frustum_planes_agree_with_the_projection() -> None:
    env = LaneKeepingEnv(LaneScenario())
    try:
        env.reset(seed=0)
        view, projection = env.sim.camera_matrices()
    finally:
        env.close()
    frustum = Frustum.from_matrices(view, projection)
    clip = np.array(projection).reshape(4, 4).T @ np.array(view).reshape(4, 4).T
    points = np.random.default_rng(0).uniform(-60.0, 60.0, (4000, 3)) + frustum.eye
    h = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ clip.T
    inside_clip = np.all(np.abs(h[:, :3]) <= h[:, 3:4], axis=1) & (h[:, 3] > 0)
    inside_planes = np.all(points @ frustum.planes[:, :3].T + frustum.planes[:, 3] >= 0, axis=1)
    np.testing.assert_array_equal(inside_clip, inside_planes)
    assert 20 < inside_clip.sum() < 3900
    corner_distance = frustum.corners @ frustum.planes[:, :3].T + frustum.planes[:, 3]
    assert np.all(corner_distance > -1e-6)
    assert np.all(np.sum(np.abs(corner_distance) < 1e-6, 1) == 3)
    # a box straddling the view is kept, one behind the camera or past the far plane is not
    forward = frustum.corners[1::2].mean(axis=0) - frustum.eye
    centres = frustum.eye + np.outer([0.5, -0.3, 1.2], forward)
    outside = boxes_outside(centres, np.full((3, 3), 0.1), frustum.planes)
    np.testing.assert_array_equal(outside, [False, True, True])


def test_car_bounds_hold_every_visual_vertex_at_any_joint_angles() -> None:
    client = p.connect(p.DIRECT)
    urdf = f"{pybullet_data.getDataPath()}/racecar/racecar.urdf"
    try:
        car = p.loadURDF(urdf, physicsClientId=client)
        bounds = visual_boxes(client, car)
        assert bounds is not None
        centres, halves = bounds
        assert len(centres) == 9  # chassis, 4 wheels, 2 hinges, lidar, camera box
        rng = np.random.default_rng(0)
        checked = 0
        for _ in range(5):
            for joint in range(p.getNumJoints(car, physicsClientId=client)):
                p.resetJointState(car, joint, rng.uniform(-3, 3), physicsClientId=client)
            for shape in p.getVisualShapeData(car, physicsClientId=client):
                if not shape[4]:
                    continue
                assert shape[5] == (0.0, 0.0, 0.0)  # mesh frames sit on their link frames
                state = p.getLinkState(
                    car, shape[1], computeForwardKinematics=True, physicsClientId=client
                )
                rot = np.array(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
                points = mesh_vertices(shape[4].decode()) @ rot.T + state[4]  # base at origin
                inside = np.all(np.abs(points[:, None, :] - centres) <= halves + 1e-9, axis=2)
                assert inside.any(axis=1).all()
                checked += len(points)
        assert checked > 5 * 10_000
    finally:
        p.disconnect(physicsClientId=client)


def test_box_mesh_is_an_outward_facing_cube() -> None:
    box = box_mesh(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.25, 1.0]), (0.1, 0.2, 0.3))
    assert box.vertices.shape == (24, 3)
    assert box.num_triangles == 12
    np.testing.assert_array_equal(box.vertices.min(axis=0), [0.5, 1.75, 2.0])
    np.testing.assert_array_equal(box.vertices.max(axis=0), [1.5, 2.25, 4.0])
    tris = box.vertices[box.indices.reshape(-1, 3)]
    winding = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    outward = np.einsum("ij,ij->i", winding, tris.mean(axis=1) - [1.0, 2.0, 3.0])
    assert np.all(outward > 0)
    box.normals[0, 0] = 7.0  # callers own their arrays: the next box is unchanged
    assert box_mesh(np.zeros(3), np.ones(3), (0, 0, 0)).normals[0, 0] != 7.0


def test_a_camera_away_from_the_road_needs_no_chunk() -> None:
    _, layers, env = _scene()
    whole = LaneKeepingEnv(BUSY)
    try:
        whole.sim.view_culling = False
        whole.reset(seed=2)
        frames = []
        for sim in (env.sim, whole.sim):
            car = sim.car_state()
            p.resetBasePositionAndOrientation(  # far behind the start, facing away from the road
                sim.car,
                [car.x_m - 30.0, 0.0, 0.1],
                p.getQuaternionFromEuler([0, 0, np.pi]),
                physicsClientId=sim.client,
            )
            frames.append(sim.render()[0])
        np.testing.assert_array_equal(frames[0], frames[1])
        assert frames[0].std() > 5.0  # grass and sky
        window = ViewWindow(layers)
        assert window.update(Frustum.from_matrices(*env.sim.camera_matrices())) is None
        assert window.rebuilds == 0
        outside = boxes_outside(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((4, 6, 4)))
        assert outside.shape == (0, 4)
    finally:
        env.close()
        whole.close()


def test_chunked_layers_reject_a_bad_chunk_length() -> None:
    with pytest.raises(ValueError, match="chunk_length_m"):
        ChunkedLayers([], chunk_length_m=0.0)
