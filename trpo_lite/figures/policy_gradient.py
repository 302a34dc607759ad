"""Notebook 02's figure of the policy gradient on FrozenLake: a Monte Carlo estimate from episodes against
the exact gradient, one point per parameter theta[s, a], with numbers from
``trpo_lite.examples.policy_gradient``.

Shapes: S states, A actions.
"""

import matplotlib.pyplot as plt
import numpy as np

from trpo_lite.language import tr


def gradient_view(exact, estimate, stderr, n_episodes: int) -> plt.Figure:
    """The sampled gradient against the exact one, entry by entry: exact [S, A] on x, estimate [S, A] on y
    with bars of 2 standard errors stderr [S, A] (entries that no episode touched, stderr 0, are left out);
    on the diagonal y = x the two agree."""
    exact, estimate, stderr = (np.asarray(x, dtype=float).ravel() for x in (exact, estimate, stderr))
    seen = stderr > 0
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    ends = np.array([min(exact.min(), (estimate - 2 * stderr)[seen].min()),
                     max(exact.max(), (estimate + 2 * stderr)[seen].max())])
    ax.plot(ends, ends, color="0.5", lw=1, ls="--", label=tr("estimate = exact"))
    ax.errorbar(exact[seen], estimate[seen], 2 * stderr[seen], fmt="o", ms=5, color="C0", capsize=2,
                label=tr("one θ[s, a]: estimate ± 2 s.e."))
    ax.set(xlabel=tr("exact ∂J/∂θ[s, a] (policy gradient theorem)"),
           ylabel=tr("estimate from {n} episodes", n=n_episodes),
           title=tr("∇J from episodes against ∇J exactly"))
    ax.ticklabel_format(style="sci", scilimits=(-2, 2))
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
