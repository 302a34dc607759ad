"""The course's figure style, and figures that slider views build once and redraw.

A slider view builds its figure once and afterwards only moves its artists:
building a figure and laying out its text costs about as much as drawing it,
and a slider has 100 ms for both. Fixed tick positions with plain-text labels
(``plain_ticks``) keep each redraw cheap: automatic ticks on log axes build
many mathtext labels.

The course style also brings the Chinese edition's font: a subset of Noto Sans CJK SC shipped in
``trpo_lite/fonts`` (tools/subset_font.py writes it), which matplotlib falls back to for every glyph
DejaVu Sans lacks, so Chinese labels render on every OS with nothing installed by hand.
"""

import dataclasses
from importlib.resources import files

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

COURSE_STYLE = {
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "legend.fontsize": 12,
    "lines.linewidth": 2.2,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "figure.figsize": (7, 4),
    "font.family": ["DejaVu Sans", "TRPO Course Sans SC"],  # the second for glyphs the first lacks (CJK)
}
COURSE_FONT = files("trpo_lite") / "fonts" / "TRPOCourseSansSC.otf"


def use_course_style() -> None:
    """Large fonts and thick lines, readable on a projector; Chinese text in the course's CJK font."""
    if "TRPO Course Sans SC" not in {font.name for font in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(COURSE_FONT))
        # The subset has one weight; listed as bold too, bold text uses it without a findfont warning.
        regular = next(f for f in font_manager.fontManager.ttflist if f.name == "TRPO Course Sans SC")
        font_manager.fontManager.ttflist.append(dataclasses.replace(regular, weight="bold"))
    plt.rcParams.update(COURSE_STYLE)


def static_figure(figsize) -> Figure:
    """A figure outside pyplot with its own Agg canvas, for a view that builds it once and redraws it.

    Outside pyplot it is never shown twice by the inline backend, and closing it
    (``widgets.show`` does) is harmless: the view can return it again.
    """
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def padded_limits(values, margin: float = 0.05) -> tuple[float, float]:
    """Axis limits around values [N] with margin times their range on each side, as autoscaling
    would set them (without its cost, which a redrawn view pays on every call).

    Constant values get a range of 1, so that the limits never coincide.
    """
    values = np.asarray(values, dtype=float)
    pad = margin * (np.ptp(values) or 1.0)
    return values.min() - pad, values.max() + pad


def plain_ticks(axis, ticks=None, labels=None, most: int = 5) -> None:
    """Few major ticks with plain-text labels on one axis (``ax.xaxis`` or ``ax.yaxis``), no minor ticks.

    Args:
        axis: the matplotlib Axis.
        ticks: fixed tick positions; None chooses at most ``most`` round ones for the current limits.
        labels: their texts (default: each position as ``f"{t:g}"``); only with ticks.
    """
    if ticks is None:
        axis.set_major_locator(MaxNLocator(most, steps=[1, 2, 2.5, 5, 10]))
    else:
        axis.set_ticks(ticks, labels if labels is not None else [f"{t:g}" for t in ticks])
    axis.set_minor_locator(NullLocator())
