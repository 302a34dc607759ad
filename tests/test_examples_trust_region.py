"""Notebook-04 numbers: the bound (E7), minorize-maximize and the trust region (E8), against independent
computations."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.examples import trust_region as tr
from trpo_lite.tabular import FiniteMDP


def kl_rows(p, q):
    """D_KL(p_s || q_s) per row by the textbook sum, 0 log 0 = 0."""
    p, q = np.asarray(p), np.asarray(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0.0)
    return terms.sum(-1)


def surrogate_explicit(mdp, old, new):
    """L (E5) written out: J(old) + 1/(1 - gamma) sum_s nu_old(s) sum_a new(a|s) A_old(s, a)."""
    nu, adv = tabular.visitation(mdp, old), tabular.advantages(mdp, old)
    return tabular.objective(mdp, old) + np.einsum("s,...sa,sa->...", nu, new, adv) / (1 - mdp.gamma)


@pytest.fixture
def random_mdp():
    rng = np.random.default_rng(1)
    mdp = FiniteMDP(rng.dirichlet(np.ones(4), size=(4, 3)), rng.normal(size=(4, 3)), 0.8, np.ones(4) / 4)
    return mdp, rng


def test_bridge_mdp_returns_match_hand_computed_values():
    for gamma in (0.5, 0.9):
        mdp = tr.bridge_mdp(gamma)
        # Back at home forever earns 0.1 per step; forward twice wins 2 at t = 1.
        assert tabular.objective(mdp, tr.bridge_policy(0.0, 0.3)) == pytest.approx(0.1 / (1 - gamma))
        assert tabular.objective(mdp, tr.bridge_policy(1.0, 1.0)) == pytest.approx(2 * gamma)
    pi = tr.bridge_policy(np.array([0.1, 0.2]), 0.7)
    assert pi.shape == (2, 3, 2)
    np.testing.assert_allclose(pi[1, tr.HOME], [0.8, 0.2])
    np.testing.assert_allclose(pi[:, tr.BRIDGE, tr.FORWARD], [0.7, 0.7])
    with pytest.raises(ValueError, match=r"p_bridge must be probabilities in \[0, 1\]"):
        tr.bridge_policy(0.5, 1.2)


def test_surrogate_batch_equals_the_package_surrogate(random_mdp):
    mdp, rng = random_mdp
    old = mdp.random_policy(rng)
    batch = rng.dirichlet(np.ones(3), size=(2, 5, 4))
    want = [[tabular.surrogate(mdp, old, pi) for pi in row] for row in batch]
    np.testing.assert_allclose(tr.surrogate_batch(mdp, old, batch), want, rtol=1e-12)


def test_path_curves_hold_the_bound_and_match_the_package(random_mdp):
    mdp, rng = random_mdp
    old = mdp.random_policy(rng)
    c = tr.path_curves(mdp, old)
    greedy = tabular.greedy_policy(mdp, old)
    for k in (0, 20, 40, len(c["kappa"]) - 2):
        pi = (1 - c["kappa"][k]) * old + c["kappa"][k] * greedy
        assert c["J"][k] == pytest.approx(tabular.objective(mdp, pi), rel=1e-12)
        assert c["bound"][k] == pytest.approx(tabular.lower_bound(mdp, old, pi), rel=1e-12, abs=1e-12)
        assert c["penalty"][k] == pytest.approx(c["C"] * tabular.max_state_kl(old, pi), rel=1e-9, abs=1e-12)
    assert c["J"][0] == pytest.approx(c["L"][0]) and c["J"][0] == pytest.approx(c["bound"][0])
    assert np.all(c["J"] >= c["bound"] - 1e-12)  # E7
    assert np.all(c["mean_state_kl"] <= c["max_state_kl"] + 1e-15)  # an average never exceeds the max
    assert np.all(np.diff(c["L"]) >= -1e-12)  # the greedy target: L only grows along the path


def test_minorize_maximize_improves_j_at_every_step_and_maximises_the_bound():
    mdp, old = tr.bridge_mdp(), tr.bridge_policy(*tr.OLD)
    history = tr.improve_along_path(mdp, old, n_iters=4)
    assert np.all(np.diff(history["J"]) > 0)
    greedy = tabular.greedy_policy(mdp, old)
    bounds = [tabular.lower_bound(mdp, old, (1 - kappa) * old + kappa * greedy) for kappa in tr.KAPPAS]
    assert history["kappa"][0] == tr.KAPPAS[int(np.argmax(bounds))]
    assert 0 < history["kappa"][0] < 1e-2  # at gamma = 0.9 the bound only certifies tiny steps


def test_trust_region_steps_take_the_largest_admitted_step():
    mdp, old = tr.bridge_mdp(), tr.bridge_policy(*tr.OLD)
    history = tr.improve_along_path(mdp, old, n_iters=3, max_kl=0.01)
    greedy = tabular.greedy_policy(mdp, old)
    kls = [tabular.mean_state_kl(mdp, old, (1 - kappa) * old + kappa * greedy) for kappa in tr.KAPPAS]
    assert history["kappa"][0] == max(kappa for kappa, kl in zip(tr.KAPPAS, kls, strict=True) if kl <= 0.01)
    assert np.all(np.diff(history["J"]) > 0)
    with pytest.raises(ValueError, match="max_kl must be None"):
        tr.improve_along_path(mdp, old, 1, max_kl=0.0)


@pytest.mark.parametrize("gamma", tr.BOUND_GAMMAS)
def test_bound_numbers_are_true_curves_with_the_bound_below_j(gamma):
    numbers = tr.bound_numbers(gamma)
    mdp, old = tr.bridge_mdp(gamma), tr.bridge_policy(*tr.OLD)
    greedy = tabular.greedy_policy(mdp, old)
    full, zoom, J_old = numbers["full"], numbers["zoom"], tabular.objective(mdp, old)
    assert numbers["gamma"] == gamma and numbers["J_old"] == pytest.approx(J_old, rel=1e-12)
    for kappa, J in list(zip(full["kappa"], full["J"], strict=True))[::10]:
        assert J == pytest.approx(tabular.objective(mdp, (1 - kappa) * old + kappa * greedy), rel=1e-12)
    assert np.all(zoom["J"] >= zoom["bound"] - 1e-12)
    assert numbers["certified"] == pytest.approx(zoom["bound"].max() - J_old, rel=1e-9)
    assert numbers["certified"] > 0  # minorize-maximize: the bound certifies a strict improvement
    assert zoom["bound"][0] - J_old == pytest.approx(0.0, abs=1e-12)
    assert numbers["available"] == pytest.approx(full["J"].max() - J_old, rel=1e-9)
    # kappa* maximises the bound over KAPPAS, and the penalty there is many times the gap |L - J|.
    star = numbers["kappa_star"]
    bounds = [tabular.lower_bound(mdp, old, (1 - kappa) * old + kappa * greedy) for kappa in tr.KAPPAS]
    assert star == tr.KAPPAS[int(np.argmax(bounds))]
    pi_star = (1 - star) * old + star * greedy
    gap = abs(tabular.surrogate(mdp, old, pi_star) - tabular.objective(mdp, pi_star))
    penalty = tabular.penalty_coefficient(mdp, old) * tabular.max_state_kl(old, pi_star)
    assert numbers["ratio"] == pytest.approx(penalty / gap, rel=1e-6)
    assert numbers["C"] == pytest.approx(tabular.penalty_coefficient(mdp, old), rel=1e-12)


def test_bound_numbers_reject_a_gamma_without_a_table():
    with pytest.raises(ValueError, match="gamma must be one of"):
        tr.bound_numbers(0.42)


def boundary_max_of_L(delta, n_angles=2000):
    """Max of L on the curve mean KL = delta, by bisection along rays from pi_old (independent of the grid).

    L is linear and the admitted set is convex (KL is convex in its second argument),
    so the constrained maximum lies on that curve.
    """
    mdp, old = tr.bridge_mdp(), tr.bridge_policy(*tr.OLD)
    nu = tabular.visitation(mdp, old)
    angles = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    direction = np.stack([np.cos(angles), np.sin(angles)], -1)
    center = np.array(tr.OLD)
    # Largest radius that stays inside the open square (KL is infinite on its edges).
    room = np.where(direction > 0, 1 - center, center)  # distance to the edge the ray heads for
    edge = np.min(np.divide(room, np.abs(direction), out=np.full_like(direction, np.inf),
                            where=direction != 0), axis=1)
    lo, hi = np.zeros(n_angles), edge * (1 - 1e-12)
    for _ in range(60):
        mid = (lo + hi) / 2
        points = center + mid[:, None] * direction
        inside = kl_rows(old, tr.bridge_policy(points[:, 0], points[:, 1])) @ nu <= delta
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    points = center + lo[:, None] * direction
    return surrogate_explicit(mdp, old, tr.bridge_policy(points[:, 0], points[:, 1])).max()


@pytest.mark.parametrize("k", range(len(tr.DELTAS)))
def test_trust_region_table_finds_the_best_admitted_policy(k):
    delta = tr.DELTAS[k]
    t = tr.trust_region_table()
    mdp, old = tr.bridge_mdp(), tr.bridge_policy(*tr.OLD)
    best = tr.bridge_policy(*t["best_p"][k])
    nu = tabular.visitation(mdp, old)
    assert kl_rows(old, best) @ nu <= delta  # admitted (E8)
    assert t["best_L"][k] == pytest.approx(tabular.surrogate(mdp, old, best), rel=1e-12)
    assert t["best_J"][k] == pytest.approx(tabular.objective(mdp, best), rel=1e-12)
    # The grid optimum is within one grid cell's worth of L of the exact constrained optimum.
    exact = boundary_max_of_L(delta)
    grad = np.abs(surrogate_explicit(mdp, old, tr.bridge_policy(1, 0)) - surrogate_explicit(mdp, old, old))
    grad += np.abs(surrogate_explicit(mdp, old, tr.bridge_policy(0.3, 1)) - surrogate_explicit(mdp, old, old))
    step = t["p"][1] - t["p"][0]
    assert exact - 3 * step * grad <= t["best_L"][k] <= exact + 1e-9
    # Tabular and exact: a step toward higher L in every visited state never lowers J.
    assert t["best_J"][k] > t["J_old"]
    numbers = tr.trust_region_numbers(delta)
    assert numbers["k"] == k and numbers["delta"] == delta
    np.testing.assert_array_equal(numbers["best_p"], t["best_p"][k])
    assert numbers["promised"] == pytest.approx(tabular.surrogate(mdp, old, best) - t["J_old"], rel=1e-12)
    assert numbers["achieved"] == pytest.approx(tabular.objective(mdp, best) - t["J_old"], rel=1e-12)


def test_trust_region_table_mean_kl_is_the_visitation_weighted_textbook_sum():
    t = tr.trust_region_table()
    mdp, old = tr.bridge_mdp(), tr.bridge_policy(*tr.OLD)
    nu = tabular.visitation(mdp, old)
    for i, j in ((1, 1), (120, 20), (200, 399), (399, 123)):  # inside the square: finite KL
        pi = tr.bridge_policy(t["p"][i], t["p"][j])
        assert t["mean_state_kl"][i, j] == pytest.approx(kl_rows(old, pi) @ nu, rel=1e-12)


def test_trust_region_curves_grow_with_delta_and_l_overpromises():
    t = tr.trust_region_table()
    assert np.all(np.diff(t["best_L"]) >= 0)  # a larger region never admits less
    assert np.all(t["best_L"] >= t["best_J"] - 1e-12)  # on the bridge MDP L overestimates along the way
    # A bigger trust region is not always better: J of the L-maximiser peaks before delta = 1.
    assert t["best_J"].argmax() < len(tr.DELTAS) - 1


def test_trust_region_numbers_reject_a_delta_off_the_slider():
    for bad in (0.0, 1e-5, 0.03, 3.0):
        with pytest.raises(ValueError, match="max_kl"):
            tr.trust_region_numbers(bad)
