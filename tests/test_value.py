"""Value function: explained variance against its formula, and the fit."""

import math

import numpy as np
import torch

from trpo_lite.value import ValueFunction, explained_variance, fit_value


def test_explained_variance_matches_numpy_formula():
    rng = np.random.default_rng(0)
    targets, values = rng.normal(size=50), rng.normal(size=50)
    expected = 1 - np.var(targets - values) / np.var(targets)
    got = explained_variance(torch.tensor(values), torch.tensor(targets))
    assert math.isclose(got, expected, rel_tol=1e-9)


def test_explained_variance_reference_points():
    targets = torch.tensor([1.0, 2.0, 4.0, 7.0])
    assert explained_variance(targets, targets) == 1.0
    assert abs(explained_variance(torch.full((4,), float(targets.mean())), targets)) < 1e-7
    assert math.isnan(explained_variance(torch.zeros(3), torch.ones(3)))


def test_fit_value_regresses_and_reports_the_pre_fit_explained_variance():
    torch.manual_seed(0)
    obs = torch.randn(512, 3)
    targets = obs @ torch.tensor([2.0, -1.0, 0.5]) + 3.0
    value_fn = ValueFunction(3, (32, 32))
    with torch.no_grad():
        before_loss = float((value_fn(obs) - targets).pow(2).mean())
        before_ev = explained_variance(value_fn(obs), targets)
    optimizer = torch.optim.Adam(value_fn.parameters(), lr=3e-3)
    stats = fit_value(value_fn, optimizer, obs, targets, epochs=30, batch_size=64)
    assert set(stats) == {"value/loss", "value/explained_variance"}
    assert stats["value/explained_variance"] == before_ev
    with torch.no_grad():
        after = float((value_fn(obs) - targets).pow(2).mean())
    assert math.isclose(stats["value/loss"], after, rel_tol=1e-6)
    assert after < before_loss / 50
    assert value_fn(obs).shape == (512,)
