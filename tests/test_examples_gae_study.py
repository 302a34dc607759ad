"""Notebook 07's bias-variance study: grouped bias and variance against plain loops, the study's curves
against what GAE and the exact bias promise, and the numbers the sliders look up."""

import numpy as np
import pytest

from trpo_lite.examples import gae_study as ex


@pytest.fixture(scope="module")
def study():
    return ex.bias_variance_study(seed=2, n_episodes=1500)


def test_bias_and_variance_match_plain_group_loops():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 5, size=400)
    targets = np.array([0.0, 1.0, -1.0, 2.0, 0.5])[keys]
    estimates = targets + rng.normal(size=400) + 0.3 * keys
    bias2, variance = ex.bias_and_variance(keys, estimates, targets, 6)
    expected_b, expected_v = 0.0, 0.0
    for k in range(5):
        group = estimates[keys == k]
        weight = group.size / keys.size
        expected_b += weight * (group.mean() - targets[keys == k][0]) ** 2
        expected_v += weight * group.var()
    assert np.isclose(bias2, expected_b) and np.isclose(variance, expected_v)
    assert np.isclose(bias2 + variance, np.mean((estimates - targets) ** 2))


def test_study_curves_have_the_bias_variance_shape(study):
    # coarse: sampled and exact bias^2 agree to sampling accuracy (test_examples_gae's per-(s, a) test is
    # the sharp one)
    big = study.exact_bias2 > 1e-3
    assert np.all(np.abs(study.bias2 - study.exact_bias2)[big] < 0.3 * study.exact_bias2[big])
    assert np.all(study.bias2[:, -1] < 10 * study.variance[:, -1] / 1500)  # lam = 1: only sampling noise
    assert np.all(study.exact_bias2[:, -1] < 1e-20)  # lam = 1: unbiased whatever V_hat is
    assert np.all(np.diff(study.exact_bias2, axis=1) < 0)  # less bias as lam grows
    assert np.all(study.variance[:, -1] > 2 * study.variance[:, 0])  # more variance at lam = 1


def test_study_episode_estimates_are_gae_of_that_episode(study):
    batch, ep = study.batch, int(np.argmax(study.batch.rewards.sum(0) > 0))
    steps = batch.valid[:, ep]
    obs, nxt = batch.obs[steps, ep], batch.next_obs[steps, ep]
    rewards, terminated = batch.rewards[steps, ep], batch.terminated[steps, ep]
    for g, gamma in enumerate(study.gammas):
        v = study.values_hat[g]
        delta = rewards + gamma * v[nxt] * ~terminated - v[obs]
        np.testing.assert_allclose(study.episode_estimates[g, 0], delta, atol=1e-12)  # lam = 0
        returns = [sum(gamma**k * r for k, r in enumerate(rewards[t:])) for t in range(len(rewards))]
        np.testing.assert_allclose(study.episode_estimates[g, -1], np.array(returns) - v[obs], atol=1e-12)


def test_numbers_at_every_slider_value_are_the_study_row(study):
    for g, gamma in enumerate(study.gammas):
        for l, lam in enumerate(study.lams):
            numbers = ex.bias_variance_numbers(study, gamma, lam)
            assert numbers["lam_index"] == l
            for name, row in (("bias2", study.bias2[g]), ("exact_bias2", study.exact_bias2[g]),
                              ("variance", study.variance[g]), ("episode_targets", study.episode_targets[g]),
                              ("episode_estimates", study.episode_estimates[g, l])):
                np.testing.assert_array_equal(numbers[name], row)
            np.testing.assert_array_equal(numbers["mse"], study.bias2[g] + study.variance[g])


def test_numbers_reject_values_off_the_grid(study):
    with pytest.raises(ValueError, match=r"gamma must be one of the precomputed values .*; got 0.5"):
        ex.bias_variance_numbers(study, gamma=0.5, lam=0.5)
    with pytest.raises(ValueError, match=r"lam must be one of the precomputed values .*; got 0.55"):
        ex.bias_variance_numbers(study, gamma=0.9, lam=0.55)
