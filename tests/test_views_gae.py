"""The GAE notebook's views: episode pieces, the FrozenLake sampler, exact GAE bias, bias and variance."""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.views import gae as views


@pytest.fixture(scope="module")
def env():
    return gym.make("FrozenLake-v1")


@pytest.fixture(scope="module")
def mdp(env):
    return tabular.FiniteMDP.from_toy_text(env, 0.95)


@pytest.fixture(scope="module")
def pi(env):
    return views.soft_greedy_policy(tabular.FiniteMDP.from_toy_text(env, 0.99))


@pytest.fixture(scope="module")
def batch(env, pi):
    return views.sample_episodes(env, pi, 4000, np.random.default_rng(1))


@pytest.fixture(scope="module")
def study():
    return views.bias_variance_study(seed=2, n_episodes=1500)


def test_episode_segments_of_a_hand_made_batch():
    terminated = np.zeros((6, 3), bool)
    truncated = np.zeros((6, 3), bool)
    terminated[1, 0], truncated[3, 1], terminated[5, 2] = True, True, True
    assert views.episode_segments(terminated, truncated) == [
        (0, 0, 1, "terminated"), (0, 2, 5, "batch end"),
        (1, 0, 3, "truncated"), (1, 4, 5, "batch end"),
        (2, 0, 5, "terminated"),
    ]


def test_timeline_writes_every_advantage_and_marks_each_episode_end():
    terminated, truncated = np.zeros((5, 2), bool), np.zeros((5, 2), bool)
    terminated[1, 0], truncated[2, 1] = True, True
    advantages = np.arange(10.0).reshape(5, 2) - 4.5
    fig = views.draw_timeline(advantages, terminated, truncated)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{a:+.2f}" for a in advantages.ravel())
    markers = [line.get_marker() for line in ax.lines]
    assert markers.count("X") == 1 and markers.count("|") == 1 and markers.count(">") == 2
    plt.close(fig)


def test_soft_greedy_policy_is_greedy_for_its_own_values(mdp):
    pi = views.soft_greedy_policy(mdp, eps=0.2)
    np.testing.assert_allclose(pi.sum(1), 1.0)
    greedy = np.eye(mdp.n_actions)[pi.argmax(1)]
    q = tabular.action_values(mdp, greedy)
    # policy iteration stopped at a fixed point: no action beats the greedy one anywhere
    assert np.all(q.max(1) <= q[np.arange(mdp.n_states), pi.argmax(1)] + 1e-12)
    assert np.isclose(pi.max(), 0.8 + 0.2 / mdp.n_actions)


def test_sampler_follows_the_transition_table(batch, mdp, pi):
    valid = batch.valid
    assert (batch.obs[0] == 0).all()  # FrozenLake starts in the top-left cell
    assert not (valid[1:] & ~valid[:-1]).any()  # an episode never restarts in its column
    last = valid.sum(0) - 1
    assert batch.terminated[last, np.arange(valid.shape[1])].all()
    assert batch.terminated.sum() == valid.shape[1]  # exactly one end per episode
    assert not batch.truncated.any()  # max_steps never reached: every episode ends on its own
    # empirical P(s' | s, a), terminal outcomes mapped to the absorbing state as in from_toy_text
    absorbing = mdp.n_states - 1
    s, a = batch.obs[valid], batch.actions[valid]
    s_next = np.where(batch.terminated[valid], absorbing, batch.next_obs[valid])
    counts = np.zeros((mdp.n_states, mdp.n_actions, mdp.n_states))
    np.add.at(counts, (s, a, s_next), 1)
    n = counts.sum(2, keepdims=True)
    seen = n[..., 0] >= 200
    freq = counts[seen] / n[seen]
    P = mdp.P.numpy()[seen]
    tolerance = 5 * np.sqrt(P * (1 - P) / n[seen]) + 1e-12
    assert np.all(np.abs(freq - P) <= tolerance)
    # actions follow pi
    action_freq = np.bincount(s * 4 + a, minlength=mdp.n_states * 4).reshape(-1, 4)
    visits = action_freq.sum(1) >= 300
    np.testing.assert_allclose(action_freq[visits] / action_freq[visits].sum(1, keepdims=True), pi[visits],
                               atol=0.05)
    # the reward is 1 exactly on the transitions into the goal (cell 15)
    assert np.array_equal(batch.rewards[valid] == 1, batch.next_obs[valid] == 15)


def test_exact_gae_bias_against_the_series_it_sums(mdp, pi):
    rng = np.random.default_rng(0)
    v_hat = tabular.state_values(mdp, pi) + rng.normal(scale=0.1, size=mdp.n_states)
    v_hat[-1] = 0.0
    e = v_hat - tabular.state_values(mdp, pi)
    P, gamma = mdp.P.numpy(), mdp.gamma
    P_pi = np.einsum("sa,sat->st", pi, P)
    for lam in (0.0, 0.5, 0.9, 1.0):
        # sum_l (gamma lam)^l E[delta_{t+l} | s, a] minus the target, one term at a time
        bias = gamma * P @ e
        reach = P.copy()  # [S, A, S]: distribution of s_{t+l} given (s_t, a_t), for l = 1
        for l in range(1, 3000):
            bias = bias + (gamma * lam) ** l * reach @ ((gamma * P_pi - np.eye(mdp.n_states)) @ e)
            reach = reach @ P_pi
        np.testing.assert_allclose(views.exact_gae_bias(mdp, pi, v_hat, lam), bias, atol=1e-10)
    np.testing.assert_allclose(views.exact_gae_bias(mdp, pi, v_hat, 1.0), 0.0, atol=1e-12)


def test_bias_and_variance_match_plain_group_loops():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 5, size=400)
    targets = np.array([0.0, 1.0, -1.0, 2.0, 0.5])[keys]
    estimates = targets + rng.normal(size=400) + 0.3 * keys
    bias2, variance = views.bias_and_variance(keys, estimates, targets, 6)
    expected_b, expected_v = 0.0, 0.0
    for k in range(5):
        group = estimates[keys == k]
        weight = group.size / keys.size
        expected_b += weight * (group.mean() - targets[keys == k][0]) ** 2
        expected_v += weight * group.var()
    assert np.isclose(bias2, expected_b) and np.isclose(variance, expected_v)
    assert np.isclose(bias2 + variance, np.mean((estimates - targets) ** 2))


def test_sampled_gae_bias_per_state_action_matches_the_exact_bias(batch, mdp, pi):
    rng = np.random.default_rng(5)
    v_hat = 0.5 * tabular.state_values(mdp, pi) + rng.normal(scale=0.05, size=mdp.n_states)
    v_hat[-1] = 0.0
    target = (tabular.action_values(mdp, pi) - v_hat[:, None])[batch.obs, batch.actions][batch.valid]
    keys = (batch.obs * mdp.n_actions + batch.actions)[batch.valid]
    for lam in (0.0, 0.7, 1.0):
        error = views.gae_on_batch(batch, v_hat, mdp.gamma, lam)[batch.valid] - target
        exact = views.exact_gae_bias(mdp, pi, v_hat, lam).ravel()
        for k in np.unique(keys):
            group = error[keys == k]
            if group.size >= 100:
                assert abs(group.mean() - exact[k]) < 5 * group.std() / np.sqrt(group.size) + 1e-12, (lam, k)


def test_study_curves_have_the_bias_variance_shape(study):
    # coarse: sampled and exact bias^2 agree to sampling accuracy (the per-(s, a) test above is the sharp one)
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


def test_view_shows_the_study_numbers_at_every_slider_value(study):
    view = views.make_bias_variance_view(study)
    for g, gamma in enumerate(study.gammas):
        for l, lam in enumerate(study.lams):
            left, right = view(gamma=gamma, lam=lam).axes
            np.testing.assert_array_equal(left.lines[0].get_ydata(), study.bias2[g])
            np.testing.assert_array_equal(left.lines[2].get_ydata(), study.variance[g])
            np.testing.assert_array_equal(left.lines[1].get_ydata(), study.exact_bias2[g])
            np.testing.assert_array_equal(left.lines[3].get_ydata(), study.bias2[g] + study.variance[g])
            chosen = next(line for line in left.lines if line.get_gid() == "chosen")
            np.testing.assert_array_equal(chosen.get_ydata(), [study.bias2[g, l], study.variance[g, l]])
            assert np.all(np.asarray(chosen.get_xdata()) == lam)
            np.testing.assert_array_equal(right.lines[0].get_ydata(), study.episode_targets[g])
            np.testing.assert_array_equal(right.lines[1].get_ydata(), study.episode_estimates[g, l])
            # the autoscaled y range holds every curve drawn
            low, high = left.get_ylim()
            assert low <= study.bias2[g].min() and high >= (study.bias2[g] + study.variance[g]).max()
            assert f"lambda = {lam}" in left.get_title()


def test_view_rejects_values_off_the_grid(study):
    view = views.make_bias_variance_view(study)
    with pytest.raises(ValueError, match="gamma must be one of"):
        view(gamma=0.5, lam=0.5)
    with pytest.raises(ValueError, match="lam must be one of"):
        view(gamma=0.9, lam=0.55)


def test_time_limit_cuts_the_running_episodes(batch):
    cut = views.time_limited(batch, 10)
    assert cut.obs.shape == (10, batch.obs.shape[1])
    assert np.array_equal(cut.truncated[-1], batch.valid[9] & ~batch.terminated[9])
    assert not cut.truncated[:-1].any()
    with pytest.raises(ValueError, match="limit must be an int"):
        views.time_limited(batch, 0)


def test_truncation_as_termination_biases_advantages_down(batch, env, pi):
    mdp = tabular.FiniteMDP.from_toy_text(env, 0.99)
    lam, limit = 0.9, 15
    result = views.truncation_bias(batch, mdp, pi, lam, limit)
    # right: no bias beyond sampling noise
    assert np.all(np.abs(result["bootstrap"]) < 4 * result["bootstrap_se"])
    # wrong: each truncated episode loses gamma V(s_limit), discounted by (gamma lam) per step back
    cut = views.time_limited(batch, limit)
    values = tabular.state_values(mdp, pi)
    lost = np.where(cut.truncated[-1], mdp.gamma * values[cut.next_obs[-1]], 0.0)
    for t in range(limit):
        alive = cut.valid[t]
        expected = -((mdp.gamma * lam) ** (limit - 1 - t)) * lost[alive].mean()
        assert np.isclose(result["as_terminal"][t] - result["bootstrap"][t], expected, atol=1e-12)
    assert result["as_terminal"][-1] < -10 * result["as_terminal_se"][-1]


def test_bad_input_names_the_argument(env, pi):
    with pytest.raises(ValueError, match="truncated has shape"):
        views.episode_segments(np.zeros((4, 2), bool), np.zeros((4, 3), bool))
    with pytest.raises(ValueError, match="terminated must be a"):
        views.episode_segments(np.zeros(4, bool), np.zeros(4, bool))
    with pytest.raises(ValueError, match="n_episodes must be a positive int"):
        views.sample_episodes(env, pi, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pi must have shape"):
        views.sample_episodes(env, pi[:, :2], 10, np.random.default_rng(0))
