"""Notebook-04 numbers for the average-KL bound (Achiam et al. 2017) and its blind spot, against
independent computations: the bound written out state by state with textbook KL and TV sums, the
surrogate of ``tabular.surrogate``, and J of ``tabular.objective``."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.examples import average_kl as ak
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.examples.visitation import BESIDE_GOAL, LEFT


def kl_rows(p, q):
    """D_KL(p_s || q_s) per row by the textbook sum, natural log."""
    return np.array([sum(pa * np.log(pa / qa) for pa, qa in zip(pr, qr, strict=True) if pa > 0)
                     for pr, qr in zip(p, q, strict=True)])


def bound_written_out(mdp, old, new, mean_divergence):
    """J(old) + (L - J(old)) - 2 gamma max_s |sum_a new(a|s) A(s, a)| / (1 - gamma)^2 * mean_divergence."""
    adv = tabular.advantages(mdp, old)
    abar_max = max(abs(sum(new[s, a] * adv[s, a] for a in range(mdp.n_actions))) for s in range(mdp.n_states))
    coefficient = 2 * mdp.gamma * abar_max / (1 - mdp.gamma) ** 2
    return tabular.surrogate(mdp, old, new) - coefficient * mean_divergence


def test_the_bounds_are_corollaries_1_and_3_written_out():
    for mdp, old, news in ak.random_policy_pairs(n_mdps=6, pairs_per_mdp=3, seed=4):
        nu = tabular.visitation(mdp, old)
        for new in news:
            tv = nu @ (0.5 * np.abs(new - old).sum(1))
            kl = nu @ kl_rows(old, new)
            assert ak.average_tv_bound(mdp, old, new, tv) == pytest.approx(
                bound_written_out(mdp, old, new, tv), rel=1e-12, abs=1e-12)
            assert ak.average_kl_bound(mdp, old, new, kl) == pytest.approx(
                bound_written_out(mdp, old, new, np.sqrt(kl / 2)), rel=1e-12, abs=1e-12)
        # A batch of new policies gives what one policy at a time gives.
        batch = ak.average_tv_bound(mdp, old, news, np.full(len(news), 0.1))
        one_by_one = [ak.average_tv_bound(mdp, old, new, 0.1) for new in news]
        np.testing.assert_allclose(batch, one_by_one, rtol=1e-12)


def test_random_pair_bounds_hold_in_both_kl_directions_and_tv_is_the_tightest():
    rows = ak.random_pair_bounds(n_mdps=30, pairs_per_mdp=4, seed=2)
    assert len(rows["J_new"]) == 120 and set(rows["gamma"]) == set(ak.GAMMAS)
    for key in ("tv", "kl_old_new", "kl_new_old"):
        assert np.all(rows["J_new"] - rows[key] >= -1e-12), key
    # Pinsker and Jensen only loosen: the TV form is at least as high as either KL form.
    for key in ("kl_old_new", "kl_new_old"):
        assert np.all(rows["tv"] >= rows[key] - 1e-12), key
    assert np.any(rows["kl_old_new"] != rows["kl_new_old"])  # the two directions really differ


def test_random_pair_bounds_use_the_stated_kl_directions():
    (mdp, old, news), = ak.random_policy_pairs(n_mdps=1, pairs_per_mdp=5, seed=7)
    rows = ak.random_pair_bounds(n_mdps=1, pairs_per_mdp=5, seed=7)
    nu = tabular.visitation(mdp, old)
    for k, new in enumerate(news):
        assert rows["J_new"][k] == pytest.approx(tabular.objective(mdp, new), rel=1e-12)
        for key, kl in (("kl_old_new", nu @ kl_rows(old, new)), ("kl_new_old", nu @ kl_rows(new, old))):
            assert rows[key][k] == pytest.approx(bound_written_out(mdp, old, new, np.sqrt(kl / 2)), rel=1e-12)


def test_pairs_span_near_and_far_steps_and_one_seed_fixes_them():
    first, again = ak.random_policy_pairs(4, 6, seed=3), ak.random_policy_pairs(4, 6, seed=3)
    for (_, old, news), (_, old2, news2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(old, old2)
        np.testing.assert_array_equal(news, news2)
    distances = np.concatenate([np.abs(news - old).max(axis=(1, 2)) for _, old, news in first])
    assert distances.min() < 1e-2 and distances.max() > 0.1


@pytest.fixture(scope="module")
def path():
    return ak.rare_state_path()


def test_rare_state_path_changes_only_the_cell_beside_the_goal(path):
    mdp = lake_mdp(ak.LAKE_GAMMA)
    old = mdp.uniform_policy()
    nu = tabular.visitation(mdp, old)
    assert path["nu_beside_goal"] == pytest.approx(nu[BESIDE_GOAL], rel=1e-12)
    for k in (0, 30, 99):
        kappa = path["kappa"][k]
        pi = old.copy()
        pi[BESIDE_GOAL] = (1 - kappa) * old[BESIDE_GOAL] + kappa * np.eye(4)[LEFT]
        kl = kl_rows(old, pi)
        assert path["J"][k] == pytest.approx(tabular.objective(mdp, pi), rel=1e-12)
        assert path["L"][k] == pytest.approx(tabular.surrogate(mdp, old, pi), rel=1e-12)
        assert path["max_kl"][k] == pytest.approx(kl.max(), abs=1e-15)
        assert path["mean_kl"][k] == pytest.approx(nu @ kl, abs=1e-15)
        assert path["e7_bound"][k] == pytest.approx(tabular.lower_bound(mdp, old, pi), rel=1e-12)
        written_out = bound_written_out(mdp, old, pi, np.sqrt(nu @ kl / 2))
        assert path["bound"][k] == pytest.approx(written_out, rel=1e-12)


def test_the_mean_kl_barely_charges_a_step_that_loses_almost_all_of_j(path):
    np.testing.assert_allclose(path["mean_kl"], path["nu_beside_goal"] * path["max_kl"], rtol=1e-12, atol=0)
    assert path["nu_beside_goal"] < 0.01  # the old policy seldom stands beside the goal
    admitted = path["mean_kl"] <= 0.01
    assert admitted.all()  # the trust region of the agent's radius admits every step on the path
    assert path["J"][-1] < 0.05 * path["J_old"]  # ... including one that loses more than 95 % of J
    assert path["max_kl"][-1] > 100 * 0.01  # E7's distance charges it in full
    assert np.all(np.diff(path["J"]) < 0)
    for key in ("bound", "e7_bound"):
        assert np.all(path["J"] - path[key] >= -1e-12)  # both bounds hold
