"""Notebook 02's policy-gradient numbers against independent computations: autograd through the exact J,
central finite differences of J in numpy, hand-counted episodes, and Monte Carlo in the real
environment."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from trpo_lite import tabular
from trpo_lite.examples import frozen_lake
from trpo_lite.examples import policy_gradient as ex
from trpo_lite.examples.frozen_lake import Episode


def softmax(theta):
    z = np.exp(theta - theta.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def numpy_objective(mdp, pi):
    """J(pi) by a plain numpy solve of the Bellman equation (E1)."""
    P, R = mdp.P.numpy(), mdp.R.numpy()
    v = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * np.einsum("sa,sat->st", pi, P), (pi * R).sum(1))
    return mdp.start.numpy() @ v


def test_softmax_score_is_the_jacobian_of_log_softmax():
    theta = torch.tensor(np.random.default_rng(0).normal(size=(5, 3)))
    jacobian = torch.autograd.functional.jacobian(lambda t: torch.log_softmax(t, 1), theta).numpy()
    score = ex.softmax_score(torch.softmax(theta, 1).numpy())
    for s in range(5):
        np.testing.assert_allclose(jacobian[s, :, s, :], score[s], atol=1e-14)
        others = np.delete(jacobian[s], s, axis=1)
        assert np.abs(others).max() == 0  # theta of another state does not move pi(.|s)


@pytest.mark.parametrize("seed", range(4))
def test_theorem_is_the_gradient_of_j_and_of_the_surrogate(seed):
    rng = np.random.default_rng(seed)
    mdp = tabular.FiniteMDP.random(rng, n_states=6, n_actions=3, gamma=0.8)
    theta = rng.normal(size=(6, 3))
    got = ex.policy_gradient_theorem(mdp, softmax(theta))
    # central finite differences of J(softmax(theta)) in numpy: no autograd, no tabular
    h, finite = 1e-6, np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[index] = h
        finite[index] = (numpy_objective(mdp, softmax(theta + step))
                         - numpy_objective(mdp, softmax(theta - step))) / (2 * h)
    np.testing.assert_allclose(got, finite, atol=1e-8)
    t = torch.tensor(theta, requires_grad=True)
    pi = torch.softmax(t, 1)
    (grad_l,) = torch.autograd.grad(tabular.surrogate(mdp, pi.detach(), pi), t)  # E5 at theta' = theta
    np.testing.assert_allclose(got, grad_l.numpy(), atol=1e-12)


def test_returns_to_go_weigh_step_t_by_gamma_to_the_t():
    episode = Episode(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([1.0, 0.0, 2.0]), True)
    # G = (1 + 0.5^2 * 2, 0 + 0.5 * 2, 2); times gamma^t = (1, 0.5, 0.25)
    np.testing.assert_allclose(ex.discounted_returns_to_go(episode, 0.5), [1.5, 0.5, 0.5], rtol=1e-15)


def test_episode_gradients_on_a_lake_without_slipping():
    """Right, right, down, down, down, right: the goal at step 6, reward 1, so G_t = gamma^(5 - t) and every
    step's weight gamma^t G_t is gamma^5; each draw is gamma^5 times the sum of the six scores."""
    gamma, path = 0.8, {0: 2, 1: 2, 2: 1, 6: 1, 10: 1, 14: 2}
    pi = np.full((17, 4), 0.25)
    for s, a in path.items():
        pi[s] = [0.1, 0.1, 0.1, 0.1]
        pi[s, a] = 0.7
    env = gym.make("FrozenLake-v1", is_slippery=False)
    episodes = [e for e in frozen_lake.sample_episodes(env, frozen_lake.tabular_policy(pi), 300, seed=0)
                if e.rewards.sum() == 1 and len(e.rewards) == 6]
    assert episodes  # 0.7^6: about 35 of 300 take the straight path
    want = np.zeros((17, 4))
    for s, a in path.items():
        want[s] = gamma**5 * (np.eye(4)[a] - pi[s])
    np.testing.assert_allclose(ex.episode_gradients(episodes[:3], pi, gamma), [want] * 3, atol=1e-15)


def test_episode_gradients_estimate_the_theorem_in_the_real_environment():
    gamma = 0.9
    mdp = frozen_lake.lake_mdp(gamma)
    pi = softmax(np.random.default_rng(7).normal(size=(17, 4)))
    lake, policy = frozen_lake.lake_env(400), frozen_lake.tabular_policy(pi)
    episodes = frozen_lake.sample_episodes(lake, policy, 6000, seed=7)
    draws = ex.episode_gradients(episodes, pi, gamma)
    exact = ex.policy_gradient_theorem(mdp, pi)
    direction = exact / np.linalg.norm(exact)
    along = (draws * direction).sum((1, 2))
    se = along.std(ddof=1) / np.sqrt(len(along))
    assert abs(along.mean() - np.linalg.norm(exact)) < 3 * se
    assert np.linalg.norm(exact) > 3 * se  # the test could tell the gradient from 0


def test_step_average_gradient_matches_counted_visits():
    """Monte Carlo: each episode's undiscounted sum_t score(s_t, a_t) A(s_t, a_t), with the exact A."""
    gamma = 0.9
    mdp = frozen_lake.lake_mdp(gamma)
    pi = softmax(np.random.default_rng(3).normal(size=(17, 4)))
    adv, score = tabular.advantages(mdp, pi), ex.softmax_score(pi)
    lake, policy = frozen_lake.lake_env(400), frozen_lake.tabular_policy(pi)
    episodes = frozen_lake.sample_episodes(lake, policy, 6000, seed=11)
    draws = np.zeros((len(episodes), 17, 4))
    for b, e in enumerate(episodes):
        np.add.at(draws[b], e.states, adv[e.states, e.actions][:, None] * score[e.states, e.actions])
    exact = ex.step_average_gradient(mdp, pi)
    se = draws.std(0, ddof=1) / np.sqrt(len(episodes))
    seen = se > 0
    assert np.abs(draws.mean(0) - exact)[seen].max() < 4.5 * se[seen].max()
    assert np.abs(exact[~seen]).max() < 1e-15  # never visited: holes, the goal, the absorbing state
    grad_j = ex.policy_gradient_theorem(mdp, pi)
    cosine = (exact * grad_j).sum() / np.linalg.norm(exact) / np.linalg.norm(grad_j)
    assert 0 < cosine < 0.999  # uphill, but not the direction of grad J


def test_step_average_gradient_needs_an_absorbing_last_state():
    mdp = tabular.FiniteMDP.random(np.random.default_rng(0))
    with pytest.raises(ValueError, match="last state is absorbing"):
        ex.step_average_gradient(mdp, mdp.uniform_policy())


def test_fisher_blocks_are_the_hessian_of_the_mean_kl():
    mdp = tabular.FiniteMDP.random(np.random.default_rng(5), n_states=5, n_actions=3, gamma=0.85)
    theta = torch.tensor(np.random.default_rng(6).normal(size=(5, 3)))
    old = torch.softmax(theta, 1)

    def mean_kl(t):  # E_{s ~ nu^old} sum_a old(a|s) log(old(a|s) / new(a|s)), written out
        new = torch.softmax(t, 1)
        return tabular.visitation(mdp, old) @ (old * (old.log() - new.log())).sum(1)

    hessian = torch.autograd.functional.hessian(mean_kl, theta.clone()).numpy()
    blocks = ex.fisher_blocks(mdp, old.numpy())
    for s in range(5):
        np.testing.assert_allclose(hessian[s, :, s, :], blocks[s], atol=1e-12)
        assert np.abs(np.delete(hessian[s], s, axis=1)).max() < 1e-15
