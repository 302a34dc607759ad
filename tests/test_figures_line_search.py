"""Notebook 09, section 8's figures draw the saved line-search runs: every seed's curve, the seed medians,
every update's KL / delta and the backtrack histogram, read here straight from the JSON."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from translated import marked_language, untranslated

from trpo_lite.examples import line_search as ls
from trpo_lite.figures import line_search as fig_ls
from trpo_lite.records import load_records

RAW = load_records("line_search.json")
SEEDS, MAX_KLS = RAW["meta"]["seeds"], RAW["meta"]["max_kls"]


def raw_curve(update, max_kl, seed):
    (run,) = [r for r in RAW["runs"] if (r["update"], r["max_kl"], r["seed"]) == (update, max_kl, seed)]
    return run["curve"]


@pytest.fixture(scope="module")
def runs():
    return ls.load_runs()


def test_curves_figure_draws_every_seed_the_median_and_every_update(runs):
    fig = fig_ls.curves_figure(runs)
    try:
        axes = np.array(fig.axes).reshape(2, len(MAX_KLS))
        for column, max_kl in enumerate(MAX_KLS):
            ax_ret, ax_kl = axes[:, column]
            for update in RAW["meta"]["updates"]:
                color = fig_ls.COLORS[update]
                lines = [line for line in ax_ret.lines if line.get_color() == color]
                thin = [line.get_ydata() for line in lines if line.get_linewidth() == 0.6]
                assert len(thin) == len(SEEDS)
                for drawn, seed in zip(thin, SEEDS, strict=True):
                    np.testing.assert_array_equal(drawn, raw_curve(update, max_kl, seed)["return_last10"])
                (bold,) = [line for line in lines if line.get_linewidth() == 2.5]
                i = len(runs.steps) - 1  # the last iteration: every seed has finished episodes
                finals = [raw_curve(update, max_kl, s)["return_last10"][i] for s in SEEDS]
                assert bold.get_ydata()[i] == pytest.approx(np.median(finals))
                (dots,) = [line for line in ax_kl.lines if line.get_color() == color]
                kls = [k for s in SEEDS for k in raw_curve(update, max_kl, s)["kl"]]
                expected = np.clip(np.array(kls) / max_kl, *fig_ls.KL_RATIO_RANGE)
                np.testing.assert_allclose(np.sort(dots.get_ydata()), np.sort(expected))
            assert str(max_kl) in ax_ret.get_title()
    finally:
        plt.close(fig)


def test_backtracks_figure_bars_are_the_fractions_of_updates(runs):
    fig = fig_ls.backtracks_figure(runs)
    try:
        (ax,) = fig.axes
        most = RAW["meta"]["config"]["max_backtracks"]
        heights = np.array([bar.get_height() for bar in ax.patches]).reshape(len(MAX_KLS), most + 2)
        for row, max_kl in zip(heights, MAX_KLS, strict=True):
            curves = [raw_curve("trpo", max_kl, s) for s in SEEDS]
            pairs = [p for c in curves for p in zip(c["backtracks"], c["accepted"], strict=True)]
            expected = [sum(a and b == i for b, a in pairs) for i in range(most + 1)]
            expected.append(sum(not a for _, a in pairs))
            np.testing.assert_allclose(row, np.array(expected) / len(pairs))
            assert math.isclose(row.sum(), 1.0)
    finally:
        plt.close(fig)


def test_every_text_a_reader_sees_goes_through_tr(monkeypatch, runs):
    with marked_language(monkeypatch):
        figures = [fig_ls.curves_figure(runs), fig_ls.backtracks_figure(runs)]
        try:
            for fig in figures:
                assert untranslated(fig) == []
        finally:
            for fig in figures:
                plt.close(fig)
