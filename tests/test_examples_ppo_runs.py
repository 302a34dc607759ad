"""Notebook 10's saved runs (examples.ppo_runs, trpo_lite/data/ppo_vs_trpo.json): complete, made with the
package's settings of today, TRPO inside its trust region, and reproducible from their seeds."""

import json

import numpy as np
import pytest
from reruns import assert_reproduces

from trpo_lite import records
from trpo_lite.config import REWARD_THRESHOLDS
from trpo_lite.examples import ppo_runs as pr

RESULTS = pr.load_comparison()


def test_every_env_update_and_seed_is_there_with_the_budget_and_the_machine():
    meta = RESULTS.meta
    assert meta["budgets"] == pr.BUDGETS and meta["updates"] == list(pr.UPDATES)
    assert meta["seeds"] == list(pr.SEEDS) and len(meta["seeds"]) >= 3
    assert {"cpu", "cpu_count", "torch_threads"} <= set(meta["machine"])
    assert meta["machine"]["torch_threads"] == 1
    for (env_id, update), runs in RESULTS.records.items():
        assert [r["seed"] for r in runs] == list(pr.SEEDS)
        config = meta["configs"][env_id][update]
        batch = config["num_envs"] * config["steps_per_env"]
        assert RESULTS.steps[env_id][-1] == -(-pr.BUDGETS[env_id] // batch) * batch  # whole iterations
        assert RESULTS.returns[env_id, update].shape == RESULTS.kls[env_id, update].shape


def test_saved_settings_are_the_packages_now():
    for env_id, steps in pr.BUDGETS.items():
        for update in pr.UPDATES:
            now = pr.run_config(env_id, update, steps).to_dict()
            assert RESULTS.meta["configs"][env_id][update] == now, "rerun python benchmarks/ppo_vs_trpo.py"


def test_trpo_stays_in_its_trust_region_ppo_does_not():
    for env_id in pr.BUDGETS:
        delta = RESULTS.meta["configs"][env_id]["trpo"]["max_kl"]
        assert RESULTS.kls[env_id, "trpo"].max() <= delta
        assert RESULTS.kls[env_id, "ppo"].max() > delta


def test_summary_rows_against_the_curves():
    rows = {(r["env_id"], r["update"]): r for r in pr.summary_rows(RESULTS)}
    for key, runs in RESULTS.records.items():
        row, threshold = rows[key], REWARD_THRESHOLDS[key[0]]
        reached = sum(any(x >= threshold for x in r["curve"]["return_last10"] if x is not None) for r in runs)
        kls = [k for r in runs for k in r["curve"]["kl"]]
        assert row["reached"] == reached and row["kl_max"] == max(kls)
        assert row["above_delta"] == pytest.approx(np.mean(np.array(kls) > row["max_kl"]))
        assert row["final_return"] == np.median([r["curve"]["return_last10"][-1] for r in runs])
    assert "KL > δ" in pr.format_table(list(rows.values())).splitlines()[0]


def test_a_missing_seed_is_named(tmp_path):
    data = records.load_records(pr.RESULT_FILE)
    data["runs"] = [r for r in data["runs"] if not (r["update"] == "ppo" and r["seed"] == 2)]
    path = tmp_path / "short.json"
    path.write_text(json.dumps(records.encode(data)))
    with pytest.raises(ValueError, match=r"ppo has no run for seeds \[2\]"):
        pr.load_comparison(path)


@pytest.mark.parametrize(("env_id", "update", "seed"), [("CartPole-v1", "ppo", 0), ("Pendulum-v1", "ppo", 3),
                                                        ("Pendulum-v1", "trpo", 1)])
def test_recompute_reproduces_the_saved_first_iterations(env_id, update, seed):
    saved = RESULTS.records[env_id, update][seed]
    iterations = 4
    record = pr.recompute(env_id, update, seed, total_steps=saved["curve"]["env_steps"][iterations - 1])
    names = ("env_steps", "return_last10", "return_mean", "kl", "backtracks", "accepted")
    assert_reproduces({name: record["curve"][name] for name in names}, saved["curve"],
                      records.made_here(RESULTS.meta))
