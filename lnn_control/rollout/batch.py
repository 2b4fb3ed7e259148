"""The batched closed loop: K envs stepped in lockstep, one batched policy call per step.

    records = run_episodes(policy, world("lnn_control/LaneKeeping-v0"), seeds, batch_size=8)

Each of the K slots is an `EpisodeSlot` (the same bookkeeping as `run_episode`); the policy sees
the K observations as one (K, H, W, 3) batch and carries a (K, S) state, one row per slot. When
a slot's episode ends, the slot takes the next seed and its state row is reset to the policy's
initial state (`reset_rows`): no hidden state crosses an episode boundary. Records come back in
`seeds` order and equal `run_episode`'s for the same seeds up to float rounding of the batched
policy call (a batch of one is bit-identical).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from lnn_control.envs.world import World, world
from lnn_control.rollout.episode import EpisodeRecord, EpisodeSlot, Recorder, StepPolicy, Wrapper

RecorderFactory = Callable[[int], Sequence[Recorder]]


def reset_rows(policy: StepPolicy, state: Any, rows: Sequence[int]) -> Any:
    """`state` (K, S) with `rows` set to the policy's initial state (a fresh episode)."""
    if not rows:
        return state
    fresh = policy.initial_state(len(rows))
    state = state.clone() if hasattr(state, "clone") else np.array(state, copy=True)
    for i, row in enumerate(rows):
        state[row] = fresh[i]
    return state


def run_episodes(
    policy: StepPolicy,
    env_world: World | str,
    seeds: Sequence[int],
    *,
    batch_size: int = 8,
    env_kwargs: Mapping[str, Any] | None = None,
    wrappers: Sequence[Wrapper] = (),
    steps: int | None = None,
    recorders: RecorderFactory | None = None,
) -> list[EpisodeRecord]:
    """Drive one episode per seed, `batch_size` at a time in lockstep (see the module docstring).

    Args:
        policy: a `StepPolicy` that accepts (K, H, W, 3) observations and a (K, S) state.
        env_world, env_kwargs, wrappers, steps: as `run_episode` (per episode).
        seeds: env seeds, one episode each.
        batch_size: K, envs stepped together (at most len(seeds)).
        recorders: seed -> the recorders of that episode (None: none).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if steps is not None and steps < 0:
        raise ValueError(f"steps must be >= 0 or None, got {steps}")
    the_world = world(env_world)
    queue = [int(s) for s in seeds]
    records: dict[int, EpisodeRecord] = {}
    slots: list[EpisodeSlot | None] = []

    def open_slot(seed: int) -> EpisodeSlot:
        return EpisodeSlot(
            the_world, seed, env_kwargs=env_kwargs, wrappers=wrappers,
            recorders=() if recorders is None else recorders(seed),
        )  # fmt: skip

    def finished(slot: EpisodeSlot) -> bool:
        return slot.done or (steps is not None and slot.steps >= steps)

    try:
        slots = [open_slot(queue.pop(0)) for _ in range(min(batch_size, len(queue)))]
        state = policy.initial_state(len(slots))
        while True:
            fresh = []
            for i, slot in enumerate(slots):
                while slot is not None and finished(slot):
                    records[slot.seed] = slot.finish()
                    slot = open_slot(queue.pop(0)) if queue else None
                    fresh.append(i)
                slots[i] = slot
            if all(slot is None for slot in slots):
                break
            state = reset_rows(policy, state, [i for i in fresh if slots[i] is not None])
            state = _step_all(policy, slots, state)
    except BaseException:
        for slot in slots:
            if slot is not None:
                slot.close()
        raise
    return [records[int(s)] for s in seeds]


def _step_all(policy: StepPolicy, slots: Sequence[EpisodeSlot | None], state: Any) -> Any:
    """One policy call on every live slot's observation; empty slots get a copy of a live one
    (their outputs are dropped), so the batch keeps its size and the state its rows."""
    live = [i for i, slot in enumerate(slots) if slot is not None]
    filler = slots[live[0]]
    assert filler is not None
    batch = [slot if slot is not None else filler for slot in slots]
    for i in live:
        batch[i].before_step()
    obs = np.stack([slot.obs for slot in batch])
    dt_s = [slot.dt_s for slot in batch]
    seconds = dt_s[0] if len(set(dt_s)) == 1 else np.asarray(dt_s, dtype=np.float32)
    actions, state = policy.step(obs, state, seconds)
    actions = np.asarray(actions, dtype=np.float32).reshape(len(batch), -1)
    for i in live:
        slot = slots[i]
        assert slot is not None
        slot.advance(actions[i], state[i : i + 1])
    return state
