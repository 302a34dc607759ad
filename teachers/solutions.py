"""The teacher's key: a model answer to every exercise of the course, one function per checker of
``trpo_lite.exercises``, named ``nbNN_<exercise>`` after its notebook and its checker ``check_<exercise>``.

Each function takes what the notebook's stub takes and is written the way a learner could write it: plain
numpy or torch from the formulas, independent of the package function the exercise asks for (notebook 08's
update is the exception: that exercise asks to chain the package's pieces). A derivation exercise's
answer is a function of no arguments that works the number out. ``tests/test_teachers_key.py`` runs every
checker on its answer. Not part of the package: keep it away from learners.

Shapes: T time steps, N environments, B samples, S states, A actions, P parameters.
"""

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from trpo_lite import conjugate_gradient, line_search, natural_step_scale


def _values(P: np.ndarray, R: np.ndarray, gamma: float, pi: np.ndarray) -> np.ndarray:
    """V^pi [S] from the Bellman equations (I - gamma P_pi) V = r_pi."""
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.solve(np.eye(len(P)) - gamma * P_pi, (pi * R).sum(1))


def _mdp(mdp):
    """(P [S, A, S], R [S, A], gamma, start [S]) of a FiniteMDP as numpy arrays."""
    return mdp.P.numpy(), mdp.R.numpy(), mdp.gamma, mdp.start.numpy()


# --- notebook 00: the objective (E1) ----------------------------------------------------------------


def nb00_discounted_return(rewards, gamma):
    """G_0 = sum_t gamma^t r_t, one backward pass: G_t = r_t + gamma G_(t+1)."""
    g = 0.0
    for r in reversed(list(rewards)):
        g = r + gamma * g
    return g


def nb00_monte_carlo_objective(episodes, gamma):
    """J ~ the mean over episodes of each episode's G_0 (the discount restarts in every episode)."""
    return sum(nb00_discounted_return(rewards, gamma) for rewards in episodes) / len(episodes)


# --- notebook 01: advantage and performance difference (E2-E4) ---------------------------------------


def nb01_advantages(mdp, pi):
    """A^pi(s, a) = Q^pi(s, a) - V^pi(s), with Q = R + gamma P V (E2). [S, A]"""
    P, R, gamma, _ = _mdp(mdp)
    V = _values(P, R, gamma, pi)
    return R + gamma * P @ V - V[:, None]


def nb01_performance_difference(mdp, pi_old, pi_new):
    """1/(1 - gamma) sum_s nu_new(s) sum_a pi_new(a|s) A_old(s, a) (E4): states of the NEW policy, advantages
    of the OLD one."""
    _, _, gamma, _ = _mdp(mdp)
    return nb02_visitation(mdp, pi_new) @ (pi_new * nb01_advantages(mdp, pi_old)).sum(1) / (1 - gamma)


# --- notebook 02: visitation and surrogate (E4, E5) --------------------------------------------------


def nb02_visitation(mdp, pi):
    """nu^T = (1 - gamma) start^T (I - gamma P_pi)^-1: a row vector, so solve with the transpose. [S]"""
    P, _, gamma, start = _mdp(mdp)
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.solve((np.eye(len(P)) - gamma * P_pi).T, (1 - gamma) * start)


def nb02_surrogate(mdp, pi_old, pi_new):
    """L = J(old) + 1/(1 - gamma) E_(s ~ nu_old) E_(a ~ pi_new)[A_old(s, a)] (E5)."""
    P, R, gamma, start = _mdp(mdp)
    J_old = start @ _values(P, R, gamma, pi_old)
    gain = nb02_visitation(mdp, pi_old) @ (pi_new * nb01_advantages(mdp, pi_old)).sum(1)
    return J_old + gain / (1 - gamma)


def nb02_table_gradient(mdp, pi):
    """dJ/dpi(a|s) = nu(s) Q(s, a) / (1 - gamma), every entry of the table a parameter of its own: subtract
    the Bellman equations of pi and pi', V' - V = (I - gamma P_pi')^-1 (r_pi' + gamma P_pi' V - V); in state
    s the bracket is sum_a (pi' - pi)(a|s) Q(s, a), with no V(s) left since pi' need not sum to 1. [S, A]"""
    P, R, gamma, _ = _mdp(mdp)
    Q = R + gamma * P @ _values(P, R, gamma, pi)
    return nb02_visitation(mdp, pi)[:, None] * Q / (1 - gamma)


# --- notebook 03: importance sampling (E6) -----------------------------------------------------------


def nb03_importance_estimate(actions, advantages, pi_old_probs, pi_new_probs):
    """mean_b rho(a_b) A(a_b) with rho = pi_new / pi_old, over the sampled actions a_b ~ pi_old."""
    rho = pi_new_probs[actions] / pi_old_probs[actions]
    return np.mean(rho * advantages[actions])


def nb03_estimator_variance(advantages, pi_old_probs, pi_new_probs, n_samples):
    """Var of the mean of n_samples i.i.d. draws X = rho(a) A(a), a ~ pi_old: (E[X^2] - (E X)^2) / B,
    with E X = sum_a pi_new(a) A(a) and E[X^2] = sum_a pi_new(a)^2 / pi_old(a) A(a)^2."""
    second = np.sum(pi_new_probs**2 / pi_old_probs * advantages**2)
    mean = np.sum(pi_new_probs * advantages)
    return (second - mean**2) / n_samples


# --- notebook 04: the KL trust region (E7, E8) -------------------------------------------------------


def nb04_kl(p, q):
    """D_KL(p_b || q_b) = sum_a p_b(a) log(p_b(a) / q_b(a)) per row, natural log, 0 log 0 = 0. [B]"""
    terms = np.zeros_like(p)
    support = p > 0
    terms[support] = p[support] * np.log(p[support] / q[support])
    return terms.sum(1)


def nb04_penalty_coefficient(mdp, pi_old):
    """C = 4 A_max gamma / (1 - gamma)^2 with A_max = max_(s, a) |A_old(s, a)| (E7)."""
    gamma = mdp.gamma
    return 4 * np.abs(nb01_advantages(mdp, pi_old)).max() * gamma / (1 - gamma) ** 2


def nb04_mean_kl(mdp, pi_old, pi_new):
    """sum_s nu_old(s) D_KL(pi_old(.|s) || pi_new(.|s)) (E8): old first, weighted by the old visitation."""
    return nb02_visitation(mdp, pi_old) @ nb04_kl(pi_old, pi_new)


# --- notebook 05: natural gradient (E9, E10) ---------------------------------------------------------


def nb05_fisher_vector_product(kl, params, v, damping):
    """H v + damping v by two backward passes (E10): grad KL with its graph, then grad of (grad KL)^T v."""
    grads = torch.autograd.grad(kl, params, create_graph=True)
    grad_v = torch.cat([g.reshape(-1) for g in grads]) @ v
    hv = torch.autograd.grad(grad_v, params)
    return torch.cat([h.reshape(-1) for h in hv]) + damping * v


def nb05_natural_step(g, H, max_kl):
    """d = sqrt(2 delta / (g^T H^-1 g)) H^-1 g: along x = H^-1 g, ending on 1/2 d^T H d = delta (E9). [P]"""
    x = torch.linalg.solve(H, g)
    return torch.sqrt(2 * max_kl / (g @ x)) * x


def nb05_rescaled_plain_kl():
    """theta = c phi with c = 3: g_phi = c g, and the step eta g_phi in phi moves theta by c eta g_phi =
    c^2 eta g. The step is c^2 = 9 times as long; the model KL 1/2 d^T H d, quadratic in d, grows c^4 = 81
    times."""
    c = 3
    return (c**2) ** 2


# --- notebook 06: conjugate gradient and line search (E11, E12) --------------------------------------


def nb06_conjugate_gradient(fvp, b, iters, tol=1e-10):
    """x ~ H^-1 b after at most iters CG steps from x = 0 (E11), stopping once r^T r < tol. [P]"""
    x = torch.zeros_like(b)
    r = b.clone()  # r = b - H x with x = 0
    p = r.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Hp = fvp(p)
        alpha = rr / (p @ Hp)
        x = x + alpha * p
        r = r - alpha * Hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def nb06_line_search(params, full_step, surrogate_gain, kl, max_kl, backtrack_coef=0.8, max_backtracks=10):
    """Try theta + f full_step for f = 1, 0.8, 0.8^2, ... (E12); keep the first with kl() <= max_kl and
    surrogate_gain() > 0 and return f, or put theta back exactly and return 0.0."""
    theta = parameters_to_vector(params).detach().clone()
    for i in range(max_backtracks + 1):
        fraction = backtrack_coef**i
        with torch.no_grad():
            vector_to_parameters(theta + fraction * full_step, params)
            if kl() <= max_kl and surrogate_gain() > 0:
                return fraction
    with torch.no_grad():
        vector_to_parameters(theta, params)
    return 0.0


def nb06_cg_bound_iterations():
    """The smallest k with 2 r^k <= 1e-6, r = (sqrt(cond) - 1) / (sqrt(cond) + 1) = 9/11 for cond = 100:
    k >= log(5e-7) / log(9/11) = 72.3, so k = 73."""
    r = (100**0.5 - 1) / (100**0.5 + 1)
    return int(np.ceil(np.log(1e-6 / 2) / np.log(r)))


# --- notebook 07: GAE (E13) --------------------------------------------------------------------------


def nb07_td_residuals(rewards, values, next_values, terminated, gamma):
    """Delta_t = r_t + gamma V(s_(t+1)) - V(s_t), with V(s_(t+1)) = 0 where s_(t+1) is terminal.
    [T] or [T, N]"""
    return rewards + gamma * next_values * ~terminated - values


def nb07_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """A_t = Delta_t + gamma lam A_(t+1), backwards in time, cut where an episode ends (terminated or
    truncated); only a terminal step drops the bootstrap V(s_(t+1)). [T] or [T, N]"""
    residuals = nb07_td_residuals(rewards, values, next_values, terminated, gamma)
    ends = terminated | truncated
    advantages = torch.zeros_like(residuals)
    running = torch.zeros_like(residuals[0])
    for t in reversed(range(len(residuals))):
        running = residuals[t] + gamma * lam * running * ~ends[t]
        advantages[t] = running
    return advantages


# --- notebook 08: the TRPO agent (E9-E12, E14) -------------------------------------------------------


def nb08_trpo_step(params, g, fvp, max_kl, surrogate_gain, kl):
    """One TRPO update from the package's pieces: x = H^-1 g by CG, scaled to the trust region, then the
    backtracking line search, which sets params."""
    x = conjugate_gradient(fvp, g)
    full_step = natural_step_scale(x, fvp(x), max_kl) * x
    line_search(params, full_step, surrogate_gain, kl, max_kl)


def nb08_explained_variance(values, targets):
    """1 - Var[targets - values] / Var[targets]: 1 for a perfect V, 0 for a constant one."""
    return 1 - (targets - values).var() / targets.var()


# --- notebook 09: experiments (E14) ------------------------------------------------------------------


def nb09_steps_to_threshold(history, threshold):
    """time/env_steps of the first row whose rollout/return_last10 >= threshold, or None."""
    for row in history:
        if row["rollout/return_last10"] >= threshold:
            return row["time/env_steps"]
    return None


def nb09_seed_summary(values):
    """(median, sample standard deviation) over seeds, the caller's list left as it is."""
    ordered = sorted(float(v) for v in values)
    n, middle = len(ordered), len(ordered) // 2
    median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    mean = sum(ordered) / n
    return median, (sum((v - mean) ** 2 for v in ordered) / (n - 1)) ** 0.5


def nb09_median_steps(steps):
    """The median over seeds with a seed that never got there (None) counted as the slowest; None when the
    median falls on such a seed."""
    ordered = sorted(steps, key=lambda s: (s is None, s or 0))
    n, middle = len(ordered), len(ordered) // 2
    pair = ordered[middle: middle + 1] if n % 2 else ordered[middle - 1: middle + 1]
    return None if None in pair else sum(pair) / len(pair)


# --- notebook 10: from TRPO to PPO (PPO eq. 7, E8) -----------------------------------------------------


def nb10_clipped_surrogate(ratio, advantages, clip_range):
    """mean_b min(rho_b A_b, clip(rho_b, 1 - eps, 1 + eps) A_b): the smaller of the unclipped and the clipped
    term, sample by sample."""
    clipped = torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return torch.minimum(ratio * advantages, clipped * advantages).mean()


def nb10_clip_edge_kl():
    """sum_a pi_old(a) log(pi_old(a) / pi_new(a)) with pi_old = (0.5, 0.5), pi_new = (0.6, 0.4)."""
    return 0.5 * np.log(0.5 / 0.6) + 0.5 * np.log(0.5 / 0.4)
