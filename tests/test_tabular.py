"""trpo_lite.tabular against independent references: iterative evaluation,
power series, Monte Carlo in the real environment, finite differences."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trpo_lite import tabular
from trpo_lite.tabular import FiniteMDP


@pytest.fixture(scope="module")
def lake():
    return FiniteMDP.from_toy_text(gym.make("FrozenLake-v1"), gamma=0.9)


def iterative_evaluation(mdp, pi, sweeps=3000):
    """Plain Bellman sweeps, state by state: the textbook reference for V and Q."""
    P, R, g = mdp.P.numpy(), mdp.R.numpy(), mdp.gamma
    S, A = R.shape
    V = np.zeros(S)
    for _ in range(sweeps):
        V = np.array([sum(pi[s, a] * (R[s, a] + g * P[s, a] @ V) for a in range(A)) for s in range(S)])
    Q = np.array([[R[s, a] + g * P[s, a] @ V for a in range(A)] for s in range(S)])
    return V, Q


def test_values_match_iterative_policy_evaluation(lake):
    pi = lake.random_policy(np.random.default_rng(0))
    V_ref, Q_ref = iterative_evaluation(lake, pi, sweeps=400)
    np.testing.assert_allclose(tabular.state_values(lake, pi), V_ref, atol=1e-12)
    np.testing.assert_allclose(tabular.action_values(lake, pi), Q_ref, atol=1e-12)
    np.testing.assert_allclose(tabular.advantages(lake, pi), Q_ref - V_ref[:, None], atol=1e-12)


def test_values_on_random_mdp_match_iteration():
    rng = np.random.default_rng(1)
    mdp = FiniteMDP.random(rng, n_states=6, gamma=0.8, concentration=0.5)
    pi = mdp.random_policy(rng)
    V_ref, Q_ref = iterative_evaluation(mdp, pi, sweeps=300)
    np.testing.assert_allclose(tabular.state_values(mdp, pi), V_ref, atol=1e-10)
    np.testing.assert_allclose(tabular.action_values(mdp, pi), Q_ref, atol=1e-10)


def test_visitation_matches_power_series(lake):
    pi = lake.random_policy(np.random.default_rng(2))
    P_pi = np.einsum("sa,sat->st", pi, lake.P.numpy())
    d, nu_ref = lake.start.numpy(), np.zeros(lake.n_states)
    for t in range(2000):
        nu_ref += (1 - lake.gamma) * lake.gamma**t * d
        d = d @ P_pi
    nu = tabular.visitation(lake, pi)
    np.testing.assert_allclose(nu, nu_ref, atol=1e-12)
    assert nu.sum() == pytest.approx(1.0, abs=1e-12) and (nu >= 0).all()


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1", "Taxi-v4"])
def test_from_toy_text_builds_a_valid_mdp_with_an_absorbing_state(env_id):
    env = gym.make(env_id)
    mdp = FiniteMDP.from_toy_text(env, gamma=0.95)
    n_env = env.observation_space.n
    assert mdp.P.shape == (n_env + 1, env.action_space.n, n_env + 1)
    absorbing = n_env
    assert torch.all(mdp.P[absorbing, :, absorbing] == 1) and torch.all(mdp.R[absorbing] == 0)
    nu = tabular.visitation(mdp, mdp.uniform_policy())
    assert nu.sum() == pytest.approx(1.0, abs=1e-10)


def test_from_toy_text_sends_terminating_transitions_to_the_absorbing_state(lake):
    # FrozenLake 4x4: state 14 moving right reaches the goal 15 (reward 1, terminal) with prob 1/3.
    assert lake.P[14, 2, 16] == pytest.approx(1 / 3)
    assert lake.P[14, 2, 15] == 0
    assert lake.R[14, 2] == pytest.approx(1 / 3)


def test_objective_matches_monte_carlo_in_the_real_environment():
    gamma = 0.9
    env = gym.make("FrozenLake-v1", max_episode_steps=400)  # gamma^400: truncation is negligible
    mdp = FiniteMDP.from_toy_text(env, gamma)
    rng = np.random.default_rng(3)
    pi = mdp.random_policy(rng, concentration=0.5)
    returns = []
    for episode in range(4000):
        s, _ = env.reset(seed=episode)
        G, discount, done = 0.0, 1.0, False
        while not done:
            s, r, terminated, truncated, _ = env.step(int(rng.choice(4, p=pi[s])))
            G += discount * r
            discount *= gamma
            done = terminated or truncated
        returns.append(G)
    mean, se = np.mean(returns), np.std(returns) / np.sqrt(len(returns))
    assert abs(tabular.objective(mdp, pi) - mean) < 3 * se, (tabular.objective(mdp, pi), mean, se)


def test_performance_difference_identity_holds_exactly():
    """E3/E4: J(new) - J(old) = 1/(1-gamma) E_{s~nu_new, a~new}[A_old(s, a)]."""
    rng = np.random.default_rng(4)
    for gamma in (0.5, 0.9, 0.99):
        mdp = FiniteMDP.random(rng, n_states=6, gamma=gamma, concentration=0.5)
        for _ in range(20):
            old, new = mdp.random_policy(rng), mdp.random_policy(rng, 0.3)
            nu_new = tabular.visitation(mdp, new)
            rhs = nu_new @ (new * tabular.advantages(mdp, old)).sum(1) / (1 - gamma)
            lhs = tabular.objective(mdp, new) - tabular.objective(mdp, old)
            assert lhs == pytest.approx(rhs, abs=1e-10)


def test_surrogate_matches_objective_in_value_and_gradient_at_old_policy(lake):
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(lake.n_states, lake.n_actions))

    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    old = softmax(logits)
    assert tabular.surrogate(lake, old, old) == pytest.approx(tabular.objective(lake, old), abs=1e-14)
    h = 1e-6
    for _ in range(5):  # central differences along random logit directions
        d = rng.normal(size=logits.shape)
        plus, minus = softmax(logits + h * d), softmax(logits - h * d)
        dJ = (tabular.objective(lake, plus) - tabular.objective(lake, minus)) / (2 * h)
        dL = (tabular.surrogate(lake, old, plus) - tabular.surrogate(lake, old, minus)) / (2 * h)
        assert dL == pytest.approx(dJ, rel=1e-5, abs=1e-9)
    # ...and not to second order: far from old they differ.
    far = softmax(logits + 5 * rng.normal(size=logits.shape))
    assert abs(tabular.surrogate(lake, old, far) - tabular.objective(lake, far)) > 1e-4


def test_lower_bound_holds_for_hundreds_of_policy_pairs():
    """E7, including far-apart and near-deterministic pairs, on several MDPs."""
    rng = np.random.default_rng(6)
    mdps = [FiniteMDP.random(rng, n_states=6, gamma=g, concentration=0.5) for g in (0.3, 0.7, 0.95)]
    mdps.append(FiniteMDP.from_toy_text(gym.make("FrozenLake-v1"), 0.9))
    checked = 0
    for mdp in mdps:
        for concentration in (5.0, 1.0, 0.1):
            for _ in range(30):
                old = mdp.random_policy(rng)
                new = mdp.random_policy(rng, concentration)
                assert tabular.objective(mdp, new) >= tabular.lower_bound(mdp, old, new) - 1e-12
                checked += 1
    assert checked == 360


def test_lower_bound_is_tight_at_the_old_policy(lake):
    pi = lake.random_policy(np.random.default_rng(7))
    assert tabular.lower_bound(lake, pi, pi) == pytest.approx(tabular.objective(lake, pi), abs=1e-14)


def test_max_state_kl_matches_explicit_sum_and_is_infinite_when_support_is_dropped():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = np.array([[0.25, 0.75, 0.0], [0.1, 0.1, 0.8]])
    explicit = [0.5 * np.log(2) + 0.5 * np.log(0.5 / 0.75), sum(p[1] * np.log(p[1] / q[1]))]
    assert tabular.max_state_kl(p, q) == pytest.approx(max(explicit), abs=1e-12)
    assert tabular.max_state_kl(q, np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])) == np.inf


def test_torch_inputs_give_differentiable_results(lake):
    logits = torch.zeros(lake.n_states, lake.n_actions, dtype=torch.float64, requires_grad=True)
    J = tabular.objective(lake, torch.softmax(logits, 1))
    J.backward()
    assert isinstance(J, torch.Tensor) and logits.grad.abs().sum() > 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gamma=st.floats(0.0, 0.99), n_states=st.integers(1, 7))
def test_visitation_is_a_distribution_and_bound_holds_for_any_mdp(seed, gamma, n_states):
    rng = np.random.default_rng(seed)
    mdp = FiniteMDP.random(rng, n_states=n_states, gamma=gamma, concentration=0.5)
    old, new = mdp.random_policy(rng), mdp.random_policy(rng, 0.5)
    nu = tabular.visitation(mdp, old)
    assert nu.sum() == pytest.approx(1.0, abs=1e-9) and (nu >= -1e-12).all()
    assert tabular.objective(mdp, new) >= tabular.lower_bound(mdp, old, new) - 1e-9


@pytest.mark.parametrize("gamma", [1.0, -0.1, 1.5, float("nan")])
def test_gamma_outside_unit_interval_is_rejected(gamma):
    P = np.ones((2, 1, 2)) / 2
    with pytest.raises(ValueError, match=r"gamma must lie in \[0, 1\)"):
        FiniteMDP(P, np.zeros((2, 1)), gamma, np.array([1.0, 0.0]))


def test_bad_mdp_and_policy_inputs_are_rejected(lake):
    with pytest.raises(ValueError, match="P must have shape"):
        FiniteMDP(np.ones((2, 2)), np.zeros((2, 1)), 0.9, np.ones(2) / 2)
    with pytest.raises(ValueError, match="rows of P must each sum to 1"):
        FiniteMDP(np.ones((2, 1, 2)), np.zeros((2, 1)), 0.9, np.ones(2) / 2)
    with pytest.raises(ValueError, match="R has shape"):
        FiniteMDP(np.ones((2, 1, 2)) / 2, np.zeros((3, 1)), 0.9, np.ones(2) / 2)
    with pytest.raises(ValueError, match="rows of pi must each sum to 1"):
        tabular.state_values(lake, np.ones((lake.n_states, lake.n_actions)))
    with pytest.raises(ValueError, match=r"pi has shape \(16, 4\), expected \(17, 4\)"):
        tabular.objective(lake, np.ones((16, 4)) / 4)
    with pytest.raises(ValueError, match="non-negative"):
        tabular.objective(lake, np.full((17, 4), [1.5, -0.5, 0, 0]))
    with pytest.raises(ValueError, match=r"pi_new must have shape \[\.\.\., 3, 2\]"):
        tabular.max_state_kl(np.ones((3, 2)) / 2, np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="no transition table P"):
        FiniteMDP.from_toy_text(gym.make("CartPole-v1"), 0.9)


def kl_rows(p, q):
    """D_KL(p_s || q_s) per row by the textbook sum, 0 log 0 = 0."""
    p, q = np.asarray(p), np.asarray(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0.0)
    return terms.sum(-1)


def test_greedy_policy_takes_the_best_action_and_keeps_tied_rows(lake):
    old = lake.random_policy(np.random.default_rng(0))
    greedy = tabular.greedy_policy(lake, old)
    adv = tabular.advantages(lake, old)
    for s in range(lake.n_states):
        if np.ptp(adv[s]) > 1e-9:
            assert greedy[s, adv[s].argmax()] == 1.0
        else:  # holes, the goal and the absorbing state: all actions tie
            np.testing.assert_array_equal(greedy[s], old[s])
    assert (np.ptp(adv, axis=1) <= 1e-9).sum() >= 5  # the tie branch really ran (4 holes, goal, absorbing)


def test_greedy_policy_breaks_exact_ties_by_the_first_action_not_by_rounding():
    """For the uniform walker at gamma = 0.53, down and right tie exactly in the start cell (the lake's
    mirror symmetry), but rounding makes right larger by about 1e-20: the tie rule must pick down (1)."""
    mdp = FiniteMDP.from_toy_text(gym.make("FrozenLake-v1"), gamma=0.53)
    uniform = mdp.uniform_policy()
    adv = tabular.advantages(mdp, uniform)
    assert 0 < adv[0, 2] - adv[0, 1] < 1e-15 and adv[0, 1] > adv[0, 0]
    assert tabular.greedy_policy(mdp, uniform)[0].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert tabular.greedy_policy(mdp, uniform, tie=0.0)[0].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_state_kl_and_its_mean_and_max_match_loops():
    rng = np.random.default_rng(1)
    mdp = FiniteMDP(rng.dirichlet(np.ones(4), size=(4, 3)), rng.normal(size=(4, 3)), 0.8, np.ones(4) / 4)
    old = mdp.random_policy(rng)
    new = rng.dirichlet(np.ones(3), size=(7, 4))
    new[0, 1] = [0.0, 0.5, 0.5]  # a dropped action: KL is infinite in that state
    kl = tabular.state_kl(old, new)
    np.testing.assert_allclose(kl, kl_rows(old, new), rtol=1e-12)
    assert np.isinf(kl[0, 1])
    nu = tabular.visitation(mdp, old)
    loop = [sum(nu[s] * kl_rows(old[s], new[b, s]) for s in range(4)) for b in range(1, 7)]
    np.testing.assert_allclose(tabular.mean_state_kl(mdp, old, new[1:]), loop, rtol=1e-12)
    np.testing.assert_allclose(tabular.max_state_kl(old, new[1:]), kl_rows(old, new[1:]).max(-1), rtol=1e-12)
    assert tabular.mean_state_kl(mdp, old, old) == 0.0
    assert isinstance(tabular.mean_state_kl(mdp, old, new[1]), float)
    with pytest.raises(ValueError, match=r"pi_new must have shape \[\.\.\., 4, 3\]"):
        tabular.state_kl(old, new[..., :2])
    with pytest.raises(ValueError, match="rows of pi_new must each sum to 1"):
        tabular.state_kl(old, 2 * new)


def test_numpy_or_torch_dispatch_gives_the_same_numbers_and_keeps_the_graph(lake):
    pi = lake.random_policy(np.random.default_rng(3))
    for fn in (tabular.state_values, tabular.action_values, tabular.advantages, tabular.visitation,
               tabular.objective):
        from_numpy, from_torch = fn(lake, pi), fn(lake, torch.as_tensor(pi))
        assert not isinstance(from_numpy, torch.Tensor)
        np.testing.assert_array_equal(from_numpy, from_torch.numpy())
    logits = torch.zeros(lake.n_states, lake.n_actions, dtype=torch.float64, requires_grad=True)
    value = tabular.surrogate(lake, pi, torch.softmax(logits, 1))
    assert value.requires_grad and tabular.surrogate.__name__ == "surrogate"
