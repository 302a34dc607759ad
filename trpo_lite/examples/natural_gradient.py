"""Notebook 05's two-parameter policy: its trust region, true and quadratic, and the steps in it (E8, E9).

The toy policy is a softmax over A = 3 actions in S = 3 states. Its two
parameters theta = (theta_1, theta_2) are the preferences for actions 0 and 1
over action 2, shared by all states and added to fixed per-state biases; the
advantages are fixed. Two parameters fit on a page, so the exact surrogate and
the exact mean KL can be evaluated on a grid once and drawn behind the
quadratic model of E9 at every slider move (``trust_region_picture`` gives
the numbers, ``trpo_lite.figures.natural_gradient`` draws them).

Shapes: S states, A actions, G grid points per axis.
"""

from dataclasses import dataclass

import numpy as np
import torch

from trpo_lite._validate import check_positive
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad
from trpo_lite.step import natural_step_scale

# Action 2 is rare in every state (6 to 9 %), so raising both preferences
# together barely changes the policy: H is small along (1, 1), large along (1, -1).
BIASES = torch.tensor([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0], [0.5, 0.5, -1.5]], dtype=torch.float64)
# State 0: action 0 is good; states 1 and 2: action 2 is bad. Centred under pi_old in make_toy_policy.
RAW_ADVANTAGES = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 0.0, -1.0]], dtype=torch.float64)


def toy_logits(theta: torch.Tensor) -> torch.Tensor:
    """Logits [..., S, A] of the toy policy at parameters theta [..., 2]: (theta_1, theta_2, 0) + bias."""
    preferences = torch.cat([theta, torch.zeros_like(theta[..., :1])], dim=-1)
    return preferences[..., None, :] + BIASES


@dataclass(frozen=True)
class ToyPolicy:
    """The two-parameter problem around theta_old = (0, 0), with its precomputed grids.

    pi_old: [S, A] the old policy. advantages: [S, A] A(s, a), zero mean under pi_old.
    g: [2] surrogate gradient at theta_old. H: [2, 2] Hessian of the mean KL there (E10 products).
    axis: [G] grid coordinates of d = theta' - theta_old, the same on both axes.
    surrogate_grid, kl_grid: [G, G] exact surrogate gain and mean KL at d = (axis[j], axis[i]) (row i).
    """

    pi_old: torch.Tensor
    advantages: torch.Tensor
    g: torch.Tensor
    H: torch.Tensor
    axis: np.ndarray
    surrogate_grid: np.ndarray
    kl_grid: np.ndarray


def toy_log_probs(theta: torch.Tensor) -> torch.Tensor:
    """log pi_theta(a|s), [..., S, A], for parameters theta [..., 2]: logits minus their logsumexp.

    Not torch.softmax or log_softmax: they may split even a 3 x 3 table across threads, and waking the
    threads costs milliseconds per call on a busy machine; the slider redraws call this every time.
    """
    logits = toy_logits(theta)
    return logits - logits.logsumexp(-1, keepdim=True)


def toy_surrogate(advantages: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Exact surrogate gain L(theta) - L(theta_old), [...] (E5, E6): mean_s sum_a pi_theta(a|s) A(s, a).

    The states are weighted equally (nu uniform); the constants J and 1/(1 - gamma) are dropped. With
    advantages centred under pi_old this is E_{a ~ pi_old}[rho A], the mean of E6's importance-weighted
    estimate, and it is 0 at theta_old.
    """
    return (toy_log_probs(theta).exp() * advantages).sum(-1).mean(-1)


def toy_kl(pi_old: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Mean over states of D_KL(pi_old || pi_theta) = sum_a pi_old log(pi_old / pi_theta), [...] (E8),
    one value per parameter vector theta [..., 2]."""
    return (pi_old * (pi_old.log() - toy_log_probs(theta))).sum(-1).mean(-1)


def make_toy_policy(grid_size: int = 161, extent: float = 2.5) -> ToyPolicy:
    """Build the toy problem: g by autograd, H column by column from Fisher-vector products (E10), and
    the exact surrogate and KL on a grid_size x grid_size grid of d in [-extent, extent]^2."""
    if not (isinstance(grid_size, int) and grid_size >= 3):
        raise ValueError(f"grid_size must be an integer >= 3; got {grid_size!r}")
    extent = check_positive("extent", extent)
    pi_old = toy_log_probs(torch.zeros(2, dtype=torch.float64)).exp()
    advantages = RAW_ADVANTAGES - (pi_old * RAW_ADVANTAGES).sum(-1, keepdim=True)
    theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    g = flat_grad(toy_surrogate(advantages, theta), [theta])
    fvp = fisher_vector_product_fn(toy_kl(pi_old, theta), [theta])
    H = torch.stack([fvp(e) for e in torch.eye(2, dtype=torch.float64)], dim=1)
    axis = np.linspace(-extent, extent, grid_size)
    d1, d2 = np.meshgrid(axis, axis)  # d1 varies along columns, d2 along rows, as contour() expects
    grid = torch.as_tensor(np.stack([d1, d2], axis=-1))
    with torch.no_grad():
        surrogate_grid = toy_surrogate(advantages, grid).numpy()
        kl_grid = toy_kl(pi_old, grid).numpy()
    return ToyPolicy(pi_old, advantages, g.detach(), H.detach(), axis, surrogate_grid, kl_grid)


def natural_direction(g: torch.Tensor, H: torch.Tensor, damping: float = 0.0) -> torch.Tensor:
    """x = (H + damping I)^-1 g, [P], from g [P] and an explicit H [P, P] (E9; CG replaces the solve, E11)."""
    damping = check_positive("damping", damping, allow_zero=True)
    return torch.linalg.solve(H + damping * torch.eye(len(g), dtype=H.dtype), g)


def trust_region_steps(toy: ToyPolicy, max_kl: float, damping: float) -> dict:
    """The natural step and two plain-gradient steps for trust-region radius max_kl (delta), each with
    its exact mean KL and exact surrogate gain (keys ``<name>``, ``<name>_kl``, ``<name>_gain``).

    natural: [2] beta x with x = (H + damping I)^-1 g and beta = sqrt(2 delta / x^T (H + damping I) x),
        the maximiser of g^T d on the ellipse 1/2 d^T (H + damping I) d = delta (E9).
    plain: [2] r g / |g|, the maximiser of g^T d on the Euclidean ball of radius
        r = sqrt(2 delta) det(H)^(-1/4) (key ``radius``), which has the same area as 1/2 d^T H d <= delta.
    plain_cut: [2] g scaled onto the ellipse 1/2 d^T H d = delta: the plain direction with the KL model's
        step size.
    best: [2] the grid point that maximises the exact surrogate subject to the exact KL <= delta (E8).
    angle: degrees between the natural direction and g.
    """
    max_kl = check_positive("max_kl", max_kl)
    g, H = toy.g, toy.H
    x = natural_direction(g, H, damping)
    radius = np.sqrt(2 * max_kl) * float(torch.linalg.det(H)) ** -0.25
    feasible = np.where(toy.kl_grid <= max_kl, toy.surrogate_grid, -np.inf)
    i, j = np.unravel_index(np.argmax(feasible), feasible.shape)
    steps = {
        "natural": natural_step_scale(x, H @ x + damping * x, max_kl) * x,
        "plain": radius * g / g.norm(),
        "plain_cut": natural_step_scale(g, H @ g, max_kl) * g,
        "best": torch.tensor([toy.axis[j], toy.axis[i]], dtype=torch.float64),
    }
    with torch.no_grad():
        stacked = torch.stack(list(steps.values()))
        kls, gains = toy_kl(toy.pi_old, stacked).tolist(), toy_surrogate(toy.advantages, stacked).tolist()
    cos = (g @ x / (g.norm() * x.norm())).clamp(-1.0, 1.0)  # rounding can push it past 1 when x is along g
    result = {"radius": radius, "angle": float(torch.rad2deg(torch.arccos(cos)))}
    for (name, step), kl, gain in zip(steps.items(), kls, gains, strict=True):
        result.update({name: step.numpy(), f"{name}_kl": kl, f"{name}_gain": gain})
    return result


def ellipse_points(H, max_kl: float, n: int = 200) -> np.ndarray:
    """[n, 2] points d on 1/2 d^T H d = max_kl: d = sqrt(2 delta) L^-T u for unit u, with H [2, 2] = L L^T.

    In numpy: torch's Cholesky and triangular solve may start threads, slow for a slider on a busy machine.
    """
    angles = np.linspace(0, 2 * np.pi, n)
    L = np.linalg.cholesky(np.asarray(H))
    return np.sqrt(2 * max_kl) * np.linalg.solve(L.T, np.stack([np.cos(angles), np.sin(angles)])).T


def trust_region_picture(toy: ToyPolicy, max_kl: float, damping: float, n: int = 200) -> dict:
    """Everything notebook 05's view draws for trust-region radius max_kl (delta) and this damping (E8, E9):
    the steps, KLs and gains of ``trust_region_steps``, and three outlines [n, 2] around theta_old:
    ``ellipse`` (1/2 d^T H d = delta), ``damped_ellipse`` (1/2 d^T (H + damping I) d = delta) and ``ball``
    (the circle of the equal-area Euclidean ball, radius ``radius``)."""
    steps = trust_region_steps(toy, max_kl, damping)  # checks max_kl and damping
    H = toy.H.numpy()
    angles = np.linspace(0, 2 * np.pi, n)
    return {
        **steps,
        "ellipse": ellipse_points(H, max_kl, n),
        "damped_ellipse": ellipse_points(H + damping * np.eye(2), max_kl, n),
        "ball": steps["radius"] * np.stack([np.cos(angles), np.sin(angles)], axis=-1),
    }
