"""Advantage estimation (E13): TD residuals and generalized advantage estimation.

The one loop that matters is the backward recursion y_t = x_t + c y_{t+1},
cut wherever an episode ends. It gives discounted returns (c = gamma),
GAE (x = TD residuals, c = gamma lam) and the seed notes' ``compute_advantage``.

Cuts select (``torch.where``), they do not multiply by 0: a value that must be
ignored, such as V(s_T) after a termination, is ignored even when it is NaN.
Integer or boolean rewards are promoted to floating point first, as the seed
notes' code does, so that a discount never truncates them.

Shapes: T time steps, N parallel environments; every tensor is [T] or [T, N].
"""

import torch

from trpo_lite._validate import check_shape, check_unit_interval


def discounted_cumsum(x: torch.Tensor, coef: float, done: torch.Tensor | None = None):
    """y_t = x_t + coef (1 - done_t) y_{t+1}, computed backwards from y_T = 0.

    Args:
        x: [T] or [T, N] values to accumulate.
        coef: the per-step factor (gamma for returns, gamma lam for GAE).
        done: like x, bool (or 0/1); True where the episode ends at step t, so y_t = x_t.
    Returns:
        y, like x.
    """
    x = as_float(x)
    done = torch.zeros_like(x, dtype=torch.bool) if done is None else torch.as_tensor(done).bool()
    check_shape("done", done, x.shape, like="x")
    y = torch.zeros_like(x)
    running = torch.zeros_like(x[0])
    for t in reversed(range(x.shape[0])):
        running = x[t] + coef * torch.where(done[t], 0.0, running)
        y[t] = running
    return y


def as_float(x) -> torch.Tensor:
    """x as a floating-point tensor: integer and boolean tensors (and lists) become the default float
    dtype (float32), floating ones are kept, so that discounting never truncates."""
    x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def discounted_returns(rewards: torch.Tensor, gamma: float, done: torch.Tensor | None = None):
    """G_t = r_t + gamma G_{t+1}, cut at episode ends (E1 inside one episode). Shapes [T] or [T, N]."""
    return discounted_cumsum(rewards, check_unit_interval("gamma", gamma), done)


def td_residuals(rewards, values, next_values, terminated, gamma: float):
    """delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t) (E13).

    A terminal s_{t+1} has V = 0; a truncated one keeps its V (the episode
    would have gone on), which is why ``next_values`` is passed separately.
    """
    gamma = check_unit_interval("gamma", gamma)
    rewards = as_float(rewards)
    for name, t in (("values", values), ("next_values", next_values), ("terminated", terminated)):
        check_shape(name, t, rewards.shape, like="rewards")
    return rewards + gamma * torch.where(terminated.bool(), 0.0, next_values) - values


def gae(rewards, values, next_values, terminated, truncated, gamma: float, lam: float):
    """Generalized advantage estimates A_t = sum_l (gamma lam)^l delta_{t+l} (E13).

    Args:
        rewards: [T] or [T, N] r_t.
        values: like rewards, V(s_t).
        next_values: like rewards, V of the true next observation s_{t+1}; for a
            truncated step, the last observation before the reset.
        terminated: like rewards, bool; s_{t+1} is terminal: no bootstrap.
        truncated: like rewards, bool; a time limit cut the episode after step t.
        gamma: discount in [0, 1].
        lam: GAE parameter in [0, 1]; 0 gives delta_t, 1 gives G_t - V(s_t).
    Returns:
        advantages, like rewards. Value targets are ``advantages + values``.
    Reference: Schulman et al., High-Dimensional Continuous Control Using
    Generalized Advantage Estimation, 2016.
    """
    lam = check_unit_interval("lam", lam)
    check_shape("truncated", truncated, rewards.shape, like="rewards")
    deltas = td_residuals(rewards, values, next_values, terminated, gamma)
    return discounted_cumsum(deltas, gamma * lam, terminated.bool() | truncated.bool())


def compute_advantage(gamma: float, lmbda: float, td_delta: torch.Tensor) -> torch.Tensor:
    """The seed notes' GAE over one episode: A_t = delta_t + gamma lmbda A_{t+1} (E13).

    Same signature and result as the notes (a float32 tensor [T], also for
    integer td_delta); kept so a reader can start from it. ``gae`` adds vector
    envs and episode ends.
    """
    check_unit_interval("gamma", gamma)
    check_unit_interval("lmbda", lmbda)
    return discounted_cumsum(as_float(td_delta).detach(), gamma * lmbda).float()
