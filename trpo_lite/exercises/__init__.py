"""Checkers for the notebooks' exercises, one module per notebook topic.

A checker runs the learner's function against the package on inputs drawn from a fixed seed (or takes the
number a derivation exercise asks for) and raises ``ExerciseError`` saying what is wrong (wrong shape,
forgot the terminal state, wrong KL direction, or the wrong entry with both numbers), or prints that the
answer is right; it accepts float64, float32, numpy and torch answers, at the tolerance of their precision.
``_base`` holds what they share and documents how to write one; ``teachers/solutions.py`` (outside the
package) has a model answer for every checker listed here.
"""

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.advantage import check_advantages, check_performance_difference
from trpo_lite.exercises.agent import check_explained_variance, check_trpo_step
from trpo_lite.exercises.conjugate_gradient import (
    check_cg_bound_iterations,
    check_conjugate_gradient,
    check_line_search,
)
from trpo_lite.exercises.experiments import check_median_steps, check_seed_summary, check_steps_to_threshold
from trpo_lite.exercises.gae import check_gae, check_td_residuals
from trpo_lite.exercises.importance import check_estimator_variance, check_importance_estimate
from trpo_lite.exercises.natural_gradient import (
    check_fisher_vector_product,
    check_natural_step,
    check_rescaled_plain_kl,
)
from trpo_lite.exercises.objective import check_discounted_return, check_monte_carlo_objective
from trpo_lite.exercises.ppo import check_clip_edge_kl, check_clipped_surrogate
from trpo_lite.exercises.trust_region import check_kl, check_mean_kl, check_penalty_coefficient
from trpo_lite.exercises.visitation import check_surrogate, check_table_gradient, check_visitation

__all__ = [
    "ExerciseError",
    "check_advantages",
    "check_cg_bound_iterations",
    "check_clip_edge_kl",
    "check_clipped_surrogate",
    "check_conjugate_gradient",
    "check_discounted_return",
    "check_estimator_variance",
    "check_explained_variance",
    "check_fisher_vector_product",
    "check_gae",
    "check_importance_estimate",
    "check_kl",
    "check_line_search",
    "check_mean_kl",
    "check_median_steps",
    "check_monte_carlo_objective",
    "check_natural_step",
    "check_penalty_coefficient",
    "check_performance_difference",
    "check_rescaled_plain_kl",
    "check_seed_summary",
    "check_steps_to_threshold",
    "check_surrogate",
    "check_table_gradient",
    "check_td_residuals",
    "check_trpo_step",
    "check_visitation",
]
