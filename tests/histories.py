"""Training histories the tests of notebook 08's support share: a hand-made one, and how to compare real
ones (without their wall-clock times)."""

import math

from trpo_lite.config import preset

BATCH = preset("CartPole-v1").num_envs * preset("CartPole-v1").steps_per_env  # steps per iteration


def fake_history():
    """Eight iterations with a rejection, backtracks, a NaN explained variance and a missing return."""
    kl = [0.004, 0.009, 0.0, 0.012, 0.008, 0.01, 0.002, 0.007]
    accepted = [True, True, False, True, True, True, True, True]
    backtracks = [0, 2, 10, 1, 0, 3, 0, 0]
    gain = [0.01, 0.02, -0.01, 0.03, -0.002, 0.01, 0.005, 0.02]
    ev = [-0.5, 0.1, math.nan, 0.4, 0.6, 0.7, 0.8, 0.9]
    rows = []
    for i in range(8):
        rows.append({"policy/kl": kl[i], "line_search/accepted": accepted[i], "line_search/backtracks":
                     backtracks[i], "policy/surrogate_gain": gain[i], "value/explained_variance": ev[i],
                     "time/env_steps": 1024 * (i + 1), "rollout/return_last10": 10.0 * i})
    del rows[0]["rollout/return_last10"]
    return rows


def comparable(history):
    """The rows without their wall-clock times, which differ between identical runs."""
    return [{k: v for k, v in row.items() if not k.startswith("time/wall")} for row in history]
