"""Notebook 09's experiments and the committed sweeps: the saved runs are complete, consistent with their own
summaries and reproducible by ``recompute``; the helpers match plain loops and the statistics module."""

import statistics

import numpy as np
import pytest
import torch
from reruns import assert_reproduces
from saved_sweeps import RAW, every_configuration, raw_runs

from trpo_lite.config import REWARD_THRESHOLDS
from trpo_lite.examples import experiments as ex
from trpo_lite.records import CURVE_KEYS, made_here

# --- the committed file ------------------------------------------------------------------------------


def test_metadata_says_what_was_run_where_and_when():
    meta = RAW["meta"]
    assert meta["env_id"] == ex.ENV_ID and meta["seeds"] and len(set(meta["seeds"])) == len(meta["seeds"])
    assert meta["sweeps"] == {k: list(v) for k, v in ex.SWEEPS.items()}
    assert meta["baseline"] == ex.BASELINE and meta["pg_lr"] == ex.PG_LR
    assert meta["total_steps"] > 0 and meta["wall_seconds"] > 0 and meta["date"][:2] == "20"
    assert meta["machine"]["cpu"] and meta["machine"]["platform"] and meta["machine"]["torch_threads"] == 1
    assert {"python", "torch", "gymnasium", "numpy", "trpo_lite"} <= set(meta["versions"])


@pytest.mark.parametrize(("sweep", "value"), every_configuration())
def test_every_configuration_has_every_seed_and_a_full_curve(sweep, value):
    runs = raw_runs(sweep, value)
    assert [r["seed"] for r in runs] == RAW["meta"]["seeds"]
    for run in runs:
        curve = run["curve"]
        assert set(curve) == set(CURVE_KEYS)
        lengths = {len(v) for v in curve.values()}
        assert len(lengths) == 1 and lengths.pop() > 0
        steps = np.array(curve["env_steps"])
        batch = steps[0]  # num_envs * steps_per_env: every iteration adds the same number
        assert np.array_equal(steps, batch * np.arange(1, len(steps) + 1))
        assert steps[-1] >= RAW["meta"]["total_steps"] > steps[-1] - batch


def test_the_saved_runs_used_the_current_settings():
    # A changed preset (batch size, learning rates, ...) makes the saved curves stale: rerun the sweeps.
    current = ex.run_config("update", ex.BASELINE["update"], RAW["meta"]["total_steps"]).to_dict()
    changed = {k: (v, current.get(k)) for k, v in RAW["meta"]["config"].items() if current.get(k) != v}
    assert not changed, f"settings changed since the sweep (saved, now): {changed}; rerun the sweeps"


def test_the_baseline_is_trained_once_and_shared():
    keys = [(tuple(r["config"].values()), r["seed"]) for r in RAW["runs"]]
    assert len(keys) == len(set(keys))
    distinct = {tuple(dict(ex.BASELINE, **{s: v}).values()) for s, v in every_configuration()}
    assert len(RAW["runs"]) == len(distinct) * len(RAW["meta"]["seeds"])
    assert len(ex.configurations()) == len(distinct)
    assert ex.configurations()[0] == ("baseline", "update", "trpo")


@pytest.mark.parametrize("run", RAW["runs"], ids=lambda r: f"{r['config']}-{r['seed']}")
def test_saved_summaries_follow_from_the_saved_curves(run):
    curve = run["curve"]
    crossing = [s for s, r in zip(curve["env_steps"], curve["return_last10"], strict=True)
                if r is not None and r >= ex.THRESHOLD]
    summary = run["summary"]
    assert summary["steps_to_threshold"] == (crossing[0] if crossing else None)
    assert summary["final_return"] == curve["return_last10"][-1]
    assert summary["mean_kl"] == pytest.approx(sum(curve["kl"]) / len(curve["kl"]), rel=1e-12)
    assert summary == ex.summarize(ex.as_history(curve))


def test_trpo_keeps_every_update_inside_the_trust_region():
    # E12: the line search accepts a step only if its mean KL <= delta, and otherwise restores theta (KL 0).
    trpo = [r for r in RAW["runs"] if r["config"]["update"] == "trpo"]
    assert trpo
    for run in trpo:
        assert max(run["curve"]["kl"]) <= run["config"]["max_kl"]
    vpg = [r for r in RAW["runs"] if r["config"]["update"] == "vpg"]
    assert max(max(r["curve"]["kl"]) for r in vpg) > ex.BASELINE["max_kl"]  # nothing holds the vanilla step


def test_npg_is_trpo_when_the_line_search_never_backtracks():
    # TRPO's update is NPG's full step unless the line search shrinks it: with no backtrack, the same run.
    for trpo, npg in zip(raw_runs("update", "trpo"), raw_runs("update", "npg"), strict=True):
        if not any(trpo["curve"]["backtracks"]):
            assert trpo["curve"]["return_last10"] == npg["curve"]["return_last10"]
            assert trpo["curve"]["kl"] == npg["curve"]["kl"]


@pytest.mark.parametrize(("sweep", "value", "seed"),
                         [("update", "trpo", 0), ("update", "vpg", 2), ("lam", 0.0, 1)])
def test_recompute_reproduces_the_saved_first_iterations(sweep, value, seed):
    threads = torch.get_num_threads()
    saved = raw_runs(sweep, value)[seed]
    iterations = 4  # past the first value fit and GAE with a trained V: a changed agent shows by then
    record = ex.recompute(sweep, value, seed, total_steps=saved["curve"]["env_steps"][iterations - 1])
    assert torch.get_num_threads() == threads  # recomputing leaves the thread count alone
    assert record["config"] == saved["config"] and record["seed"] == seed
    curve = record["curve"]
    assert set(curve) == set(CURVE_KEYS) and len(curve["env_steps"]) == iterations
    names = ("env_steps", "return_last10", "return_mean", "kl", "backtracks", "accepted")
    assert_reproduces({name: curve[name] for name in names}, saved["curve"], made_here(RAW["meta"]))
    assert record["summary"] == ex.summarize(ex.as_history(curve))


def test_the_check_of_a_rerun_on_another_machine_still_fails_the_next_seed():
    saved = raw_runs("update", "trpo")[0]
    record = ex.recompute("update", "trpo", 1, total_steps=saved["curve"]["env_steps"][0])
    with pytest.raises(AssertionError, match="kl"):
        assert_reproduces({"kl": record["curve"]["kl"]}, saved["curve"], made_here=False)


# --- the helpers ---------------------------------------------------------------------------------------


def test_threshold_is_cartpole_s():
    assert ex.THRESHOLD == REWARD_THRESHOLDS["CartPole-v1"] == 475


def test_configuration_names_bad_arguments():
    assert ex.configuration("max_kl", 0.1) == dict(ex.BASELINE, max_kl=0.1)
    with pytest.raises(ValueError, match="sweep must be one of"):
        ex.configuration("gamma", 0.9)
    with pytest.raises(ValueError, match=r"value must be one of \(0.003"):
        ex.configuration("max_kl", 0.5)


def test_seed_statistics_against_the_statistics_module():
    values = [480.0, 500.0, 120.0, 300.0]
    assert ex.seed_summary(values) == pytest.approx((statistics.median(values), statistics.stdev(values)))
    with pytest.raises(ValueError, match="at least 2 numbers"):
        ex.seed_summary([1.0])
    assert ex.median_steps([3, None, 1]) == 3 and ex.median_steps([None, 2, None]) is None
    assert ex.median_steps([4, 2, 6, None]) == 5 and ex.median_steps([4, None, 6, None]) is None


def test_steps_to_threshold_skips_nan_and_uses_the_last10_mean():
    rows = [{"rollout/return_last10": r, "rollout/return_mean": 500.0, "time/env_steps": 100 * (i + 1)}
            for i, r in enumerate([float("nan"), 300.0, 475.0, 500.0])]
    assert ex.steps_to_threshold(rows, 475) == 300
    assert ex.steps_to_threshold(rows, 501) is None
