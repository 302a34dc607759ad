"""Notebook 03's gradients: at theta' = theta the gradient of the E6 surrogate is the policy gradient.

The policy is a tabular softmax, pi_theta(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b]), one
parameter per state-action pair, so every gradient is an [S, A] array. For it, grad_theta
log pi_theta(a|s) is e_a - pi_theta(.|s) in row s and zero in every other row: the score function.
``surrogate_gradient`` differentiates the package's ``trpo_lite.surrogate`` with autograd;
``score_function_gradient`` writes the policy-gradient estimator out by hand.

Shapes: S states, A actions, B sampled pairs (s_b, a_b).
"""

import numpy as np
import torch

from trpo_lite.importance import surrogate


def surrogate_gradient(theta, states, actions, advantages) -> np.ndarray:
    """[S, A] the gradient of mean_b rho_b A_b (``trpo_lite.surrogate``, E6) at theta' = theta, by autograd.

    Args:
        theta: [S, A] logits of the old policy; the new policy's logits theta' start at the same values.
        states, actions: [B] integer indices of the sampled pairs (s_b, a_b).
        advantages: [B] A^old(s_b, a_b).
    """
    theta_new = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    log_new = torch.log_softmax(theta_new, dim=1)[states, actions]
    log_old = torch.log_softmax(torch.as_tensor(theta, dtype=torch.float64), dim=1)[states, actions]
    value = surrogate(log_new, log_old, torch.as_tensor(advantages, dtype=torch.float64))
    (grad,) = torch.autograd.grad(value, theta_new)
    return grad.numpy()


def score_function_gradient(pi, states, actions, advantages) -> np.ndarray:
    """[S, A] the policy-gradient estimate mean_b grad_theta log pi_theta(a_b|s_b) A_b, written out.

    For a softmax policy, grad_theta log pi(a|s) is e_a - pi(.|s) in row s and 0 in the others.

    Args:
        pi: [S, A] the policy pi_theta = softmax(theta).
        states, actions: [B] integer indices of the sampled pairs (s_b, a_b).
        advantages: [B] A(s_b, a_b).
    """
    score = np.eye(pi.shape[1])[actions] - pi[states]  # [B, A] the nonzero row of each score
    grad = np.zeros(pi.shape)
    np.add.at(grad, states, score * np.asarray(advantages)[:, None])  # pairs in the same state add up
    return grad / len(states)

