"""Notebook 00's step-size sweep: the committed records are complete and say what the notebook claims,
and a live rerun with ``record_run`` reproduces them (bit for bit where they were made)."""

import json
import math

import numpy as np
import pytest
import torch
from reruns import assert_reproduces

from trpo_lite.config import TRPOConfig
from trpo_lite.examples import step_size_sweep as ex
from trpo_lite.records import made_here, result_path


@pytest.fixture(scope="module")
def sweep():
    return ex.load_sweep()


def test_sweep_records_every_setting_and_seed_with_a_full_curve(sweep):
    meta = sweep["meta"]
    assert {"date", "machine", "environment", "seeds", "step_sizes", "total_steps", "config"} <= set(meta)
    assert set(meta["environment"]) == {"python", "machine", "cpu", "torch", "gymnasium", "numpy"}
    assert len(meta["seeds"]) >= 3 and len(meta["step_sizes"]) >= 5
    settings = [("vpg", lr) for lr in meta["step_sizes"]] + [("trpo", None)]
    found = sorted((r["update"], r["pg_lr"] or 0.0, r["seed"]) for r in sweep["runs"])
    assert found == sorted((u, lr or 0.0, s) for u, lr in settings for s in meta["seeds"])
    batch = meta["config"]["num_envs"] * meta["config"]["steps_per_env"]
    iterations = math.ceil(meta["total_steps"] / batch)
    for run in sweep["runs"]:
        assert run["env_steps"] == [batch * (i + 1) for i in range(iterations)]
        assert all(len(run[key]) == iterations for key in ("return_last10", "kl", "entropy"))
        # CartPole pays 1 per step and stops at 500; no episode is shorter than 8 steps
        assert all(8 <= r <= 500 for r in run["return_last10"])
        assert all(0 <= e <= math.log(2) + 1e-6 for e in run["entropy"])  # two actions


def test_sweep_json_is_strict(sweep):
    text = result_path("step_size_sweep.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert any(math.isinf(kl) for run in sweep["runs"] for kl in run["kl"])  # infinite KLs survive


def test_trpo_never_leaves_its_trust_region(sweep):
    for run in ex.runs_of(sweep, "trpo"):
        assert max(run["kl"]) <= sweep["meta"]["trpo_max_kl"] * (1 + 1e-6)  # the line search's KL check (E12)


def test_final_return_averages_the_last_iterations(sweep):
    run = sweep["runs"][0]
    assert ex.final_return(run) == pytest.approx(sum(run["return_last10"][-10:]) / 10)
    sizes, finals, trpo = ex.final_returns(sweep)
    seeds = sweep["meta"]["seeds"]
    assert finals.shape == (len(sizes), len(seeds)) and trpo.shape == (len(seeds),)
    assert finals[0, 0] == ex.final_return(ex.saved_run(sweep, "vpg", seeds[0], sizes[0]))


def test_too_large_a_step_collapses_and_too_small_a_step_crawls(sweep):
    sizes, finals, trpo = ex.final_returns(sweep)
    mean = finals.mean(1)
    best = int(mean.argmax())
    assert 0 < best < len(sizes) - 1  # the best step is inside the range: both ends are worse
    assert mean[-1] < mean[best] / 5 and mean[0] < mean[best] / 5
    # collapse: within 3 updates the largest step leaves a (nearly) deterministic policy, for good
    for run in ex.runs_of(sweep, "vpg", sizes[-1]):
        assert max(run["entropy"][3:]) < 0.05 < run["entropy"][0]
    # and the trust region beats every fixed step, on average over seeds
    assert trpo.mean() > mean.max()


def test_first_update_kl_grows_like_the_step_squared(sweep):
    # Per seed the first batch is the same for every step size (sampled before any update), so
    # KL(eta) = 1/2 eta^2 g^T H g + O(eta^3) (E9): KL / eta^2 is flat for small steps.
    sizes, kl = ex.first_kl(sweep)
    small = sizes <= 0.3
    ratio = kl[small] / sizes[small, None] ** 2
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape), rtol=0.01)
    assert (np.diff(kl, axis=0) > 0).all()  # a longer step along the same g moves the policy further
    assert (kl[-1] > 1).all()  # the largest step moves it by more than a whole nat
    # the fitted constant c of KL ~ c step^2: the geometric mean of those ratios, per seed
    scale = ex.kl_scale(sizes, kl)
    np.testing.assert_allclose(scale, [math.prod(column) ** (1 / len(column)) for column in ratio.T],
                               rtol=1e-12)


def test_saved_run_and_runs_of_reject_unrecorded_settings(sweep):
    with pytest.raises(ValueError, match=r"pg_lr must be one of the recorded step sizes \[0.01"):
        ex.runs_of(sweep, "vpg", 0.5)
    with pytest.raises(ValueError, match="update must be 'vpg' or 'trpo'"):
        ex.runs_of(sweep, "npg")
    with pytest.raises(ValueError, match=r"seed must be one of the recorded seeds \[0, 1, 2\]; got 7"):
        ex.saved_run(sweep, "trpo", seed=7)


@pytest.mark.parametrize(("update", "pg_lr"), [("vpg", 30.0), ("vpg", 100.0), ("trpo", None)])
def test_a_live_run_reproduces_the_saved_numbers(update, pg_lr, sweep):
    threads = torch.get_num_threads()
    seed = sweep["meta"]["seeds"][-1]
    config = TRPOConfig.from_dict(sweep["meta"]["config"])  # the settings the sweep ran with
    batch = config.num_envs * config.steps_per_env
    live = ex.record_run(config, update, seed, total_steps=2 * batch, pg_lr=pg_lr)
    assert torch.get_num_threads() == threads  # recording a run leaves the thread count alone
    saved = ex.saved_run(sweep, update, seed, pg_lr)
    assert set(live) == {"update", "pg_lr", "seed", "env_steps", "return_last10", "kl", "entropy"}
    names = ("env_steps", "return_last10", "kl", "entropy")
    assert_reproduces({name: live[name] for name in names}, saved, made_here(sweep["meta"]))


def test_compare_runs_sees_a_difference_and_infinite_kls():
    saved = {"env_steps": [1, 2, 3], "return_last10": [10.0, 20.0, 30.0], "kl": [math.inf, 0.5, 0.1]}
    same = {"env_steps": [1, 2], "return_last10": [10.0, 20.0], "kl": [math.inf, 0.5]}
    assert ex.compare_runs(same, saved) == {"iterations": 2, "max_return_diff": 0.0, "max_kl_diff": 0.0}
    off = same | {"return_last10": [10.0, 21.5], "kl": [1.0, 0.25]}
    assert ex.compare_runs(off, saved) == {"iterations": 2, "max_return_diff": 1.5,
                                           "max_kl_diff": math.inf}
    with pytest.raises(ValueError, match="more than the saved run's 3"):
        ex.compare_runs(saved | {"env_steps": [1, 2, 3, 4], "return_last10": [1.0] * 4}, saved)
    with pytest.raises(ValueError, match="count environment steps differently"):
        ex.compare_runs(same | {"env_steps": [2, 4]}, saved)


def test_record_run_needs_a_step_size_exactly_for_vpg():
    with pytest.raises(ValueError, match="pg_lr must be given for update='vpg' and only then"):
        ex.record_run("CartPole-v1", "vpg", 0, 1024)
    with pytest.raises(ValueError, match="pg_lr must be given for update='vpg' and only then"):
        ex.record_run("CartPole-v1", "trpo", 0, 1024, pg_lr=1.0)
