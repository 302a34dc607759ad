"""Notebook 00's step-size figures draw the saved runs and their summaries, the slider's figure redrawn in
place."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place

from trpo_lite.examples import step_size_sweep as ex
from trpo_lite.figures import step_size_sweep as fig_sweep


@pytest.fixture(scope="module")
def sweep():
    return ex.load_sweep()


@pytest.mark.parametrize("pg_lr", ex.load_sweep()["meta"]["step_sizes"])
def test_step_size_view_draws_the_saved_curves(pg_lr, sweep):
    fig = fig_sweep.step_size_view(pg_lr)
    ax_ret, ax_kl = fig.axes
    runs, trpo = ex.runs_of(sweep, "vpg", pg_lr), ex.runs_of(sweep, "trpo")
    drawn = [line.get_ydata() for line in ax_ret.lines]
    assert len(drawn) == len(runs) + len(trpo)
    for line, run in zip(drawn, trpo + runs, strict=True):
        np.testing.assert_array_equal(line, run["return_last10"])
    kl_lines = ax_kl.lines[: len(runs) + len(trpo)]
    for line, run in zip(kl_lines, trpo + runs, strict=True):
        np.testing.assert_array_equal(line.get_ydata(), np.clip(run["kl"], *fig_sweep.KL_RANGE))
    assert ax_kl.lines[-1].get_ydata()[0] == sweep["meta"]["trpo_max_kl"]
    assert str(pg_lr) in fig._suptitle.get_text()


@pytest.mark.parametrize(("a", "b"), [((0.01,), (100.0,)), ((100.0,), (0.01,)), ((1.0,), (3.0,)),
                                      ((0.3,), (30.0,))])
def test_step_size_view_redraw_depends_only_on_its_arguments(a, b):
    assert_redraws_in_place(fig_sweep.step_size_view, a, b)


def test_step_size_view_rejects_unrecorded_step_sizes():
    with pytest.raises(ValueError, match=r"pg_lr must be one of the recorded step sizes \[0.01"):
        fig_sweep.step_size_view(0.5)


def test_sweep_summary_draws_final_returns_and_first_kls(sweep):
    fig = fig_sweep.sweep_summary()
    try:
        ax_end, ax_kl = fig.axes
        sizes, finals, trpo = ex.final_returns(sweep)
        np.testing.assert_array_equal(ax_end.lines[1].get_ydata(), finals.mean(1))
        band = ax_end.patches[0]  # TRPO's range over seeds
        assert (band.get_y(), band.get_y() + band.get_height()) == (trpo.min(), trpo.max())
        _, kl = ex.first_kl(sweep)
        np.testing.assert_array_equal(ax_kl.lines[0].get_ydata(), np.clip(kl, *fig_sweep.KL_RANGE).ravel())
        fit = ax_kl.lines[1]  # c * step^2, one dotted line per seed
        np.testing.assert_allclose(fit.get_ydata(), sizes**2 * ex.kl_scale(sizes, kl)[0])
    finally:
        plt.close(fig)
