"""Checkers for notebook 05 (natural gradient): Fisher-vector products (E10) and the E9 step.

Each checker draws random problems from a fixed seed, compares the learner's
answer with the package, and when they differ names the typical mistake the
answer matches.

Shapes: B states, D observation size, A actions, P parameters.
"""

import numpy as np
import torch
from torch.distributions import Categorical

from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    check_value,
    digits,
    is_close,
    name_the_mistake,
    passed,
    random_spd,
)
from trpo_lite.fisher import fisher_vector_product
from trpo_lite.flat import flat_grad
from trpo_lite.importance import mean_kl
from trpo_lite.language import tr
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


def _as_vector(what: str, got, n: int) -> np.ndarray:
    if isinstance(got, list | tuple) and got and all(isinstance(t, torch.Tensor) for t in got):
        raise ExerciseError(tr("{what} is a list of {n} tensors, one per parameter tensor; return one flat "
                               "vector [P]: torch.cat([t.reshape(-1) for t in "
                               "pieces])", what=what, n=len(got)))
    return as_answer(what, got, (n,))


def _run_fvp(fn, kl, params, v, damping):
    try:
        return fn(kl, params, v, damping)
    except NotImplementedError:  # a RuntimeError too, but the notebook's cue that the stub is not filled in
        raise
    except RuntimeError as exc:
        if "does not require grad" in str(exc):
            raise ExerciseError(tr("the second backward pass failed: grad KL was computed without "
                                   "create_graph=True, so it is a constant with no graph to differentiate "
                                   "again. Pass create_graph=True to the first torch.autograd.grad")) from exc
        raise ExerciseError(tr("your function raised RuntimeError: {error}", error=str(exc))) from exc


def _fvp_mistakes(make, v: torch.Tensor, damping: float) -> list:
    """(wrong product, message) for the usual slips in E10."""
    grad_kl = flat_grad(*make()).numpy()
    mistakes = [
        (np.zeros(len(v)), tr("your product is all zeros: the second backward pass found nothing to "
                              "differentiate. Keep the graph of grad KL (create_graph=True) and do not "
                              "detach it before taking the dot product with v")),
        (grad_kl, tr("you returned the gradient of the KL, one backward pass; H v needs a second one: "
                     "differentiate the scalar (grad KL)^T v with respect to the parameters again")),
        (grad_kl + damping * v.numpy(), tr("you returned the gradient of the KL plus damping v; H v needs a "
                                           "second backward pass: differentiate the scalar (grad KL)^T v "
                                           "with respect to the parameters again")),
    ]
    if damping > 0:
        mistakes.append((fisher_vector_product(*make(), v).numpy(),
                         tr("you dropped the damping term: with damping = {damping} the product is "
                            "(H + damping I) v = H v + damping v", damping=damping)))
    return mistakes


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
        got = _as_vector(tr("your product"), _run_fvp(fn, kl, params, v.clone(), damping), n)
        check_close(tr("the product"), got, fisher_vector_product(*make(), v, damping).numpy(),
                    mistakes=_fvp_mistakes(make, v, damping),
                    where=tr("H v + damping v with damping = {damping}", damping=damping))
    return passed(tr("H v = grad((grad KL)^T v): two backward passes, H never formed (E10)."))


def _random_trust_region(rng):
    """g [P], a symmetric positive-definite H [P, P] with eigenvalues spread over two decades, and delta."""
    H, g = random_spd(rng, int(rng.integers(3, 7)), eigenvalues=(0.05, 5.0))
    return g, H, float(rng.uniform(0.005, 0.05))


def _cos(a, b) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _direction(answer: np.ndarray, x: np.ndarray, g: np.ndarray, H: np.ndarray) -> None:
    """Raise ExerciseError if the step does not point along x = H^-1 g, saying where it points."""
    if not np.isfinite(answer).all():
        raise ExerciseError(tr("your step contains NaN or inf"))
    # along a direction means a cosine of +-1 up to rounding: 1e-5 leaves room for a float32 step
    if _cos(answer, x) < -1 + 1e-5:
        raise ExerciseError(tr("your step points along -H^-1 g, downhill: it lowers the surrogate. The step "
                               "climbs: d = +beta H^-1 g with beta > 0"))
    if _cos(answer, x) < 1 - 1e-5:
        if _cos(answer, g) > 1 - 1e-5:
            raise ExerciseError(tr("your step points along g, the plain gradient; the natural step points "
                                   "along H^-1 g: solve H x = g (torch.linalg.solve(H, g))"))
        if _cos(answer, H @ g) > 1 - 1e-5:
            raise ExerciseError(tr("your step points along H g: you multiplied by H instead of solving with "
                                   "it; the direction is x = H^-1 g (torch.linalg.solve(H, g))"))
        raise ExerciseError(tr("your step does not point along H^-1 g, the natural-gradient direction"))


def check_natural_step(fn) -> str:
    """fn(g [P], H [P, P], max_kl) -> [P]: the E9 step sqrt(2 delta / (g^T H^-1 g)) H^-1 g.

    g and H arrive as float64 torch tensors, H symmetric positive definite; max_kl (delta) as a float.
    """
    rng = np.random.default_rng(SEED + 1)
    for _ in range(4):
        g, H, max_kl = _random_trust_region(rng)
        answer = _as_vector(tr("your step"), fn(g.clone(), H.clone(), max_kl), len(g))
        x = torch.linalg.solve(H, g)
        expected = (natural_step_scale(x, H @ x, max_kl) * x).numpy()
        if is_close(answer, expected):
            continue
        x, g, H = x.numpy(), g.numpy(), H.numpy()
        _direction(answer, x, g, H)
        gx, kl_model = float(g @ x), 0.5 * float(answer @ H @ answer)
        name_the_mistake(answer, [
            (2 * max_kl / gx * x, tr("the step size is missing the square root: beta = "
                                     "sqrt(2 delta / (g^T H^-1 g)), so that 1/2 d^T H d = delta")),
            (np.sqrt(2 * max_kl / float(g @ g)) * x,
             tr("you used g^T g in the step size; the trust region is measured with H, so beta = "
                "sqrt(2 delta / (g^T H^-1 g))")),
            (np.sqrt(max_kl / gx) * x,
             tr("you forgot the factor 2: your step has 1/2 d^T H d = {kl:.4g} = delta / 2; the constraint "
                "is 1/2 d^T H d = delta, so beta = sqrt(2 delta / (g^T H^-1 g))", kl=kl_model)),
        ], scale=float(np.abs(expected).max()))
        raise ExerciseError(tr("the step points the right way but its size is wrong: 1/2 d^T H d = "
                               "{kl:.{digits}g}, while the step should end on the boundary 1/2 d^T H d = "
                               "delta = {max_kl:.{digits}g}", kl=kl_model, max_kl=max_kl,
                               digits=digits(kl_model, max_kl)))
    return passed(tr("d = sqrt(2 delta / (g^T H^-1 g)) H^-1 g ends on the KL ellipse, climbing fastest "
                     "(E9)."))


def check_rescaled_plain_kl(got) -> str:
    """Derivation (notebook 05, exercise 4): got is the factor by which the quadratic-model KL 1/2 d^T H d of
    the plain step grows when every parameter is written as theta = 3 phi and the step, with the same eta, is
    taken in phi (the model answer is in teachers/solutions.py)."""
    c = 3.0
    return check_value(
        tr("the factor"), got, c**4,
        hint=tr("Follow the chain rule twice: g_phi = J^T g, and a step in phi moves theta by J times it"),
        mistakes=[
            (c**2, tr("that is how much longer the step gets; the model KL 1/2 d^T H d is quadratic in the "
                      "step")),
            (c, tr("the step grows by c twice: once in the gradient (g_phi = c g), once mapping phi back to "
                   "theta (d = c d_phi)")),
            (c**-4, tr("the other way round: with the same eta the step gets longer, not shorter")),
            (1.0, tr("that holds for the natural step (E9); the plain step depends on the coordinates")),
        ])
