"""Notebook 05's figures of the KL around theta_old: the Fisher matrix's spectrum, and the KL along a line in
both directions against its quadratic model (E9). They draw the numbers of ``examples.kl_geometry``."""

import matplotlib.pyplot as plt
import numpy as np

from trpo_lite.language import tr

ZERO = 1e-10  # eigenvalues below this are zero up to rounding


def fisher_spectrum_figure(eigenvalues) -> plt.Figure:
    """|eigenvalues| [P] of H, largest first, log scale (zeros clipped at 1e-18), and the rounding line."""
    magnitudes = np.sort(np.abs(np.asarray(eigenvalues, dtype=float)))[::-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.semilogy(np.arange(1, len(magnitudes) + 1), np.clip(magnitudes, 1e-18, None), "o", ms=4)
    ax.axhline(ZERO, color="gray", ls="--", label=tr("1e-10: below, zero up to rounding"))
    ax.set(xlabel=tr("eigenvalue index (largest first)"), ylabel=tr("|eigenvalue| of H"),
           title=tr("The Fisher matrix of a small policy network: curved, but singular"))
    ax.legend()
    fig.tight_layout()
    return fig


def kl_line_figure(line: dict, near: dict) -> plt.Figure:
    """Left: both KL directions and the quadratic model 1/2 t^2 d^T H d along theta_old + t d (``line``, from
    ``kl_along_line``). Right, on log scales for t > 0 (``near``): how far each KL is from the model, and
    how far the two directions are from each other, relative to the model."""
    fig, (ax_line, ax_near) = plt.subplots(1, 2, figsize=(13, 4.4))
    ax_line.plot(line["t"], line["kl"], color="C3", label=tr("D_KL(π_old ‖ π_θ), TRPO's"))
    ax_line.plot(line["t"], line["reverse_kl"], color="C0", label=tr("D_KL(π_θ ‖ π_old), reverse"))
    ax_line.plot(line["t"], line["model"], color="black", ls="--", label=tr("½ t² dᵀHd (E9)"))
    ax_line.set(xlabel=tr("t, along θ = θ_old + t d"), ylabel=tr("mean KL"),
                title=tr("The KL along a line through θ_old"))
    ax_line.legend()
    t = near["t"]
    ax_near.loglog(t, np.abs(near["kl"] / near["model"] - 1), color="C3",
                   label=tr("|KL / model − 1|, TRPO's"))
    ax_near.loglog(t, np.abs(near["reverse_kl"] / near["model"] - 1), color="C0", ls=":",
                   label=tr("|KL / model − 1|, reverse"))
    ax_near.loglog(t, np.abs(near["kl"] - near["reverse_kl"]) / near["model"], color="C2",
                   label=tr("|TRPO's − reverse| / model"))
    ax_near.loglog(t, t, color="gray", lw=1, ls="--", label=tr("t itself (slope 1)"))
    ax_near.set(xlabel=tr("t"), ylabel=tr("relative difference"),
                title=tr("Near θ_old the model is the KL's first term"))
    ax_near.legend(fontsize=10)
    fig.tight_layout()
    return fig
