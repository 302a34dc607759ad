"""Notebook 08's views: curves and diagnostics against the history they draw, the animation's frames,
the settings view over its sliders' range, and retraining (directly and through the button)."""

import matplotlib

matplotlib.use("Agg")

import base64
import math
import re
import struct
from types import SimpleNamespace

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place

from trpo_lite.config import preset
from trpo_lite.views import agent as views

DELTAS = (0.001, 0.003, 0.01, 0.03, 0.1)  # the notebook's delta slider
LAMS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # the notebook's lambda slider
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


def test_series_reads_one_key_with_nan_where_missing():
    got = views.series(fake_history(), "rollout/return_last10")
    assert math.isnan(got[0]) and got[1:].tolist() == [10.0 * i for i in range(1, 8)]


def test_diagnostics_count_what_plain_loops_count():
    history, max_kl = fake_history(), 0.01
    d = views.diagnostics(history, max_kl)
    within, rejected, backtracks, positive, accepted = 0, 0, 0, 0, 0
    for row in history:
        within += row["policy/kl"] <= max_kl
        rejected += not row["line_search/accepted"]
        backtracks += row["line_search/backtracks"]
        if row["line_search/accepted"]:
            accepted += 1
            positive += row["policy/surrogate_gain"] > 0
    assert d["iterations"] == 8 and d["kl_max"] == 0.012
    assert d["kl_within"] == within / 8 == 7 / 8
    assert d["rejected"] == rejected == 1 and d["backtracks"] == backtracks == 16
    assert d["gain_positive"] == positive / accepted == 6 / 7
    # medians of the first / last ten iterations; here all eight, the NaN left out
    assert d["explained_variance_first"] == d["explained_variance_last"] == 0.6
    with pytest.raises(ValueError, match="history is empty"):
        views.diagnostics([], max_kl)


def test_learning_summary_against_a_plain_loop():
    returns = [math.nan, 20.0, 80.0, 50.0, 120.0, 60.0, 130.0]
    history = [{"rollout/return_last10": r, "time/env_steps": 100 * (i + 1)} for i, r in enumerate(returns)]
    best, drop = -math.inf, 0.0
    for r in returns[1:]:
        best = max(best, r)
        drop = max(drop, best - r)
    got = views.learning_summary(history, target=100.0)
    assert got == {"final": 130.0, "best": 130.0, "largest_drop": drop, "steps_to_target": 500}
    assert drop == 60.0
    assert views.learning_summary(history, target=200.0)["steps_to_target"] is None
    assert math.isnan(views.learning_summary(history[:1])["final"])


def test_diagnostics_figure_draws_the_history():
    history, max_kl = fake_history(), 0.01
    fig = views.diagnostics_figure(history, max_kl)
    ax_kl, ax_bt, ax_gain, ax_ev = fig.axes
    assert np.allclose(ax_kl.lines[0].get_ydata(), [r["policy/kl"] for r in history])
    assert ax_kl.lines[1].get_ydata()[0] == max_kl  # the delta line
    assert [p.get_height() for p in ax_bt.patches] == [r["line_search/backtracks"] for r in history]
    assert ax_bt.lines[0].get_xdata().tolist() == [3]  # the one rejection, at iteration 3
    assert np.allclose(ax_gain.lines[0].get_ydata(), [r["policy/surrogate_gain"] for r in history])
    assert np.allclose(ax_ev.lines[0].get_ydata(), [r["value/explained_variance"] for r in history],
                       equal_nan=True)
    plt.close(fig)


def test_learning_curve_figure_draws_each_nonempty_run_and_the_target():
    history = fake_history()
    fig = views.learning_curve_figure({"a": history, "empty": [], "b": history[:3]}, target=475.0)
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_label() in ("a", "b")]
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert lines[1].get_xdata().tolist() == [1024, 2048, 3072]
    assert np.allclose(lines[0].get_ydata()[1:], [10.0 * i for i in range(1, 8)])
    assert any(np.all(np.asarray(line.get_ydata()) == 475.0) for line in ax.lines)
    plt.close(fig)


@pytest.mark.parametrize("use_output", [False, True])
def test_live_curve_keeps_every_row_and_redraws_at_most_every_interval(use_output):
    history = fake_history()
    output = widgets.Output() if use_output else None
    throttled = views.LiveCurve(target=475.0, output=output, min_interval=math.inf)
    every = views.LiveCurve(output=output, min_interval=0.0)
    for row in history:
        throttled(row)
        every(row)
    assert throttled.rows == every.rows == history
    assert throttled.draws == 1 and every.draws == len(history)  # the first row draws at once
    throttled.draw()
    assert throttled.draws == 2


def png_size(data_url: str) -> tuple[int, int]:
    png = base64.b64decode(data_url.split(",", 1)[1])
    return struct.unpack(">II", png[16:24])  # IHDR: width, height


def test_episode_animation_keeps_every_kth_frame_and_the_last_shrunk():
    frames = [np.full((40, 60, 3), 10 * i, np.uint8) for i in range(23)]
    page = views.episode_animation(frames, every=5, scale=2)
    embedded = re.findall(r'frames\[(\d+)\] = "(data:image/png;base64,[^"]+)"', page)
    assert len(embedded) == 6  # frames 0, 5, 10, 15, 20 and the last, 22
    width, height = png_size(embedded[0][1])
    assert width == 30 and height == 20 + 30  # 60 / 2 pixels wide; 40 / 2 high plus the caption strip
    assert len(views.episode_animation(frames, every=1, scale=4).split("data:image/png")) - 1 == 23


@pytest.mark.parametrize(("kwargs", "message"), [({"every": 0}, "every"), ({"scale": 1.5}, "scale")])
def test_episode_animation_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        views.episode_animation([np.zeros((4, 4, 3), np.uint8)], **kwargs)
    with pytest.raises(ValueError, match="empty"):
        views.episode_animation([])


def test_gae_horizon_is_the_total_weight():
    for gamma, lam in ((0.99, 0.95), (0.9, 0.0), (0.99, 1.0), (0.5, 0.5)):
        total = sum((gamma * lam) ** k for k in range(20_000))
        assert views.gae_horizon(gamma, lam) == pytest.approx(total, rel=1e-9)
    assert views.gae_horizon(1.0, 1.0) == math.inf


@pytest.mark.parametrize("max_kl", DELTAS)
def test_settings_view_over_the_sliders(max_kl):
    history = fake_history()
    for lam in LAMS:
        fig = views.settings_view(history, max_kl, float(lam))
        ax_kl, ax_w = fig.axes
        ratio = float(re.search(r"([\d.]+)x as long", ax_kl.get_title()).group(1))
        assert ratio == pytest.approx(math.sqrt(max_kl / 0.01), abs=0.005)  # step length ~ sqrt(delta) (E9)
        assert ax_kl.lines[2].get_ydata()[0] == max_kl and ax_kl.get_ylim()[1] >= max_kl
        chosen = ax_w.lines[1]
        lags = chosen.get_xdata()
        assert np.allclose(chosen.get_ydata(), [(0.99 * lam) ** int(k) for k in lags])
        horizon = float(re.search(r"horizon ([\d.]+)", chosen.get_label()).group(1))
        assert horizon == pytest.approx(1 / (1 - 0.99 * lam), abs=0.05)
        assert ax_w.get_legend().get_texts()[1].get_text() == chosen.get_label()
        plt.close(fig)


# (history, max_kl, lam) pairs across the sliders' ranges, and a shorter reference run
REDRAW_PAIRS = [((8, 0.01, 0.95), (8, 0.001, 0.0)), ((8, 0.1, 1.0), (8, 0.003, 0.5)),
                ((8, 0.03, 0.8), (8, 0.03, 0.85)), ((8, 0.01, 0.95), (3, 0.01, 0.95))]


@pytest.mark.parametrize(("a", "b"), REDRAW_PAIRS)
def test_settings_view_redraw_depends_only_on_its_arguments(a, b):
    def view(rows, max_kl, lam):
        return views.settings_view(fake_history()[:rows], max_kl, lam)

    assert_redraws_in_place(view, a, b)


def comparable(history):
    """The rows without their wall-clock times, which differ between identical runs."""
    return [{k: v for k, v in row.items() if not k.startswith("time/wall")} for row in history]


def test_retrain_passes_delta_and_lambda_to_the_agent():
    tiny = views.retrain(max_kl=1e-4, lam=0.95, seed=0, total_steps=3 * BATCH)
    wide = views.retrain(max_kl=0.05, lam=0.95, seed=0, total_steps=3 * BATCH)
    assert [row["time/env_steps"] for row in tiny] == [BATCH, 2 * BATCH, 3 * BATCH]
    # the trust region holds (E8, E12) and the radius is the one asked for: the wide one is used
    assert all(row["policy/kl"] <= 1e-4 for row in tiny)
    assert all(row["policy/kl"] <= 0.05 for row in wide) and max(row["policy/kl"] for row in wide) > 1e-3
    # the first batch is the same (same seed, same initial policy); its GAE targets depend on lambda (E13)
    td = views.retrain(max_kl=0.05, lam=0.0, seed=0, total_steps=BATCH)
    assert td[0]["rollout/return_mean"] == wide[0]["rollout/return_mean"]
    assert td[0]["value/explained_variance"] != wide[0]["value/explained_variance"]
    assert comparable(views.retrain(max_kl=1e-4, lam=0.95, seed=0, total_steps=3 * BATCH)) == comparable(tiny)


@pytest.mark.parametrize(("kwargs", "name"), [({"max_kl": -0.1}, "max_kl"), ({"lam": 1.5}, "lam"),
                                               ({"total_steps": 0}, "total_steps")])
def test_retrain_rejects_bad_settings(kwargs, name):
    settings = {"max_kl": 0.01, "lam": 0.95, "total_steps": BATCH, **kwargs}
    with pytest.raises(ValueError, match=name):
        views.retrain(**settings)


def test_button_trains_with_the_controls_values_and_keeps_the_run():
    controls = {"max_kl": widgets.SelectionSlider(options=DELTAS, value=0.03, description="delta"),
                "lam": widgets.FloatSlider(value=0.8, min=0.0, max=1.0, step=0.05, description="lambda")}
    runs = {"reference": fake_history()}
    box = views.train_button(controls, runs, total_steps=2 * BATCH, seed=0)
    button, status = box.children[0].children
    button.click()
    assert list(runs) == ["reference", "delta 0.03, lambda 0.80"]
    expected = views.retrain(max_kl=0.03, lam=0.8, seed=0, total_steps=2 * BATCH)
    assert comparable(runs["delta 0.03, lambda 0.80"]) == comparable(expected)
    assert status.value.startswith("Done") and not button.disabled


def test_button_says_it_is_training_while_it_trains(monkeypatch):
    controls = {"max_kl": SimpleNamespace(value=0.01), "lam": SimpleNamespace(value=0.95)}
    runs = {"delta 0.01, lambda 0.95": fake_history()}  # the same settings trained before
    box = views.train_button(controls, runs, total_steps=BATCH)
    button, status = box.children[0].children
    seen = []

    def fake_retrain(max_kl, lam, seed, total_steps, callback, progress):
        seen.append((status.value, button.disabled, max_kl, lam, total_steps, progress))
        for row in fake_history():
            callback(row)
        return fake_history()

    monkeypatch.setattr(views, "retrain", fake_retrain)
    button.click()
    (message, disabled, *settings), = seen
    assert message.startswith("<b>Training</b>") and disabled and settings == [0.01, 0.95, BATCH, True]
    assert list(runs) == ["delta 0.01, lambda 0.95", "delta 0.01, lambda 0.95 (2)"]  # the earlier run is kept
    assert not button.disabled and status.value.startswith("Done")


def test_run_labels_are_numbered_when_taken():
    assert views.run_label(0.01, 0.95) == "delta 0.01, lambda 0.95"
    taken = {"delta 0.01, lambda 0.95", "delta 0.01, lambda 0.95 (2)"}
    assert views.run_label(0.01, 0.95, taken) == "delta 0.01, lambda 0.95 (3)"


def test_live_curve_draws_this_run_last_even_when_its_label_is_taken(monkeypatch):
    drawn = []
    monkeypatch.setattr(views, "learning_curve_figure",
                        lambda runs, **kwargs: drawn.append(list(runs)) or plt.figure())
    live = views.LiveCurve(reference={"a": fake_history(), "b": fake_history()}, label="a", min_interval=0.0)
    live(fake_history()[0])
    assert drawn == [["b", "a"]]


def test_button_reports_a_failure_and_stays_usable():
    controls = {"max_kl": SimpleNamespace(value=0.01), "lam": SimpleNamespace(value=1.5)}
    runs = {}
    box = views.train_button(controls, runs, total_steps=BATCH)
    button, status = box.children[0].children
    button.click()
    assert "Training failed" in status.value and "lam" in status.value
    assert runs == {} and not button.disabled
