"""Argument checks shared by the package: each raises a ValueError that names
the argument, what was given and what is valid, so bad input fails at once
instead of as a NaN ten steps later."""

import math
from numbers import Real

import numpy as np
import torch


class NonFiniteError(ValueError):
    """NaN or inf where training needs finite numbers (from an environment, or in a batch)."""


def check_unit_interval(name: str, value: float, *, closed_right: bool = True) -> float:
    """Require 0 <= value <= 1 (or < 1 when closed_right is False)."""
    if not _is_number(value) or not (0.0 <= value <= 1.0 if closed_right else 0.0 <= value < 1.0):
        valid = "[0, 1]" if closed_right else "[0, 1)"
        hint = "" if closed_right else " (gamma = 1 makes the infinite-horizon sums diverge)"
        raise ValueError(f"{name} must lie in {valid}{hint}; got {value!r}")
    return float(value)


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Require value > 0 (or >= 0 when allow_zero)."""
    if not _is_number(value) or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")
    return float(value)


def _is_number(value) -> bool:
    """A finite real number (Python or numpy scalar, not bool)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def check_shape(name: str, tensor: torch.Tensor, shape: tuple, *, like: str = "") -> None:
    """Require tensor.shape == shape; `like` names where the expected shape comes from."""
    if tuple(tensor.shape) != tuple(shape):
        source = f" (the shape of {like})" if like else ""
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)}, expected {tuple(shape)}{source}"
        )


def check_distributions(name: str, probs: torch.Tensor, *, atol: float = 1e-6) -> None:
    """Require every row (last axis) of probs to be a probability distribution."""
    if not torch.isfinite(probs).all() or (probs < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative probabilities")
    sums = probs.sum(-1)
    worst = (sums - 1).abs().max().item() if sums.numel() else 0.0
    if worst > atol:
        raise ValueError(
            f"the rows of {name} must each sum to 1 (probability distributions over the "
            f"last axis); the worst row is off by {worst:.3g}"
        )


def grid_index(name: str, value, grid, atol: float = 1e-9) -> int:
    """The position of value in a precomputed grid [K] of slider values (numbers within atol match),
    or a ValueError naming the argument and listing the grid."""
    grid = np.asarray(grid, dtype=float)
    hits = np.flatnonzero(np.isclose(grid, value, rtol=0.0, atol=atol)) if _is_number(value) else []
    if len(hits) == 0:
        values = tuple(grid.tolist())
        raise ValueError(f"{name} must be one of the precomputed values {values}; got {value!r}")
    return int(hits[0])
