"""Views for notebook 00: the objective J (E1) by Monte Carlo and exactly, and why a step needs a limit.

Part 1 samples episodes in real gymnasium environments and discounts their
rewards with the package's ``discounted_returns``; on FrozenLake-v1 the mean
is compared with the exact ``tabular.objective``. Part 2 reads the step-size
sweep of plain policy gradient on CartPole-v1 (``benchmarks/step_size_sweep.py``
writes it with ``record_run``, which the notebook also calls to recompute a run).

Shapes: T time steps, B episodes, K discounts (the gamma grid), S states, A actions.
"""

import platform
from functools import cache
from importlib.metadata import version
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator, NullLocator

from trpo_lite import tabular
from trpo_lite.figures.style import padded_limits, static_figure
from trpo_lite.gae import discounted_returns
from trpo_lite.records import load_records
from trpo_lite.tabular import FiniteMDP

GAMMAS = np.round(np.arange(0.80, 0.99 + 1e-9, 0.01), 2)  # the gamma slider's values
MAX_EPISODES = 2000  # episodes sampled per FrozenLake policy (the episode slider's maximum)
LAKE_STEPS = 2000  # time limit: 0.99**2000 < 1e-8, so cutting episodes there cannot bias J (E1)
FINAL_WINDOW = 10  # "the return at the end" averages return_last10 over the last 10 iterations
KL_RANGE = (1e-8, 1e2)  # the KL panel's axis; values outside (0 and inf included) are drawn at its ends


def sample_episodes(env: gym.Env, policy, n_episodes: int, seed: int) -> list[np.ndarray]:
    """Roll ``policy(obs, rng) -> action`` for B episodes; one reward array [T_b] per episode.

    One seed fixes everything: the env's first reset (later resets continue its
    random stream) and ``rng = numpy.random.default_rng(seed)``, the policy's draws.
    """
    if not isinstance(n_episodes, int | np.integer) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer; got {n_episodes!r}")
    rng = np.random.default_rng(seed)
    episodes = []
    for b in range(n_episodes):
        obs, _ = env.reset(seed=seed if b == 0 else None)
        rewards, done = [], False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs, rng))
            rewards.append(reward)
            done = terminated or truncated
        episodes.append(np.asarray(rewards, dtype=float))
    return episodes


def tabular_policy(pi):
    """``policy(s, rng)`` drawing a ~ pi[s] from an [S, A] table (inverse CDF of one uniform draw)."""
    cdf = np.cumsum(np.asarray(pi, dtype=float), axis=1)
    cdf[:, -1] = 1.0  # rounding must never pick action A
    return lambda s, rng: int(np.searchsorted(cdf[s], rng.random(), side="right"))


def episode_returns(episodes: list[np.ndarray], gamma: float) -> np.ndarray:
    """G_0 = sum_t gamma^t r_t of each episode, [B] (E1); their mean estimates J.

    The episodes are stacked as columns of a zero-padded [T, B] array: padding
    adds nothing to a sum, so one backward pass of ``discounted_returns`` serves all.
    """
    if not episodes:
        raise ValueError("episodes must hold at least one episode (a list of reward arrays); got none")
    rewards = np.zeros((max(len(e) for e in episodes), len(episodes)))
    for b, e in enumerate(episodes):
        rewards[: len(e), b] = e
    return discounted_returns(torch.from_numpy(rewards), gamma)[0].numpy()


def lake_policies(gamma: float = 0.99) -> tuple[FiniteMDP, dict[str, np.ndarray]]:
    """FrozenLake-v1 as an exact MDP, and two policies [S, A]: 'uniform', and 'greedy' (policy iteration)."""
    mdp = FiniteMDP.from_toy_text(gym.make("FrozenLake-v1"), gamma)
    greedy = mdp.uniform_policy()
    for _ in range(10):  # policy iteration settles in a handful of steps on 16 cells
        q = tabular.action_values(mdp, greedy)
        greedy = np.eye(mdp.n_actions)[(q >= q.max(1, keepdims=True) - 1e-12).argmax(1)]
    return mdp, {"uniform": mdp.uniform_policy(), "greedy": greedy}


@cache
def lake_objective_table(seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Per policy: ``exact`` J on GAMMAS [K] and ``returns`` G_0 [K, B] of MAX_EPISODES sampled episodes.

    The episodes are sampled once (the policies do not depend on gamma); each
    gamma only reweights the same rewards. Arrays are read-only: the views share them.
    """
    env = gym.make("FrozenLake-v1", max_episode_steps=LAKE_STEPS)
    _, policies = lake_policies()
    mdps = [FiniteMDP.from_toy_text(env, g) for g in GAMMAS]
    table = {}
    for i, (name, pi) in enumerate(policies.items()):
        episodes = sample_episodes(env, tabular_policy(pi), MAX_EPISODES, seed + i)
        table[name] = {
            "exact": np.array([tabular.objective(mdp, pi) for mdp in mdps]),
            "returns": np.stack([episode_returns(episodes, g) for g in GAMMAS]),
        }
        for values in table[name].values():
            values.flags.writeable = False
    return table


def gamma_index(gamma: float) -> int:
    """Position of gamma in GAMMAS; a ValueError names the valid values otherwise."""
    hits = np.flatnonzero(np.isclose(GAMMAS, gamma, atol=1e-9))
    if not hits.size:
        raise ValueError(f"gamma must be one of the slider's values {GAMMAS[0]}, {GAMMAS[1]}, ..., "
                         f"{GAMMAS[-1]}; got {gamma!r}")
    return int(hits[0])


def mc_estimate(returns: np.ndarray) -> tuple[float, float]:
    """Monte Carlo estimate of J from returns G_0 [B]: (mean, standard error sigma_hat / sqrt(B))."""
    se = returns.std(ddof=1) / np.sqrt(len(returns)) if len(returns) > 1 else np.inf
    return float(returns.mean()), float(se)


@cache
def _objective_figure() -> dict:
    """The figure of ``objective_view`` and the artists it moves, built once with placeholder data."""
    fig = static_figure((15, 5))
    ax_run, ax_gamma = fig.subplots(1, 2, gridspec_kw={
        "left": 0.06, "right": 0.98, "top": 0.85, "bottom": 0.13, "wspace": 0.2})
    art = {"fig": fig, "run": ax_run, "gamma": ax_gamma, "suptitle": fig.suptitle("")}
    art["band"] = ax_run.fill_between([1, 2], 0, 0, color="C3", alpha=0.15, label="exact J ± 3 s.e.")
    art["exact"] = ax_run.axhline(0, color="C3", label="exact J = V(s0)")
    (art["running"],) = ax_run.plot([], [], color="C0", label="mean of the first b returns G_0")
    ax_run.set(xlabel="episodes b", ylabel="estimate of J", xscale="log")
    art["exact_label"] = ax_run.legend(loc="upper right").get_texts()[1]
    zeros = np.zeros(len(GAMMAS))
    (art["curve"],) = ax_gamma.plot(GAMMAS, zeros, color="C3", label="exact: E_s0[V(s0)] (linear solve)")
    art["mc"] = ax_gamma.errorbar(GAMMAS, zeros, zeros, fmt="o", color="C0", capsize=3, label="Monte Carlo")
    (art["star"],) = ax_gamma.plot([], [], "*", color="C3", ms=18)
    ax_gamma.set(xlabel="discount γ", ylabel="J", title="J over γ: same episodes, reweighted",
                 xlim=(GAMMAS[0] - 0.01, GAMMAS[-1] + 0.01))
    art["mc_label"] = ax_gamma.legend(loc="upper left").get_texts()[1]
    ticks = (0.8, 0.85, 0.9, 0.95, 0.99)
    ax_gamma.xaxis.set_ticks(ticks, [f"{t:.2f}" for t in ticks])
    for axis in (ax_run.yaxis, ax_gamma.yaxis):
        axis.set_major_locator(MaxNLocator(6, steps=[1, 2, 5, 10]))
    return art


def _set_errorbar(bars, x, y, err) -> None:
    """Move the points and bars of an ``errorbar`` container (y errors, caps) to y ± err; [K] each."""
    points, (low_caps, high_caps), (segments,) = bars
    points.set_data(x, y)
    low_caps.set_data(x, y - err)
    high_caps.set_data(x, y + err)
    segments.set_segments(np.stack([np.stack([x, y - err], -1), np.stack([x, y + err], -1)], 1))


def objective_view(policy: str = "greedy", gamma: float = 0.95, n_episodes: int = 500) -> plt.Figure:
    """E1 both ways on FrozenLake: the Monte Carlo mean of B returns against the exact E_s0[V(s0)].

    Left: the running mean of the first b returns [B] in its 3 s.e. band around
    the exact J; right: exact J and the estimate ± 3 s.e. over GAMMAS [K].
    Returns the same Figure on every call, redrawn for these values.
    """
    table = lake_objective_table()
    if policy not in table:
        raise ValueError(f"policy must be one of {sorted(table)}; got {policy!r}")
    if not isinstance(n_episodes, int | np.integer) or not 2 <= n_episodes <= MAX_EPISODES:
        raise ValueError(f"n_episodes must be an integer in [2, {MAX_EPISODES}]; got {n_episodes!r}")
    k = gamma_index(gamma)
    exact, returns = table[policy]["exact"], table[policy]["returns"][:, :n_episodes]
    means, ses = np.array([mc_estimate(r) for r in returns]).T
    b = np.arange(1, n_episodes + 1)
    running = np.cumsum(returns[k]) / b
    band = 3 * ses[k] * np.sqrt(n_episodes / b)  # 3 s.e. of a b-episode mean, sigma from all B

    art = _objective_figure()
    art["band"].set_data(b, exact[k] - band, exact[k] + band)
    art["exact"].set_ydata([exact[k]] * 2)
    art["exact_label"].set_text(f"exact J = V(s0) = {exact[k]:.4f}")
    art["running"].set_data(b, running)
    _log_axis(art["run"].xaxis, [t for t in (1, 10, 100, 1000) if t <= n_episodes])
    art["run"].set(title=f"γ = {gamma:.2f}", xlim=(n_episodes**-0.05, n_episodes**1.05),
                   ylim=(0, max(2 * exact[k], running[min(9, n_episodes - 1):].max() * 1.1)))
    art["curve"].set_ydata(exact)
    _set_errorbar(art["mc"], GAMMAS, means, 3 * ses)
    art["mc_label"].set_text(f"Monte Carlo: mean of {n_episodes} G_0 ± 3 s.e.")
    art["star"].set_data([gamma], [exact[k]])
    art["gamma"].set_ylim(padded_limits(np.concatenate([exact, means - 3 * ses, means + 3 * ses])))
    art["suptitle"].set_text(f"FrozenLake-v1, {policy} policy, {n_episodes} episodes: Monte Carlo "
                             f"{means[k]:.4f} ± {ses[k]:.4f} (1 s.e.) vs exact {exact[k]:.4f}")
    return art["fig"]


def run_environment() -> dict[str, str]:
    """What a training run's exact numbers depend on besides the seed: versions, CPU architecture and model.

    Recorded with the sweep; a recomputed run matches the saved one bit for bit only where this matches.
    """
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu": cpu,
            **{name: version(name) for name in ("torch", "gymnasium", "numpy")}}


def record_run(config, update: str, seed: int, total_steps: int, pg_lr: float | None = None) -> dict:
    """Train with ``trpo_lite.training.train`` and keep the learning curve, one entry per iteration.

    The sweep ran on one torch thread (``trpo_lite.use_threads(1)``); with that, the same
    config and seed on the same machine and versions give the same numbers.

    Args:
        config: a TRPOConfig (e.g. ``TRPOConfig.from_dict(sweep["meta"]["config"])``, the sweep's own
            settings) or an env id, whose preset is used.
        update: 'vpg' (theta += pg_lr g, no limit on the step) or 'trpo' (the trust region, E8).
        seed: fixes the networks, the action draws and the environments.
        total_steps: environment steps to train for.
        pg_lr: the plain gradient's step size (update='vpg' only).
    Returns:
        {"update", "pg_lr", "seed", "env_steps", "return_last10", "kl", "entropy"}, the last four
        lists over iterations: env steps so far, mean return of the last 10 finished episodes,
        mean KL(old || new) of the update (inf when the new policy dropped an action), entropy.
    """
    from trpo_lite.training import train  # imported here: only recording a run needs the agent

    if (update == "vpg") != (pg_lr is not None):
        raise ValueError(f"pg_lr must be given for update='vpg' and only then; got update={update!r}, "
                         f"pg_lr={pg_lr!r}")
    overrides = {"pg_lr": pg_lr} if update == "vpg" else {}
    _, history = train(config, seed=seed, progress=False, update=update, total_steps=total_steps,
                       **overrides)
    keys = {"env_steps": "time/env_steps", "return_last10": "rollout/return_last10", "kl": "policy/kl",
            "entropy": "policy/entropy"}
    return {"update": update, "pg_lr": pg_lr, "seed": seed} | {
        name: [row[key] for row in history] for name, key in keys.items()}


@cache
def load_sweep() -> dict:
    """The saved sweep: ``meta`` (settings, seeds, date, machine, versions), ``runs`` (from record_run)."""
    return load_records("step_size_sweep.json")


def runs_of(sweep: dict, update: str, pg_lr: float | None = None) -> list[dict]:
    """The saved runs of one setting, one per seed: update='vpg' with a recorded pg_lr, or 'trpo'."""
    if update not in ("vpg", "trpo"):
        raise ValueError(f"update must be 'vpg' or 'trpo' (the settings of the sweep); got {update!r}")
    if update == "trpo":
        return [r for r in sweep["runs"] if r["update"] == "trpo"]
    runs = [r for r in sweep["runs"]
            if r["update"] == "vpg" and pg_lr is not None and np.isclose(r["pg_lr"], pg_lr)]
    if not runs:
        raise ValueError(f"pg_lr must be one of the recorded step sizes {sweep['meta']['step_sizes']}; "
                         f"got {pg_lr!r}")
    return runs


def saved_run(sweep: dict, update: str, seed: int, pg_lr: float | None = None) -> dict:
    """The one saved run of a setting and seed; a ValueError lists the recorded seeds otherwise."""
    for run in runs_of(sweep, update, pg_lr):
        if run["seed"] == seed:
            return run
    raise ValueError(f"seed must be one of the recorded seeds {sweep['meta']['seeds']}; got {seed!r}")


def final_return(run: dict) -> float:
    """The return at the end of a run: return_last10 averaged over its last FINAL_WINDOW iterations."""
    return float(np.mean(run["return_last10"][-FINAL_WINDOW:]))


def final_returns(sweep: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step sizes [K], final_return of the plain-gradient runs [K, seeds], of the TRPO runs [seeds])."""
    sizes = np.array(sweep["meta"]["step_sizes"], dtype=float)
    vpg = [[final_return(run) for run in runs_of(sweep, "vpg", lr)] for lr in sizes]
    return sizes, np.array(vpg), np.array([final_return(run) for run in runs_of(sweep, "trpo")])


def first_kl(sweep: dict) -> tuple[np.ndarray, np.ndarray]:
    """(step sizes [K], mean KL of the first update [K, seeds]); per seed the batch is the same for all K."""
    sizes = np.array(sweep["meta"]["step_sizes"], dtype=float)
    return sizes, np.array([[run["kl"][0] for run in runs_of(sweep, "vpg", lr)] for lr in sizes])


def _log_axis(axis, ticks, labels=None) -> None:
    # Fixed plain-text labels and no minor ticks: log axes otherwise build many mathtext ticks,
    # which costs a slider most of its 100 ms.
    axis.set_ticks(ticks, labels or [f"{t:g}" for t in ticks])
    axis.set_minor_locator(NullLocator())


def _kl_axis(ax) -> None:
    # A KL of 0 (the policy did not change) or inf (it dropped an action) is drawn at the axis' ends.
    ax.set(yscale="log", ylim=KL_RANGE)
    _log_axis(ax.yaxis, [1e-8, 1e-6, 1e-4, 1e-2, 1, 100], ["≤1e-8", "1e-6", "1e-4", "0.01", "1", "≥100"])


def _seed_lines(ax_ret, ax_kl, n_seeds: int, color, label: str) -> tuple[list, list]:
    """n_seeds empty return lines and KL lines (one of each labelled, for the legend)."""
    names = [label] + [None] * (n_seeds - 1)
    return ([ax_ret.plot([], [], color=color, lw=1.6, label=name)[0] for name in names],
            [ax_kl.plot([], [], ".-", color=color, lw=1, ms=5, label=name)[0] for name in names])


def _draw_runs(lines: tuple[list, list], runs: list[dict]) -> None:
    """Put runs (one per seed) in ``_seed_lines``' lines: return_last10 and KL per iteration."""
    for ret, kl, run in zip(*lines, runs, strict=True):
        steps = np.array(run["env_steps"]) / 1000
        ret.set_data(steps, run["return_last10"])
        kl.set_data(steps, np.clip(run["kl"], *KL_RANGE))


@cache
def _step_size_figure() -> dict:
    """The figure of ``step_size_view``: TRPO's runs, drawn once, and the artists a step size moves.

    "vpg" holds (return lines, KL lines) for one step size's runs, one per seed:
    the sweep runs the same seeds for every step size.
    """
    sweep = load_sweep()
    trpo, max_kl = runs_of(sweep, "trpo"), sweep["meta"]["trpo_max_kl"]
    fig = static_figure((15, 5.6))
    ax_ret, ax_kl = fig.subplots(1, 2, gridspec_kw={
        "left": 0.06, "right": 0.99, "top": 0.87, "bottom": 0.22, "wspace": 0.2})
    _draw_runs(_seed_lines(ax_ret, ax_kl, len(trpo), "0.55", f"TRPO (δ = {max_kl}), {len(trpo)} seeds"), trpo)
    vpg = _seed_lines(ax_ret, ax_kl, len(sweep["meta"]["seeds"]), "C0", "plain gradient")
    ax_ret.set(ylabel="return (mean of last 10 episodes)", ylim=(0, 520), title="return while training")
    ax_kl.axhline(max_kl, color="C3", ls="--", label="TRPO's trust region δ")
    ax_kl.set(ylabel="mean KL(old ‖ new) per update", title="how far each update moves π")
    _kl_axis(ax_kl)
    steps = np.array(trpo[0]["env_steps"]) / 1000  # every run of the sweep has the same iterations
    for ax in (ax_ret, ax_kl):
        ax.set(xlabel="environment steps (thousands)", xlim=padded_limits(steps))
    legend = fig.legend(*ax_kl.get_legend_handles_labels(), loc="lower center", ncols=3, frameon=False)
    return {"fig": fig, "vpg": vpg, "vpg_label": legend.get_texts()[1], "suptitle": fig.suptitle("")}


def step_size_view(pg_lr: float = 1.0) -> plt.Figure:
    """Plain policy gradient with step pg_lr on CartPole-v1: return and KL per update, all seeds, vs TRPO.

    One line per seed and run, over its iterations. Returns the same Figure on
    every call, redrawn for pg_lr.
    """
    runs = runs_of(load_sweep(), "vpg", pg_lr)
    art = _step_size_figure()
    _draw_runs(art["vpg"], runs)
    art["vpg_label"].set_text(f"plain gradient, step {pg_lr}, {len(runs)} seeds")
    art["suptitle"].set_text(f"CartPole-v1, plain policy gradient θ ← θ + {pg_lr}·g   (grey: TRPO)")
    return art["fig"]


def sweep_summary() -> plt.Figure:
    """Over all step sizes: the return at the end of training, and the KL of the very first update."""
    sweep = load_sweep()
    sizes, finals, trpo_finals = final_returns(sweep)
    _, kl = first_kl(sweep)
    seeds = finals.shape[1]
    fig, (ax_end, ax_kl) = plt.subplots(1, 2, figsize=(15, 5), gridspec_kw={
        "left": 0.06, "right": 0.99, "top": 0.85, "bottom": 0.14, "wspace": 0.2})
    ax_end.axhspan(min(trpo_finals), max(trpo_finals), color="0.55", alpha=0.3, label="TRPO, range of seeds")
    ax_end.plot(np.repeat(sizes, seeds), finals.ravel(), "o", color="C0", alpha=0.5, label="one seed")
    ax_end.plot(sizes, finals.mean(1), color="C0", label="mean of seeds")
    ax_end.axhline(trpo_finals.mean(), color="0.4", label="TRPO, mean of seeds")
    iterations = len(sweep["runs"][0]["env_steps"])
    ax_end.set(xscale="log", xlabel="step size of the plain gradient", ylabel="return at the end",
               ylim=(0, 520), title=f"mean return over the last {FINAL_WINDOW} of {iterations} iterations")
    ax_end.legend(loc="center right")
    small = sizes <= 0.3  # where KL(eta) ~ eta^2 / 2 g^T H g holds (E9); fit its constant there
    scale = np.exp(np.mean(np.log(kl[small] / sizes[small, None] ** 2), axis=0))
    ax_kl.plot(np.repeat(sizes, seeds), np.clip(kl, *KL_RANGE).ravel(), "o", color="C0", alpha=0.6,
               label="first update, one seed")
    ax_kl.plot(sizes, np.outer(sizes**2, scale), color="0.3", lw=1, ls=":")
    ax_kl.plot([], [], color="0.3", lw=1, ls=":", label="c·step², fitted to steps ≤ 0.3")
    ax_kl.axhline(sweep["meta"]["trpo_max_kl"], color="C3", ls="--", label="trust region δ")
    ax_kl.set(xscale="log", xlabel="step size of the plain gradient", ylabel="mean KL(old ‖ new)",
              title="how far the first update moves π (same batch)")
    _kl_axis(ax_kl)
    ax_kl.legend(loc="upper left")
    for ax in (ax_end, ax_kl):
        _log_axis(ax.xaxis, [0.01, 0.1, 1, 10, 100])
    fig.suptitle(f"CartPole-v1, plain policy gradient, {seeds} seeds per step size")
    return fig


def compare_runs(live: dict, saved: dict) -> dict:
    """How far a recomputed run is from the saved one, over the live run's n iterations.

    Returns {"iterations": n, "max_return_diff", "max_kl_diff"}: the largest absolute
    differences (0.0 when identical; an infinite KL matches only another infinite KL).
    """
    n = len(live["return_last10"])
    if n > len(saved["return_last10"]):
        raise ValueError(f"live has {n} iterations, more than the saved run's {len(saved['return_last10'])}")
    if live["env_steps"] != saved["env_steps"][:n]:
        raise ValueError("live and saved runs count environment steps differently: not the same settings")
    kl_live, kl_saved = np.array(live["kl"], dtype=float), np.array(saved["kl"][:n], dtype=float)
    same = kl_live == kl_saved  # also true for inf == inf, where the difference would be nan
    kl_diff = np.abs(np.subtract(kl_live, kl_saved, out=np.zeros(n), where=~same))
    return_diff = np.abs(np.subtract(live["return_last10"], saved["return_last10"][:n]))
    return {"iterations": n, "max_return_diff": float(return_diff.max()), "max_kl_diff": float(kl_diff.max())}
