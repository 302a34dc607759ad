"""Notebook 09's figures draw the saved sweeps' numbers: the slider's figure redrawn in place, the summary
figure's bars the seed medians."""

import functools
import statistics

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place
from saved_sweeps import every_configuration, raw_runs
from translated import marked_language, untranslated

from trpo_lite.examples import experiments as ex
from trpo_lite.examples import sweep_results as sr
from trpo_lite.figures import experiments as fig_ex


@pytest.fixture(scope="module")
def results():
    return sr.load_results()


@pytest.mark.parametrize(("sweep", "value"), every_configuration())
def test_curves_view_draws_the_seed_mean_band_and_every_seed(results, sweep, value):
    runs = raw_runs(sweep, value)
    stats = sr.curve_stats(results, sweep, value)
    fig = fig_ex.curves_view(results, sweep, value)
    ax_ret, ax_kl = fig.axes
    shown_ret, shown_kl = ([line for line in ax.lines if line.get_visible()] for ax in fig.axes)  # pools hide
    bold = [line for line in shown_ret if line.get_linewidth() == 3]
    assert len(bold) == 1 and np.allclose(bold[0].get_ydata(), stats["returns_mean"], equal_nan=True)
    np.testing.assert_array_equal(bold[0].get_xdata(), results.steps / 1000)
    thin = [line for line in shown_ret if line.get_linewidth() == 0.8]
    assert len(thin) == len(runs)
    for line, seed in zip(thin, stats["returns"], strict=True):
        np.testing.assert_array_equal(line.get_ydata(), seed)
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
    assert_redraws_in_place(functools.partial(fig_ex.curves_view, results), a, b)


def test_summary_figure_bars_are_seed_medians(results):
    fig = fig_ex.summary_figure(results)
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
    assert [t.get_text() for t in ax_ret.get_xticklabels()] == [c[0] for c in labels]
    plt.close(fig)


def test_every_text_a_reader_sees_goes_through_tr(monkeypatch, results):
    with marked_language(monkeypatch):
        figures = [fig_ex.curves_view(results, "max_kl", 0.1), fig_ex.summary_figure(results)]
        for fig in figures:
            assert untranslated(fig) == []
    plt.close(figures[-1])
