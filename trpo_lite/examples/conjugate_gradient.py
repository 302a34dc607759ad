"""Notebook 06's trust-region problem: a real policy's Fisher matrix, and CG's iterates on it (E10, E11).

``make_cg_demo`` collects a CartPole-v1 batch with a small categorical MLP policy,
forms H (the Hessian of the mean KL) explicitly as a reference, and runs
``conjugate_gradient`` on Fisher-vector products for every iteration count and
damping the sliders offer, so a slider only indexes these iterates.
``examples.trpo_step`` turns an iterate into TRPO's step and line search.

Shapes: B samples, D observation size, A actions, P parameters, M damping
values, K iteration counts (1..K).
"""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from trpo_lite._validate import check_positive, grid_index
from trpo_lite.cg import conjugate_gradient
from trpo_lite.examples.kl_geometry import flat_logits_fn
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params
from trpo_lite.gae import discounted_returns
from trpo_lite.importance import mean_kl, surrogate

DAMPINGS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the damping slider's values xi; 0.1 is TRPOConfig().damping
# The sweep runs CG far past the package's default stop (r^T r < 1e-10) so the
# curves show where it converges, not where TRPO would stop.
SWEEP_TOL = 1e-24
DEFAULT_TOL = 1e-10  # conjugate_gradient's default, drawn as a line


@dataclass(frozen=True)
class CGDemo:
    """One batch, its trust-region problem, and CG's iterates for every slider setting.

    policy: the categorical MLP, float64; its parameters are theta_old between calls.
    obs [B, D], actions [B], advantages [B]: the batch. old_logits [B, A]: pi_old's logits.
    theta_old [P], g [P]: parameters and surrogate gradient (E6) at theta_old.
    fisher [P, P]: H, the Hessian of the mean KL at theta_old, formed entry by entry.
    dampings [M]: the damping values xi offered; CG solves (H + xi I) x = g.
    iterates [M, K, P]: conjugate_gradient(..., iters=k) for k = 1..K.
    products [M, K, P]: (H + xi I) x_k, by Fisher-vector products (E10).
    solutions [M, P]: x* = torch.linalg.solve(H + xi I, g).
    residuals, errors, energy_errors [M, K]: |g - A x_k| / |g|, |x_k - x*| / |x*| and
        |x_k - x*|_A / |x*|_A with A = H + xi I (see ``cg_errors``).
    """

    policy: nn.Module
    obs: torch.Tensor
    actions: torch.Tensor
    advantages: torch.Tensor
    old_logits: torch.Tensor
    theta_old: torch.Tensor
    g: torch.Tensor
    fisher: torch.Tensor
    dampings: tuple
    iterates: torch.Tensor
    products: torch.Tensor
    solutions: torch.Tensor
    residuals: np.ndarray
    errors: np.ndarray
    energy_errors: np.ndarray

    @property
    def params(self) -> list:
        return list(self.policy.parameters())

    @property
    def max_iters(self) -> int:
        return self.iterates.shape[1]

    @property
    def default_stop(self) -> float:
        """The relative residual |r| / |g| at which conjugate_gradient stops with its default tol
        (r^T r < 1e-10)."""
        return np.sqrt(DEFAULT_TOL) / float(self.g.norm())

    def kl_and_gain(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean KL(pi_old || pi_theta) (E8) and L(theta) - L(theta_old) (E6) at the current parameters,
        from one forward pass. L(theta_old) is the mean advantage: there every ratio is 1."""
        old, new = Categorical(logits=self.old_logits), Categorical(logits=self.policy(self.obs))
        gain = surrogate(new.log_prob(self.actions), old.log_prob(self.actions), self.advantages)
        return mean_kl(old, new), gain - self.advantages.mean()

    def kl(self) -> torch.Tensor:
        return self.kl_and_gain()[0]

    def surrogate_gain(self) -> torch.Tensor:
        return self.kl_and_gain()[1]

    def index(self, iters: int, damping: float) -> tuple[int, int]:
        """(m, k - 1): where the slider values sit in the precomputed arrays."""
        if not (isinstance(iters, int | np.integer) and 1 <= iters <= self.max_iters):
            raise ValueError(f"iters must be an integer in 1..{self.max_iters}; got {iters!r}")
        return grid_index("damping", damping, self.dampings), int(iters) - 1


def collect_cartpole_batch(policy: nn.Module, batch_size: int = 512, seed: int = 0, gamma: float = 0.99):
    """Run the policy on CartPole-v1 for batch_size steps: obs [B, D], actions [B], advantages [B].

    The advantages are discounted returns (E1) minus their mean, scaled to unit
    spread: a constant baseline instead of a value function, enough to give the
    surrogate a gradient g. The batch's last, unfinished episode is cut there.
    """
    dtype = next(policy.parameters()).dtype
    generator = torch.Generator().manual_seed(seed)  # actions, like the env, follow the one seed
    env = gym.make("CartPole-v1")
    observation, _ = env.reset(seed=seed)
    obs, actions, rewards, ends = [], [], [], []
    for _ in range(batch_size):
        obs.append(torch.as_tensor(observation, dtype=dtype))
        with torch.no_grad():
            probs = torch.softmax(policy(obs[-1]), -1)
        actions.append(int(torch.multinomial(probs, 1, generator=generator)))
        observation, reward, terminated, truncated, _ = env.step(actions[-1])
        rewards.append(reward)
        ends.append(terminated or truncated)
        if ends[-1]:
            observation, _ = env.reset()
    env.close()
    ends[-1] = True
    returns = discounted_returns(torch.tensor(rewards, dtype=dtype), gamma, torch.tensor(ends))
    return torch.stack(obs), torch.tensor(actions), (returns - returns.mean()) / returns.std()


def explicit_fisher(policy: nn.Module, obs: torch.Tensor, old_logits: torch.Tensor) -> torch.Tensor:
    """H [P, P]: the Hessian of the mean KL at the policy's current parameters, formed entry by entry
    with torch.autograd.functional.hessian (the reference the products of E10 are checked against)."""
    logits = flat_logits_fn(policy, obs)

    def kl_at(theta):
        return mean_kl(Categorical(logits=old_logits), Categorical(logits=logits(theta)))

    return torch.autograd.functional.hessian(kl_at, flat_params(policy.parameters()))


def _remembering(fvp):
    """fvp with a memory of its answers. CG is deterministic, so the runs with iters = 1, 2, ..., K ask
    for the same products H p_0, H p_1, ... in the same order: K products in all instead of K^2 / 2."""
    answers = {}

    def remembered(v: torch.Tensor) -> torch.Tensor:
        key = v.numpy().tobytes()
        if key not in answers:
            answers[key] = fvp(v)
        return answers[key]

    return remembered


def make_cg_demo(seed: int = 0, batch_size: int = 512, hidden: int = 16, dampings=DAMPINGS,
                 max_iters: int = 30) -> CGDemo:
    """Build the policy (4 -> hidden -> 2, tanh), collect its batch and precompute every CG run (E11)."""
    for damping in dampings:
        check_positive("damping", damping)  # damping 0 leaves H singular: the softmax ignores a logit shift
    torch.manual_seed(seed)
    # float64, so the checks against explicit matrices reach 1e-12 and rounding does not hide CG's convergence
    policy = nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 2)).double()
    obs, actions, advantages = collect_cartpole_batch(policy, batch_size, seed)
    with torch.no_grad():
        old_logits = policy(obs)
    params = list(policy.parameters())
    log_prob = Categorical(logits=policy(obs)).log_prob(actions)
    g = flat_grad(surrogate(log_prob, log_prob.detach(), advantages), params)
    fisher = explicit_fisher(policy, obs, old_logits)
    kl = mean_kl(Categorical(logits=old_logits), Categorical(logits=policy(obs)))
    iterates, products, solutions = [], [], []
    eye = torch.eye(len(g), dtype=g.dtype)
    for damping in dampings:
        fvp = _remembering(fisher_vector_product_fn(kl, params, damping))
        xs = [conjugate_gradient(fvp, g, iters=k, tol=SWEEP_TOL) for k in range(1, max_iters + 1)]
        iterates.append(torch.stack(xs))
        products.append(torch.stack([fvp(x) for x in xs]))
        solutions.append(torch.linalg.solve(fisher + damping * eye, g))
    dampings = tuple(float(d) for d in dampings)
    iterates, solutions = torch.stack(iterates), torch.stack(solutions)
    return CGDemo(policy, obs, actions, advantages, old_logits, flat_params(params), g, fisher, dampings,
                  iterates, torch.stack(products), solutions,
                  *cg_errors(fisher, g, dampings, iterates, solutions))


def cg_errors(fisher, g, dampings, iterates, solutions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CG's progress against the explicit H [P, P] and the direct solutions x* [M, P], for iterates
    [M, K, P], each [M, K] and relative: the residual |g - A x_k| / |g|, the error |x_k - x*| / |x*|, and
    the error in the energy norm |x_k - x*|_A / |x*|_A, |e|_A = sqrt(e^T A e), with A = H + xi I: the
    norm CG minimises over its Krylov space and the one its convergence bound is stated in (E11)."""
    eye = torch.eye(len(g), dtype=g.dtype)
    matrices = torch.stack([fisher + d * eye for d in dampings])  # [M, P, P]
    residuals = g - torch.einsum("mpq,mkq->mkp", matrices, iterates)
    errors = iterates - solutions[:, None, :]
    energy = torch.einsum("mkp,mpq,mkq->mk", errors, matrices, errors).clamp_min(0).sqrt()
    energy_star = torch.einsum("mp,mpq,mq->m", solutions, matrices, solutions).sqrt()
    return ((residuals.norm(dim=-1) / g.norm()).numpy(),
            (errors.norm(dim=-1) / solutions.norm(dim=-1, keepdim=True)).numpy(),
            (energy / energy_star[:, None]).numpy())


def condition_bounds(demo: CGDemo) -> tuple[np.ndarray, np.ndarray]:
    """The classic CG bound from the condition number alone (E11): cond [M] = (h_max + xi) / (h_min + xi)
    of A = H + xi I (h the eigenvalues of H, the tiny negative ones of rounding taken as 0), and
    bound [M, K] = 2 ((sqrt(cond) - 1) / (sqrt(cond) + 1))^k, which |x_k - x*|_A / |x*|_A never exceeds."""
    h = torch.linalg.eigvalsh(demo.fisher).clamp_min(0).numpy()
    xi = np.asarray(demo.dampings)
    cond = (h.max() + xi) / (h.min() + xi)
    rate = (np.sqrt(cond) - 1) / (np.sqrt(cond) + 1)
    return cond, 2 * rate[:, None] ** np.arange(1, demo.max_iters + 1)


def gain_fractions(demo: CGDemo) -> np.ndarray:
    """[M, K]: the first-order gain g^T beta x_k of the step scaled to the trust region (E9), as a
    fraction of the exact solve's, sqrt(2 delta g^T x*). It equals g^T x_k / sqrt(x_k^T A x_k g^T x*)
    with A = H + xi I, so it is <= 1 (Cauchy-Schwarz in the A inner product) and the same for
    every delta."""
    g_x = demo.iterates @ demo.g
    x_A_x = (demo.iterates * demo.products).sum(-1)
    return (g_x / torch.sqrt(x_A_x * (demo.solutions @ demo.g)[:, None])).numpy()


def fisher_spectrum(demo: CGDemo) -> np.ndarray:
    """The eigenvalues of H [P], largest first (H is symmetric: torch.linalg.eigvalsh)."""
    return torch.linalg.eigvalsh(demo.fisher).numpy()[::-1]
