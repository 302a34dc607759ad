"""Checkers for the notebooks' exercises, one module per notebook topic.

A checker runs the learner's function against the package on random inputs
and raises ``ExerciseError`` saying what is wrong (wrong shape, forgot the
terminal state, wrong KL direction), or prints that the answer is right.
"""

from trpo_lite.exercises._base import ExerciseError

__all__ = ["ExerciseError"]
