"""Notebook 08's numbers: what a history says (against plain loops), what the sliders change (against
the formulas), and retraining with other settings."""

import math

import numpy as np
import pytest
from histories import BATCH, comparable, fake_history

from trpo_lite.config import REWARD_THRESHOLDS
from trpo_lite.examples import agent as ex

DELTAS = (0.001, 0.003, 0.01, 0.03, 0.1)  # the notebook's delta slider
LAMS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # the notebook's lambda slider


def test_cartpole_threshold_is_the_configured_one():
    assert ex.CARTPOLE_SOLVED == REWARD_THRESHOLDS["CartPole-v1"] == 475.0


def test_series_reads_one_key_with_nan_where_missing():
    got = ex.series(fake_history(), "rollout/return_last10")
    assert math.isnan(got[0]) and got[1:].tolist() == [10.0 * i for i in range(1, 8)]


def test_diagnostics_count_what_plain_loops_count():
    history, max_kl = fake_history(), 0.01
    d = ex.diagnostics(history, max_kl)
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
        ex.diagnostics([], max_kl)


def test_learning_summary_against_a_plain_loop():
    returns = [math.nan, 20.0, 80.0, 50.0, 120.0, 60.0, 130.0]
    history = [{"rollout/return_last10": r, "time/env_steps": 100 * (i + 1)} for i, r in enumerate(returns)]
    best, drop = -math.inf, 0.0
    for r in returns[1:]:
        best = max(best, r)
        drop = max(drop, best - r)
    got = ex.learning_summary(history, target=100.0)
    assert got == {"final": 130.0, "best": 130.0, "largest_drop": drop, "steps_to_target": 500}
    assert drop == 60.0
    assert ex.learning_summary(history, target=200.0)["steps_to_target"] is None
    assert math.isnan(ex.learning_summary(history[:1])["final"])


def test_gae_horizon_is_the_total_weight():
    for gamma, lam in ((0.99, 0.95), (0.9, 0.0), (0.99, 1.0), (0.5, 0.5)):
        total = sum((gamma * lam) ** k for k in range(20_000))
        assert ex.gae_horizon(gamma, lam) == pytest.approx(total, rel=1e-9)
    assert ex.gae_horizon(1.0, 1.0) == math.inf


@pytest.mark.parametrize("max_kl", DELTAS)
def test_settings_numbers_over_the_sliders(max_kl):
    history = fake_history()
    for lam in LAMS:
        numbers = ex.settings_numbers(history, max_kl, float(lam))
        np.testing.assert_array_equal(numbers["kl"], [row["policy/kl"] for row in history])
        # the full step's length sqrt(2 delta / x^T H x) |x| grows like sqrt(delta) (E9)
        assert numbers["step_ratio"] == pytest.approx(math.sqrt(max_kl / 0.01), rel=1e-12)
        assert np.allclose(numbers["weights"], [(0.99 * lam) ** k for k in range(60)], rtol=1e-12, atol=0)
        assert np.allclose(numbers["reference_weights"], [(0.99 * 0.95) ** k for k in range(60)], rtol=1e-12)
        assert numbers["horizon"] == pytest.approx(sum((0.99 * lam) ** k for k in range(20_000)), rel=1e-9)
        assert numbers["reference_horizon"] == pytest.approx(1 / (1 - 0.99 * 0.95), rel=1e-12)


def test_retrain_passes_delta_and_lambda_to_the_agent():
    tiny = ex.retrain(max_kl=1e-4, lam=0.95, seed=0, total_steps=3 * BATCH)
    wide = ex.retrain(max_kl=0.05, lam=0.95, seed=0, total_steps=3 * BATCH)
    assert [row["time/env_steps"] for row in tiny] == [BATCH, 2 * BATCH, 3 * BATCH]
    # the trust region holds (E8, E12) and the radius is the one asked for: the wide one is used
    assert all(row["policy/kl"] <= 1e-4 for row in tiny)
    assert all(row["policy/kl"] <= 0.05 for row in wide) and max(row["policy/kl"] for row in wide) > 1e-3
    # the first batch is the same (same seed, same initial policy); its GAE targets depend on lambda (E13)
    td = ex.retrain(max_kl=0.05, lam=0.0, seed=0, total_steps=BATCH)
    assert td[0]["rollout/return_mean"] == wide[0]["rollout/return_mean"]
    assert td[0]["value/explained_variance"] != wide[0]["value/explained_variance"]
    assert comparable(ex.retrain(max_kl=1e-4, lam=0.95, seed=0, total_steps=3 * BATCH)) == comparable(tiny)


@pytest.mark.parametrize(("kwargs", "name"), [({"max_kl": -0.1}, "max_kl"), ({"lam": 1.5}, "lam"),
                                               ({"total_steps": 0}, "total_steps")])
def test_retrain_rejects_bad_settings(kwargs, name):
    settings = {"max_kl": 0.01, "lam": 0.95, "total_steps": BATCH, **kwargs}
    with pytest.raises(ValueError, match=name):
        ex.retrain(**settings)


def test_run_labels_are_numbered_when_taken():
    assert ex.run_label(0.01, 0.95) == "delta 0.01, lambda 0.95"
    taken = {"delta 0.01, lambda 0.95", "delta 0.01, lambda 0.95 (2)"}
    assert ex.run_label(0.01, 0.95, taken) == "delta 0.01, lambda 0.95 (3)"
