"""FrozenLake-style grids: per-cell values as colours and numbers, and a policy's arrows, updated in place.

Shapes: S states; a grid env has S = rows * cols (+1 absorbing state from
``FiniteMDP.from_toy_text``, which grid views drop).
"""

import numpy as np

# FrozenLake's actions as (column step, row step) on the grid: rows grow downwards.
ARROWS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}  # left, down, right, up


class GridHeatmap:
    """Per-cell values on a toy-text grid: colour, the cell's letter and its value, updated in place.

    Args:
        ax: matplotlib axes (its ticks and grid are turned off).
        desc: the map, e.g. ``env.unwrapped.desc`` (bytes array [rows, cols]).
        cmap: colour map name.
        fmt: format of the value printed in each cell.
    """

    def __init__(self, ax, desc, cmap: str = "viridis", fmt: str = "{:.2f}"):
        self.desc, self.fmt = np.asarray(desc).astype(str), fmt
        self.image = ax.imshow(np.zeros(self.desc.shape), cmap=cmap)
        # The map's letter in the top-left corner, the value along the bottom: arrows use the middle.
        cells = list(np.ndindex(self.desc.shape))
        self.letters = [ax.text(c - 0.42, r - 0.4, "", ha="left", va="top", fontsize=11, weight="bold")
                        for r, c in cells]
        self.numbers = [ax.text(c, r + 0.32, "", ha="center", va="center", fontsize=10.5) for r, c in cells]
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)

    def update(self, values, vmin: float | None = None, vmax: float | None = None, desc=None):
        """Show values [S] (one per cell in row-major order; extra entries ignored) on the colour scale
        [vmin, vmax] (each defaults to the values' own extreme; shared limits let panels be compared).

        desc: another map of the same shape, whose letters replace the current ones (default: keep).
        Returns:
            the image, for a colorbar.
        """
        if desc is not None:
            desc = np.asarray(desc).astype(str)
            if desc.shape != self.desc.shape:
                raise ValueError(f"desc must have the grid's shape {self.desc.shape}; got {desc.shape}")
            self.desc = desc
        rows, cols = self.desc.shape
        grid = np.asarray(values, dtype=float)[: rows * cols].reshape(rows, cols)
        self.image.set_data(grid)
        self.image.set_clim(grid.min() if vmin is None else vmin, grid.max() if vmax is None else vmax)
        colours = self.image.cmap(self.image.norm(grid.ravel()))
        # Black on light cells, white on dark ones, by the luminance of the cell's colour.
        dark = colours[:, :3] @ np.array([0.299, 0.587, 0.114]) <= 0.5
        for v, name, is_dark, letter, number in zip(grid.ravel(), self.desc.ravel(), dark, self.letters,
                                                    self.numbers, strict=True):
            colour = "white" if is_dark else "black"
            letter.set(text=name, color=colour)
            number.set(text=self.fmt.format(v), color=colour)
        return self.image


def grid_heatmap(ax, values, desc, title: str = "", cmap: str = "viridis", fmt: str = "{:.2f}",
                 vmin: float | None = None, vmax: float | None = None):
    """Draw per-cell values [rows * cols] (extra entries ignored) on a toy-text grid, once.

    Args:
        ax: matplotlib axes.
        values: [S] numbers, one per cell in row-major order.
        desc: the map, e.g. ``env.unwrapped.desc`` (bytes array [rows, cols]).
        title: axes title.
        cmap, vmin, vmax: the colour scale (shared limits let panels be compared).
    Returns:
        the image, for a colorbar.
    """
    ax.set_title(title)
    return GridHeatmap(ax, desc, cmap, fmt).update(values, vmin, vmax)


class PolicyArrows:
    """Each cell's action probabilities pi [S, 4] (FrozenLake's actions) as arrows, updated in place.

    The arrows start a little above the cell's centre (its value sits along the
    bottom) and point in the action's direction, 0.3 cells long times the
    probability; arrows shorter than 0.02 cells are left out.
    """

    LENGTH = 0.3  # cells, for probability 1
    RAISE = 0.05  # cells above the centre

    def __init__(self, ax, desc, color: str = "white"):
        rows, cols = np.asarray(desc).shape
        r, c = np.divmod(np.arange(rows * cols), cols)
        steps = np.array([ARROWS[a] for a in sorted(ARROWS)], dtype=float)  # [4, 2]
        self.cells, self.steps = rows * cols, steps
        self.quiver = ax.quiver(np.repeat(c, 4), np.repeat(r, 4) - self.RAISE, np.zeros(4 * rows * cols),
                                np.zeros(4 * rows * cols), color=color, alpha=0.8, angles="xy",
                                scale_units="xy", scale=1, width=0.01, headwidth=3, headlength=3.5,
                                headaxislength=3)

    def update(self, pi) -> None:
        """Point the arrows along pi [S, 4] (rows past the grid's cells, e.g. an absorbing state, ignored)."""
        lengths = self.LENGTH * np.asarray(pi, dtype=float)[: self.cells]  # [cells, 4]
        du, dv = (lengths[..., None] * self.steps).reshape(-1, 2).T
        hidden = lengths.ravel() <= 0.02
        self.quiver.set_UVC(np.ma.masked_where(hidden, du), np.ma.masked_where(hidden, dv))


def policy_arrows(ax, pi, desc, color: str = "white") -> None:
    """Overlay each cell's action probabilities from pi [S, 4] as arrows (FrozenLake actions), once."""
    PolicyArrows(ax, desc, color).update(pi)
