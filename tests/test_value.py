"""Value function: explained variance against its formula, the fit, and Adam against torch.optim.Adam."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from trpo_lite.value import Adam, ValueFunction, explained_variance, fit_value


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
    optimizer = Adam(value_fn.parameters(), lr=3e-3)
    stats = fit_value(value_fn, optimizer, obs, targets, epochs=30, batch_size=64)
    assert set(stats) == {"value/loss", "value/explained_variance"}
    assert stats["value/explained_variance"] == before_ev
    with torch.no_grad():
        after = float((value_fn(obs) - targets).pow(2).mean())
    assert math.isclose(stats["value/loss"], after, rel_tol=1e-6)
    assert after < before_loss / 50
    assert value_fn(obs).shape == (512,)


def _steps(value_fn, optimizer, obs, targets, n: int, scale: float = 1.0) -> None:
    for _ in range(n):
        idx = torch.randperm(len(obs))[:256]
        loss = scale * (value_fn(obs[idx]) - targets[idx]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _problem(seed: int = 0):
    """A value network and noisy targets of a large scale, drawn from seed."""
    torch.manual_seed(seed)
    return ValueFunction(4), torch.randn(1024, 4), 30 * torch.randn(1024)


@pytest.mark.parametrize("lr", [3e-3, 1e-2])
def test_adam_matches_torch_optim_adam_bit_for_bit(lr):
    # The trusted implementation: torch.optim.Adam with its defaults (single-tensor code on CPU).
    after = []
    for make in (Adam, torch.optim.Adam):
        value_fn, obs, targets = _problem()
        start = [p.detach().clone() for p in value_fn.parameters()]
        optimizer = make(value_fn.parameters(), lr=lr)
        _steps(value_fn, optimizer, obs, targets, 300)
        _steps(value_fn, optimizer, obs, targets, 300, scale=1e-3)  # and the small-gradient regime
        after.append([p.detach().clone() for p in value_fn.parameters()])
    for ours, theirs, s in zip(*after, start, strict=True):
        assert torch.equal(ours, theirs)
        assert not torch.equal(ours, s)  # not vacuous: training moved every tensor


@pytest.mark.parametrize("source", [Adam, torch.optim.Adam])
def test_adam_state_dict_continues_bit_for_bit(source):
    # source=torch.optim.Adam: the run folders of earlier versions hold its state.
    value_fn, obs, targets = _problem()
    optimizer = Adam(value_fn.parameters(), lr=3e-3)
    _steps(value_fn, optimizer, obs, targets, 40)
    straight = [p.detach().clone() for p in value_fn.parameters()]

    value_fn, obs, targets = _problem()
    first = source(value_fn.parameters(), lr=3e-3)
    _steps(value_fn, first, obs, targets, 20)
    second = Adam(value_fn.parameters(), lr=1.0)  # lr, betas, eps and moments come from the state
    second.load_state_dict(first.state_dict())
    assert second.t == 20 and second.lr == 3e-3
    _steps(value_fn, second, obs, targets, 20)
    for a, b in zip(value_fn.parameters(), straight, strict=True):
        assert torch.equal(a.detach(), b)


def test_adam_refuses_a_state_for_other_parameters():
    state = Adam(ValueFunction(4).parameters()).state_dict()
    with pytest.raises(ValueError, match="shapes"):
        Adam(ValueFunction(3).parameters()).load_state_dict(state)


def test_training_imports_no_torch_dynamo():
    # Why Adam is written out: a torch.optim optimizer imports torch._dynamo (1-2 s) on its first step.
    code = ("import sys, torch; from trpo_lite.training import train; "
            "train('CartPole-v1', progress=False, total_steps=256, num_envs=4); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
