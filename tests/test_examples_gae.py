"""Notebook 07's numbers: episode pieces, the soft-greedy policy, the table sampler, the exact GAE bias
and the truncation study, against hand-made batches, plain loops and the exact MDP."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.examples import gae as ex
from trpo_lite.examples.frozen_lake import lake_env, lake_mdp


@pytest.fixture(scope="module")
def env():
    return lake_env()


@pytest.fixture(scope="module")
def mdp():
    return lake_mdp(0.95)


@pytest.fixture(scope="module")
def pi():
    return ex.soft_greedy_policy(lake_mdp(0.99))


@pytest.fixture(scope="module")
def batch(env, pi):
    return ex.sample_from_table(env, pi, 4000, np.random.default_rng(1))


def test_episode_segments_of_a_hand_made_batch():
    terminated = np.zeros((6, 3), bool)
    truncated = np.zeros((6, 3), bool)
    terminated[1, 0], truncated[3, 1], terminated[5, 2] = True, True, True
    assert ex.episode_segments(terminated, truncated) == [
        (0, 0, 1, "terminated"), (0, 2, 5, "batch end"),
        (1, 0, 3, "truncated"), (1, 4, 5, "batch end"),
        (2, 0, 5, "terminated"),
    ]


def test_soft_greedy_policy_is_greedy_for_its_own_values(mdp):
    pi = ex.soft_greedy_policy(mdp, eps=0.2)
    np.testing.assert_allclose(pi.sum(1), 1.0)
    greedy = np.eye(mdp.n_actions)[pi.argmax(1)]
    q = tabular.action_values(mdp, greedy)
    # policy iteration stopped at a fixed point: no action beats the greedy one anywhere
    assert np.all(q.max(1) <= q[np.arange(mdp.n_states), pi.argmax(1)] + 1e-12)
    assert np.isclose(pi.max(), 0.8 + 0.2 / mdp.n_actions)


def test_soft_greedy_policy_follows_the_one_tie_rule(mdp):
    # tabular.greedy_policy's rule: where every action ties (holes, the goal, the absorbing state) the
    # row stays uniform; where some tie (cell 6: left and right), the first of them wins
    pi = ex.soft_greedy_policy(mdp)
    q = tabular.action_values(mdp, pi)
    all_tie = np.ptp(q, axis=1) == 0
    desc = lake_env().unwrapped.desc.ravel()
    assert np.flatnonzero(all_tie).tolist() == [s for s in range(16) if desc[s] in b"HG"] + [16]
    np.testing.assert_array_equal(pi[all_tie], 0.25)
    assert np.isclose(q[6, 0], q[6, 2], rtol=0, atol=1e-12) and pi[6].argmax() == 0


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
        # sum_l (gamma lam)^l E[Delta_{t+l} | s, a] minus the target, one term at a time
        bias = gamma * P @ e
        reach = P.copy()  # [S, A, S]: distribution of s_{t+l} given (s_t, a_t), for l = 1
        for l in range(1, 3000):
            bias = bias + (gamma * lam) ** l * reach @ ((gamma * P_pi - np.eye(mdp.n_states)) @ e)
            reach = reach @ P_pi
        np.testing.assert_allclose(ex.exact_gae_bias(mdp, pi, v_hat, lam), bias, atol=1e-10)
    np.testing.assert_allclose(ex.exact_gae_bias(mdp, pi, v_hat, 1.0), 0.0, atol=1e-12)


def test_sampled_gae_bias_per_state_action_matches_the_exact_bias(batch, mdp, pi):
    rng = np.random.default_rng(5)
    v_hat = 0.5 * tabular.state_values(mdp, pi) + rng.normal(scale=0.05, size=mdp.n_states)
    v_hat[-1] = 0.0
    target = (tabular.action_values(mdp, pi) - v_hat[:, None])[batch.obs, batch.actions][batch.valid]
    keys = (batch.obs * mdp.n_actions + batch.actions)[batch.valid]
    for lam in (0.0, 0.7, 1.0):
        error = ex.gae_on_batch(batch, v_hat, mdp.gamma, lam)[batch.valid] - target
        exact = ex.exact_gae_bias(mdp, pi, v_hat, lam).ravel()
        for k in np.unique(keys):
            group = error[keys == k]
            if group.size >= 100:
                assert abs(group.mean() - exact[k]) < 5 * group.std() / np.sqrt(group.size) + 1e-12, (lam, k)


def test_time_limit_cuts_the_running_episodes(batch):
    cut = ex.time_limited(batch, 10)
    assert cut.obs.shape == (10, batch.obs.shape[1])
    assert np.array_equal(cut.truncated[-1], batch.valid[9] & ~batch.terminated[9])
    assert not cut.truncated[:-1].any()
    with pytest.raises(ValueError, match="limit must be an int"):
        ex.time_limited(batch, 0)


def test_truncation_as_termination_biases_advantages_down(batch, pi):
    mdp = lake_mdp(0.99)
    lam, limit = 0.9, 15
    result = ex.truncation_bias(batch, mdp, pi, lam, limit)
    # right: no bias beyond sampling noise
    assert np.all(np.abs(result["bootstrap"]) < 4 * result["bootstrap_se"])
    # wrong: each truncated episode loses gamma V(s_limit), discounted by (gamma lam) per step back
    cut = ex.time_limited(batch, limit)
    values = tabular.state_values(mdp, pi)
    lost = np.where(cut.truncated[-1], mdp.gamma * values[cut.next_obs[-1]], 0.0)
    for t in range(limit):
        alive = cut.valid[t]
        expected = -((mdp.gamma * lam) ** (limit - 1 - t)) * lost[alive].mean()
        assert np.isclose(result["as_terminal"][t] - result["bootstrap"][t], expected, atol=1e-12)
    assert result["as_terminal"][-1] < -10 * result["as_terminal_se"][-1]


def test_bad_input_names_the_argument(env, pi):
    with pytest.raises(ValueError, match="truncated has shape"):
        ex.episode_segments(np.zeros((4, 2), bool), np.zeros((4, 3), bool))
    with pytest.raises(ValueError, match="terminated must be a"):
        ex.episode_segments(np.zeros(4, bool), np.zeros(4, bool))
    with pytest.raises(ValueError, match="n_episodes must be a positive int"):
        ex.sample_from_table(env, pi, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pi must have shape"):
        ex.sample_from_table(env, pi[:, :2], 10, np.random.default_rng(0))


def test_autoreset_modes_differ_as_gymnasium_documents():
    same, same_next = ex.autoreset_steps("same_step", seed=3)
    nxt, nxt_next = ex.autoreset_steps("next_step", seed=3)
    # SAME_STEP: the ending step returns the reset obs, the last one is in final_obs; the next step is real
    assert same["terminated"] and same["final_obs"] is not None
    assert not np.allclose(same["obs"], same["final_obs"]) and same_next["reward"] == 1.0
    assert np.array_equal(same_next["obs_before"], same["obs"])
    # NEXT_STEP: the ending step returns the last obs; one more call resets, reward 0, flags False
    assert nxt["final_obs"] is None and np.array_equal(nxt["obs"], same["final_obs"])
    assert nxt_next["reward"] == 0.0 and not (nxt_next["terminated"] or nxt_next["truncated"])
    assert np.array_equal(nxt_next["obs"], same["obs"])
    with pytest.raises(ValueError, match="mode"):
        ex.autoreset_steps("manual")


def test_sampler_batch_has_only_real_transitions():
    batch = ex.constant_action_batch(steps_per_env=30, num_envs=3, seed=1)
    ended = (batch.terminated | batch.truncated).numpy()
    assert batch.obs.shape == (30, 3, 4) and ended.sum() >= 6
    assert np.all(batch.rewards.numpy() == 1.0)
    follows = (batch.next_obs[:-1] == batch.obs[1:]).all(-1).numpy()
    np.testing.assert_array_equal(follows, ~ended[:-1])
    # an ended step's next_obs is the final observation: the pole is past the 12 degree limit (0.2095 rad)
    # or the cart past 2.4, which the reset observation (all entries within 0.05) never is
    final = batch.next_obs.numpy()[ended]
    assert np.all((np.abs(final[:, 2]) > 0.2095) | (np.abs(final[:, 0]) > 2.4))
