"""Notebook 05's numbers: the toy's g and H, its exact grids, the E9 steps over the slider range and the
outlines the view draws, each against an independent computation."""

import numpy as np
import pytest
import torch
from torch.distributions import Categorical

from trpo_lite.examples import natural_gradient as ng
from trpo_lite.importance import mean_kl

MAX_KLS = np.round(np.arange(0.005, 0.1001, 0.005), 3)  # the delta slider's values
DAMPINGS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # every other value of the damping slider


@pytest.fixture(scope="module")
def toy():
    return ng.make_toy_policy()


def test_toy_g_and_h_match_finite_differences_and_the_explicit_hessian(toy):
    # H from E10 products against torch.autograd.functional.hessian; g against central differences.
    theta_old = torch.zeros(2, dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda t: ng.toy_kl(toy.pi_old, t), theta_old)
    torch.testing.assert_close(toy.H, H, rtol=1e-10, atol=1e-12)
    eps = 1e-6
    fd = [(ng.toy_surrogate(toy.advantages, e * eps) - ng.toy_surrogate(toy.advantages, -e * eps)) / (2 * eps)
          for e in torch.eye(2, dtype=torch.float64)]
    torch.testing.assert_close(toy.g, torch.stack(fd), rtol=1e-7, atol=1e-9)
    # The picture needs a tilted, stretched ellipse: natural and plain directions must differ.
    eigenvalues = torch.linalg.eigvalsh(toy.H)
    assert eigenvalues[1] / eigenvalues[0] > 5
    torch.testing.assert_close((toy.pi_old * toy.advantages).sum(-1), torch.zeros(3, dtype=torch.float64))


def test_toy_grids_hold_the_exact_surrogate_and_kl(toy):
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, len(toy.axis), size=(5, 2)):
        theta = torch.tensor([toy.axis[j], toy.axis[i]], dtype=torch.float64)
        new = torch.softmax(ng.toy_logits(theta), -1)
        # KL as the plain sum p log(p / q), and once through the package's mean_kl.
        kl = (toy.pi_old * torch.log(toy.pi_old / new)).sum(-1).mean().item()
        assert toy.kl_grid[i, j] == pytest.approx(kl, rel=1e-12)
        package_kl = mean_kl(Categorical(probs=toy.pi_old), Categorical(probs=new)).item()
        assert kl == pytest.approx(package_kl, rel=1e-12)
        gain = sum((new[s] * toy.advantages[s]).sum().item() for s in range(3)) / 3
        assert toy.surrogate_grid[i, j] == pytest.approx(gain, rel=1e-10, abs=1e-14)
    assert toy.kl_grid.min() < 1e-15  # the grid holds d = 0 itself: its neighbours already have KL ~1e-4


@pytest.mark.parametrize("max_kl", MAX_KLS)
def test_steps_over_the_slider_range(toy, max_kl):
    H, g = toy.H.numpy(), toy.g.numpy()
    angles, natural_linear = [], None
    for damping in DAMPINGS:
        s = ng.trust_region_steps(toy, max_kl, damping)
        damped = H + damping * np.eye(2)
        # E9: the natural step ends on the damped ellipse and beats every other point of it on g^T d.
        assert 0.5 * s["natural"] @ damped @ s["natural"] == pytest.approx(max_kl, rel=1e-10)
        boundary = ng.ellipse_points(torch.as_tensor(damped), max_kl, n=20000)
        assert g @ s["natural"] >= (boundary @ g).max() - 1e-12
        assert g @ s["natural"] == pytest.approx((boundary @ g).max(), rel=1e-6)
        if damping == 0:
            natural_linear = g @ s["natural"]
            x = np.linalg.solve(H, g)
            assert natural_linear == pytest.approx(np.sqrt(2 * max_kl * g @ x), rel=1e-10)
            cos = g @ x / (np.linalg.norm(g) * np.linalg.norm(x))
            assert s["angle"] == pytest.approx(np.degrees(np.arccos(cos)))
        angles.append(s["angle"])
    # The plain steps point along g: one on the equal-area ball, one on the undamped ellipse.
    for key in ("plain", "plain_cut"):
        assert abs(s[key] @ g) == pytest.approx(np.linalg.norm(s[key]) * np.linalg.norm(g), rel=1e-12)
    ellipse_area = np.pi * 2 * max_kl / np.sqrt(np.linalg.det(H))  # pi a b for 1/2 d^T H d <= delta
    assert np.pi * s["radius"] ** 2 == pytest.approx(ellipse_area, rel=1e-10)
    assert np.linalg.norm(s["plain"]) == pytest.approx(s["radius"], rel=1e-12)
    assert 0.5 * s["plain_cut"] @ H @ s["plain_cut"] == pytest.approx(max_kl, rel=1e-10)
    assert natural_linear > g @ s["plain_cut"]  # on the same ellipse, the natural direction gains more
    # Damping turns the direction toward g, monotonically, and almost onto it at the slider's end.
    assert np.all(np.diff(angles) < 0) and angles[-1] < 10 < 45 < angles[0]
    # The grid optimum of E8 is feasible and at least as good as any feasible step we drew.
    assert s["best_kl"] <= max_kl
    drawn = [s[f"{k}_gain"] for k in ("natural", "plain", "plain_cut") if s[f"{k}_kl"] <= max_kl]
    assert s["best_gain"] >= max(drawn)


def test_quadratic_model_is_exact_as_delta_shrinks(toy):
    # KL = 1/2 d^T H d + O(|d|^3): the relative error of the model shrinks with delta.
    max_kls = (0.1, 0.01, 0.001, 0.0001)
    errors = [abs(ng.trust_region_steps(toy, m, 0.0)["natural_kl"] / m - 1) for m in max_kls]
    assert np.all(np.diff(errors) < 0) and errors[-1] < 0.01 < errors[0]


def test_picture_outlines_are_the_ellipses_and_the_ball(toy):
    for max_kl, damping in [(0.005, 0.0), (0.05, 0.3), (0.1, 1.0)]:
        s = ng.trust_region_picture(toy, max_kl, damping, n=50)
        steps = ng.trust_region_steps(toy, max_kl, damping)
        for key in ("natural", "plain", "plain_cut", "best", "radius", "angle", "natural_kl", "best_gain"):
            assert np.array_equal(s[key], steps[key])
        H = toy.H.numpy()
        for key, matrix in (("ellipse", H), ("damped_ellipse", H + damping * np.eye(2))):
            assert s[key].shape == (50, 2)
            quad = 0.5 * np.einsum("np,pq,nq->n", s[key], matrix, s[key])
            assert np.allclose(quad, max_kl, rtol=1e-12)
        assert np.allclose(np.linalg.norm(s["ball"], axis=-1), s["radius"], rtol=1e-12)
        # each outline goes once around theta_old: its polar angle sweeps 2 pi
        for key in ("ellipse", "damped_ellipse", "ball"):
            turns = np.diff(np.unwrap(np.arctan2(s[key][:, 1], s[key][:, 0])))
            assert np.all(turns > 0) and np.isclose(turns.sum(), 2 * np.pi)


def test_bad_arguments_are_named(toy):
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0; got 0"):
        ng.trust_region_steps(toy, 0, 0.0)
    with pytest.raises(ValueError, match="damping must be a finite number >= 0; got -0.1"):
        ng.trust_region_steps(toy, 0.01, -0.1)
    with pytest.raises(ValueError, match="grid_size must be an integer >= 3; got 2"):
        ng.make_toy_policy(grid_size=2)
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0; got -1"):
        ng.trust_region_picture(toy, -1, 0.0)


def test_huge_damping_gives_the_plain_direction_without_nan(toy):
    s = ng.trust_region_steps(toy, 0.05, 1e8)
    assert 0 <= s["angle"] < 1e-3
    assert 0.5 * s["natural"] @ (toy.H.numpy() + 1e8 * np.eye(2)) @ s["natural"] == pytest.approx(0.05)
