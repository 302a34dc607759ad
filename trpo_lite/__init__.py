"""trpo_lite: the helper package of an interactive TRPO course.

Each module is one step of the derivation (equation labels E1-E14 from
DERIVATION.md); notebooks import and show these functions.
"""

from trpo_lite import tabular
from trpo_lite.agent import Agent, update_policy
from trpo_lite.cg import conjugate_gradient
from trpo_lite.config import PRESETS, TRPOConfig, preset
from trpo_lite.fisher import fisher_vector_product, fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params, set_flat_params
from trpo_lite.gae import compute_advantage, discounted_cumsum, discounted_returns, gae, td_residuals
from trpo_lite.importance import importance_ratio, mean_kl, surrogate
from trpo_lite.language import tr, use_language
from trpo_lite.normalize import RunningNorm
from trpo_lite.persistence import evaluate, load_agent, render_episode, save_agent
from trpo_lite.policies import CategoricalPolicy, GaussianPolicy, make_policy
from trpo_lite.rollout import Batch, Sampler, estimate_advantages, make_vector_env
from trpo_lite.step import BACKTRACK_COEF, LineSearchResult, line_search, natural_step_scale
from trpo_lite.tabular import FiniteMDP
from trpo_lite.training import History, train, use_threads
from trpo_lite.value import ValueFunction, explained_variance, fit_value

__all__ = [
    "Agent",
    "BACKTRACK_COEF",
    "Batch",
    "CategoricalPolicy",
    "FiniteMDP",
    "GaussianPolicy",
    "History",
    "LineSearchResult",
    "PRESETS",
    "RunningNorm",
    "Sampler",
    "TRPOConfig",
    "ValueFunction",
    "compute_advantage",
    "conjugate_gradient",
    "discounted_cumsum",
    "discounted_returns",
    "estimate_advantages",
    "evaluate",
    "explained_variance",
    "fisher_vector_product",
    "fisher_vector_product_fn",
    "fit_value",
    "flat_grad",
    "flat_params",
    "gae",
    "importance_ratio",
    "line_search",
    "load_agent",
    "make_policy",
    "make_vector_env",
    "mean_kl",
    "natural_step_scale",
    "preset",
    "render_episode",
    "save_agent",
    "set_flat_params",
    "surrogate",
    "tabular",
    "td_residuals",
    "tr",
    "train",
    "update_policy",
    "use_language",
    "use_threads",
]
