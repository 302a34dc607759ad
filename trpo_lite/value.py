"""The value function V(s) (E2, E13): a separate MLP regressed on each batch's returns.

GAE (E13) needs V at every visited state and at the state after each step.
The regression targets are the GAE returns, advantages + V(s_t), which for
lam = 1 are the discounted returns bootstrapped at the batch's end.

``Adam`` is the optimizer of the fit, written out (see its docstring for why).

Shapes: B samples, D observation size.
"""

import torch
import torch.nn.functional as F
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


class Adam:
    """Adam on a list of tensors, with torch.optim.Adam's defaults and its arithmetic, op for op.

    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,
    theta <- theta - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps).

    Why not ``torch.optim.Adam``: every ``torch.optim`` optimizer imports ``torch._dynamo`` on its
    first ``step`` (fused or foreach alike), 1.1-1.9 s measured on the course's 2-core machine, longer
    than training CartPole takes. This class imports nothing, steps as fast as the fused optimizer,
    and gives the default (CPU) ``torch.optim.Adam``'s numbers bit for bit (tests/test_value.py).

    Reference: Kingma and Ba, Adam: A Method for Stochastic Optimization, ICLR 2015, Algorithm 1
    (the first moment's bias correction is folded into the step size; eps is added to the
    bias-corrected sqrt(v), as there).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, tuple(betas), eps
        self.t = 0  # steps taken
        self.exp_avg = [torch.zeros_like(p) for p in self.params]  # m, the first moment
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]  # v, the second moment

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One step on the gradients in ``p.grad``."""
        beta1, beta2 = self.betas
        self.t += 1
        g = [p.grad for p in self.params]
        torch._foreach_lerp_(self.exp_avg, g, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sq, beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, g, g, 1 - beta2)
        bias_correction1, bias_correction2 = 1 - beta1**self.t, 1 - beta2**self.t
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias_correction2**0.5)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, -self.lr / bias_correction1)

    def state_dict(self) -> dict:
        """The step count and both moments (checkpoints save them: ``run_folder.RunFolder``)."""
        return {"t": self.t, "lr": self.lr, "betas": self.betas, "eps": self.eps,
                "exp_avg": [m.clone() for m in self.exp_avg],
                "exp_avg_sq": [v.clone() for v in self.exp_avg_sq]}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state_dict()``'s output, or from a ``torch.optim.Adam``'s (the run folders of
        earlier versions hold one); refuses a state saved for differently shaped parameters."""
        if "param_groups" in state:  # torch.optim.Adam's layout: one group, a state per parameter index
            group, per_param = state["param_groups"][0], [state["state"][i] for i in range(len(self.params))]
            state = {"t": int(per_param[0]["step"]), "lr": group["lr"], "betas": group["betas"],
                     "eps": group["eps"], "exp_avg": [s["exp_avg"] for s in per_param],
                     "exp_avg_sq": [s["exp_avg_sq"] for s in per_param]}
        shapes = [tuple(p.shape) for p in self.params]
        if [tuple(m.shape) for m in state["exp_avg"]] != shapes:
            raise ValueError(f"the optimizer state is for parameters of shapes "
                             f"{[tuple(m.shape) for m in state['exp_avg']]}, not {shapes}")
        self.t, self.lr, self.betas = int(state["t"]), float(state["lr"]), tuple(state["betas"])
        self.eps = float(state["eps"])
        self.exp_avg = [m.clone() for m in state["exp_avg"]]
        self.exp_avg_sq = [v.clone() for v in state["exp_avg_sq"]]


def fit_value(value_fn: ValueFunction, optimizer: Adam, obs: torch.Tensor,
              targets: torch.Tensor, epochs: int, batch_size: int) -> dict:
    """Regress V on targets by minibatch MSE, ``epochs`` passes over the batch in random order.

    Args:
        value_fn: the network, changed in place.
        optimizer: its optimizer, e.g. ``Adam`` (kept across iterations, so Adam keeps its moments);
            anything with ``zero_grad()`` and ``step()``.
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
    for _ in range(epochs):
        order = torch.randperm(len(targets))  # shuffled once per epoch; the minibatches are slices of it
        minibatches = zip(obs[order].split(batch_size), targets[order].split(batch_size), strict=True)
        for obs_b, targets_b in minibatches:
            loss = F.mse_loss(value_fn(obs_b), targets_b)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        final_loss = float((value_fn(obs) - targets).pow(2).mean())
    return {"value/loss": final_loss, "value/explained_variance": ev}
