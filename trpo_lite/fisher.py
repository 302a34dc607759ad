"""Fisher-vector products by double backpropagation (E10).

H, the Hessian of the mean KL at theta_old, is the Fisher information matrix:
the KL is zero with zero gradient at theta_old, so its second-order term is
all there is locally. For P parameters H has P^2 entries; conjugate gradient
(E11) needs only products H v, and autograd gives them without forming H:

    H v = grad_theta( (grad_theta KL)^T v )

The inner gradient is kept differentiable (create_graph=True); its dot product
with the constant v is a scalar, and one more backward pass differentiates it.

Reference: Pearlmutter, Fast Exact Multiplication by the Hessian, Neural
Computation 6(1), 1994 (Hessian-vector products by differentiating twice);
Schulman et al., Trust Region Policy Optimization, 2015, appendix C.1 (the
Fisher matrix as the KL's Hessian, and its products in TRPO).
"""

import torch

from trpo_lite._validate import check_positive
from trpo_lite.flat import flat_grad


def fisher_vector_product(kl: torch.Tensor, params, v: torch.Tensor, damping: float = 0.0):
    """H v + damping v, [P] (E10), with H = d^2 kl / d theta^2 never formed.

    Args:
        kl: scalar mean KL between the detached old policy and the policy with
            parameters ``params`` (see ``mean_kl``).
        params: the P parameters theta, as a list of tensors.
        v: [P] the vector to multiply.
        damping: >= 0; adds damping * v, i.e. uses H + damping I, which keeps
            conjugate gradient stable where H is near singular.
    Returns:
        [P] H v + damping v.
    """
    return fisher_vector_product_fn(kl, params, damping)(v)


def fisher_vector_product_fn(kl: torch.Tensor, params, damping: float = 0.0):
    """The map v -> H v + damping v (E10), for the many products of one CG run.

    The first backward pass, grad_theta KL with its graph kept, is done once
    here; each call then costs one more backward pass. Arguments as in
    ``fisher_vector_product``.
    """
    damping = check_positive("damping", damping, allow_zero=True)
    params = list(params)
    grad_kl = flat_grad(kl, params, create_graph=True, retain_graph=True)

    def fvp(v: torch.Tensor) -> torch.Tensor:
        if v.shape != grad_kl.shape:
            raise ValueError(
                f"v has shape {tuple(v.shape)}, expected {tuple(grad_kl.shape)} (one entry per parameter)"
            )
        hv = flat_grad(grad_kl @ v.detach(), params, retain_graph=True)
        return hv + damping * v

    return fvp
