"""Notebook 07, section 4: the policy gradient's error for each lambda, against plain loops and the
exact bias."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.examples import gae_gradient as ex
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.examples.gae_study import bias_variance_study


@pytest.fixture(scope="module")
def study():
    return bias_variance_study(seed=4, n_episodes=1500)


@pytest.fixture(scope="module")
def gradients(study):
    return ex.gradient_study(study, 0.99)


def test_episode_gradients_match_a_plain_loop(study):
    batch, pi = study.batch, study.pi
    rng = np.random.default_rng(0)
    weights = rng.normal(size=batch.obs.shape)
    got = ex.episode_gradients(batch, pi, weights)
    n_states, n_actions = pi.shape
    expected = np.zeros((batch.obs.shape[1], n_states, n_actions))
    for n in range(0, batch.obs.shape[1], 97):  # a sample of episodes
        for t in np.flatnonzero(batch.valid[:, n]):
            s, a = batch.obs[t, n], batch.actions[t, n]
            score = -pi[s].copy()
            score[a] += 1.0  # d log softmax(theta_s)[a] / d theta_s
            expected[n, s] += score * weights[t, n]
        np.testing.assert_allclose(got[n], expected[n].ravel() / batch.valid.sum(0).mean(), atol=1e-12)


def test_gradient_study_is_unbiased_at_lambda_one_and_matches_sampling(gradients):
    assert np.abs(gradients["exact_bias"][-1]).max() < 1e-12 and gradients["angle"][-1] < 0.01
    se = gradients["bias_se"]
    z = np.abs(gradients["sampled_bias"] - gradients["exact_bias"])[se > 0] / se[se > 0]
    assert z.max() < 5
    assert np.all(np.diff(gradients["angle"]) < 0)  # less direction error as lambda grows


def test_g_star_is_the_exact_expected_gradient_direction(study, gradients):
    # g_star with exact targets is the sampled average; its direction agrees with the expectation over
    # the exact advantages at the sampled states, sum_a pi(a|s) grad log pi(a|s) A(s, a)
    batch, pi = study.batch, study.pi
    mdp = lake_mdp(0.99)
    adv = tabular.advantages(mdp, pi)
    visits = np.bincount(batch.obs[batch.valid], minlength=pi.shape[0]) / batch.valid.sum(0).mean() / 1500
    expected = (visits[:, None] * pi * adv).ravel()  # pi (1[a = c] - pi_c) A summed over a: pi_c A(s, c)
    cosine = expected @ gradients["g_star"] / np.linalg.norm(expected) / np.linalg.norm(gradients["g_star"])
    assert cosine > 0.9


def test_batch_error_is_bias_squared_plus_variance_over_b(gradients):
    errors = ex.batch_error(gradients, (1, 100))
    bias2 = (gradients["exact_bias"] ** 2).sum(1)
    scale = gradients["g_star"] @ gradients["g_star"]
    np.testing.assert_allclose(errors[0] * scale, bias2 + gradients["variance"])
    np.testing.assert_allclose(errors[1] * scale, bias2 + gradients["variance"] / 100)
    best = [gradients["lams"][np.argmin(row)] for row in ex.batch_error(gradients, (1, 10, 100, 1000))]
    assert best == sorted(best) and best[0] < best[-1]


def test_gradient_study_rejects_a_gamma_off_the_grid(study):
    with pytest.raises(ValueError, match="gamma"):
        ex.gradient_study(study, 0.97)

