"""Checkers for notebook 05 (natural gradient): Fisher-vector products (E10) and the E9 step.

Each checker draws random problems from a fixed seed, compares the learner's
answer with the package, and when they differ names the typical mistake the
answer matches.

Shapes: B states, D observation size, A actions, P parameters.
"""

import numpy as np
import torch
from torch.distributions import Categorical

from trpo_lite.exercises._base import ExerciseError, expect_shape, name_the_mistake, passed, random_spd
from trpo_lite.fisher import fisher_vector_product
from trpo_lite.flat import flat_grad
from trpo_lite.importance import mean_kl
from trpo_lite.step import natural_step_scale

SEED = 5
DAMPINGS = (0.0, 0.1, 0.5)  # damping 0 first, so a wrong product is named before a missing damping term


def _kl_maker(rng):
    """A function that builds, each time afresh, the mean KL (scalar) of a linear softmax policy
    logits = obs W + b between fixed old parameters and parameters moved away from them, and the
    new parameters [W (D, A), b (A)]. Moved away, so grad KL != 0 and cannot pass for H v."""
    n_obs, dim, n_actions = int(rng.integers(6, 12)), int(rng.integers(2, 4)), int(rng.integers(2, 5))
    obs = torch.as_tensor(rng.normal(size=(n_obs, dim)))
    old_w = torch.as_tensor(rng.normal(size=(dim, n_actions)))
    old_b = torch.as_tensor(rng.normal(size=n_actions))
    new_w = old_w + 0.3 * torch.as_tensor(rng.normal(size=(dim, n_actions)))
    new_b = old_b + 0.3 * torch.as_tensor(rng.normal(size=n_actions))
    old = Categorical(logits=obs @ old_w + old_b)

    def make():
        params = [new_w.clone().requires_grad_(), new_b.clone().requires_grad_()]
        return mean_kl(old, Categorical(logits=obs @ params[0] + params[1])), params

    return make


def _as_vector(name: str, got, n: int) -> np.ndarray:
    if isinstance(got, list | tuple) and got and all(isinstance(t, torch.Tensor) for t in got):
        raise ExerciseError(
            f"{name} is a list of {len(got)} tensors, one per parameter tensor; return one flat vector "
            "[P]: torch.cat([t.reshape(-1) for t in pieces])"
        )
    return expect_shape(name, got, (n,))


def _diagnose(got: np.ndarray, expected: np.ndarray, mistakes: dict, what: str) -> None:
    """Raise with the message of the first mistake whose value matches got, else a plain mismatch."""
    name_the_mistake(got, [(value, message) for message, value in mistakes.items()], rtol=1e-6, atol=1e-10)
    worst = np.abs(got - expected).max()
    raise ExerciseError(f"{what}: it differs from the right answer by up to {worst:.3g} in some entry")


def _run_fvp(fn, kl, params, v, damping):
    try:
        return fn(kl, params, v, damping)
    except NotImplementedError:  # a RuntimeError too, but the notebook's cue that the stub is not filled in
        raise
    except RuntimeError as exc:
        if "does not require grad" in str(exc):
            raise ExerciseError(
                "the second backward pass failed: grad KL was computed without create_graph=True, so it is a "
                "constant with no graph to differentiate again. Pass create_graph=True to the first "
                "torch.autograd.grad"
            ) from exc
        raise ExerciseError(f"your function raised RuntimeError: {exc}") from exc


def check_fisher_vector_product(fn) -> str:
    """fn(kl, params, v, damping) -> [P] H v + damping v, with H the Hessian of kl in params (E10).

    kl: scalar mean KL with its graph; params: list of parameter tensors; v: [P]; damping: >= 0.
    """
    rng = np.random.default_rng(SEED)
    for damping in DAMPINGS:
        make = _kl_maker(rng)
        kl, params = make()
        n = sum(p.numel() for p in params)
        v = torch.as_tensor(rng.normal(size=n))
        got = _as_vector("your product", _run_fvp(fn, kl, params, v.clone(), damping), n)
        expected = fisher_vector_product(*make(), v, damping).numpy()
        if np.allclose(got, expected, rtol=1e-8, atol=1e-10):
            continue
        grad_kl = flat_grad(*make()).numpy()
        hv = fisher_vector_product(*make(), v).numpy()
        mistakes = {
            "your product is all zeros: the second backward pass found nothing to differentiate. Keep the "
            "graph of grad KL (create_graph=True) and do not detach it before taking the dot product with v":
                np.zeros(n),
            "you returned the gradient of the KL, one backward pass; H v needs a second one: "
            "differentiate the scalar (grad KL)^T v with respect to the parameters again":
                grad_kl,
            "you returned the gradient of the KL plus damping v; H v needs a second backward pass: "
            "differentiate the scalar (grad KL)^T v with respect to the parameters again":
                grad_kl + damping * v.numpy(),
        }
        if damping > 0:
            mistakes[f"you dropped the damping term: with damping = {damping} the product is "
                     "(H + damping I) v = H v + damping v"] = hv
        _diagnose(got, expected, mistakes, f"the product H v + damping v is wrong (damping = {damping})")
    return passed("H v = grad((grad KL)^T v): two backward passes, H never formed (E10).")


def _random_trust_region(rng):
    """g [P], a symmetric positive-definite H [P, P] with eigenvalues spread over two decades, and delta."""
    H, g = random_spd(rng, int(rng.integers(3, 7)), eigenvalues=(0.05, 5.0))
    return g, H, float(rng.uniform(0.005, 0.05))


def _cos(a, b) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_natural_step(fn) -> str:
    """fn(g [P], H [P, P], max_kl) -> [P]: the E9 step sqrt(2 delta / (g^T H^-1 g)) H^-1 g.

    g and H arrive as float64 torch tensors, H symmetric positive definite; max_kl (delta) as a float.
    """
    rng = np.random.default_rng(SEED + 1)
    for _ in range(4):
        g, H, max_kl = _random_trust_region(rng)
        got = _as_vector("your step", fn(g.clone(), H.clone(), max_kl), len(g))
        x = torch.linalg.solve(H, g)
        expected = (natural_step_scale(x, H @ x, max_kl) * x).numpy()
        if np.allclose(got, expected, rtol=1e-7, atol=1e-12):
            continue
        if not np.isfinite(got).all():
            raise ExerciseError("your step contains NaN or inf")
        x, g_np, H_np = x.numpy(), g.numpy(), H.numpy()
        if _cos(got, x) < -1 + 1e-9:
            raise ExerciseError("your step points along -H^-1 g, downhill: it lowers the surrogate. The step "
                                "climbs: d = +beta H^-1 g with beta > 0")
        if _cos(got, x) < 1 - 1e-9:
            if _cos(got, g_np) > 1 - 1e-9:
                raise ExerciseError("your step points along g, the plain gradient; the natural step points "
                                    "along H^-1 g: solve H x = g (torch.linalg.solve(H, g))")
            if _cos(got, H_np @ g_np) > 1 - 1e-9:
                raise ExerciseError("your step points along H g: you multiplied by H instead of solving with "
                                    "it; the direction is x = H^-1 g (torch.linalg.solve(H, g))")
            raise ExerciseError("your step does not point along H^-1 g, the natural-gradient direction")
        gx, kl_model = float(g_np @ x), 0.5 * float(got @ H_np @ got)
        _diagnose(got, expected, {
            "the step size is missing the square root: beta = sqrt(2 delta / (g^T H^-1 g)), so that "
            "1/2 d^T H d = delta":
                2 * max_kl / gx * x,
            "you used g^T g in the step size; the trust region is measured with H, so beta = "
            "sqrt(2 delta / (g^T H^-1 g))":
                np.sqrt(2 * max_kl / float(g_np @ g_np)) * x,
            f"you forgot the factor 2: your step has 1/2 d^T H d = {kl_model:.4g} = delta / 2; the "
            "constraint is 1/2 d^T H d = delta, so beta = sqrt(2 delta / (g^T H^-1 g))":
                np.sqrt(max_kl / gx) * x,
        }, f"the step points the right way but its size is wrong: 1/2 d^T H d = {kl_model:.4g}, "
           f"while the step should end on the boundary 1/2 d^T H d = delta = {max_kl:.4g}")
    return passed("d = sqrt(2 delta / (g^T H^-1 g)) H^-1 g ends on the KL ellipse, climbing fastest (E9).")
