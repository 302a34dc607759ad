"""Notebook 05: the same policy in other coordinates, and the steps the plain and the natural gradient take.

A reparametrisation writes the policy's parameters as theta = f(phi) with f invertible: the same set of
policies, other coordinates. Here f is elementwise, theta = scale * phi (linear) or
theta = scale * (exp(c phi) - 1) / c (curved). The plain gradient step phi + eta grad_phi L moves the policy
differently in each coordinate system: d theta = eta J J^T g to first order, with J = df/dphi. The natural
step (E9, E10, E11) taken in phi lands on the same policy as in theta, exactly when f is linear and to first
order when it is curved, because the Fisher matrix transforms as H_phi = J^T H J (the KL's gradient is 0 at
theta_old, so f's curvature adds nothing). Damping breaks the exactness: J^T H J + xi I is not
J^T (H + xi I) J.

Shapes: P parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from trpo_lite._validate import check_positive
from trpo_lite.cg import conjugate_gradient
from trpo_lite.examples.kl_geometry import SmallPolicy
from trpo_lite.examples.natural_gradient import ToyPolicy, ellipse_points, toy_kl, toy_surrogate
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad
from trpo_lite.step import natural_step_scale


@dataclass(frozen=True)
class Reparametrisation:
    """theta = scale * phi, or, with curvature c > 0, theta = scale * (exp(c phi) - 1) / c (the same slope
    scale at phi = 0, bending more as c grows); scale [P], every entry != 0."""

    name: str
    scale: torch.Tensor
    curvature: float = 0.0

    def to_theta(self, phi: torch.Tensor) -> torch.Tensor:
        c = self.curvature
        return self.scale * torch.expm1(c * phi) / c if c else self.scale * phi

    def to_phi(self, theta: torch.Tensor) -> torch.Tensor:
        """The coordinates phi [P] of theta [P]; curved ones exist only where c theta / scale > -1."""
        c = self.curvature
        if not c:
            return theta / self.scale
        if not bool((c * theta / self.scale > -1).all()):
            raise ValueError(f"{self.name}: c theta / scale must be > -1 everywhere for phi = log1p(...) / c")
        return torch.log1p(c * theta / self.scale) / c


CURVED_TOY = "θ = s (exp(φ/10) − 1) × 10, s = (2, ½): curved"


def toy_reparametrisations() -> list[Reparametrisation]:
    """The four coordinate systems notebook 05 draws for the two-parameter toy policy."""
    ones, uneven = torch.ones(2, dtype=torch.float64), torch.tensor([2.0, 0.5], dtype=torch.float64)
    return [Reparametrisation("θ itself", ones),
            Reparametrisation("θ = 2φ: every parameter doubled", 2 * ones),
            Reparametrisation("θ = (2φ₁, φ₂/2)", uneven),
            Reparametrisation(CURVED_TOY, uneven, curvature=0.1)]


def network_reparametrisations(small: SmallPolicy) -> list[Reparametrisation]:
    """Four coordinate systems for the small network: itself; every weight and bias doubled (theta = 2 phi,
    notebook 00's question 3); the first layer's weights stored doubled with the input halved (W s =
    (2W)(s/2), so theta = phi / 2 on those entries); and theta = exp(phi) - 1, curved."""
    ones = torch.ones_like(small.theta_old)
    first_layer = torch.ones_like(ones)
    first_layer[: small.policy[0].weight.numel()] = 0.5  # weight is the first parameter, biases follow
    return [Reparametrisation("θ itself", ones), Reparametrisation("every parameter doubled", 2 * ones),
            Reparametrisation("layer 1's weights doubled, input halved", first_layer),
            Reparametrisation("θ = exp(φ) − 1: curved", ones, curvature=1.0)]


def steps_in(reparam: Reparametrisation, theta_old: torch.Tensor, surrogate_gain: Callable, kl: Callable,
             max_kl: float, pg_lr: float, damping: float = 0.0, cg_iters: int = 10) -> dict:
    """The plain and the natural step taken in phi's coordinates, each mapped back to theta [P].

    surrogate_gain(theta) and kl(theta) are scalar functions of theta [P]. plain: f(phi + eta g_phi) with
    eta = pg_lr. natural: f(phi + beta x) with x from ``cg_iters`` conjugate-gradient iterations on
    (H_phi + damping I) x = g_phi (E10, E11) and beta = sqrt(2 delta / x^T (H_phi + damping I) x) (E9).
    """
    max_kl, pg_lr = check_positive("max_kl", max_kl), check_positive("pg_lr", pg_lr)
    phi_old = reparam.to_phi(theta_old)
    phi = phi_old.clone().requires_grad_()
    g = flat_grad(surrogate_gain(reparam.to_theta(phi)), [phi])
    fvp = fisher_vector_product_fn(kl(reparam.to_theta(phi)), [phi], damping)
    x = conjugate_gradient(fvp, g, iters=cg_iters)
    beta = natural_step_scale(x, fvp(x), max_kl)
    with torch.no_grad():
        return {"plain": reparam.to_theta(phi_old + pg_lr * g),
                "natural": reparam.to_theta(phi_old + beta * x)}


def compare_steps(reparams, theta_old: torch.Tensor, surrogate_gain: Callable, kl: Callable, max_kl: float,
                  pg_lr: float, damping: float = 0.0, cg_iters: int = 10) -> dict:
    """``steps_in`` for every reparametrisation, with each step's true KL from pi_old and true surrogate
    gain: {name: {"plain", "natural": [P] theta; "plain_kl", "natural_kl", "plain_gain", "natural_gain":
    floats}}."""
    table = {}
    for reparam in reparams:
        steps = steps_in(reparam, theta_old, surrogate_gain, kl, max_kl, pg_lr, damping, cg_iters)
        with torch.no_grad():
            for key in ("plain", "natural"):
                steps[f"{key}_kl"] = float(kl(steps[key]))
                steps[f"{key}_gain"] = float(surrogate_gain(steps[key]))
        table[reparam.name] = steps
    return table


def toy_picture(toy: ToyPolicy, max_kl: float, n: int = 200) -> dict:
    """What notebook 05's reparametrisation figure draws for the toy policy at trust-region radius max_kl
    (delta), with theta_old = 0, no damping and CG exact in 2 iterations.

    Returns a dict: ``steps`` (``compare_steps`` over ``toy_reparametrisations``, steps as numpy [2]);
    ``ellipse`` [n, 2], 1/2 d^T H d = delta; ``pg_lr`` (eta, chosen so that the plain step in theta's own
    coordinates ends on the ellipse) and ``max_kl``.
    """
    max_kl = check_positive("max_kl", max_kl)
    pg_lr = natural_step_scale(toy.g, toy.H @ toy.g, max_kl)
    steps = compare_steps(toy_reparametrisations(), torch.zeros(2, dtype=torch.float64),
                          lambda theta: toy_surrogate(toy.advantages, theta),
                          lambda theta: toy_kl(toy.pi_old, theta), max_kl, pg_lr, damping=0.0, cg_iters=2)
    for row in steps.values():
        row["plain"], row["natural"] = row["plain"].numpy(), row["natural"].numpy()
    return {"steps": steps, "ellipse": ellipse_points(toy.H, max_kl, n), "pg_lr": pg_lr, "max_kl": max_kl}


def first_order_gaps(toy: ToyPolicy, max_kls) -> np.ndarray:
    """[len(max_kls)]: |d_curved - d| / |d| between the natural step taken in the curved coordinates of
    ``toy_reparametrisations`` and the one taken in theta itself. They agree to first order in the step, so
    the gap shrinks like |d|, i.e. like sqrt(delta)."""
    gaps = []
    for max_kl in max_kls:
        steps = toy_picture(toy, max_kl, n=3)["steps"]
        mine, curved = steps["θ itself"]["natural"], steps[CURVED_TOY]["natural"]
        gaps.append(np.linalg.norm(curved - mine) / np.linalg.norm(mine))
    return np.array(gaps)
