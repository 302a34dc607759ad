"""Notebook-03 gradients: the E6 surrogate differentiated at theta' = theta is the score-function estimator.

References are independent: central finite differences of a log-softmax written in numpy, and a plain loop
over the samples.
"""

import numpy as np
import pytest

from trpo_lite.examples.surrogate_gradient import score_function_gradient, surrogate_gradient


def log_softmax(theta):
    shifted = theta - theta.max(1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(1, keepdims=True))


def random_batch(seed, n_states=5, n_actions=3, n_samples=40):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n_states, n_actions))
    states = rng.integers(n_states, size=n_samples)
    actions = rng.integers(n_actions, size=n_samples)
    return theta, states, actions, rng.normal(size=n_samples)


def finite_difference(f, theta, h=1e-6):
    grad = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[index] = h
        grad[index] = (f(theta + step) - f(theta - step)) / (2 * h)
    return grad


@pytest.mark.parametrize("seed", range(3))
def test_surrogate_gradient_matches_finite_differences_of_mean_rho_a(seed):
    theta, states, actions, adv = random_batch(seed)
    log_old = log_softmax(theta)[states, actions]

    def mean_rho_a(theta_new):
        return np.mean(np.exp(log_softmax(theta_new)[states, actions] - log_old) * adv)

    np.testing.assert_allclose(surrogate_gradient(theta, states, actions, adv),
                               finite_difference(mean_rho_a, theta), atol=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_score_function_gradient_is_the_mean_of_grad_log_pi_times_a(seed):
    theta, states, actions, adv = random_batch(seed)
    pi = np.exp(log_softmax(theta))
    expected = np.zeros_like(theta)
    for s, a, advantage in zip(states, actions, adv, strict=True):
        expected += finite_difference(lambda t, s=s, a=a: log_softmax(t)[s, a], theta) * advantage
    got = score_function_gradient(pi, states, actions, adv)
    np.testing.assert_allclose(got, expected / len(adv), atol=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_at_theta_the_surrogate_gradient_is_the_policy_gradient_estimate_to_rounding(seed):
    theta, states, actions, adv = random_batch(seed, n_states=7, n_actions=4, n_samples=200)
    pi = np.exp(log_softmax(theta))
    g_surrogate = surrogate_gradient(theta, states, actions, adv)
    assert np.abs(g_surrogate - score_function_gradient(pi, states, actions, adv)).max() < 1e-14
    # States never sampled get no gradient.
    unseen = np.setdiff1d(np.arange(7), states)
    assert np.all(g_surrogate[unseen] == 0)
