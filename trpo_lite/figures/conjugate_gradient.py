"""Notebook 06's figures: CG's convergence on a real policy's Fisher matrix, and the line search (E9, E11,
E12).

``cg_view`` is a slider view: it builds its figure once and afterwards moves its
artists to the numbers of ``examples.conjugate_gradient`` (the precomputed CG
runs) and ``examples.trpo_step`` (the step and its line search).
``convergence_figure`` is drawn once.
"""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples.conjugate_gradient import CGDemo, condition_bounds, fisher_spectrum, gain_fractions
from trpo_lite.examples.trpo_step import kl_along_step, step_report
from trpo_lite.figures.style import plain_ticks, static_figure
from trpo_lite.language import tr


@cache
def _cg_figure() -> dict:
    """The figure of ``cg_view``, built once, and the artists a call moves (their data set by the call).

    Both legends keep every entry: they are keys to the symbols, and a fixed legend does not jump
    between slider moves; the right title says in words whether a step was accepted.
    """
    fig = static_figure((13, 4.6))
    ax_cg, ax_ls = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.22)
    art = {"fig": fig, "ax_cg": ax_cg, "ax_ls": ax_ls, "cg_title": ax_cg.set_title(""),
           "ls_title": ax_ls.set_title("")}
    ax_cg.set_yscale("log")
    (art["residual"],) = ax_cg.plot([], [], color="C0", label=tr("residual |g − (H + ξI) x_k| / |g|"))
    (art["energy_error"],) = ax_cg.plot([], [], color="C1",
                                        label=tr("error in the A-norm |x_k − x*|_A / |x*|_A"))
    (art["error"],) = ax_cg.plot([], [], color="C1", ls=":", label=tr("error |x_k − x*| / |x*|"))
    (art["current"],) = ax_cg.plot([], [], "o", color="black", ms=8)
    art["current_k"] = ax_cg.axvline(1, color="black", lw=1, ls=":")
    art["default_stop"] = ax_cg.axhline(1, color="grey", lw=1, ls="--", label=tr("default stop, rᵀr < 1e-10"))
    # room above the curves (they start near 1) for the legend
    ax_cg.set(xlabel=tr("CG iterations k"), ylabel=tr("relative size"), ylim=(1e-13, 1e5))
    # Decades labelled as plain text: a log axis' default mathtext labels would cost most of a redraw.
    exponents = range(-12, 1, 3)
    plain_ticks(ax_cg.yaxis, [10.0**e for e in exponents], [f"1e{e}" for e in exponents])
    ax_cg.legend(loc="upper right", fontsize=11)

    (art["true_kl"],) = ax_ls.plot([], [], color="C3", label=tr("true mean KL"))
    (art["model"],) = ax_ls.plot([], [], color="C3", ls="--", label=tr("quadratic model, H + ξI"))
    (art["model_undamped"],) = ax_ls.plot([], [], color="C3", ls=":", label=tr("quadratic model, H"))
    art["max_kl"] = ax_ls.axhline(1, color="black", lw=1.2)  # the trust region; y ticks in units of delta
    (art["refused"],) = ax_ls.plot([], [], "x", color="black", ms=11, mew=2.5, label=tr("tried, refused"))
    (art["accepted"],) = ax_ls.plot([], [], "*", color="C2", ms=20, label=tr("accepted"))
    plain_ticks(ax_ls.xaxis, [0, 0.25, 0.5, 0.75, 1], ["0.00", "0.25", "0.50", "0.75", "1.00"])
    ax_ls.set(xlabel=tr("step fraction f of β x_k"), ylabel=tr("mean KL"), xlim=(-0.05, 1.05))
    ax_ls.legend(loc="upper left", fontsize=11)
    return art


def _draw_iterations(art: dict, demo: CGDemo, iters: int, damping: float) -> None:
    """Left panel: residuals and errors (A-norm and Euclidean) [K] at this damping, iteration k marked
    on the residual and the A-norm error (E11)."""
    m, k = demo.index(iters, damping)
    ks = np.arange(1, demo.max_iters + 1)
    art["residual"].set_data(ks, demo.residuals[m])
    art["energy_error"].set_data(ks, demo.energy_errors[m])
    art["error"].set_data(ks, demo.errors[m])
    art["current"].set_data([iters, iters], [demo.residuals[m, k], demo.energy_errors[m, k]])
    art["current_k"].set_xdata([iters, iters])
    art["default_stop"].set_ydata([demo.default_stop] * 2)
    margin = 0.05 * (demo.max_iters - 1)  # matplotlib's default margins around 1..K
    art["ax_cg"].set_xlim(1 - margin, demo.max_iters + margin)
    plain_ticks(art["ax_cg"].xaxis, [1, *range(10, demo.max_iters + 1, 10)])
    art["cg_title"].set_text(tr("CG on (H + {damping:g} I) x = g,  k = {iters}", damping=damping,
                                iters=iters))


def _draw_line_search(art: dict, report: dict, curve: dict, max_kl: float) -> None:
    """Right panel: the mean KL along the step against the quadratic models and delta, and the fractions
    the line search tried (E9, E12): ``step_report``'s verdict and ``kl_along_step``'s curves."""
    art["true_kl"].set_data(curve["fractions"], curve["kl"])
    art["model"].set_data(curve["fractions"], curve["model"])
    art["model_undamped"].set_data(curve["fractions"], curve["model_undamped"])
    art["max_kl"].set_ydata([max_kl, max_kl])
    refused = slice(0, -1) if report["accepted"] else slice(None)
    art["refused"].set_data(curve["tried"][refused], curve["tried_kl"][refused])
    accepted = slice(-1, None) if report["accepted"] else slice(0)
    art["accepted"].set_data(curve["tried"][accepted], curve["tried_kl"][accepted])
    plain_ticks(art["ax_ls"].yaxis, [0, max_kl, 2 * max_kl, 3 * max_kl], ["0", "δ", "2δ", "3δ"])
    art["ax_ls"].set_ylim(0, 3 * max_kl)
    verdict = (tr("accepted f = {fraction:g} after {backtracks} backtracks", fraction=report["step_fraction"],
                  backtracks=report["backtracks"])
               if report["accepted"] else tr("rejected after {backtracks} backtracks",
                                             backtracks=report["backtracks"]))
    art["ls_title"].set_text(tr("δ = {max_kl:g}: full step has KL {ratio:.2f} δ, gain {gain:+.3g}\n{verdict}",
                                max_kl=max_kl, ratio=report["full_step_kl"] / max_kl,
                                gain=report["full_step_gain"], verdict=verdict))


def cg_view(demo: CGDemo, iters: int = 10, damping: float = 1e-2, max_kl: float = 0.01) -> Figure:
    """Left: CG's relative residual and error per iteration at this damping, the current one marked
    (E11). Right: along the step beta x_k, the true mean KL against the quadratic model and delta,
    and the step fractions the line search tried (E9, E12).

    The figure is built once: every call returns the same Figure, redrawn from its arguments alone.
    """
    report = step_report(demo, iters, damping, max_kl)  # checks the arguments before anything is drawn
    curve = kl_along_step(demo, report)
    art = _cg_figure()
    _draw_iterations(art, demo, iters, damping)
    _draw_line_search(art, report, curve, max_kl)
    return art["fig"]


def convergence_figure(demo: CGDemo) -> plt.Figure:
    """Why about 10 iterations do (E11): H's spectrum with each damping, the error in the A-norm per
    iteration for every damping with the condition-number bound it stays under, and the fraction of the
    exact solve's first-order gain reached."""
    eigenvalues = fisher_spectrum(demo)
    fractions = gain_fractions(demo)
    _, bounds = condition_bounds(demo)
    ks = np.arange(1, demo.max_iters + 1)
    fig, (ax_eig, ax_err, ax_gain) = plt.subplots(1, 3, figsize=(15, 4.4))
    ax_eig.semilogy(np.arange(1, len(eigenvalues) + 1), np.clip(eigenvalues, 1e-12, None), ".", color="black",
                    label=tr("eigenvalues of H (clipped at 1e-12)"))
    for m, damping in enumerate(demo.dampings):
        label = tr("ξ = {damping:g}", damping=damping)
        ax_eig.axhline(damping, color=f"C{m}", lw=1.2, ls="--", label=label)
        ax_err.semilogy(ks, demo.energy_errors[m], color=f"C{m}")
        ax_err.semilogy(ks, bounds[m], color=f"C{m}", lw=1, ls=":")
        ax_gain.plot(ks, fractions[m], color=f"C{m}", label=label)
    ax_eig.set(xlabel=tr("index (largest first)"), ylabel=tr("eigenvalue"),
               title=tr("spectrum of the Fisher matrix H"))
    ax_eig.legend(fontsize=9, loc="upper right")
    ax_err.plot([], [], color="grey", label=tr("CG (colours: ξ as on the left)"))
    ax_err.plot([], [], color="grey", lw=1, ls=":", label=tr("condition-number bound"))
    # below the rounding floor (1e-12) the lower right corner is empty: room for the legend
    ax_err.set(xlabel=tr("CG iterations k"), ylabel=tr("|x_k − x*|_A / |x*|_A"), ylim=(1e-17, 10),
               title=tr("error in the A-norm, A = H + ξI"))
    ax_err.legend(fontsize=9, loc="lower right")
    ax_gain.set(xlabel=tr("CG iterations k"), ylabel=tr("fraction"), ylim=(0, 1.05), xlim=(0, 20),
                title=tr("first-order gain of the scaled step"))
    ax_gain.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig
