"""Notebook 09's views and the committed sweeps: the saved runs are complete, consistent with their own
summaries and reproducible by ``recompute``; the views' numbers match plain loops over the raw JSON."""

import functools
import json
import statistics

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place

from trpo_lite.records import load_records
from trpo_lite.views import experiments as ex

RAW = load_records("sweeps.json")


@pytest.fixture(scope="module")
def results():
    return ex.load_results()


def raw_runs(sweep, value):
    """The raw JSON records of one configuration, by a plain scan, in seed order."""
    config = dict(ex.BASELINE, **{sweep: value})
    found = [r for r in RAW["runs"] if r["config"] == config]
    return sorted(found, key=lambda r: r["seed"])


def every_configuration():
    return [(sweep, value) for sweep, values in ex.SWEEPS.items() for value in values]


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
        assert set(curve) == set(ex.CURVE_KEYS)
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
    saved = raw_runs(sweep, value)[seed]["curve"]
    iterations = 4  # past the first value fit and GAE with a trained V: a changed agent shows by then
    record = ex.recompute(sweep, value, seed, total_steps=saved["env_steps"][iterations - 1])
    assert torch.get_num_threads() == threads  # restored
    curve = record["curve"]
    assert len(curve["env_steps"]) == iterations
    for name in ("env_steps", "return_last10", "return_mean", "kl", "backtracks", "accepted"):
        assert curve[name] == saved[name][:iterations], f"{name}: agent changed? rerun benchmarks/sweeps.py"


def test_load_results_refuses_incomplete_or_mixed_files(tmp_path):
    missing = dict(RAW, runs=[r for r in RAW["runs"] if not (r["config"]["lam"] == 0.0 and r["seed"] == 1)])
    (tmp_path / "missing.json").write_text(json.dumps(missing))
    with pytest.raises(ValueError, match=r"lam=0.0 has no run for seeds \[1\]"):
        ex.load_results(tmp_path / "missing.json")
    short = json.loads(json.dumps(RAW))
    short["runs"][0]["curve"] = {k: v[:-1] for k, v in short["runs"][0]["curve"].items()}
    (tmp_path / "short.json").write_text(json.dumps(short))
    with pytest.raises(ValueError, match="different lengths"):
        ex.load_results(tmp_path / "short.json")


def test_load_results_reads_a_file_with_one_sweep(tmp_path):
    # What `sweeps.py --sweep max_kl` writes: only that sweep's configurations.
    keep = {tuple(dict(ex.BASELINE, max_kl=d).values()) for d in ex.SWEEPS["max_kl"]}
    meta = dict(RAW["meta"], sweeps={"max_kl": RAW["meta"]["sweeps"]["max_kl"]})
    runs = [r for r in RAW["runs"] if tuple(r["config"].values()) in keep]
    (tmp_path / "delta.json").write_text(json.dumps({"meta": meta, "runs": runs}))
    partial = ex.load_results(tmp_path / "delta.json")
    assert len(partial.records) == len(ex.SWEEPS["max_kl"])
    assert [row["value"] for row in ex.summary_rows(partial, "max_kl")] == list(ex.SWEEPS["max_kl"])
    with pytest.raises(ValueError, match=r"lam=0.0 is not in these results; their sweeps: \['max_kl'\]"):
        partial.key("lam", 0.0)


# --- the helpers ---------------------------------------------------------------------------------------


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


# --- the views, over the sliders' whole range ----------------------------------------------------------


@pytest.mark.parametrize(("sweep", "value"), every_configuration())
def test_summary_row_matches_plain_loops(results, sweep, value):
    runs = raw_runs(sweep, value)
    row = ex.summary_row(results, sweep, value, threshold=195)
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
def test_curves_view_draws_the_seed_mean_band_and_every_seed(results, sweep, value):
    runs = raw_runs(sweep, value)
    returns = np.array([[np.nan if r is None else r for r in run["curve"]["return_last10"]] for run in runs])
    stats = ex.curve_stats(results, sweep, value)
    assert np.allclose(stats["returns_mean"], [np.nanmean(col) for col in returns.T])
    assert np.allclose(stats["returns_low"], np.nanmin(returns, axis=0))
    assert np.allclose(stats["kls_high"], np.max([run["curve"]["kl"] for run in runs], axis=0))
    fig = ex.curves_view(results, sweep, value)
    ax_ret, ax_kl = fig.axes
    shown_ret, shown_kl = ([line for line in ax.lines if line.get_visible()] for ax in fig.axes)  # pools hide
    bold = [line for line in shown_ret if line.get_linewidth() == 3]
    assert len(bold) == 1 and np.allclose(bold[0].get_ydata(), stats["returns_mean"], equal_nan=True)
    thin = [line for line in shown_ret if line.get_linewidth() == 0.8]
    assert len(thin) == len(runs)
    faint = [line for line in shown_ret if line.get_linewidth() == 1.5]
    assert len(faint) == len(ex.SWEEPS[sweep]) - 1
    deltas = [line.get_ydata()[0] for line in shown_kl if line.get_color() == "black"]  # dashed
    delta = dict(ex.BASELINE, **{sweep: value})["max_kl"]
    assert sorted(deltas) == sorted(ex.SWEEPS["max_kl"] if sweep == "max_kl" else [delta])
    legend, values = ax_kl.get_legend(), ex.SWEEPS[sweep]  # the current sweep, the chosen value bold
    assert [text.get_text() for text in legend.get_texts()] == [str(v) for v in values]
    assert [h.get_linewidth() for h in legend.legend_handles] == [3 if v == value else 1.5 for v in values]
    reached = sum(r["summary"]["steps_to_threshold"] is not None for r in runs)
    assert f"{reached} of {len(runs)} seeds" in ax_ret.get_title()
    plt.close(fig)


@pytest.mark.parametrize(("a", "b"), [  # sweeps of 3 and 4 configurations, both ways; one sweep
    (("update", "trpo"), ("max_kl", 0.1)),
    (("max_kl", 0.003), ("update", "vpg")),
    (("cg_iters", 1), ("update", "npg")),
    (("lam", 0.0), ("lam", 1.0)),
])
def test_a_curves_redraw_depends_only_on_the_arguments(results, a, b):
    assert_redraws_in_place(functools.partial(ex.curves_view, results), a, b)


def test_summary_figure_bars_are_seed_medians(results):
    fig = ex.summary_figure(results)
    ax_kl, ax_bt, ax_ret = fig.axes
    labels = ex.configurations()
    heights = [bar.get_height() for bar in ax_ret.patches]
    assert len(heights) == len(labels)
    for height, (_, sweep, value) in zip(heights, labels, strict=True):
        finals = [run["curve"]["return_last10"][-1] for run in raw_runs(sweep, value)]
        assert height == statistics.median(finals)
    dots = np.concatenate([line.get_ydata() for line in ax_kl.lines if line.get_marker() == "o"])
    kls = [run["summary"]["mean_kl"] for delta in ex.SWEEPS["max_kl"] for run in raw_runs("max_kl", delta)]
    assert sorted(dots) == sorted(kls)
    plt.close(fig)


def test_table_and_description(results):
    rows = ex.summary_rows(results, "max_kl")
    table = ex.format_table(rows, "max_kl").splitlines()
    assert len(table) == 1 + len(ex.SWEEPS["max_kl"])
    for line, row in zip(table[1:], rows, strict=True):
        assert ("not reached" in line) == (row["median_steps"] is None)
    text = ex.describe(results)
    meta = RAW["meta"]
    for fact in (str(meta["seeds"]), meta["machine"]["cpu"], meta["date"], meta["versions"]["torch"]):
        assert fact in text
