"""Notebook 09, section 8: the committed line-search runs are complete, reproducible by ``record_run`` and
made with the current settings; every number the notebook computes from them matches a plain scan of the
JSON."""

import math
from pathlib import Path

import numpy as np
import pytest
from reruns import assert_reproduces

from trpo_lite.config import TRPOConfig
from trpo_lite.examples import line_search as ls
from trpo_lite.records import load_records, made_here, write_records

RAW = load_records("line_search.json")


@pytest.fixture(scope="module")
def runs():
    return ls.load_runs()


def raw_curve(update, max_kl, seed):
    (run,) = [r for r in RAW["runs"] if (r["update"], r["max_kl"], r["seed"]) == (update, max_kl, seed)]
    return run["curve"]


def every_update(update, max_kl, name):
    """One quantity of every update of every seed, in a flat list, read straight from the JSON."""
    return [x for seed in RAW["meta"]["seeds"] for x in raw_curve(update, max_kl, seed)[name]]


# --- the committed file ------------------------------------------------------------------------------


def test_the_file_says_what_was_run_and_holds_every_run_once():
    meta = RAW["meta"]
    assert meta["env_id"] == ls.ENV_ID and meta["updates"] == list(ls.UPDATES)
    assert len(meta["seeds"]) >= 5 and len(meta["max_kls"]) >= 2 and max(meta["max_kls"]) > 0.01
    assert meta["machine_at_start"]["torch_threads"] == 1 and meta["cpu_seconds"] > 0
    assert set(meta["environment"]) == {"python", "machine", "cpu", "torch", "gymnasium", "numpy"}
    found = sorted((r["update"], r["max_kl"], r["seed"]) for r in RAW["runs"])
    assert found == sorted((u, d, s) for u in meta["updates"] for d in meta["max_kls"] for s in meta["seeds"])
    config = TRPOConfig.from_dict(meta["config"])
    iterations = math.ceil(meta["total_steps"] / (config.num_envs * config.steps_per_env))
    for run in RAW["runs"]:
        assert set(run["curve"]) == set(ls.KEYS)
        assert {len(v) for v in run["curve"].values()} == {iterations}


def test_the_saved_runs_used_the_current_preset():
    saved = TRPOConfig.from_dict(RAW["meta"]["config"])
    assert saved == ls.base_config(RAW["meta"]["total_steps"]), "the preset changed: rerun line_search.py"


@pytest.mark.parametrize(("update", "max_kl"), [("trpo", 0.05), ("npg", 0.2)])
def test_record_run_reproduces_the_saved_first_iterations(runs, update, max_kl):
    iterations, seed = 3, RAW["meta"]["seeds"][0]
    record = ls.record_run(runs.config, update, max_kl, seed, iterations * int(runs.steps[0]))
    assert (record["update"], record["max_kl"], record["seed"]) == (update, max_kl, seed)
    assert_reproduces({name: record["curve"][name] for name in ls.KEYS}, raw_curve(update, max_kl, seed),
                      made_here(RAW["meta"]))


# --- reading it back -----------------------------------------------------------------------------------


def test_load_runs_stacks_the_seeds_in_order(runs):
    for run in RAW["runs"]:
        row = RAW["meta"]["seeds"].index(run["seed"])
        for name, values in run["curve"].items():
            np.testing.assert_array_equal(runs.curve(run["update"], run["max_kl"], name)[row],
                                          np.array(values, dtype=float))
    batch = RAW["meta"]["config"]["num_envs"] * RAW["meta"]["config"]["steps_per_env"]
    assert runs.steps[0] == batch and np.all(np.diff(runs.steps) == batch)
    with pytest.raises(ValueError, match="no runs for update='vpg'"):
        runs.curve("vpg", 0.01, "kl")


def test_load_runs_names_a_missing_seed_and_unequal_lengths(tmp_path: Path):
    meta = dict(RAW["meta"], max_kls=[0.01], seeds=[0, 1])
    run = {"update": "trpo", "max_kl": 0.01, "seed": 0, "curve": raw_curve("trpo", 0.01, 0)}
    path = tmp_path / "missing.json"
    write_records(path, meta, [run, dict(run, update="npg"), dict(run, update="npg", seed=1)])
    with pytest.raises(ValueError, match=r"update='trpo', max_kl=0.01 has no run for seeds \[1\]"):
        ls.load_runs(path)
    short = {name: values[:5] for name, values in run["curve"].items()}
    path = tmp_path / "lengths.json"
    write_records(path, dict(meta, seeds=[0]), [run, dict(run, update="npg", curve=short)])
    with pytest.raises(ValueError, match="curves of different lengths"):
        ls.load_runs(path)


# --- what the notebook computes, against plain loops -------------------------------------------------


@pytest.mark.parametrize("max_kl", RAW["meta"]["max_kls"])
def test_line_search_counts_and_backtrack_counts_match_a_plain_count(runs, max_kl):
    backtracks = every_update("trpo", max_kl, "backtracks")
    accepted = every_update("trpo", max_kl, "accepted")
    counts = ls.line_search_counts(runs, max_kl)
    assert counts["updates"] == len(backtracks)
    assert counts["backtracked"] == pytest.approx(sum(b > 0 for b in backtracks) / len(backtracks))
    assert counts["rejected"] == pytest.approx(sum(not a for a in accepted) / len(accepted))
    taken = sorted(0.8**b for b, a in zip(backtracks, accepted, strict=True) if a)
    np.testing.assert_allclose(sorted(counts["fractions"]), taken)
    histogram = ls.backtrack_counts(runs, max_kl)
    most = runs.config.max_backtracks
    assert len(histogram) == most + 2 and histogram.sum() == len(backtracks)
    for i in range(most + 1):
        assert histogram[i] == sum(b == i and a for b, a in zip(backtracks, accepted, strict=True))
    assert histogram[-1] == sum(not a for a in accepted)


@pytest.mark.parametrize("update", ["trpo", "npg"])
@pytest.mark.parametrize("max_kl", RAW["meta"]["max_kls"])
def test_overshoot_and_kl_ratios_match_a_plain_count(runs, update, max_kl):
    kls, gains = every_update(update, max_kl, "kl"), every_update(update, max_kl, "gain")
    numbers = ls.overshoot(runs, update, max_kl)
    assert numbers["above_delta"] == pytest.approx(sum(k > max_kl for k in kls) / len(kls))
    assert numbers["largest_ratio"] == pytest.approx(max(kls) / max_kl)
    assert numbers["gain_negative"] == pytest.approx(sum(g < 0 for g in gains) / len(gains))
    np.testing.assert_allclose(ls.kl_ratios(runs, update, max_kl).ravel(), np.array(kls) / max_kl)


def test_trpo_never_leaves_the_trust_region_nor_lowers_the_surrogate(runs):
    # The line search's acceptance rule (E12), read from the saved numbers: what section 8 asserts.
    for max_kl in RAW["meta"]["max_kls"]:
        for kl, gain, ok in zip(*(every_update("trpo", max_kl, n) for n in ("kl", "gain", "accepted")),
                                strict=True):
            assert (kl <= max_kl and gain > 0) if ok else (kl == 0 and gain == 0)


def test_given_back_and_ended_near_start_on_a_hand_example():
    nan = math.nan
    returns = np.array([[nan, -1200, -300, -200, -900],   # best -200, gave back 700; 300 from the start
                        [nan, nan, -1000, -500, -100],     # ends at its best
                        [-800, -400, -300, -600, -500]])   # gave back 200; 300 from the start
    np.testing.assert_array_equal(ls.given_back(returns), [700, 0, 200])
    np.testing.assert_array_equal(ls.ended_near_start(returns), [True, False, False])


def test_first_difference_is_where_trpo_and_npg_part(runs):
    for max_kl in RAW["meta"]["max_kls"]:
        for seed, (backtrack, difference) in zip(RAW["meta"]["seeds"], ls.first_difference(runs, max_kl),
                                                 strict=True):
            trpo, npg = raw_curve("trpo", max_kl, seed), raw_curve("npg", max_kl, seed)
            acted = [b > 0 or not a for b, a in zip(trpo["backtracks"], trpo["accepted"], strict=True)]
            assert backtrack == acted.index(True) + 1
            parted = [x != y for x, y in zip(trpo["kl"], npg["kl"], strict=True)]
            assert difference == parted.index(True) + 1


def test_seed_curves_are_the_seed_median_min_and_max(runs):
    stats = ls.seed_curves(runs, "npg", 0.05)
    for i in range(len(runs.steps)):
        values = [raw_curve("npg", 0.05, s)["return_last10"][i] for s in RAW["meta"]["seeds"]]
        values = [v for v in values if not math.isnan(v)]
        if not values:
            assert math.isnan(stats["median"][i]) and math.isnan(stats["low"][i])
            continue
        assert stats["median"][i] == pytest.approx(np.median(values))
        assert (stats["low"][i], stats["high"][i]) == (min(values), max(values))


def test_describe_names_seeds_radii_machine_and_date(runs):
    text = ls.describe(runs)
    meta = RAW["meta"]
    for fact in (str(meta["seeds"]), str(meta["max_kls"]), meta["environment"]["cpu"], meta["date"],
                 meta["environment"]["torch"], meta["env_id"]):
        assert fact in text
