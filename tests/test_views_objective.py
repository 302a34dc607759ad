"""Notebook 00's views: J by Monte Carlo against an exact reference (E1), and the saved step-size sweep.

The exact reference solves the Bellman equation on FrozenLake's 16 cells with
plain loops over gymnasium's table (an episode that ends simply leaves the
system), independent of ``FiniteMDP.from_toy_text`` and ``tabular``. The sweep
tests read the committed JSON and recompute runs live on a small budget.
"""

import json
import math

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place

from trpo_lite.config import TRPOConfig
from trpo_lite.records import result_path
from trpo_lite.views import objective as views

N_CELLS = 16
EPISODE_SLIDER = [2, 10, 100, 500, 2000]  # a sample of the notebook's episode slider (10 .. 2000)


def reference_objective(gamma, pi):
    """J = V(0) on FrozenLake (it always starts in cell 0), from gymnasium's table by plain loops."""
    table = gym.make("FrozenLake-v1").unwrapped.P
    P_pi, r_pi = np.zeros((N_CELLS, N_CELLS)), np.zeros(N_CELLS)
    for s in range(N_CELLS):
        for a in range(4):
            for prob, s_next, reward, terminated in table[s][a]:
                r_pi[s] += pi[s, a] * prob * reward
                if not terminated:
                    P_pi[s, s_next] += pi[s, a] * prob
    return np.linalg.solve(np.eye(N_CELLS) - gamma * P_pi, r_pi)[0]


def loop_return(rewards, gamma):
    return sum(gamma**t * r for t, r in enumerate(rewards))


# ---- part 1: J by Monte Carlo and exactly (E1) ----

def test_episode_returns_match_a_plain_loop_for_ragged_episodes():
    rng = np.random.default_rng(0)
    episodes = [rng.normal(size=n) for n in (1, 7, 3, 12)]
    for gamma in (0.0, 0.5, 0.99):
        want = [loop_return(e, gamma) for e in episodes]
        np.testing.assert_allclose(views.episode_returns(episodes, gamma), want, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="episodes must hold at least one episode"):
        views.episode_returns([], 0.9)
    with pytest.raises(ValueError, match=r"gamma must lie in \[0, 1\]"):
        views.episode_returns(episodes, 1.5)


def test_tabular_policy_draws_actions_with_the_policy_s_probabilities():
    pi = np.array([[0.1, 0.2, 0.7, 0.0], [0.0, 0.0, 0.0, 1.0]])
    policy, rng, n = views.tabular_policy(pi), np.random.default_rng(0), 20_000
    for s in range(2):
        counts = np.bincount([policy(s, rng) for _ in range(n)], minlength=4)
        # 5 standard deviations of a binomial count: a wrong sampler misses by far more
        np.testing.assert_array_less(np.abs(counts - n * pi[s]), 5 * np.sqrt(n * pi[s] * (1 - pi[s])) + 1e-9)
        assert counts[pi[s] == 0].sum() == 0  # an action of probability 0 is never drawn


def test_sample_episodes_one_seed_fixes_everything():
    env = gym.make("CartPole-v1")

    def policy(obs, rng):
        return int(rng.integers(2))

    first = views.sample_episodes(env, policy, 20, seed=3)
    again = views.sample_episodes(env, policy, 20, seed=3)
    other = views.sample_episodes(env, policy, 20, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert [len(e) for e in first] != [len(e) for e in other]
    # CartPole pays 1 per step, so G_0 = (1 - gamma^L) / (1 - gamma) for an episode of L steps
    lengths = np.array([len(e) for e in first])
    np.testing.assert_allclose(views.episode_returns(first, 0.99), (1 - 0.99**lengths) / 0.01, rtol=1e-12)
    with pytest.raises(ValueError, match="n_episodes must be a positive integer; got 0"):
        views.sample_episodes(env, policy, 0, seed=0)


def test_greedy_policy_is_optimal_by_value_iteration():
    mdp, policies = views.lake_policies()
    table = gym.make("FrozenLake-v1").unwrapped.P
    v = np.zeros(N_CELLS)
    for _ in range(3000):  # value iteration, plain loops: 0.99^3000 leaves nothing to converge
        v = np.array([max(sum(p * (r + 0.99 * v[s2] * (not done)) for p, s2, r, done in table[s][a])
                          for a in range(4)) for s in range(N_CELLS)])
    assert reference_objective(0.99, policies["greedy"]) == pytest.approx(v[0], abs=1e-9)
    np.testing.assert_array_equal(policies["greedy"].max(1), 1.0)  # deterministic
    np.testing.assert_allclose(policies["uniform"], 0.25)


def test_lake_table_exact_j_matches_the_reference_for_every_gamma():
    _, policies = views.lake_policies()
    table = views.lake_objective_table()
    for name, pi in policies.items():
        want = [reference_objective(g, pi) for g in views.GAMMAS]
        np.testing.assert_allclose(table[name]["exact"], want, rtol=1e-10, atol=1e-14)
    assert (table["greedy"]["exact"] > table["uniform"]["exact"]).all()
    with pytest.raises(ValueError, match="read-only"):
        table["greedy"]["exact"][0] = 1.0


def test_lake_returns_are_discounted_goal_rewards_and_estimate_j():
    table = views.lake_objective_table()
    for name in ("uniform", "greedy"):
        returns, exact = table[name]["returns"], table[name]["exact"]
        assert returns.shape == (len(views.GAMMAS), views.MAX_EPISODES)
        # The lake pays 1 only on reaching the goal, at the last step: G_0 = gamma^(L-1) or 0, and
        # the exponent L - 1 is the same integer for every gamma (same episodes, reweighted).
        reached = returns[0] > 0
        assert reached.any() and not reached.all()
        exponents = np.log(returns[:, reached]) / np.log(views.GAMMAS)[:, None]
        steps = np.broadcast_to(np.round(exponents[0]), exponents.shape)
        np.testing.assert_allclose(exponents, steps, atol=1e-6)
        np.testing.assert_array_equal(returns[:, ~reached], 0.0)
        # E1 both ways: the Monte Carlo mean lies within 4 standard errors of the exact J, at every gamma.
        means, ses = np.array([views.mc_estimate(r) for r in returns]).T
        np.testing.assert_array_less(np.abs(means - exact), 4 * ses)


@pytest.mark.parametrize("policy", ["uniform", "greedy"])
@pytest.mark.parametrize("gamma", views.GAMMAS[::3])
@pytest.mark.parametrize("n_episodes", EPISODE_SLIDER)
def test_objective_view_plots_the_estimate_and_the_exact_value(policy, gamma, n_episodes):
    table = views.lake_objective_table()
    k = views.gamma_index(gamma)
    returns = table[policy]["returns"][k, :n_episodes]
    fig = views.objective_view(policy, gamma, n_episodes)
    ax_run, ax_gamma = fig.axes
    exact_line, running = ax_run.lines
    assert exact_line.get_ydata()[0] == pytest.approx(table[policy]["exact"][k], rel=1e-12)
    np.testing.assert_allclose(running.get_ydata(), np.cumsum(returns) / np.arange(1, n_episodes + 1))
    curve, star = ax_gamma.lines[0], ax_gamma.lines[-1]
    np.testing.assert_allclose(curve.get_ydata(), table[policy]["exact"])
    assert star.get_xdata()[0] == gamma
    mean, se = views.mc_estimate(returns)
    assert mean == pytest.approx(returns.mean())
    assert se == pytest.approx(returns.std(ddof=1) / n_episodes**0.5)
    assert f"{mean:.4f}" in fig._suptitle.get_text()


@pytest.mark.parametrize(("a", "b"), [
    (("greedy", 0.95, 500), ("uniform", 0.95, 500)),
    (("greedy", 0.8, 10), ("greedy", 0.99, 10)),
    (("uniform", 0.99, 2000), ("greedy", 0.8, 2)),
    (("greedy", 0.9, 100), ("greedy", 0.9, 1000)),
])
def test_objective_view_redraw_depends_only_on_its_arguments(a, b):
    assert_redraws_in_place(views.objective_view, a, b)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gamma": 0.955}, r"gamma must be one of the slider's values 0.8, 0.81, ..., 0.99; got 0.955"),
    ({"policy": "optimal"}, r"policy must be one of \['greedy', 'uniform'\]; got 'optimal'"),
    ({"n_episodes": 1}, r"n_episodes must be an integer in \[2, 2000\]; got 1"),
    ({"n_episodes": 5000}, r"n_episodes must be an integer in \[2, 2000\]; got 5000"),
])
def test_objective_view_rejects_values_off_the_sliders(kwargs, message):
    with pytest.raises(ValueError, match=message):
        views.objective_view(**kwargs)


# ---- part 2: the saved step-size sweep ----

@pytest.fixture(scope="module")
def sweep():
    return views.load_sweep()


def test_sweep_records_every_setting_and_seed_with_a_full_curve(sweep):
    meta = sweep["meta"]
    assert {"date", "machine", "environment", "seeds", "step_sizes", "total_steps", "config"} <= set(meta)
    assert set(meta["environment"]) == {"python", "machine", "cpu", "torch", "gymnasium", "numpy"}
    assert len(meta["seeds"]) >= 3 and len(meta["step_sizes"]) >= 5
    settings = [("vpg", lr) for lr in meta["step_sizes"]] + [("trpo", None)]
    found = sorted((r["update"], r["pg_lr"] or 0.0, r["seed"]) for r in sweep["runs"])
    assert found == sorted((u, lr or 0.0, s) for u, lr in settings for s in meta["seeds"])
    batch = meta["config"]["num_envs"] * meta["config"]["steps_per_env"]
    iterations = math.ceil(meta["total_steps"] / batch)
    for run in sweep["runs"]:
        assert run["env_steps"] == [batch * (i + 1) for i in range(iterations)]
        assert all(len(run[key]) == iterations for key in ("return_last10", "kl", "entropy"))
        # CartPole pays 1 per step and stops at 500; no episode is shorter than 8 steps
        assert all(8 <= r <= 500 for r in run["return_last10"])
        assert all(0 <= e <= math.log(2) + 1e-6 for e in run["entropy"])  # two actions


def test_sweep_json_is_strict(sweep):
    text = result_path("step_size_sweep.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert any(math.isinf(kl) for run in sweep["runs"] for kl in run["kl"])  # infinite KLs survive


def test_trpo_never_leaves_its_trust_region(sweep):
    for run in views.runs_of(sweep, "trpo"):
        assert max(run["kl"]) <= sweep["meta"]["trpo_max_kl"] * (1 + 1e-6)  # the line search's KL check (E12)


def test_final_return_averages_the_last_iterations(sweep):
    run = sweep["runs"][0]
    assert views.final_return(run) == pytest.approx(sum(run["return_last10"][-10:]) / 10)
    sizes, finals, trpo = views.final_returns(sweep)
    seeds = sweep["meta"]["seeds"]
    assert finals.shape == (len(sizes), len(seeds)) and trpo.shape == (len(seeds),)
    assert finals[0, 0] == views.final_return(views.saved_run(sweep, "vpg", seeds[0], sizes[0]))


def test_too_large_a_step_collapses_and_too_small_a_step_crawls(sweep):
    sizes, finals, trpo = views.final_returns(sweep)
    mean = finals.mean(1)
    best = int(mean.argmax())
    assert 0 < best < len(sizes) - 1  # the best step is inside the range: both ends are worse
    assert mean[-1] < mean[best] / 5 and mean[0] < mean[best] / 5
    # collapse: within 3 updates the largest step leaves a (nearly) deterministic policy, for good
    for run in views.runs_of(sweep, "vpg", sizes[-1]):
        assert max(run["entropy"][3:]) < 0.05 < run["entropy"][0]
    # and the trust region beats every fixed step, on average over seeds
    assert trpo.mean() > mean.max()


def test_first_update_kl_grows_like_the_step_squared(sweep):
    # Per seed the first batch is the same for every step size (sampled before any update), so
    # KL(eta) = 1/2 eta^2 g^T H g + O(eta^3) (E9): KL / eta^2 is flat for small steps.
    sizes, kl = views.first_kl(sweep)
    small = sizes <= 0.3
    ratio = kl[small] / sizes[small, None] ** 2
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape), rtol=0.01)
    assert (np.diff(kl, axis=0) > 0).all()  # a longer step along the same g moves the policy further
    assert (kl[-1] > 1).all()  # the largest step moves it by more than a whole nat


@pytest.mark.parametrize("pg_lr", views.load_sweep()["meta"]["step_sizes"])
def test_step_size_view_draws_the_saved_curves(pg_lr, sweep):
    fig = views.step_size_view(pg_lr)
    ax_ret, ax_kl = fig.axes
    runs, trpo = views.runs_of(sweep, "vpg", pg_lr), views.runs_of(sweep, "trpo")
    drawn = [line.get_ydata() for line in ax_ret.lines]
    assert len(drawn) == len(runs) + len(trpo)
    for line, run in zip(drawn, trpo + runs, strict=True):
        np.testing.assert_array_equal(line, run["return_last10"])
    kl_lines = ax_kl.lines[: len(runs) + len(trpo)]
    for line, run in zip(kl_lines, trpo + runs, strict=True):
        np.testing.assert_array_equal(line.get_ydata(), np.clip(run["kl"], *views.KL_RANGE))
    assert ax_kl.lines[-1].get_ydata()[0] == sweep["meta"]["trpo_max_kl"]
    assert str(pg_lr) in fig._suptitle.get_text()


@pytest.mark.parametrize(("a", "b"), [((0.01,), (100.0,)), ((100.0,), (0.01,)), ((1.0,), (3.0,)),
                                      ((0.3,), (30.0,))])
def test_step_size_view_redraw_depends_only_on_its_arguments(a, b):
    assert_redraws_in_place(views.step_size_view, a, b)


def test_step_size_view_and_saved_run_reject_unrecorded_settings(sweep):
    with pytest.raises(ValueError, match=r"pg_lr must be one of the recorded step sizes \[0.01"):
        views.step_size_view(0.5)
    with pytest.raises(ValueError, match="update must be 'vpg' or 'trpo'"):
        views.runs_of(sweep, "npg")
    with pytest.raises(ValueError, match=r"seed must be one of the recorded seeds \[0, 1, 2\]; got 7"):
        views.saved_run(sweep, "trpo", seed=7)


def test_sweep_summary_draws_final_returns_and_first_kls(sweep):
    fig = views.sweep_summary()
    try:
        ax_end, ax_kl = fig.axes
        sizes, finals, trpo = views.final_returns(sweep)
        np.testing.assert_array_equal(ax_end.lines[1].get_ydata(), finals.mean(1))
        band = ax_end.patches[0]  # TRPO's range over seeds
        assert (band.get_y(), band.get_y() + band.get_height()) == (trpo.min(), trpo.max())
        first = np.clip(views.first_kl(sweep)[1], *views.KL_RANGE).ravel()
        np.testing.assert_array_equal(ax_kl.lines[0].get_ydata(), first)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("update", "pg_lr"), [("vpg", 30.0), ("vpg", 100.0), ("trpo", None)])
def test_a_live_run_reproduces_the_saved_numbers(update, pg_lr, sweep):
    threads = torch.get_num_threads()
    seed = sweep["meta"]["seeds"][-1]
    config = TRPOConfig.from_dict(sweep["meta"]["config"])  # the settings the sweep ran with
    batch = config.num_envs * config.steps_per_env
    live = views.record_run(config, update, seed, total_steps=2 * batch, pg_lr=pg_lr)
    assert torch.get_num_threads() == threads  # restored after the one-thread run
    saved = views.saved_run(sweep, update, seed, pg_lr)
    assert live["env_steps"] == saved["env_steps"][:2]
    # Same seed, same code, same machine: the same numbers, to the last bit.
    assert views.compare_runs(live, saved) == {"iterations": 2, "max_return_diff": 0.0, "max_kl_diff": 0.0}


def test_compare_runs_sees_a_difference_and_infinite_kls():
    saved = {"env_steps": [1, 2, 3], "return_last10": [10.0, 20.0, 30.0], "kl": [math.inf, 0.5, 0.1]}
    same = {"env_steps": [1, 2], "return_last10": [10.0, 20.0], "kl": [math.inf, 0.5]}
    assert views.compare_runs(same, saved) == {"iterations": 2, "max_return_diff": 0.0, "max_kl_diff": 0.0}
    off = same | {"return_last10": [10.0, 21.5], "kl": [1.0, 0.25]}
    assert views.compare_runs(off, saved) == {"iterations": 2, "max_return_diff": 1.5,
                                              "max_kl_diff": math.inf}
    with pytest.raises(ValueError, match="more than the saved run's 3"):
        views.compare_runs(saved | {"env_steps": [1, 2, 3, 4], "return_last10": [1.0] * 4}, saved)
    with pytest.raises(ValueError, match="count environment steps differently"):
        views.compare_runs(same | {"env_steps": [2, 4]}, saved)


def test_record_run_needs_a_step_size_exactly_for_vpg():
    with pytest.raises(ValueError, match="pg_lr must be given for update='vpg' and only then"):
        views.record_run("CartPole-v1", "vpg", 0, 1024)
    with pytest.raises(ValueError, match="pg_lr must be given for update='vpg' and only then"):
        views.record_run("CartPole-v1", "trpo", 0, 1024, pg_lr=1.0)
