"""Notebook-03 numbers: the stored samples, the E6 estimates and their exact moments, over the sliders'
ranges.

References are independent: trpo_lite.surrogate on the explicit batch, tabular.surrogate for the exact L,
enumeration of every batch for the exact variance, plain loops for chi^2 and the KL, the lake's map for the
states where every action ties.
"""

import itertools

import numpy as np
import pytest
import torch

from trpo_lite import surrogate, tabular
from trpo_lite.examples import importance as ex
from trpo_lite.examples.frozen_lake import lake_map, lake_mdp

# Holes, the goal and the absorbing state (index 16): every action ends or continues the same way there.
TIED = np.append(np.isin(lake_map().ravel(), [b"H", b"G"]), True)


@pytest.fixture(scope="module")
def uniform_data():
    return ex.old_data()


def test_policies_are_distributions_with_the_stated_shape():
    assert np.allclose(ex.old_policy(0.25), lake_mdp(ex.GAMMA).uniform_policy())
    for p in ex.RARE_PROBS:
        pi = ex.old_policy(p)
        np.testing.assert_allclose(pi.sum(1), 1.0, atol=1e-12)
        assert np.allclose(np.sort(pi[~TIED], 1)[:, 0], min(p, (1 - p) / 3))
        np.testing.assert_allclose(pi[TIED], 0.25)  # pi_new favours no action there
    for kappa in ex.KAPPAS:
        np.testing.assert_allclose(ex.new_policy(kappa).sum(1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="p must lie in"):
        ex.old_policy(0.0)
    with pytest.raises(ValueError, match="kappa"):
        ex.new_policy(1.5)


def test_the_greedy_end_of_the_path_moves_only_where_an_action_is_best(uniform_data):
    greedy, adv = ex.new_policy(1.0), uniform_data.advantages
    np.testing.assert_allclose(greedy[TIED], 0.25)  # kept uniform: moving there would only add KL
    assert np.all(np.ptp(adv[TIED], 1) == 0)
    chosen = greedy[~TIED].argmax(1)
    np.testing.assert_array_equal(greedy[~TIED], np.eye(4)[chosen])
    np.testing.assert_allclose(adv[~TIED][np.arange(len(chosen)), chosen], adv[~TIED].max(1), rtol=1e-12)
    np.testing.assert_allclose(ex.ratios(uniform_data, ex.new_policy(0.5))[TIED], 1.0)


def test_stored_samples_follow_nu_old_times_pi_old(uniform_data):
    counts = uniform_data.counts
    for i, b in enumerate(ex.SAMPLE_SIZES):
        assert (counts[i].sum(axis=(1, 2)) == b).all()  # every repeat holds exactly B pairs
    # Pooled frequencies of all N_REPEATS * max(B) draws against q = nu_old pi_old, within 5 binomial sd.
    q = uniform_data.visitation[:, None] * uniform_data.pi_old
    n = ex.N_REPEATS * ex.SAMPLE_SIZES[-1]
    freq = counts[-1].sum(0) / n
    assert np.all(np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / n) + 1e-12)
    assert counts[-1][:, q == 0].sum() == 0  # never a pair the old policy cannot reach


def test_estimates_equal_the_package_surrogate_on_the_explicit_batch(uniform_data):
    mdp, pi_new = lake_mdp(ex.GAMMA), ex.new_policy(0.7)
    adv = uniform_data.advantages
    for i, b in enumerate(ex.SAMPLE_SIZES):
        est = ex.estimates(uniform_data, pi_new, b)
        for r in (0, 17, ex.N_REPEATS - 1):
            pairs = np.repeat(np.arange(adv.size), uniform_data.counts[i, r].ravel())
            s, a = np.unravel_index(pairs, adv.shape)
            log_new = torch.as_tensor(np.log(pi_new[s, a]))
            log_old = torch.as_tensor(np.log(uniform_data.pi_old[s, a]))
            gain = surrogate(log_new, log_old, torch.as_tensor(adv[s, a])).item()
            expected = tabular.objective(mdp, uniform_data.pi_old) + gain / (1 - mdp.gamma)
            assert est[r] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="n_samples"):
        ex.estimates(uniform_data, pi_new, 7)


@pytest.mark.parametrize("p", ex.RARE_PROBS)
def test_e6_identity_holds_exactly(p):
    # E_{nu_old} E_{pi_old}[rho A] = E_{nu_old} E_{pi_new}[A], so J(old) + it / (1 - gamma) is L (E5).
    data, pi_new, mdp = ex.old_data(p), ex.new_policy(0.5), lake_mdp(ex.GAMMA)
    q = data.visitation[:, None] * data.pi_old
    gain = (q * ex.ratios(data, pi_new) * data.advantages).sum()
    assert data.objective + gain / (1 - mdp.gamma) == pytest.approx(
        tabular.surrogate(mdp, data.pi_old, pi_new), abs=1e-13)


def test_is_variance_matches_enumeration_of_every_batch():
    rng = np.random.default_rng(5)
    old, new = rng.dirichlet(np.ones(4), size=2)
    values = rng.normal(size=4)
    for b in (1, 2, 3):
        outcomes = [(np.prod(old[list(t)]), np.mean((new / old * values)[list(t)]))
                    for t in itertools.product(range(4), repeat=b)]
        probs, means = np.array(outcomes).T
        exact_var = probs @ (means - probs @ means) ** 2
        assert ex.is_variance(old, new, values, b) == pytest.approx(exact_var, rel=1e-12)
        assert probs @ means == pytest.approx(new @ values, rel=1e-12)  # unbiased


def test_chi_square_against_a_loop_and_twice_the_kl_for_small_steps(uniform_data):
    rng = np.random.default_rng(6)
    old, new = rng.dirichlet(np.ones(5), size=2)
    loop = sum(n * n / o for o, n in zip(old, new, strict=True)) - 1
    assert ex.chi_square(old, new) == pytest.approx(loop)
    assert ex.chi_square(old, old) == pytest.approx(0.0, abs=1e-14)
    # Both divergences are quadratic at new = old with chi^2 = 2 KL to leading order.
    small = ex.exact_summary(uniform_data, ex.new_policy(0.01))
    assert small["chi2"] / small["kl"] == pytest.approx(2.0, rel=0.03)
    # Uniform old, greedy mix: 3 kappa^2 in every state with a best action, 0 where all actions tie.
    far = ex.exact_summary(uniform_data, ex.new_policy(0.9))
    assert far["chi2"] == pytest.approx(3 * 0.9**2 * uniform_data.visitation[~TIED].sum())


@pytest.mark.parametrize("p", ex.RARE_PROBS)
def test_mean_kl_is_the_visitation_weighted_textbook_sum(p):
    data, pi_new = ex.old_data(p), ex.new_policy(0.5)
    per_state = [sum(o * np.log(o / n) for o, n in zip(old, new, strict=True) if o > 0)
                 for old, new in zip(data.pi_old, pi_new, strict=True)]
    assert ex.exact_summary(data, pi_new)["kl"] == pytest.approx(data.visitation @ per_state, rel=1e-12)


@pytest.mark.parametrize("p", ex.RARE_PROBS)
@pytest.mark.parametrize("n_samples", ex.SAMPLE_SIZES)
def test_estimates_are_unbiased_within_standard_errors(p, n_samples):
    data = ex.old_data(p)
    for kappa in ex.KAPPAS if p == 0.25 else (0.5,):
        pi_new = ex.new_policy(kappa)
        exact = ex.exact_summary(data, pi_new, n_samples)
        est = ex.estimates(data, pi_new, n_samples)
        assert abs(est.mean() - exact["surrogate"]) < 4 * exact["sd"] / np.sqrt(ex.N_REPEATS)


@pytest.mark.parametrize("n_samples", ex.SAMPLE_SIZES)
def test_empirical_variance_matches_the_closed_form_on_the_mixing_path(uniform_data, n_samples):
    for kappa in ex.KAPPAS:
        pi_new = ex.new_policy(kappa)
        est = ex.estimates(uniform_data, pi_new, n_samples)
        exact_var = ex.exact_summary(uniform_data, pi_new, n_samples)["sd"] ** 2
        assert abs(est.var(ddof=1) - exact_var) < 4 * ex.variance_se(est)


def test_variance_sweep_grows_with_the_spread_and_stays_under_the_bound(uniform_data):
    sweep = ex.variance_sweep()
    mix, rare = sweep["kappa"], sweep["p"]
    assert np.all(np.diff(mix["chi2"]) > 0) and np.all(np.diff(rare["chi2"]) > 0)
    assert np.all(np.diff(rare["var"]) > 0)
    assert mix["var"][-1] > 2.5 * mix["var"][0]
    assert rare["var"][-1] > 100 * rare["var"][0]
    assert rare["kl"].max() < 1.0  # KL(old || new) stays bounded while the variance explodes
    # Var <= max|A|^2 E_old[rho^2] / (1 - gamma)^2, per sample, in L units.
    for name, rows in sweep.items():
        for param, chi2, var in zip(rows["param"], rows["chi2"], rows["var"], strict=True):
            data = uniform_data if name == "kappa" else ex.old_data(param)
            bound = np.abs(data.advantages).max() ** 2 * (1 + chi2) / (1 - ex.GAMMA) ** 2
            assert var <= bound


@pytest.mark.parametrize("kappa", ex.KAPPAS)
def test_ratio_distribution_on_the_mixing_path(uniform_data, kappa):
    # Uniform old, greedy mix: where an action is best, rho = 1 + 3 kappa on a* (prob 1/4), 1 - kappa
    # elsewhere (prob 3/4); where every action ties, pi_new stays uniform and rho = 1.
    share = uniform_data.visitation[~TIED].sum()
    values, probs = ex.ratio_distribution(uniform_data, ex.new_policy(kappa))
    expected = {1 - kappa: 0.75 * share, 1.0: 1 - share, 1 + 3 * kappa: 0.25 * share}
    if kappa == 0:
        expected = {1.0: 1.0}
    np.testing.assert_allclose(values, sorted(expected), atol=1e-9)
    np.testing.assert_allclose(probs, [expected[k] for k in sorted(expected)], atol=1e-12)


@pytest.mark.parametrize("p", ex.RARE_PROBS[1:])
def test_ratio_distribution_with_a_rare_action(p):
    data = ex.old_data(p)
    share = data.visitation[~TIED].sum()
    values, probs = ex.ratio_distribution(data, ex.new_policy(0.5))
    np.testing.assert_allclose(values, [0.125 / ((1 - p) / 3), 1.0, 0.625 / p], rtol=1e-9)
    np.testing.assert_allclose(probs, [(1 - p) * share, 1 - share, p * share], atol=1e-12)
    assert values @ probs == pytest.approx(1.0)  # E_old[rho] = 1


def check_histogram_numbers(numbers, data, pi_new, n_samples):
    """The numbers a histogram view shows are those of estimates and exact_summary, and its x-range holds
    the exact L and the central 99% of the estimates."""
    exact, est = ex.exact_summary(data, pi_new, n_samples), ex.estimates(data, pi_new, n_samples)
    np.testing.assert_array_equal(numbers["estimates"], est)
    assert numbers["exact"] == exact
    assert numbers["mean"] == est.mean() and numbers["median"] == np.median(est)
    assert numbers["sd"] == pytest.approx(np.std(est, ddof=1), rel=1e-12)
    assert numbers["se"] == pytest.approx(exact["sd"] / np.sqrt(ex.N_REPEATS), rel=1e-12)
    values, probs = ex.ratio_distribution(data, pi_new)
    np.testing.assert_array_equal(numbers["ratio_values"], values)
    np.testing.assert_array_equal(numbers["ratio_probs"], probs)
    lo, hi = numbers["span"]
    assert lo <= exact["surrogate"] <= hi and np.mean((est >= lo) & (est <= hi)) >= 0.99


@pytest.mark.parametrize("n_samples", ex.SAMPLE_SIZES)
def test_estimator_numbers_over_the_kappa_slider(uniform_data, n_samples):
    spans = set()
    for kappa in ex.KAPPAS if n_samples == 100 else ex.KAPPAS[::6]:
        numbers = ex.estimator_numbers(kappa, n_samples)
        check_histogram_numbers(numbers, uniform_data, ex.new_policy(kappa), n_samples)
        spans.add(numbers["span"])
    assert len(spans) == 1  # one range for the whole kappa slider, so the widening is visible


@pytest.mark.parametrize("p", ex.RARE_PROBS)
def test_rare_action_numbers_over_their_slider(p):
    data, pi_new = ex.old_data(p), ex.new_policy(0.5)
    for n_samples in ex.SAMPLE_SIZES:
        check_histogram_numbers(ex.rare_action_numbers(p, n_samples), data, pi_new, n_samples)
    # With pi_old(a*|s) small, a typical batch misses a* and underestimates L: median < exact L.
    est, exact = ex.estimates(data, pi_new, 100), ex.exact_summary(data, pi_new)["surrogate"]
    if p <= 0.01:
        assert np.median(est) < exact - 0.5 * (exact - data.objective)
