"""The drawing layer: one module per notebook topic, each building its figures once and redrawing them
from numbers that ``trpo_lite.examples`` computes. Matplotlib and numpy only: no torch, no gymnasium."""

from trpo_lite.figures.style import use_course_style

__all__ = ["use_course_style"]
