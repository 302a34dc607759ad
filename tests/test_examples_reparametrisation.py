"""Notebook 05's reparametrisations: coordinates and their inverses, the plain step against eta J J^T g, the
natural step against the toy's direct E9 solve, the Fisher matrix's transformation against autograd's
Hessian, and the curved coordinates' agreement to first order."""

import numpy as np
import pytest
import torch

from trpo_lite.examples import kl_geometry as kg
from trpo_lite.examples import natural_gradient as ng
from trpo_lite.examples import reparametrisation as rp


@pytest.fixture(scope="module")
def toy():
    return ng.make_toy_policy(grid_size=21)


@pytest.fixture(scope="module")
def small():
    return kg.make_small_policy(seed=0)


def test_coordinates_round_trip_and_bad_ones_are_named():
    theta = torch.tensor([0.3, -0.4, 1.5], dtype=torch.float64)
    for curvature in (0.0, 0.1, 1.0):
        reparam = rp.Reparametrisation("r", torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64), curvature)
        assert torch.allclose(reparam.to_theta(reparam.to_phi(theta)), theta, rtol=1e-14, atol=0)
    curved = rp.Reparametrisation("θ = exp(φ) − 1: curved", torch.ones(1, dtype=torch.float64), 1.0)
    assert float(curved.to_theta(torch.tensor([np.log(3.0)], dtype=torch.float64))) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="θ = exp"):
        curved.to_phi(torch.tensor([-1.5], dtype=torch.float64))


def test_toy_linear_coordinates_give_the_e9_step_and_plain_steps_eta_j_jt_g(toy):
    for max_kl in (0.005, 0.05):
        picture = rp.toy_picture(toy, max_kl, n=50)
        direct = ng.trust_region_steps(toy, max_kl, damping=0.0)["natural"]  # torch.linalg.solve, in theta
        g, eta = toy.g.numpy(), picture["pg_lr"]
        assert 0.5 * eta**2 * g @ toy.H.numpy() @ g == pytest.approx(max_kl, rel=1e-12)  # on the ellipse
        for reparam in rp.toy_reparametrisations():
            row = picture["steps"][reparam.name]
            if reparam.curvature:
                continue
            assert np.allclose(row["natural"], direct, rtol=1e-10, atol=1e-12)
            jjt = reparam.scale.numpy() ** 2  # J = diag(scale)
            assert np.allclose(row["plain"], eta * jjt * g, rtol=1e-12, atol=1e-15)
            theta = torch.as_tensor(row["plain"])
            assert row["plain_kl"] == pytest.approx(float(ng.toy_kl(toy.pi_old, theta)), rel=1e-12)
            gain = float(ng.toy_surrogate(toy.advantages, theta))
            assert row["plain_gain"] == pytest.approx(gain, rel=1e-12)
        outline = picture["ellipse"]
        quadratic = 0.5 * np.einsum("np,pq,nq->n", outline, toy.H.numpy(), outline)
        assert np.allclose(quadratic, max_kl, rtol=1e-12)


def test_fisher_matrix_transforms_as_jt_h_j_even_when_curved(small):
    H = torch.autograd.functional.hessian(small.kl, small.theta_old)
    for reparam in rp.network_reparametrisations(small):
        phi_old = reparam.to_phi(small.theta_old)
        H_phi = torch.autograd.functional.hessian(lambda phi, r=reparam: small.kl(r.to_theta(phi)), phi_old)
        J = torch.autograd.functional.jacobian(reparam.to_theta, phi_old)  # diagonal
        assert torch.allclose(H_phi, J.T @ H @ J, rtol=1e-9, atol=1e-13)


def test_network_reparametrisations_are_the_ones_named(small):
    names = [r.name for r in rp.network_reparametrisations(small)]
    assert names[1] == "every parameter doubled" and len(set(names)) == 4
    first = rp.network_reparametrisations(small)[2]
    weight = small.policy[0].weight
    assert torch.all(first.scale[: weight.numel()] == 0.5) and torch.all(first.scale[weight.numel():] == 1)
    # the same function: (2 W)(s / 2) = W s, so the stored weights 2 W are theta / 0.5
    stored = first.to_phi(small.theta_old)[: weight.numel()].view_as(weight)
    assert torch.allclose(stored @ (small.obs.T / 2), weight.detach() @ small.obs.T, rtol=1e-14, atol=1e-15)


def test_network_steps_without_damping_agree_in_linear_coordinates_with_damping_nearly(small):
    theta = small.theta_old.clone().requires_grad_()
    g = torch.autograd.grad(small.surrogate_gain(theta), theta)[0]
    reparams = rp.network_reparametrisations(small)
    table = rp.compare_steps(reparams, small.theta_old, small.surrogate_gain, small.kl, 0.01, 1.0,
                             damping=0.1, cg_iters=10)
    base = table["θ itself"]
    doubled = table["every parameter doubled"]
    assert torch.allclose(doubled["plain"] - small.theta_old, 4 * g, rtol=1e-12, atol=0)
    assert torch.allclose(base["plain"] - small.theta_old, g, rtol=1e-12, atol=0)
    natural = [row["natural_kl"] for row in table.values()]
    plain = [row["plain_kl"] for row in table.values()]
    assert max(natural) / min(natural) < 1.2 < 10 < max(plain) / min(plain)
    for row in table.values():
        assert row["natural_kl"] == pytest.approx(float(small.kl(row["natural"])), rel=1e-12)
    # theta = 2 phi with damping xi is theta's own problem with damping xi / 4 (exact solves: 200 iterations)
    problem = (small.theta_old, small.surrogate_gain, small.kl, 0.01, 1.0)
    in_phi = rp.steps_in(reparams[1], *problem, damping=0.4, cg_iters=200)
    in_theta = rp.steps_in(reparams[0], *problem, damping=0.1, cg_iters=200)
    assert torch.allclose(in_phi["natural"], in_theta["natural"], rtol=0, atol=1e-8)


def test_curved_coordinates_agree_to_first_order(toy):
    gaps = rp.first_order_gaps(toy, [0.1, 0.01, 0.001, 0.0001])
    assert np.all(np.diff(gaps) < 0) and gaps[-1] < 0.01
    # the gap is proportional to the step, i.e. to sqrt(delta): gap / sqrt(delta) settles
    ratio = gaps / np.sqrt([0.1, 0.01, 0.001, 0.0001])
    assert np.ptp(ratio[1:]) < 0.02 * ratio[-1] + 0.01


def test_bad_arguments_are_named(toy, small):
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0; got 0"):
        rp.toy_picture(toy, 0)
    with pytest.raises(ValueError, match="pg_lr must be a finite number > 0; got -1"):
        rp.steps_in(rp.network_reparametrisations(small)[0], small.theta_old, small.surrogate_gain, small.kl,
                    0.01, -1)
