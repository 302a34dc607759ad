"""Notebook 02's numbers for "the surrogate's gradient is the policy gradient" (E4-E6), exactly and from
episodes.

The policy is softmax-tabular, pi_theta(a|s) = softmax(theta[s])_a with parameters theta [S, A]: each
state has its own row of logits, so d log pi_theta(a|s) / d theta[s', b] = 1[s' = s] (1[a = b] - pi(b|s)).
On it the policy gradient theorem (Sutton et al. 2000) is a finite sum over the table
(``policy_gradient_theorem``), and episodes of the real environment give Monte Carlo draws of it
(``episode_gradients``); ``fisher_blocks`` is the mean KL's curvature. ``step_average_gradient`` is
what an average over a batch's steps without the factor gamma^t estimates instead, as the agent's
update and most implementations compute it.

Shapes: S states, A actions, B episodes, T_b steps of episode b.
"""

import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite.examples.frozen_lake import Episode
from trpo_lite.gae import discounted_returns
from trpo_lite.tabular import FiniteMDP


def softmax_score(pi) -> np.ndarray:
    """[S, A, A] the score of the softmax-tabular policy pi [S, A]: entry [s, a, b] is
    d log pi(a|s) / d theta[s, b] = 1[a = b] - pi(b|s) (the derivatives by other rows theta[s'] are 0)."""
    pi = np.asarray(pi, dtype=float)
    return np.eye(pi.shape[1])[None] - pi[:, None, :]


def policy_gradient_theorem(mdp: FiniteMDP, pi) -> np.ndarray:
    """[S, A] grad_theta J for the softmax-tabular pi [S, A], as the sum over the table of
    1/(1 - gamma) E_{s ~ nu^pi, a ~ pi}[grad_theta log pi(a|s) A^pi(s, a)] (the policy gradient theorem)."""
    pi = np.asarray(pi, dtype=float)
    weight = tabular.visitation(mdp, pi)[:, None] * pi * tabular.advantages(mdp, pi)  # nu(s) pi(a|s) A(s, a)
    return np.einsum("sa,sab->sb", weight, softmax_score(pi)) / (1 - mdp.gamma)


def fisher_blocks(mdp: FiniteMDP, pi) -> np.ndarray:
    """[S, A, A] the Fisher matrix of the softmax-tabular pi [S, A] under its visitation nu, block by block:
    block s is nu(s) sum_a pi(a|s) grad log pi(a|s) grad log pi(a|s)^T, over theta[s]; the blocks of two
    different states are 0. It is the Hessian of the mean KL E_{s ~ nu}[D_KL(pi(.|s) || pi'(.|s))] at
    pi' = pi (E9)."""
    pi = np.asarray(pi, dtype=float)
    score = softmax_score(pi)
    return np.einsum("s,sa,sab,sac->sbc", tabular.visitation(mdp, pi), pi, score, score)


def discounted_returns_to_go(episode: Episode, gamma: float) -> np.ndarray:
    """[T] gamma^t G_t along one episode, with G_t = sum_{k >= t} gamma^(k - t) r_k the return from step t:
    the weight of step t in the Monte Carlo policy gradient (``episode_gradients``)."""
    returns = discounted_returns(torch.as_tensor(episode.rewards, dtype=torch.float64), gamma).numpy()
    return gamma ** np.arange(len(returns)) * returns


def episode_gradients(episodes: list[Episode], pi, gamma: float) -> np.ndarray:
    """[B, S, A] one Monte Carlo draw of grad_theta J per episode of the softmax-tabular pi [S, A]:
    sum_t gamma^t grad_theta log pi(a_t|s_t) G_t.

    E4 turns the expectation over nu into a discounted sum over time, and E[G_t | s_t, a_t] = Q(s_t, a_t),
    whose part V(s_t) averages out against the score; so the draws' mean estimates
    1/(1 - gamma) E_{s ~ nu, a ~ pi}[grad log pi(a|s) A(s, a)] = grad J without bias.
    """
    score = softmax_score(pi)
    draws = np.zeros((len(episodes),) + score.shape[:2])
    for b, episode in enumerate(episodes):
        weight = discounted_returns_to_go(episode, gamma)
        np.add.at(draws[b], episode.states, weight[:, None] * score[episode.states, episode.actions])
    return draws


def step_average_gradient(mdp: FiniteMDP, pi) -> np.ndarray:
    """[S, A] the direction that averaging grad log pi(a|s) A(s, a) over a batch's steps, with no gamma^t,
    estimates for the softmax-tabular pi [S, A]: sum_s d(s) sum_a pi(a|s) grad log pi(a|s) A(s, a), where
    d(s) = sum_t P(s_t = s) counts visits before the episode ends (up to the positive factor 1 / E[T]).

    For MDPs whose last state is the absorbing end of every episode (``FiniteMDP.from_toy_text``):
    d solves (I - P_pi)^T d = start on the other states.
    """
    pi = np.asarray(pi, dtype=float)
    P = mdp.P.numpy()
    if not np.allclose(P[-1, :, -1], 1.0):
        raise ValueError("step_average_gradient needs an MDP whose last state is absorbing (every episode "
                         "ends there), as FiniteMDP.from_toy_text builds")
    P_pi = np.einsum("sa,sat->st", pi, P)[:-1, :-1]  # transitions among the states before the end
    d = np.append(np.linalg.solve((np.eye(len(P_pi)) - P_pi).T, mdp.start.numpy()[:-1]), 0.0)
    weight = d[:, None] * pi * tabular.advantages(mdp, pi)
    return np.einsum("sa,sab->sb", weight, softmax_score(pi))
