"""Notebook-03 views: the stored samples, the E6 estimates and their exact moments, over the sliders' ranges.

References are independent: trpo_lite.surrogate on the explicit batch, tabular.surrogate for the exact L,
enumeration of every batch for the exact variance, plain loops for chi^2.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place

from trpo_lite import surrogate, tabular
from trpo_lite.views import importance as views


@pytest.fixture(scope="module")
def uniform_data():
    return views.old_data()


def test_policies_are_distributions_with_the_stated_shape():
    assert np.allclose(views.old_policy(0.25), views.frozenlake().uniform_policy())
    for eps in views.EPSILONS:
        pi = views.old_policy(eps)
        np.testing.assert_allclose(pi.sum(1), 1.0, atol=1e-12)
        assert np.allclose(np.sort(pi, 1)[:, 0], min(eps, (1 - eps) / 3))
    for alpha in views.ALPHAS:
        np.testing.assert_allclose(views.new_policy(alpha).sum(1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="eps"):
        views.old_policy(0.0)
    with pytest.raises(ValueError, match="alpha"):
        views.new_policy(1.5)


def test_stored_samples_follow_nu_old_times_pi_old(uniform_data):
    counts = uniform_data.counts
    for i, b in enumerate(views.SAMPLE_SIZES):
        assert (counts[i].sum(axis=(1, 2)) == b).all()  # every repeat holds exactly B pairs
    # Pooled frequencies of all N_REPEATS * max(B) draws against q = nu_old pi_old, within 5 binomial sd.
    q = uniform_data.visitation[:, None] * uniform_data.pi_old
    n = views.N_REPEATS * views.SAMPLE_SIZES[-1]
    freq = counts[-1].sum(0) / n
    assert np.all(np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / n) + 1e-12)
    assert counts[-1][:, q == 0].sum() == 0  # never a pair the old policy cannot reach


def test_estimates_equal_the_package_surrogate_on_the_explicit_batch(uniform_data):
    mdp, pi_new = views.frozenlake(), views.new_policy(0.7)
    adv = uniform_data.advantages
    for i, b in enumerate(views.SAMPLE_SIZES):
        est = views.estimates(uniform_data, pi_new, b)
        for r in (0, 17, views.N_REPEATS - 1):
            pairs = np.repeat(np.arange(adv.size), uniform_data.counts[i, r].ravel())
            s, a = np.unravel_index(pairs, adv.shape)
            log_new = torch.as_tensor(np.log(pi_new[s, a]))
            log_old = torch.as_tensor(np.log(uniform_data.pi_old[s, a]))
            gain = surrogate(log_new, log_old, torch.as_tensor(adv[s, a])).item()
            expected = tabular.objective(mdp, uniform_data.pi_old) + gain / (1 - mdp.gamma)
            assert est[r] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="n_samples"):
        views.estimates(uniform_data, pi_new, 7)


@pytest.mark.parametrize("eps", views.EPSILONS)
def test_e6_identity_holds_exactly(eps):
    # E_{nu_old} E_{pi_old}[rho A] = E_{nu_old} E_{pi_new}[A], so J(old) + it / (1 - gamma) is L (E5).
    data, pi_new, mdp = views.old_data(eps), views.new_policy(0.5), views.frozenlake()
    q = data.visitation[:, None] * data.pi_old
    gain = (q * views.ratios(data, pi_new) * data.advantages).sum()
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
        assert views.is_variance(old, new, values, b) == pytest.approx(exact_var, rel=1e-12)
        assert probs @ means == pytest.approx(new @ values, rel=1e-12)  # unbiased


def test_chi_square_against_a_loop_and_twice_the_kl_for_small_steps(uniform_data):
    rng = np.random.default_rng(6)
    old, new = rng.dirichlet(np.ones(5), size=2)
    loop = sum(n * n / o for o, n in zip(old, new, strict=True)) - 1
    assert views.chi_square(old, new) == pytest.approx(loop)
    assert views.chi_square(old, old) == pytest.approx(0.0, abs=1e-14)
    # Both divergences are quadratic at new = old with chi^2 = 2 KL to leading order.
    small = views.exact_summary(uniform_data, views.new_policy(0.01))
    assert small["chi2"] / small["kl"] == pytest.approx(2.0, rel=0.03)
    far = views.exact_summary(uniform_data, views.new_policy(0.9))
    assert far["chi2"] == pytest.approx(3 * 0.9**2)  # uniform old, greedy mix: 3 alpha^2 in every state


@pytest.mark.parametrize("eps", views.EPSILONS)
@pytest.mark.parametrize("n_samples", views.SAMPLE_SIZES)
def test_estimates_are_unbiased_within_standard_errors(eps, n_samples):
    data = views.old_data(eps)
    for alpha in views.ALPHAS if eps == 0.25 else (0.5,):
        pi_new = views.new_policy(alpha)
        exact = views.exact_summary(data, pi_new, n_samples)
        est = views.estimates(data, pi_new, n_samples)
        assert abs(est.mean() - exact["surrogate"]) < 4 * exact["sd"] / np.sqrt(views.N_REPEATS)


@pytest.mark.parametrize("n_samples", views.SAMPLE_SIZES)
def test_empirical_variance_matches_the_closed_form_on_the_mixing_path(uniform_data, n_samples):
    for alpha in views.ALPHAS:
        pi_new = views.new_policy(alpha)
        est = views.estimates(uniform_data, pi_new, n_samples)
        exact_var = views.exact_summary(uniform_data, pi_new, n_samples)["sd"] ** 2
        assert abs(est.var(ddof=1) - exact_var) < 4 * views.variance_se(est)


def test_variance_sweep_grows_with_the_spread_and_stays_under_the_bound(uniform_data):
    sweep = views.variance_sweep()
    mix, rare = sweep["alpha"], sweep["eps"]
    assert np.all(np.diff(mix["chi2"]) > 0) and np.all(np.diff(rare["chi2"]) > 0)
    assert np.all(np.diff(rare["var"]) > 0)
    assert mix["var"][-1] > 2.5 * mix["var"][0]
    assert rare["var"][-1] > 100 * rare["var"][0]
    assert rare["kl"].max() < 1.0  # KL(old || new) stays bounded while the variance explodes
    # Var <= max|A|^2 E_old[rho^2] / (1 - gamma)^2, per sample, in L units.
    for name, rows in sweep.items():
        for param, chi2, var in zip(rows["param"], rows["chi2"], rows["var"], strict=True):
            data = uniform_data if name == "alpha" else views.old_data(param)
            bound = np.abs(data.advantages).max() ** 2 * (1 + chi2) / (1 - views.GAMMA) ** 2
            assert var <= bound
    fig = views.variance_figure()
    assert len(fig.axes) == 2
    plt.close(fig)


def _line(ax, prefix):
    (line,) = [ln for ln in ax.lines if ln.get_label().startswith(prefix)]
    return line.get_xdata()[0]


def _check_estimator_figure(fig, data, pi_new, n_samples):
    (ax,) = fig.axes
    exact = views.exact_summary(data, pi_new, n_samples)
    est = views.estimates(data, pi_new, n_samples)
    assert _line(ax, "exact L") == pytest.approx(exact["surrogate"], abs=1e-14)
    assert _line(ax, "mean of estimates") == pytest.approx(est.mean(), abs=1e-14)
    assert _line(ax, "median") == pytest.approx(np.median(est), abs=1e-14)
    lo, hi = ax.get_xlim()
    assert lo < exact["surrogate"] < hi and np.mean((est >= lo) & (est <= hi)) >= 0.99


@pytest.mark.parametrize("alpha", views.ALPHAS)
def test_ratio_distribution_on_the_mixing_path(uniform_data, alpha):
    # Uniform old, greedy mix: rho = 1 + 3 alpha on a* (prob 1/4), 1 - alpha elsewhere (prob 3/4).
    values, probs = views.ratio_distribution(uniform_data, views.new_policy(alpha))
    expected = {1 - alpha: 0.75, 1 + 3 * alpha: 0.25} if alpha > 0 else {1.0: 1.0}
    np.testing.assert_allclose(values, sorted(expected), atol=1e-9)
    np.testing.assert_allclose(probs, [expected[k] for k in sorted(expected)], atol=1e-12)


@pytest.mark.parametrize("eps", views.EPSILONS[1:])
def test_ratio_distribution_with_a_rare_action(eps):
    values, probs = views.ratio_distribution(views.old_data(eps), views.new_policy(0.5))
    np.testing.assert_allclose(values, [0.125 / ((1 - eps) / 3), 0.625 / eps], rtol=1e-9)
    np.testing.assert_allclose(probs, [1 - eps, eps], atol=1e-12)
    assert values @ probs == pytest.approx(1.0)  # E_old[rho] = 1


@pytest.mark.parametrize("n_samples", views.SAMPLE_SIZES)
def test_estimator_view_over_the_alpha_slider(uniform_data, n_samples):
    xlims = set()
    for alpha in views.ALPHAS if n_samples == 100 else views.ALPHAS[::6]:
        fig = views.estimator_view(alpha, n_samples)
        _check_estimator_figure(fig, uniform_data, views.new_policy(alpha), n_samples)
        xlims.add(fig.axes[0].get_xlim())
        plt.close(fig)
    assert len(xlims) == 1  # one range for the whole alpha slider, so the widening is visible


@pytest.mark.parametrize("eps", views.EPSILONS)
def test_rare_action_view_over_its_slider(eps):
    data, pi_new = views.old_data(eps), views.new_policy(0.5)
    for n_samples in views.SAMPLE_SIZES:
        fig = views.rare_action_view(eps, n_samples)
        _check_estimator_figure(fig, data, pi_new, n_samples)
        plt.close(fig)
    # With pi_old(a*|s) small, a typical batch misses a* and underestimates L: median < exact L.
    est, exact = views.estimates(data, pi_new, 100), views.exact_summary(data, pi_new)["surrogate"]
    if eps <= 0.01:
        assert np.median(est) < exact - 0.5 * (exact - data.objective)


@pytest.mark.parametrize(
    ("view", "a", "b"),
    [
        (views.estimator_view, {"alpha": 0.0, "n_samples": 10}, {"alpha": 0.95, "n_samples": 1000}),
        (views.estimator_view, {"alpha": 0.5, "n_samples": 100}, {"alpha": 0.55, "n_samples": 100}),
        (views.rare_action_view, {"eps": 0.25, "n_samples": 100}, {"eps": 0.001, "n_samples": 100}),
        (views.rare_action_view, {"eps": 0.01, "n_samples": 30}, {"eps": 0.01, "n_samples": 300}),
    ],
)
def test_redraw_depends_only_on_the_arguments(view, a, b):
    assert_redraws_in_place(view, tuple(a.values()), tuple(b.values()))
