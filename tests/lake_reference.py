"""FrozenLake references for the tests of notebooks 01 and 02.

Notebook 01's running example built straight from gymnasium's table: the reference
solves the Bellman equations on the 16 cells with plain loops over ``env.unwrapped.P``
(terminal transitions simply leave the system), independent of
``FiniteMDP.from_toy_text`` and its absorbing state.
"""

import gymnasium as gym
import numpy as np

from trpo_lite import tabular
from trpo_lite.examples import visitation

N_CELLS = 16


def reference_tables(gamma, is_slippery=True):
    """P [16, A, 16] (sub-stochastic: ending the episode leaves), R [16, A], from plain loops."""
    table = gym.make("FrozenLake-v1", is_slippery=is_slippery).unwrapped.P
    P, R = np.zeros((N_CELLS, 4, N_CELLS)), np.zeros((N_CELLS, 4))
    for s in range(N_CELLS):
        for a in range(4):
            for prob, s_next, reward, terminated in table[s][a]:
                R[s, a] += prob * reward
                if not terminated:
                    P[s, a, s_next] += prob
    return P, R


def reference_q_v(gamma, pi, is_slippery=True):
    P, R = reference_tables(gamma, is_slippery)
    pi = pi[:N_CELLS]
    P_pi = np.einsum("sa,sat->st", pi, P)
    v = np.linalg.solve(np.eye(N_CELLS) - gamma * P_pi, (pi * R).sum(1))
    return R + gamma * P @ v, v


def reference_gain(gamma, alpha):
    """J(new) - J(old) for the running example; FrozenLake always starts in cell 0."""
    pi_old = np.full((N_CELLS, 4), 0.25)
    q_old, v_old = reference_q_v(gamma, pi_old)
    adv_old = q_old - v_old[:, None]
    first_best = [next(a for a in range(4) if row[a] >= row.max() - 1e-12) for row in adv_old]
    pi_new = (1 - alpha) * pi_old + alpha * np.eye(4)[first_best]
    return reference_q_v(gamma, pi_new)[1][0] - v_old[0]


def path_policies(mdp, p):
    """Notebook 02's paths: pi_old (uniform) and path p's new policy (0 greedy, 1 flawed), [S, A] each."""
    old = mdp.uniform_policy()
    return old, (tabular.greedy_policy, visitation.flawed_step)[p](mdp, old)
