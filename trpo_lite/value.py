"""The value function V(s) (E2, E13): a separate MLP regressed on each batch's returns.

GAE (E13) needs V at every visited state and at the state after each step.
The regression targets are the GAE returns, advantages + V(s_t), which for
lam = 1 are the discounted returns bootstrapped at the batch's end.

Shapes: B samples, D observation size.
"""

import torch
from torch import nn

from trpo_lite.policies import mlp


class ValueFunction(nn.Module):
    """V(s): a tanh MLP from observations [B, D] to values [B]."""

    def __init__(self, obs_dim: int, hidden_sizes=(64, 64)):
        super().__init__()
        self.net = mlp([obs_dim, *hidden_sizes, 1], out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)


def explained_variance(values: torch.Tensor, targets: torch.Tensor) -> float:
    """1 - Var[targets - values] / Var[targets], from values [B] and targets [B].

    1 means V predicts the targets exactly, 0 that it does no better than their
    mean, below 0 worse than that. NaN when the targets do not vary.
    """
    var = float(targets.var())
    return float("nan") if var == 0 else 1.0 - float((targets - values).var()) / var


def fit_value(value_fn: ValueFunction, optimizer: torch.optim.Optimizer, obs: torch.Tensor,
              targets: torch.Tensor, epochs: int, batch_size: int) -> dict:
    """Regress V on targets by minibatch MSE, ``epochs`` passes over the batch in random order.

    Args:
        value_fn: the network, changed in place.
        optimizer: its optimizer (kept across iterations, so Adam keeps its moments).
        obs: [B, D] observations (already normalised, as the agent sees them).
        targets: [B] value targets (GAE returns).
        epochs, batch_size: passes over the data and minibatch size.
    Returns:
        {"value/loss": MSE on the whole batch after the fit,
         "value/explained_variance": of V *before* the fit, i.e. of the values the
         advantages were computed with, on data V had not seen}.
    """
    with torch.no_grad():
        ev = explained_variance(value_fn(obs), targets)
    n = len(targets)
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = (value_fn(obs[idx]) - targets[idx]).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        final_loss = float((value_fn(obs) - targets).pow(2).mean())
    return {"value/loss": final_loss, "value/explained_variance": ev}
