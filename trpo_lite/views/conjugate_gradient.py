"""Notebook 06's sliders: conjugate gradient on a real policy's Fisher matrix, then the line search
(E9, E10, E11, E12).

``make_cg_demo`` collects a CartPole-v1 batch with a small categorical MLP policy,
forms H (the Hessian of the mean KL) explicitly as a reference, and runs
``conjugate_gradient`` on Fisher-vector products for every iteration count and
damping the sliders offer. The view then only indexes these iterates and runs
the (cheap, forward-pass only) line search on the resulting step.

Shapes: B samples, D observation size, A actions, P parameters, M damping
values, K iteration counts (1..K), F step fractions.
"""

import functools
from dataclasses import asdict, dataclass

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.distributions import Categorical
from torch.func import functional_call

from trpo_lite._validate import check_positive
from trpo_lite.cg import conjugate_gradient
from trpo_lite.figures.style import static_figure
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params, set_flat_params
from trpo_lite.gae import discounted_returns
from trpo_lite.importance import mean_kl, surrogate
from trpo_lite.step import line_search, natural_step_scale

DAMPINGS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the damping slider's values lambda
MAX_KLS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)  # the delta slider's values
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
    dampings [M]: the damping values lambda offered; CG solves (H + lambda I) x = g.
    iterates [M, K, P]: conjugate_gradient(..., iters=k) for k = 1..K.
    products [M, K, P]: (H + lambda I) x_k, by Fisher-vector products (E10).
    solutions [M, P]: x* = torch.linalg.solve(H + lambda I, g).
    residuals, errors [M, K]: |g - (H + lambda I) x_k| / |g| and |x_k - x*| / |x*| (see ``cg_errors``).
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

    @property
    def params(self) -> list:
        return list(self.policy.parameters())

    @property
    def max_iters(self) -> int:
        return self.iterates.shape[1]

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
        if damping not in self.dampings:
            raise ValueError(f"damping must be one of the precomputed values {self.dampings}; "
                             f"got {damping!r}")
        return self.dampings.index(damping), int(iters) - 1


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
    named = dict(policy.named_parameters())
    sizes = [p.numel() for p in named.values()]

    def kl_at(theta):
        pieces = torch.split(theta, sizes)
        weights = {name: t.view_as(p) for (name, p), t in zip(named.items(), pieces, strict=True)}
        new_logits = functional_call(policy, weights, (obs,))
        return mean_kl(Categorical(logits=old_logits), Categorical(logits=new_logits))

    return torch.autograd.functional.hessian(kl_at, flat_params(named.values()))


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


def cg_errors(fisher, g, dampings, iterates, solutions) -> tuple[np.ndarray, np.ndarray]:
    """Relative residual |g - (H + lambda I) x_k| / |g| (with the explicit H [P, P]) and relative error
    |x_k - x*| / |x*| against the direct solutions [M, P], for iterates [M, K, P]: [M, K] each."""
    eye = torch.eye(len(g), dtype=g.dtype)
    matrices = torch.stack([fisher + d * eye for d in dampings])  # [M, P, P]
    residuals = g - torch.einsum("mpq,mkq->mkp", matrices, iterates)
    errors = iterates - solutions[:, None, :]
    return ((residuals.norm(dim=-1) / g.norm()).numpy(),
            (errors.norm(dim=-1) / solutions.norm(dim=-1, keepdim=True)).numpy())


def gain_fractions(demo: CGDemo) -> np.ndarray:
    """[M, K]: the first-order gain g^T beta x_k of the step scaled to the trust region (E9), as a
    fraction of the exact solve's, sqrt(2 delta g^T x*). It equals g^T x_k / sqrt(x_k^T A x_k g^T x*)
    with A = H + lambda I, so it is <= 1 (Cauchy-Schwarz in the A inner product) and the same for
    every delta."""
    g_x = demo.iterates @ demo.g
    x_A_x = (demo.iterates * demo.products).sum(-1)
    return (g_x / torch.sqrt(x_A_x * (demo.solutions @ demo.g)[:, None])).numpy()


def along_step(demo: CGDemo, full_step: torch.Tensor, fractions) -> tuple[np.ndarray, np.ndarray]:
    """True mean KL and surrogate gain [F] at theta_old + f full_step for each fraction f [F]."""
    kls, gains = [], []
    try:
        with torch.no_grad():
            for fraction in fractions:
                set_flat_params(demo.params, demo.theta_old + float(fraction) * full_step)
                kl, gain = demo.kl_and_gain()
                kls.append(float(kl))
                gains.append(float(gain))
    finally:
        set_flat_params(demo.params, demo.theta_old)
    return np.array(kls), np.array(gains)


def step_report(demo: CGDemo, iters: int, damping: float, max_kl: float, sign: float = 1.0) -> dict:
    """The step TRPO builds from x_k (E9, E11) and what the line search (E12) makes of it.

    full_step = sign * beta * x_k with beta = sqrt(2 delta / x_k^T (H + lambda I) x_k); sign = -1
    flips it, so it cannot improve L. Returns a dict: beta, full_step [P], model_kl (1/2 beta^2
    x^T (H + lambda I) x, = max_kl), model_kl_undamped (with H alone), predicted_gain (g^T full_step),
    full_step_kl and full_step_gain (true values at the full step), and the LineSearchResult's fields
    (accepted, backtracks, step_fraction, kl, surrogate_gain). The policy is at theta_old afterwards.
    """
    m, k = demo.index(iters, damping)
    max_kl = check_positive("max_kl", max_kl)
    x, Hx = demo.iterates[m, k], demo.products[m, k]
    beta = natural_step_scale(x, Hx, max_kl)
    full_step = sign * beta * x
    (full_kl,), (full_gain,) = along_step(demo, full_step, [1.0])  # the true values, before any halving
    try:
        result = line_search(demo.params, full_step, demo.surrogate_gain, demo.kl, max_kl)
    finally:
        set_flat_params(demo.params, demo.theta_old)
    return {
        "beta": beta,
        "full_step": full_step,
        "model_kl": 0.5 * beta**2 * float(x @ Hx),
        "model_kl_undamped": 0.5 * beta**2 * float(x @ Hx - damping * (x @ x)),
        "predicted_gain": float(demo.g @ full_step),
        "full_step_kl": float(full_kl),
        "full_step_gain": float(full_gain),
        **asdict(result),
    }


def _plain_log_ticks(ax, low: int, high: int, every: int) -> None:
    """Decade ticks 1e{low}..1e{high} labelled as plain text: log axes' default mathtext labels and
    tight_layout would cost most of a slider's 100 ms budget."""
    exponents = range(low, high + 1, every)
    ax.set_yticks([10.0**e for e in exponents], [f"1e{e}" for e in exponents])
    ax.minorticks_off()


@functools.cache
def _cg_figure() -> dict:
    """The figure of ``cg_view``, built once, and the artists a call moves (their data set by the call).

    Both legends keep every entry: they are keys to the symbols, and a fixed legend does not jump
    between slider moves; the right title says in words whether a step was accepted.
    """
    fig = static_figure((13, 4.6))
    ax_cg, ax_ls = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.22)
    art = {"fig": fig, "ax_cg": ax_cg, "ax_ls": ax_ls, "cg_title": ax_cg.set_title(""),
           "ls_title": ax_ls.set_title("")}
    ax_cg.set_yscale("log")
    (art["residual"],) = ax_cg.plot([], [], color="C0", label="residual |g − (H + λI) x_k| / |g|")
    (art["error"],) = ax_cg.plot([], [], color="C1", label="error |x_k − x*| / |x*|")
    (art["current"],) = ax_cg.plot([], [], "o", color="black", ms=8)
    art["current_k"] = ax_cg.axvline(1, color="black", lw=1, ls=":")
    art["default_stop"] = ax_cg.axhline(1, color="grey", lw=1, ls="--", label="default stop, rᵀr < 1e-10")
    ax_cg.set(xlabel="CG iterations k", ylabel="relative size", ylim=(1e-13, 10))
    _plain_log_ticks(ax_cg, -12, 0, 3)
    ax_cg.legend(loc="upper right", fontsize=11)

    (art["true_kl"],) = ax_ls.plot([], [], color="C3", label="true mean KL")
    (art["model"],) = ax_ls.plot([], [], color="C3", ls="--", label="quadratic model, H + λI")
    (art["model_undamped"],) = ax_ls.plot([], [], color="C3", ls=":", label="quadratic model, H")
    art["max_kl"] = ax_ls.axhline(1, color="black", lw=1.2)  # the trust region; y ticks in units of delta
    (art["refused"],) = ax_ls.plot([], [], "x", color="black", ms=11, mew=2.5, label="tried, refused")
    (art["accepted"],) = ax_ls.plot([], [], "*", color="C2", ms=20, label="accepted")
    ax_ls.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0.00", "0.25", "0.50", "0.75", "1.00"])
    ax_ls.set(xlabel="step fraction f of β x_k", ylabel="mean KL", xlim=(-0.05, 1.05))
    ax_ls.legend(loc="upper left", fontsize=11)
    return art


def _draw_iterations(art: dict, demo: CGDemo, iters: int, damping: float) -> None:
    """Left panel: residuals and errors [K] at this damping, iteration k marked (E11)."""
    m, k = demo.index(iters, damping)
    ks = np.arange(1, demo.max_iters + 1)
    art["residual"].set_data(ks, demo.residuals[m])
    art["error"].set_data(ks, demo.errors[m])
    art["current"].set_data([iters, iters], [demo.residuals[m, k], demo.errors[m, k]])
    art["current_k"].set_xdata([iters, iters])
    stop = np.sqrt(DEFAULT_TOL) / float(demo.g.norm())
    art["default_stop"].set_ydata([stop, stop])
    margin = 0.05 * (demo.max_iters - 1)  # matplotlib's default margins around 1..K
    art["ax_cg"].set_xlim(1 - margin, demo.max_iters + margin)
    art["ax_cg"].set_xticks([1, *range(10, demo.max_iters + 1, 10)])
    art["cg_title"].set_text(f"CG on (H + {damping:g} I) x = g,  k = {iters}")


def _draw_line_search(art: dict, demo: CGDemo, report: dict, max_kl: float) -> None:
    """Right panel: mean KL [F] along the step against the quadratic models and delta, and the
    fractions the line search tried (E9, E12)."""
    # The line search's tries are the fractions 1, 1/2, 1/4, ... (backtrack_coef 0.5, its default).
    tried = 0.5 ** np.arange(report["backtracks"] + 1)
    fractions = np.union1d(np.linspace(0, 1, 11), tried)
    kls, _ = along_step(demo, report["full_step"], fractions)
    tried_kls = kls[np.searchsorted(fractions, tried)]
    art["true_kl"].set_data(fractions, kls)
    art["model"].set_data(fractions, fractions**2 * report["model_kl"])
    art["model_undamped"].set_data(fractions, fractions**2 * report["model_kl_undamped"])
    art["max_kl"].set_ydata([max_kl, max_kl])
    refused = slice(0, -1) if report["accepted"] else slice(None)
    art["refused"].set_data(tried[refused], tried_kls[refused])
    accepted = slice(-1, None) if report["accepted"] else slice(0)
    art["accepted"].set_data(tried[accepted], tried_kls[accepted])
    art["ax_ls"].set_yticks([0, max_kl, 2 * max_kl, 3 * max_kl], ["0", "δ", "2δ", "3δ"])
    art["ax_ls"].set_ylim(0, 3 * max_kl)
    verdict = (f"accepted f = {report['step_fraction']:g} after {report['backtracks']} backtracks"
               if report["accepted"] else f"rejected after {report['backtracks']} backtracks")
    art["ls_title"].set_text(f"δ = {max_kl:g}: full step has KL {report['full_step_kl'] / max_kl:.2f} δ, "
                             f"gain {report['full_step_gain']:+.3g}\n{verdict}")


def cg_view(demo: CGDemo, iters: int = 10, damping: float = 1e-2, max_kl: float = 0.01) -> Figure:
    """Left: CG's relative residual and error per iteration at this damping, the current one marked
    (E11). Right: along the step beta x_k, the true mean KL against the quadratic model and delta,
    and the step fractions the line search tried (E9, E12).

    The figure is built once: every call returns the same Figure, redrawn from its arguments alone.
    """
    report = step_report(demo, iters, damping, max_kl)  # checks the arguments before anything is drawn
    art = _cg_figure()
    _draw_iterations(art, demo, iters, damping)
    _draw_line_search(art, demo, report, max_kl)
    return art["fig"]


def convergence_figure(demo: CGDemo) -> plt.Figure:
    """Why about 10 iterations do (E11): H's spectrum with each damping, the error per iteration for
    every damping, and the fraction of the exact solve's first-order gain reached."""
    eigenvalues = torch.linalg.eigvalsh(demo.fisher).numpy()[::-1]
    fractions = gain_fractions(demo)
    ks = np.arange(1, demo.max_iters + 1)
    fig, (ax_eig, ax_err, ax_gain) = plt.subplots(1, 3, figsize=(15, 4.4))
    ax_eig.semilogy(np.arange(1, len(eigenvalues) + 1), np.clip(eigenvalues, 1e-12, None), ".", color="black",
                    label=r"eigenvalues of $H$ (clipped at $10^{-12}$)")
    for m, damping in enumerate(demo.dampings):
        ax_eig.axhline(damping, color=f"C{m}", lw=1.2, ls="--", label=rf"$\lambda$ = {damping:g}")
        ax_err.semilogy(ks, demo.errors[m], color=f"C{m}", label=rf"$\lambda$ = {damping:g}")
        ax_gain.plot(ks, fractions[m], color=f"C{m}", label=rf"$\lambda$ = {damping:g}")
    ax_eig.set(xlabel="index (largest first)", ylabel="eigenvalue", title="spectrum of the Fisher matrix H")
    ax_eig.legend(fontsize=9, loc="upper right")
    ax_err.set(xlabel="CG iterations k", ylabel=r"$|x_k - x^*|\,/\,|x^*|$",
               title="error against the direct solve")
    ax_err.legend(fontsize=9)
    ax_gain.set(xlabel="CG iterations k", ylabel="fraction", ylim=(0, 1.05), xlim=(0, 20),
                title="first-order gain of the scaled step")
    ax_gain.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig
