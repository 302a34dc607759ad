"""Running observation normalisation: s -> clip((s - mean) / sqrt(var + eps), -clip, clip).

Observations whose coordinates differ in scale by orders of magnitude
(Acrobot's angular velocities against its cosines) make a poorly conditioned
network input; standardising them helps the policy and the value fit. The
statistics are buffers, so they are saved in the agent's state dict.

Shapes: B observations, D observation size.
"""

import torch
from torch import nn


class RunningNorm(nn.Module):
    """Mean and variance of every observation seen so far, merged batch by batch.

    Merging uses the parallel update of Chan, Golub and LeVeque (1979): for
    counts n_a, n_b with means m_a, m_b and sums of squared deviations M_a, M_b,
    m = m_a + (m_b - m_a) n_b / n and M = M_a + M_b + (m_b - m_a)^2 n_a n_b / n.
    """

    def __init__(self, obs_dim: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(obs_dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(obs_dim, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.clip, self.eps = clip, eps

    def update(self, obs: torch.Tensor) -> None:
        """Merge a batch obs [B, D] into the statistics."""
        obs = obs.reshape(-1, self.mean.shape[0]).double()
        n_b = obs.shape[0]
        mean_b, var_b = obs.mean(0), obs.var(0, unbiased=False)
        if self.count == 0:
            self.mean.copy_(mean_b)
            self.var.copy_(var_b)
        else:
            n = self.count + n_b
            d = mean_b - self.mean
            m2 = self.var * self.count + var_b * n_b + d.pow(2) * self.count * n_b / n
            self.mean.add_(d * n_b / n)
            self.var.copy_(m2 / n)
        self.count.add_(n_b)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalised obs, same shape and dtype as obs [..., D]."""
        scaled = (obs - self.mean) / torch.sqrt(self.var + self.eps)
        return scaled.clamp(-self.clip, self.clip).to(obs.dtype)
