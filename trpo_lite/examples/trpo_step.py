"""Notebook 06's step: from CG's iterate x_k to TRPO's step (E9, E11), and what the line search makes of
it (E12), on the problem of ``examples.conjugate_gradient``.

The line search runs with the package's one backtracking coefficient,
``trpo_lite.step.BACKTRACK_COEF`` (the agent's): it tries the fractions
1, alpha, alpha^2, ... of the full step.

Shapes: P parameters, F step fractions, T fractions tried.
"""

from dataclasses import asdict

import numpy as np
import torch

from trpo_lite._validate import check_positive
from trpo_lite.examples.conjugate_gradient import CGDemo
from trpo_lite.flat import set_flat_params
from trpo_lite.step import BACKTRACK_COEF, line_search, natural_step_scale

MAX_KLS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)  # the delta slider's values


def along_step(demo: CGDemo, full_step: torch.Tensor, fractions) -> tuple[np.ndarray, np.ndarray]:
    """True mean KL and surrogate gain [F] at theta_old + f full_step for each fraction f [F]."""
    kls, gains = [], []
    try:
        with torch.no_grad():
            for fraction in fractions:
                set_flat_params(demo.params, demo.theta_old + float(fraction) * full_step)
                kl, gain = demo.kl_and_gain()
                kls.append(float(kl))
                gains.append(float(gain))
    finally:
        set_flat_params(demo.params, demo.theta_old)
    return np.array(kls), np.array(gains)


def step_report(demo: CGDemo, iters: int, damping: float, max_kl: float, sign: float = 1.0) -> dict:
    """The step TRPO builds from x_k (E9, E11) and what the line search (E12) makes of it.

    full_step = sign * beta * x_k with beta = sqrt(2 delta / x_k^T (H + xi I) x_k); sign = -1
    flips it, so it cannot improve L. Returns a dict: beta, full_step [P], model_kl (1/2 beta^2
    x^T (H + xi I) x, = max_kl), model_kl_undamped (with H alone), predicted_gain (g^T full_step),
    full_step_kl and full_step_gain (true values at the full step), backtrack_coef (alpha, the line
    search's BACKTRACK_COEF) and the LineSearchResult's fields (accepted, backtracks, step_fraction, kl,
    surrogate_gain). The policy is at theta_old afterwards.
    """
    m, k = demo.index(iters, damping)
    max_kl = check_positive("max_kl", max_kl)
    x, Hx = demo.iterates[m, k], demo.products[m, k]
    beta = natural_step_scale(x, Hx, max_kl)
    full_step = sign * beta * x
    (full_kl,), (full_gain,) = along_step(demo, full_step, [1.0])  # the true values, before any backtrack
    try:
        result = line_search(demo.params, full_step, demo.surrogate_gain, demo.kl, max_kl,
                             backtrack_coef=BACKTRACK_COEF)
    finally:
        set_flat_params(demo.params, demo.theta_old)
    return {
        "beta": beta,
        "full_step": full_step,
        "model_kl": 0.5 * beta**2 * float(x @ Hx),
        "model_kl_undamped": 0.5 * beta**2 * float(x @ Hx - demo.dampings[m] * (x @ x)),
        "predicted_gain": float(demo.g @ full_step),
        "full_step_kl": float(full_kl),
        "full_step_gain": float(full_gain),
        "backtrack_coef": BACKTRACK_COEF,
        **asdict(result),
    }


def tried_fractions(report: dict) -> np.ndarray:
    """[T]: the fractions 1, alpha, ..., alpha^backtracks of the full step the line search tried, in order
    (alpha = report["backtrack_coef"]); the last is the accepted one when report["accepted"]."""
    return report["backtrack_coef"] ** np.arange(report["backtracks"] + 1)


def kl_along_step(demo: CGDemo, report: dict, points: int = 11) -> dict:
    """The mean KL along a ``step_report``'s full step, true and modelled (E9, E12).

    Returns a dict: fractions [F] (points evenly from 0 to 1, and the tried ones), kl [F] (the true mean
    KL at theta_old + f full_step), model and model_undamped [F] (the quadratic models f^2 model_kl and
    f^2 model_kl_undamped), tried [T] (``tried_fractions``) and tried_kl [T] (the true KL there).
    """
    tried = tried_fractions(report)
    fractions = np.union1d(np.linspace(0, 1, points), tried)
    kls, _ = along_step(demo, report["full_step"], fractions)
    return {
        "fractions": fractions,
        "kl": kls,
        "model": fractions**2 * report["model_kl"],
        "model_undamped": fractions**2 * report["model_kl_undamped"],
        "tried": tried,
        "tried_kl": kls[np.searchsorted(fractions, tried)],
    }
