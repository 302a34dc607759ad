"""Plot helpers shared by the notebooks: a projector-friendly style and the grid views.

Shapes: S states; a grid env has S = rows * cols (+1 absorbing state from
``FiniteMDP.from_toy_text``, which grid views drop).
"""

import matplotlib.pyplot as plt
import numpy as np

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
}

ARROWS = {0: (-1, 0), 1: (0, -1), 2: (1, 0), 3: (0, 1)}  # FrozenLake: left, down, right, up


def use_course_style() -> None:
    """Large fonts and thick lines, readable on a projector."""
    plt.rcParams.update(COURSE_STYLE)


def grid_heatmap(ax, values, desc, title: str = "", cmap: str = "viridis", fmt: str = "{:.2f}",
                 vmin: float | None = None, vmax: float | None = None):
    """Draw per-cell values [rows * cols] (extra entries ignored) on a toy-text grid.

    Args:
        ax: matplotlib axes.
        values: [S] numbers, one per cell in row-major order.
        desc: the map, e.g. ``env.unwrapped.desc`` (bytes array [rows, cols]).
        title: axes title.
        cmap, vmin, vmax: the colour scale (shared limits let panels be compared).
    Returns:
        the image, for a colorbar.
    """
    desc = np.asarray(desc).astype(str)
    rows, cols = desc.shape
    grid = np.asarray(values, dtype=float)[: rows * cols].reshape(rows, cols)
    image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax)
    for (r, c), v in np.ndenumerate(grid):
        # Black on light cells, white on dark ones, by the luminance of the cell's colour.
        red, green, blue, _ = image.cmap(image.norm(v))
        color = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
        ax.text(c, r - 0.22, desc[r, c], ha="center", va="center", color=color, fontsize=11)
        ax.text(c, r + 0.15, fmt.format(v), ha="center", va="center", color=color, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_title(title)
    return image


def policy_arrows(ax, pi, desc, color: str = "white"):
    """Overlay each cell's action probabilities from pi [S, 4] as arrows (FrozenLake actions)."""
    desc = np.asarray(desc).astype(str)
    rows, cols = desc.shape
    pi = np.asarray(pi)[: rows * cols]
    for s, probs in enumerate(pi):
        r, c = divmod(s, cols)
        for a, (dx, dy) in ARROWS.items():
            length = 0.38 * probs[a]
            if length > 0.02:
                ax.arrow(c, r, dx * length, dy * length, color=color, width=0.02, alpha=0.8)
