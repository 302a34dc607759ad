"""Flat views of a network's parameters and gradients, [P] vectors.

TRPO's algebra (E9-E12) works on one parameter vector theta; networks keep a
list of tensors. These helpers move between the two.
"""

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters


def flat_params(params) -> torch.Tensor:
    """theta, [P]: the parameters concatenated (a copy)."""
    return parameters_to_vector(list(params)).detach().clone()


def set_flat_params(params, theta: torch.Tensor) -> None:
    """Write theta [P] back into the parameter tensors, in place."""
    params = list(params)
    n = sum(p.numel() for p in params)
    if theta.shape != (n,):
        raise ValueError(f"theta has shape {tuple(theta.shape)}, expected ({n},): one entry per parameter")
    with torch.no_grad():
        vector_to_parameters(theta, params)


def flat_grad(output: torch.Tensor, params, **grad_kwargs) -> torch.Tensor:
    """d output / d theta, [P], for a scalar output. Keyword args go to torch.autograd.grad."""
    grads = torch.autograd.grad(output, list(params), **grad_kwargs)
    return torch.cat([g.reshape(-1) for g in grads])
