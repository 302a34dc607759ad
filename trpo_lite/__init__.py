"""trpo_lite: the helper package of an interactive TRPO course.

Each module is one step of the derivation (equation labels E1-E14 from
DERIVATION.md); notebooks import and show these functions.
"""

import torch

from trpo_lite import tabular
from trpo_lite.cg import conjugate_gradient
from trpo_lite.fisher import fisher_vector_product, fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params, set_flat_params
from trpo_lite.gae import compute_advantage, discounted_cumsum, discounted_returns, gae, td_residuals
from trpo_lite.importance import importance_ratio, mean_kl, surrogate
from trpo_lite.tabular import FiniteMDP
from trpo_lite.trust_region import LineSearchResult, line_search, natural_step_scale

# The course's networks and tensors are tiny: intra-op threads cost more than they
# save (measured 10x slower on the 2-core course machine under load). Call
# torch.set_num_threads after import to change it.
torch.set_num_threads(1)

__all__ = [
    "FiniteMDP",
    "LineSearchResult",
    "compute_advantage",
    "conjugate_gradient",
    "discounted_cumsum",
    "discounted_returns",
    "fisher_vector_product",
    "fisher_vector_product_fn",
    "flat_grad",
    "flat_params",
    "gae",
    "importance_ratio",
    "line_search",
    "mean_kl",
    "natural_step_scale",
    "set_flat_params",
    "surrogate",
    "tabular",
    "td_residuals",
]
