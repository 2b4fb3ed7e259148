"""The tiny imitation recipe every training test runs: `--set` overrides on a packaged recipe.

args = ["train", "--config", "lane_keeping_il", *set_args(tiny_recipe())]
"""

from __future__ import annotations

#: Small lane-keeping camera, no roadside objects: fast frames.
LANE_SCENARIO = "env.scenario={image_height: 32, image_width: 48, distractor_kind: none}"
#: Small drone camera and a one-second flight.
DRONE_SCENARIO = "env.scenario={image_height: 48, image_width: 64, time_limit_s: 1.0}"


def tiny_recipe(
    *,
    steps: int = 30,
    dagger_rounds: int | None = 1,
    dagger_steps: int = 15,
    eval_distance_m: float | None = 3.0,
    scenario: str = LANE_SCENARIO,
) -> list[str]:
    """Two expert episodes of `steps`, one epoch of BC on windows of 8, DAgger rounds of one
    `dagger_steps` episode (None: the recipe's own number of rounds; 0: none), one held-out
    evaluation seed of `eval_distance_m` (None: the recipe's), one process and thread."""
    items = [
        "collect.episodes=2", f"collect.episode_steps={steps}", "collect.workers=1",
        "train.epochs=1", "train.window=8", "train.burn_in=2", "train.batch_size=4",
        "train.threads=1",
    ]  # fmt: skip
    if dagger_rounds is not None:
        items.append(f"dagger.rounds={dagger_rounds}")
    if dagger_rounds != 0:
        items += ["dagger.episodes=1", f"dagger.episode_steps={dagger_steps}", "dagger.epochs=1"]
    items += ["eval.seeds=1", "eval.workers=1", scenario]
    if eval_distance_m is not None:
        items.append(f"eval.distance_m={eval_distance_m:g}")
    return items


def set_args(items: list[str]) -> list[str]:
    """`--set a --set b ...` for a CLI call."""
    return [arg for item in items for arg in ("--set", item)]
