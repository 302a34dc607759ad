"""Exact TRPO quantities on a finite MDP (E1-E5, E7): linear solves, no sampling.

Everything is computed in float64 by solving the Bellman equations, so the
course can check its claims to rounding error instead of estimating them.
Policies are arrays ``pi`` of shape [S, A] whose rows are distributions. Each
function is written once, for float64 torch tensors; the ``numpy_or_torch``
decorator lets it take numpy too (numpy in, numpy out; torch in, a
differentiable torch tensor out).

Shapes: S states, A actions.
"""

import functools
import inspect
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


def mixture(pi_old, pi_new, kappa):
    """pi_kappa = (1 - kappa) pi_old + kappa pi_new, [S, A]: the straight path from old (kappa = 0)
    to new (kappa = 1). Numpy or torch; kappa may be a tensor that requires grad."""
    return (1 - kappa) * pi_old + kappa * pi_new


def _as_policy(mdp: FiniteMDP, pi, name: str) -> torch.Tensor:
    pi = torch.as_tensor(pi, dtype=torch.float64)
    check_shape(name, pi, (mdp.n_states, mdp.n_actions), like="[mdp.n_states, mdp.n_actions]")
    check_distributions(name, pi)
    return pi


def _like(result: torch.Tensor, given):
    """Numpy (a float for a scalar) out for numpy in; torch, keeping the graph, for torch in."""
    if isinstance(given, torch.Tensor):
        return result
    return result.item() if result.dim() == 0 else result.detach().numpy()


def numpy_or_torch(fn):
    """Let ``fn(mdp, pi, ...)``, written for float64 torch policies [S, A], take numpy policies too.

    Every argument after mdp is a policy, named by fn's parameters (pi, pi_old, pi_new): it is
    checked (shape [S, A], rows that are distributions) and made a float64 tensor. The result is
    numpy (a float for a scalar) when the last policy was given as numpy, else torch with its graph.
    """
    names = list(inspect.signature(fn).parameters)[1:]

    @functools.wraps(fn)
    def wrapper(mdp: FiniteMDP, *policies):
        tensors = [_as_policy(mdp, pi, name) for pi, name in zip(policies, names, strict=True)]
        return _like(fn(mdp, *tensors), policies[-1])

    return wrapper


@numpy_or_torch
def state_values(mdp: FiniteMDP, pi):
    """V^pi, [S]: the solution of the Bellman equation V = r_pi + gamma P_pi V."""
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)  # P_pi[s, s'] = sum_a pi(a|s) P(s'|s, a)
    r_pi = (pi * mdp.R).sum(1)
    eye = torch.eye(mdp.n_states, dtype=torch.float64)
    return torch.linalg.solve(eye - mdp.gamma * P_pi, r_pi)  # (I - gamma P_pi) V = r_pi


@numpy_or_torch
def action_values(mdp: FiniteMDP, pi):
    """Q^pi, [S, A]: Q(s, a) = R(s, a) + gamma sum_s' P(s' | s, a) V^pi(s')."""
    return mdp.R + mdp.gamma * mdp.P @ state_values(mdp, pi)


@numpy_or_torch
def advantages(mdp: FiniteMDP, pi):
    """A^pi, [S, A] (E2): A(s, a) = Q^pi(s, a) - V^pi(s)."""
    return action_values(mdp, pi) - state_values(mdp, pi)[:, None]


@numpy_or_torch
def visitation(mdp: FiniteMDP, pi):
    """nu^pi, [S] (E4): (1 - gamma) sum_t gamma^t P(s_t = s | pi); sums to 1.

    sum_t gamma^t P_pi^t = (I - gamma P_pi)^-1, so nu^T = (1 - gamma) start^T (I - gamma P_pi)^-1,
    solved transposed.
    """
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)
    eye = torch.eye(mdp.n_states, dtype=torch.float64)
    return torch.linalg.solve((eye - mdp.gamma * P_pi).T, (1 - mdp.gamma) * mdp.start)


@numpy_or_torch
def objective(mdp: FiniteMDP, pi):
    """J(pi), scalar (E1): E_{s0 ~ start}[V^pi(s0)]."""
    return mdp.start @ state_values(mdp, pi)


@numpy_or_torch
def surrogate(mdp: FiniteMDP, pi_old, pi_new):
    """L_old(new), scalar (E5).

    L = J(old) + 1/(1 - gamma) E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)]:
    J with the new policy's visitation replaced by the old one's.
    """
    gain = visitation(mdp, pi_old) @ (pi_new * advantages(mdp, pi_old)).sum(1)
    return objective(mdp, pi_old) + gain / (1 - mdp.gamma)


def greedy_policy(mdp: FiniteMDP, pi, tie: float = 1e-12) -> np.ndarray:
    """[S, A] the policy-improvement step (E2): in each state all mass on the action with the largest
    A^pi(s, a); numpy.

    Actions within tie * max(1, max |A^pi|) of the best count as equal, and the first of them
    wins, so that rounding never picks a winner between actions that tie exactly (FrozenLake's
    mirror symmetry makes such ties). Where every action ties (absorbing states, holes) the row
    of pi is kept: moving the policy where it changes nothing would only add KL.
    """
    pi = _as_policy(mdp, pi, "pi").numpy()
    adv = advantages(mdp, pi)
    tolerance = tie * max(1.0, np.abs(adv).max())
    best = adv >= adv.max(1, keepdims=True) - tolerance
    one_hot = np.eye(mdp.n_actions)[best.argmax(1)]
    return np.where(best.all(1, keepdims=True), pi, one_hot)


def state_kl(pi_old, pi_new):
    """D_KL(pi_old(.|s) || pi_new(.|s)) per state, [..., S], natural log; inf where new drops an action
    old takes. pi_old [S, A]; pi_new [..., S, A] (a batch of policies broadcasts). Numpy or torch."""
    old = torch.as_tensor(pi_old, dtype=torch.float64)
    new = torch.as_tensor(pi_new, dtype=torch.float64)
    if old.dim() != 2 or new.shape[-2:] != old.shape:
        raise ValueError(f"pi_new must have shape [..., {', '.join(map(str, old.shape))}] (that of pi_old, "
                         f"[S, A]); got {tuple(new.shape)}")
    check_distributions("pi_old", old)  # Categorical would silently renormalise rows that do not sum to 1
    check_distributions("pi_new", new)
    return _like(kl_divergence(Categorical(probs=old.expand_as(new)), Categorical(probs=new)), pi_new)


def max_state_kl(pi_old, pi_new):
    """max_s D_KL(pi_old(.|s) || pi_new(.|s)), [...] (E7's KL term); inf where new drops an action old
    takes. Shapes as in ``state_kl``."""
    old, new = (torch.as_tensor(pi, dtype=torch.float64) for pi in (pi_old, pi_new))
    return _like(state_kl(old, new).amax(-1), pi_new)


def mean_state_kl(mdp: FiniteMDP, pi_old, pi_new):
    """E_{s ~ nu^old}[D_KL(pi_old(.|s) || pi_new(.|s))], [...] (E8), exact; shapes as in ``state_kl``.

    The trust region averages over the states the old policy visits (E4), not the
    worst state as E7's max does, so it can be estimated from old-policy data.
    """
    old, new = (torch.as_tensor(pi, dtype=torch.float64) for pi in (pi_old, pi_new))
    return _like(state_kl(old, new) @ visitation(mdp, old), pi_new)


def penalty_coefficient(mdp: FiniteMDP, pi_old) -> float:
    """C = 4 eps gamma / (1 - gamma)^2 with eps = max_{s,a} |A^old(s, a)| (E7)."""
    eps = advantages(mdp, torch.as_tensor(pi_old, dtype=torch.float64)).abs().max().item()
    return 4 * eps * mdp.gamma / (1 - mdp.gamma) ** 2


@numpy_or_torch
def lower_bound(mdp: FiniteMDP, pi_old, pi_new):
    """L_old(new) - C max_s D_KL(old || new), scalar (E7): never above J(new)."""
    return surrogate(mdp, pi_old, pi_new) - penalty_coefficient(mdp, pi_old) * max_state_kl(pi_old, pi_new)
