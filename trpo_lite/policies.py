"""Policies pi_theta(a|s) for the agent (E14): categorical for Discrete actions, diagonal Gaussian for Box.

``distribution(obs)`` gives a torch Distribution whose ``log_prob`` and
``entropy`` are [B] (one number per sample), as ``surrogate`` (E6) and
``mean_kl`` (E8) expect. ``act`` samples without building a Distribution,
because rollouts call it once per environment step.

Shapes: B observations, D observation size, A action dimensions.
"""

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Independent, Normal


def mlp(sizes, out_gain: float) -> nn.Sequential:
    """tanh MLP with layer widths ``sizes``; orthogonal weights, zero biases.

    A small ``out_gain`` on the last layer starts a policy near uniform (or
    near its mean), so the first steps of training are not already committed.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        linear = nn.Linear(n_in, n_out)
        nn.init.orthogonal_(linear.weight, gain=out_gain if last else math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear] if last else [linear, nn.Tanh()]
    return nn.Sequential(*layers)


class CategoricalPolicy(nn.Module):
    """pi(a|s) = softmax(logits(s))_a over ``n_actions`` actions (gymnasium Discrete(n, start))."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_sizes=(64, 64), start: int = 0):
        super().__init__()
        self.logits = mlp([obs_dim, *hidden_sizes, n_actions], out_gain=0.01)
        self.start = start

    def distribution(self, obs: torch.Tensor) -> Categorical:
        """pi(.|s) for obs [B, D]; log_prob takes actions [B] (indices from 0)."""
        return Categorical(logits=self.logits(obs), validate_args=False)

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """Actions [B] (int64, indices from 0): sampled, or the most probable when deterministic.

        Sampled by the Gumbel-max trick: argmax_a (logits_a + G_a) with G_a = -log E_a, E_a ~ Exp(1)
        independent Gumbel(0, 1) draws, is distributed as softmax(logits). ``torch.multinomial``
        draws one sample the same way (argmax_a p_a / E_a, from the same random stream), so the
        actions are those of ``torch.multinomial(softmax(logits), 1)``; skipping the softmax makes a
        step of 16 copies cost 9 instead of 23 us.
        Reference: Gumbel, Statistical Theory of Extreme Values, 1954; Maddison, Tarlow and Minka,
        A* Sampling, NeurIPS 2014, section 2.
        """
        logits = self.logits(obs)
        if deterministic:
            return logits.argmax(-1)
        return (logits - torch.empty_like(logits).exponential_().log()).argmax(-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """What the environment receives: indices shifted by the space's start."""
        return actions + self.start


class GaussianPolicy(nn.Module):
    """pi(a|s) = N(mu(s), diag(exp(log_std))^2): an MLP mean and a state-independent log std.

    Actions are sampled unbounded (so log_prob is exact) and clipped to
    [low, high] only in ``to_env``, when the environment receives them.
    """

    def __init__(self, obs_dim: int, low: np.ndarray, high: np.ndarray, hidden_sizes=(64, 64),
                 log_std_init: float = 0.0):
        super().__init__()
        self.mean = mlp([obs_dim, *hidden_sizes, len(low)], out_gain=0.01)
        self.log_std = nn.Parameter(torch.full((len(low),), float(log_std_init)))
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)

    def distribution(self, obs: torch.Tensor) -> Independent:
        """pi(.|s) for obs [B, D]; Independent sums over the A dimensions, so log_prob is [B]."""
        mean = self.mean(obs)
        return Independent(Normal(mean, self.log_std.exp().expand_as(mean), validate_args=False), 1)

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """Actions [B, A]: mu(s) + std * noise, or mu(s) when deterministic."""
        mean = self.mean(obs)
        return mean if deterministic else mean + self.log_std.exp() * torch.randn_like(mean)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Clip to the action space's bounds; the unclipped action stays in the batch."""
        return np.clip(actions, self.low, self.high)


def make_policy(observation_space, action_space, hidden_sizes=(64, 64), log_std_init: float = 0.0):
    """The policy for a gymnasium (observation space, action space) pair.

    Supported: a flat Box observation space (shape (D,)) with a Discrete action
    space (CategoricalPolicy) or a 1-D Box action space (GaussianPolicy).
    Anything else raises ValueError naming the space.
    """
    if not (isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 1):
        raise ValueError(
            f"observation_space must be a flat Box of shape (D,); got {observation_space!r} "
            "(wrap the env in gymnasium.wrappers.FlattenObservation to flatten it)"
        )
    obs_dim = observation_space.shape[0]
    if isinstance(action_space, spaces.Discrete):
        return CategoricalPolicy(obs_dim, int(action_space.n), hidden_sizes, int(action_space.start))
    if isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
        return GaussianPolicy(obs_dim, action_space.low, action_space.high, hidden_sizes, log_std_init)
    raise ValueError(
        f"action_space {action_space!r} is not supported; supported: Discrete (categorical policy) "
        "or a 1-D Box (diagonal Gaussian policy)"
    )
