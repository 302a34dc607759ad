"""Notebook 09's saved sweeps read back: every number its tables and figures show matches plain loops over
the raw JSON."""

import json
import statistics

import numpy as np
import pytest
from saved_sweeps import RAW, every_configuration, raw_runs
from translated import marked_language

from trpo_lite.examples import experiments as ex
from trpo_lite.examples import sweep_results as sr


@pytest.fixture(scope="module")
def results():
    return sr.load_results()


def test_load_results_refuses_incomplete_or_mixed_files(tmp_path):
    missing = dict(RAW, runs=[r for r in RAW["runs"] if not (r["config"]["lam"] == 0.0 and r["seed"] == 1)])
    (tmp_path / "missing.json").write_text(json.dumps(missing))
    with pytest.raises(ValueError, match=r"lam=0.0 has no run for seeds \[1\]"):
        sr.load_results(tmp_path / "missing.json")
    short = json.loads(json.dumps(RAW))
    short["runs"][0]["curve"] = {k: v[:-1] for k, v in short["runs"][0]["curve"].items()}
    (tmp_path / "short.json").write_text(json.dumps(short))
    with pytest.raises(ValueError, match="different lengths"):
        sr.load_results(tmp_path / "short.json")


def test_load_results_reads_a_file_with_one_sweep(tmp_path):
    # What `sweeps.py --sweep max_kl` writes: only that sweep's configurations.
    keep = {tuple(dict(ex.BASELINE, max_kl=d).values()) for d in ex.SWEEPS["max_kl"]}
    meta = dict(RAW["meta"], sweeps={"max_kl": RAW["meta"]["sweeps"]["max_kl"]})
    runs = [r for r in RAW["runs"] if tuple(r["config"].values()) in keep]
    (tmp_path / "delta.json").write_text(json.dumps({"meta": meta, "runs": runs}))
    partial = sr.load_results(tmp_path / "delta.json")
    assert len(partial.records) == len(ex.SWEEPS["max_kl"])
    assert [row["value"] for row in sr.summary_rows(partial, "max_kl")] == list(ex.SWEEPS["max_kl"])
    with pytest.raises(ValueError, match=r"lam=0.0 is not in these results; their sweeps: \['max_kl'\]"):
        partial.key("lam", 0.0)


@pytest.mark.parametrize(("sweep", "value"), every_configuration())
def test_summary_row_matches_plain_loops(results, sweep, value):
    runs = raw_runs(sweep, value)
    row = sr.summary_row(results, sweep, value, threshold=195)
    reached = [next((s for s, r in zip(c["env_steps"], c["return_last10"], strict=True)
                     if r is not None and r >= 195), None) for c in (run["curve"] for run in runs)]
    assert row["reached"] == sum(s is not None for s in reached) and row["seeds"] == len(runs)
    finals = [run["curve"]["return_last10"][-1] for run in runs]
    assert row["final_median"] == statistics.median(finals)
    assert row["final_std"] == pytest.approx(statistics.stdev(finals))
    if dict(ex.BASELINE, **{sweep: value})["update"] == "trpo":
        backtracked = [sum(b > 0 for b in run["curve"]["backtracks"]) / len(run["curve"]["backtracks"])
                       for run in runs]
        assert row["backtracked"] == pytest.approx(sum(backtracked) / len(backtracked))
        assert row["accepted"] == pytest.approx(np.mean([run["curve"]["accepted"] for run in runs]))
    else:
        assert row["accepted"] is None and row["backtracked"] is None


@pytest.mark.parametrize(("sweep", "value"), every_configuration())
def test_sweep_curves_are_the_seed_statistics_of_the_raw_curves(results, sweep, value):
    runs = raw_runs(sweep, value)
    returns = np.array([[np.nan if r is None else r for r in run["curve"]["return_last10"]] for run in runs])
    stats = sr.curve_stats(results, sweep, value)
    assert np.allclose(stats["returns_mean"], [np.nanmean(col) for col in returns.T])
    assert np.allclose(stats["returns_low"], np.nanmin(returns, axis=0))
    assert np.allclose(stats["kls_high"], np.max([run["curve"]["kl"] for run in runs], axis=0))
    numbers = sr.sweep_curves(results, sweep, value)
    assert list(numbers["stats"]) == list(ex.SWEEPS[sweep])
    assert np.array_equal(numbers["stats"][value]["returns"], returns, equal_nan=True)
    assert numbers["row"] == sr.summary_row(results, sweep, value)
    delta = dict(ex.BASELINE, **{sweep: value})["max_kl"]
    assert numbers["delta"] == delta
    assert sorted(numbers["deltas"]) == sorted(ex.SWEEPS["max_kl"] if sweep == "max_kl" else [delta])


def test_per_configuration_lists_every_seed_of_every_configuration(results):
    numbers = sr.per_configuration(results)
    for delta, kls in numbers["kl_by_delta"].items():
        assert kls == [run["summary"]["mean_kl"] for run in raw_runs("max_kl", delta)]
    assert [c[:3] for c in numbers["final"]] == ex.configurations()
    for _, sweep, value, finals in numbers["final"]:
        assert finals == [run["curve"]["return_last10"][-1] for run in raw_runs(sweep, value)]
    trpo = [c for c in ex.configurations() if dict(ex.BASELINE, **{c[1]: c[2]})["update"] == "trpo"]
    assert [c[:3] for c in numbers["backtracked"]] == trpo
    for _, sweep, value, fractions in numbers["backtracked"]:
        assert fractions == [np.mean([b > 0 for b in run["curve"]["backtracks"]])
                             for run in raw_runs(sweep, value)]


def test_table_and_description(results):
    rows = sr.summary_rows(results, "max_kl")
    table = sr.format_table(rows, "max_kl").splitlines()
    assert len(table) == 1 + len(ex.SWEEPS["max_kl"])
    for line, row in zip(table[1:], rows, strict=True):
        assert ("not reached" in line) == (row["median_steps"] is None)
    text = sr.describe(results)
    meta = RAW["meta"]
    for fact in (str(meta["seeds"]), meta["machine"]["cpu"], meta["date"], meta["versions"]["torch"]):
        assert fact in text


def test_table_and_description_reach_the_reader_through_tr(monkeypatch, results):
    with marked_language(monkeypatch):
        table = sr.format_table(sr.summary_rows(results, "update"), "update").splitlines()
        text = sr.describe(results)
    assert all(line.startswith("«") and line.endswith("»") for line in table)
    assert text.startswith("«") and text.endswith("»")
    assert "«trpo»" in table[1]  # an update rule's name is a text, a number is not
