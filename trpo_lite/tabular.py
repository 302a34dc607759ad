"""Exact TRPO quantities on a finite MDP (E1-E5, E7): linear solves, no sampling.

Everything is computed in float64 by solving the Bellman equations, so the
course can check its claims to rounding error instead of estimating them.
Policies are arrays ``pi`` of shape [S, A] whose rows are distributions; a
function returns numpy when given numpy and a (differentiable) torch tensor
when given torch.

Shapes: S states, A actions.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Categorical, kl_divergence

from trpo_lite._validate import check_distributions, check_shape, check_unit_interval


@dataclass(frozen=True)
class FiniteMDP:
    """A finite, discounted MDP.

    Args:
        P: [S, A, S] transition probabilities P[s, a, s'].
        R: [S, A] expected reward of taking a in s.
        gamma: discount in [0, 1).
        start: [S] start-state distribution.
    """

    P: torch.Tensor
    R: torch.Tensor
    gamma: float
    start: torch.Tensor

    def __post_init__(self):
        P, R, start = (torch.as_tensor(x, dtype=torch.float64) for x in (self.P, self.R, self.start))
        if P.dim() != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P must have shape [S, A, S]; got {tuple(P.shape)}")
        check_shape("R", R, P.shape[:2], like="P[:, :, 0]")
        check_shape("start", start, P.shape[:1], like="P[:, 0, 0]")
        check_distributions("P", P)
        check_distributions("start", start)
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "gamma", check_unit_interval("gamma", self.gamma, closed_right=False))

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @classmethod
    def from_toy_text(cls, env, gamma: float) -> "FiniteMDP":
        """Build the MDP from a gymnasium toy-text env's transition table ``env.unwrapped.P``.

        Works for FrozenLake-v1, CliffWalking-v1 and Taxi-v4. A transition that
        ends the episode leads to one extra absorbing, zero-reward state (index
        S_env, the last one), so the discounted visitation (E4) is a probability
        distribution over S = S_env + 1 states.
        """
        table = getattr(env.unwrapped, "P", None)
        if not isinstance(table, dict):
            raise ValueError(
                f"{env.unwrapped} has no transition table P; from_toy_text supports gymnasium "
                "toy-text environments such as FrozenLake-v1, CliffWalking-v1 and Taxi-v4"
            )
        n_env, n_actions = len(table), len(table[0])
        absorbing = n_env
        P = np.zeros((n_env + 1, n_actions, n_env + 1))
        R = np.zeros((n_env + 1, n_actions))
        for s, moves in table.items():
            for a, outcomes in moves.items():
                for prob, s_next, reward, terminated in outcomes:
                    P[s, a, absorbing if terminated else s_next] += prob
                    R[s, a] += prob * reward
        P[absorbing, :, absorbing] = 1.0
        start = np.append(np.asarray(env.unwrapped.initial_state_distrib, dtype=float), 0.0)
        return cls(P, R, gamma, start)

    @classmethod
    def random(cls, rng: np.random.Generator, n_states: int = 5, n_actions: int = 3, gamma: float = 0.9,
               concentration: float = 1.0) -> "FiniteMDP":
        """A dense random MDP: Dirichlet(concentration) transitions, Dirichlet(1) start, N(0, 1) rewards."""
        P = rng.dirichlet(np.full(n_states, concentration), size=(n_states, n_actions))
        R = rng.normal(size=(n_states, n_actions))
        return cls(P, R, gamma, rng.dirichlet(np.ones(n_states)))

    def uniform_policy(self) -> np.ndarray:
        """[S, A] the policy that picks every action with equal probability."""
        return np.full((self.n_states, self.n_actions), 1.0 / self.n_actions)

    def random_policy(self, rng: np.random.Generator, concentration: float = 1.0) -> np.ndarray:
        """[S, A] rows drawn from Dirichlet(concentration); small concentration, near-deterministic."""
        return rng.dirichlet(np.full(self.n_actions, concentration), size=self.n_states)


def mixture(pi_old, pi_new, alpha):
    """pi_alpha = (1 - alpha) pi_old + alpha pi_new, [S, A]: the straight path from old (alpha = 0)
    to new (alpha = 1). Numpy or torch; alpha may be a tensor that requires grad."""
    return (1 - alpha) * pi_old + alpha * pi_new


def _policy(mdp: FiniteMDP, pi, name: str = "pi") -> torch.Tensor:
    pi = torch.as_tensor(pi, dtype=torch.float64)
    check_shape(name, pi, (mdp.n_states, mdp.n_actions), like="[mdp.n_states, mdp.n_actions]")
    check_distributions(name, pi)
    return pi


def _like(result: torch.Tensor, given):
    """Numpy (a float for a scalar) out for numpy in; torch, keeping the graph, for torch in."""
    if isinstance(given, torch.Tensor):
        return result
    return result.item() if result.dim() == 0 else result.detach().numpy()


def _values(mdp: FiniteMDP, pi: torch.Tensor) -> torch.Tensor:
    # V = r_pi + gamma P_pi V  =>  (I - gamma P_pi) V = r_pi
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)
    r_pi = (pi * mdp.R).sum(1)
    eye = torch.eye(mdp.n_states, dtype=torch.float64)
    return torch.linalg.solve(eye - mdp.gamma * P_pi, r_pi)


def _advantages(mdp: FiniteMDP, pi: torch.Tensor) -> torch.Tensor:
    v = _values(mdp, pi)
    q = mdp.R + mdp.gamma * mdp.P @ v
    return q - v[:, None]


def _visitation(mdp: FiniteMDP, pi: torch.Tensor) -> torch.Tensor:
    # nu^T = (1 - gamma) start^T (I - gamma P_pi)^-1, solved transposed.
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)
    eye = torch.eye(mdp.n_states, dtype=torch.float64)
    return torch.linalg.solve((eye - mdp.gamma * P_pi).T, (1 - mdp.gamma) * mdp.start)


def state_values(mdp: FiniteMDP, pi):
    """V^pi, [S]: the solution of V = r_pi + gamma P_pi V."""
    return _like(_values(mdp, _policy(mdp, pi)), pi)


def action_values(mdp: FiniteMDP, pi):
    """Q^pi, [S, A]: Q(s, a) = R(s, a) + gamma sum_s' P(s' | s, a) V^pi(s')."""
    pi_t = _policy(mdp, pi)
    return _like(mdp.R + mdp.gamma * mdp.P @ _values(mdp, pi_t), pi)


def advantages(mdp: FiniteMDP, pi):
    """A^pi, [S, A] (E2): A(s, a) = Q^pi(s, a) - V^pi(s)."""
    return _like(_advantages(mdp, _policy(mdp, pi)), pi)


def visitation(mdp: FiniteMDP, pi):
    """nu^pi, [S] (E4): (1 - gamma) sum_t gamma^t P(s_t = s | pi); sums to 1."""
    return _like(_visitation(mdp, _policy(mdp, pi)), pi)


def objective(mdp: FiniteMDP, pi):
    """J(pi), scalar (E1): E_{s0 ~ start}[V^pi(s0)]."""
    return _like(mdp.start @ _values(mdp, _policy(mdp, pi)), pi)


def _surrogate(mdp: FiniteMDP, pi_old: torch.Tensor, pi_new: torch.Tensor) -> torch.Tensor:
    nu_old = _visitation(mdp, pi_old)
    gain = nu_old @ (pi_new * _advantages(mdp, pi_old)).sum(1)
    return mdp.start @ _values(mdp, pi_old) + gain / (1 - mdp.gamma)


def surrogate(mdp: FiniteMDP, pi_old, pi_new):
    """L_old(new), scalar (E5).

    L = J(old) + 1/(1 - gamma) E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)]:
    J with the new policy's visitation replaced by the old one's.
    """
    old, new = _policy(mdp, pi_old, "pi_old"), _policy(mdp, pi_new, "pi_new")
    return _like(_surrogate(mdp, old, new), pi_new)


def _max_kl(pi_old: torch.Tensor, pi_new: torch.Tensor) -> torch.Tensor:
    return kl_divergence(Categorical(probs=pi_old), Categorical(probs=pi_new)).max()


def max_kl(pi_old, pi_new):
    """max_s D_KL(pi_old(.|s) || pi_new(.|s)), scalar; inf where new drops an action old takes."""
    old = torch.as_tensor(pi_old, dtype=torch.float64)
    new = torch.as_tensor(pi_new, dtype=torch.float64)
    check_shape("pi_new", new, old.shape, like="pi_old")
    check_distributions("pi_old", old)
    check_distributions("pi_new", new)
    return _like(_max_kl(old, new), pi_new)


def penalty_coefficient(mdp: FiniteMDP, pi_old) -> float:
    """C = 4 eps gamma / (1 - gamma)^2 with eps = max_{s,a} |A^old(s, a)| (E7)."""
    eps = _advantages(mdp, _policy(mdp, pi_old, "pi_old")).abs().max().item()
    return 4 * eps * mdp.gamma / (1 - mdp.gamma) ** 2


def lower_bound(mdp: FiniteMDP, pi_old, pi_new):
    """L_old(new) - C max_s D_KL(old || new), scalar (E7): never above J(new)."""
    old, new = _policy(mdp, pi_old, "pi_old"), _policy(mdp, pi_new, "pi_new")
    bound = _surrogate(mdp, old, new) - penalty_coefficient(mdp, old) * _max_kl(old, new)
    return _like(bound, pi_new)
