"""Every setting of the TRPO agent (E14) in one dataclass, and tuned presets.

Notebooks change a setting with ``dataclasses.replace(preset("CartPole-v1"), max_kl=0.05)``;
``train`` accepts the same overrides as keywords.
"""

import dataclasses
import math
from dataclasses import dataclass, fields
from numbers import Real

from trpo_lite._validate import check_positive, check_unit_interval
from trpo_lite.step import BACKTRACK_COEF

UPDATES = ("trpo", "npg", "vpg", "ppo")
VECTORIZATIONS = ("sync", "async")


@dataclass(frozen=True)
class TRPOConfig:
    """Settings of one training run. Batch size per iteration B = num_envs * steps_per_env."""

    env_id: str = "CartPole-v1"
    """gymnasium environment id; a flat Box observation space and a Discrete or 1-D Box action space."""
    total_steps: int = 100_000
    """Environment steps to train for, counted over all copies; rounded up to whole iterations."""
    num_envs: int = 16
    """N, the number of environment copies stepped together (the policy runs once per step for all)."""
    steps_per_env: int = 64
    """T, steps collected from each copy per iteration."""
    vectorization: str = "sync"
    """'sync' steps the copies in this process; 'async' steps each in its own subprocess."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the policy MLP's tanh hidden layers."""
    value_hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the value MLP's tanh hidden layers."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box actions only)."""
    normalize_obs: bool = False
    """Standardise observations with running mean and variance (saved with the agent)."""
    gamma: float = 0.99
    """Discount gamma (E1, E13)."""
    lam: float = 0.95
    """GAE parameter lambda (E13): 0 is one-step TD, 1 is Monte Carlo minus V."""
    normalize_advantages: bool = True
    """Standardise the batch's advantages to mean 0, std 1 before the update (scale-free g)."""
    update: str = "trpo"
    """'trpo' (E9-E12), 'npg' (natural gradient step to the trust-region boundary, no line
    search), 'vpg' (vanilla gradient ascent theta += pg_lr g), for ablations; or 'ppo' (Adam
    epochs on the clipped surrogate L^CLIP, ``trpo_lite.ppo``; ignores max_kl)."""
    max_kl: float = 0.01
    """delta, the trust-region radius on the mean KL (E8)."""
    damping: float = 0.1
    """Added to H in Fisher-vector products, H + damping I (E10), so CG stays stable."""
    cg_iters: int = 10
    """Conjugate-gradient iterations (E11)."""
    fvp_subsample: float = 0.25
    """Fraction of the batch used for Fisher-vector products (E10); the KL check uses all of it."""
    backtrack_coef: float = BACKTRACK_COEF
    """alpha, the factor each line-search backtrack shrinks the step by (E12)."""
    max_backtracks: int = 10
    """Line-search shrinks to try before keeping theta (E12)."""
    pg_lr: float = 1.0
    """Step size of the vanilla policy gradient (update='vpg' only); with standardised
    advantages, 1.0 learns CartPole slowly, with KL jumps far beyond max_kl."""
    clip_range: float = 0.2
    """epsilon, PPO's clip range (update='ppo' only): L^CLIP stops rewarding a ratio rho outside
    [1 - epsilon, 1 + epsilon] (Schulman et al. 2017, eq. 7); 0.2 is the paper's choice."""
    ppo_epochs: int = 10
    """Passes over the batch per PPO update (update='ppo' only)."""
    ppo_minibatches: int = 4
    """Minibatches per PPO pass: each Adam step sees about B / ppo_minibatches samples (update='ppo')."""
    ppo_lr: float = 1e-3
    """Adam learning rate of the policy in a PPO update (update='ppo' only)."""
    value_lr: float = 3e-3
    """Adam learning rate of the value function."""
    value_epochs: int = 10
    """Passes over the batch when fitting the value function."""
    value_batch_size: int = 256
    """Minibatch size when fitting the value function."""

    def __post_init__(self):
        for name in ("total_steps", "num_envs", "steps_per_env", "cg_iters", "value_epochs",
                     "value_batch_size", "ppo_epochs", "ppo_minibatches"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("max_backtracks", self.max_backtracks, minimum=0)
        if not (isinstance(self.env_id, str) and self.env_id):
            raise ValueError(f"env_id must be a gymnasium id like 'CartPole-v1'; got {self.env_id!r}")
        for name, choices in (("update", UPDATES), ("vectorization", VECTORIZATIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}; got {getattr(self, name)!r}")
        sizes = {"hidden_sizes": self.hidden_sizes, "value_hidden_sizes": self.value_hidden_sizes}
        for name, value in sizes.items():
            if not (isinstance(value, tuple) and all(isinstance(h, int) and h >= 1 for h in value)):
                raise ValueError(f"{name} must be a tuple of positive integers like (64, 64); got {value!r}")
        for name in ("normalize_obs", "normalize_advantages"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if not (isinstance(self.log_std_init, Real) and not isinstance(self.log_std_init, bool)
                and math.isfinite(self.log_std_init)):
            raise ValueError(f"log_std_init must be a finite number; got {self.log_std_init!r}")
        check_unit_interval("gamma", self.gamma, closed_right=False)
        check_unit_interval("lam", self.lam)
        for name in ("max_kl", "pg_lr", "value_lr", "ppo_lr"):
            check_positive(name, getattr(self, name))
        check_positive("damping", self.damping, allow_zero=True)
        if not 0 < self.fvp_subsample <= 1:
            raise ValueError(f"fvp_subsample must lie in (0, 1]; got {self.fvp_subsample!r}")
        if not (isinstance(self.clip_range, Real) and 0 < self.clip_range < 1):
            raise ValueError(f"clip_range must lie in (0, 1) (the ratio is clipped to [1 - clip_range, "
                             f"1 + clip_range]); got {self.clip_range!r}")
        if not 0 < self.backtrack_coef < 1:
            raise ValueError(f"backtrack_coef must lie in (0, 1); got {self.backtrack_coef!r}")

    def to_dict(self) -> dict:
        """Plain types only (tuples become lists), for config.json."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "TRPOConfig":
        """Inverse of ``to_dict``; an unknown key raises ValueError naming it."""
        check_field_names(values)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def check_field_names(names) -> None:
    """Raise ValueError naming every one of names that is not a TRPOConfig field, and the valid ones."""
    known = {f.name for f in fields(TRPOConfig)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown TRPOConfig fields {unknown}; valid fields: {sorted(known)}")


def _check_int(name: str, value, minimum: int) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= minimum):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


# The defaults are tuned for CartPole-v1; the other presets change what their env needs.
# Tuned on this course's 2-core machine with held-out seeds (100-129; the benchmark uses 0-4);
# benchmarks/RESULTS.md compares them with sb3-contrib's zoo settings.
PRESETS: dict[str, TRPOConfig] = {
    # The value fit is 40 % of the training time, but a cheaper one costs samples (held-out seeds 100-109,
    # median steps to 475): 22,688 as is; 30,760 with value_epochs 5; value_batch_size 1024 (one Adam step
    # per epoch) never got there within 60k steps on 5 of 10 seeds, 4 of 10 with value_epochs 5 as well.
    "CartPole-v1": TRPOConfig(env_id="CartPole-v1"),
    # Every step costs -1 until the goal, so until the first success (episodes of 500 steps)
    # the advantages are noise, and fitting noise lowers the entropy the search needs. Longer
    # segments per copy (T = 128) see episode ends after 4 updates instead of 8; then larger
    # steps (max_kl) learn fast. The angular velocities are ~10x the cosines: standardise the
    # observations. Value targets of about -60 need a larger value learning rate.
    "Acrobot-v1": TRPOConfig(env_id="Acrobot-v1", num_envs=8, steps_per_env=128, normalize_obs=True,
                             max_kl=0.05, value_lr=0.01),
    # The reward is immediate (the pendulum's angle), so a short horizon suffices and lowers
    # the advantages' variance; value targets of about -100 need the larger value learning rate.
    # Every episode lasts exactly 200 steps, so T = 200 makes each batch one whole episode per copy: no
    # episode is cut in two at a batch's end, where GAE would lean on V alone. With 4 copies the batch is
    # 800 steps, and more updates fit in the budget. Held-out seeds 110-124, 100k steps, medians of steps
    # to -200 / last-10 return / deterministic return at the end (worst one):
    #   16 x 64 (the defaults; seeds 110-119): 44,800 / -227 / -148 (-161);
    #   4 x 200: 33,600 / -158 / -137 (-201);  8 x 200: 44,800 / -162 / -113 (-134);
    #   6 x 200: 40,800 / -162 / -114;  4 x 400: 46,400 / -152 / -113;  8 x 100: 44,800 / -326 / -178;
    #   8 x 128 (cut episodes): 36,800 / -186 / -128, but ends below -400 on 3 of 15.
    # Over 200k steps (seeds 110-119; last-10 return at the end / median of each run's lowest in the
    # second half / runs that fell below -600 there): 16 x 64: -276 / -614 / 6 of 10; 4 x 200: -186 /
    # -387 / 1; 8 x 200: -147 / -239 / 0 (steadiest, but no sooner at -200); 6 x 200: -170 / -277 / 0.
    # 4 x 200 steps at about 2/3 of the throughput of 16 x 64 (one policy call per 4 env steps, not 16).
    # A larger max_kl reaches -200 sooner but ends worse (16 x 64, seeds 110-119): 0.01: 44,800 steps and
    # -148 deterministic at the end; 0.03: 36,800 and -185; 0.02: 43,200 and -179. Also on 16 x 64:
    # log_std_init -0.5 (49,600) and gamma 0.9 (44,800) no sooner; value_epochs 20 (41,600) and every
    # state in the Fisher products (43,200) a little sooner, ending no better.
    "Pendulum-v1": TRPOConfig(env_id="Pendulum-v1", num_envs=4, steps_per_env=200, normalize_obs=True,
                              gamma=0.95, lam=0.9, value_lr=0.01),
    # The `mujoco` extra's envs (benchmarks/MUJOCO.md: 300k steps against sb3-contrib). Pilots on held-out
    # seeds 100-104 (InvertedPendulum) and 100-101 (300k steps, Hopper, HalfCheetah), one setting changed
    # at a time. InvertedPendulum: the defaults with standardised observations reach 950 within 28k steps
    # on every held-out seed (max_kl 0.05 failed on one). Kept running to 300k steps, a solved run can
    # collapse (seed 100: last-10 return 172): once every episode scores 1000 the advantages are value
    # errors, standardised to unit size, and each update still moves the policy by delta. Halving delta
    # or 8 x 128 batches did not prevent it (each collapsed on 1 of 4 seeds; value_lr 1e-3 on 1 of 2).
    "InvertedPendulum-v5": TRPOConfig(env_id="InvertedPendulum-v5", normalize_obs=True),
    # Hopper and HalfCheetah: longer segments on fewer copies (the zoo's 2 x 1024 in spirit), every state
    # in the Fisher products, 20 CG iterations and a gentler value fit for the larger networks' targets.
    # A larger trust region did not help Hopper (max_kl 0.02: last-10 return 2,038 and 1,876 vs 2,613 and
    # 1,777) but helps HalfCheetah, whose episodes never end early (0.04: 1,519 and 2,242 vs 731 and
    # 1,078 at 0.01 and 1,067 and 2,401 at 0.1; the zoo's target_kl is 0.04 too). Neither gained clearly from
    # zoo's 2 x 1024 batches (Hopper 1,195 and 1,756; HalfCheetah 1,354 and 2,705), value_lr 3e-3 (Hopper
    # 1,201 and 1,392; HalfCheetah 1,027 and 1,070) or value_epochs 20 (Hopper 1,754 and 928; HalfCheetah
    # 1,225 on seed 100).
    "Hopper-v5": TRPOConfig(
        env_id="Hopper-v5", total_steps=1_000_000, num_envs=8, steps_per_env=256, normalize_obs=True,
        cg_iters=20, fvp_subsample=1.0, value_lr=1e-3, value_batch_size=128,
    ),
    "HalfCheetah-v5": TRPOConfig(
        env_id="HalfCheetah-v5", total_steps=1_000_000, num_envs=8, steps_per_env=256, normalize_obs=True,
        cg_iters=20, fvp_subsample=1.0, value_lr=1e-3, value_batch_size=128, max_kl=0.04,
    ),
}


REWARD_THRESHOLDS: dict[str, float] = {
    "CartPole-v1": 475.0,
    "Acrobot-v1": -100.0,
    "Pendulum-v1": -200.0,
    "InvertedPendulum-v5": 950.0,
    "Hopper-v5": 3800.0,
    "HalfCheetah-v5": 4800.0,
}
"""The return that counts as solving each env: gymnasium's ``reward_threshold`` where the env has one
(tests/test_config.py checks them), and -200 for Pendulum-v1, which has none (a swing-up held upright)."""


def preset(env_id: str) -> TRPOConfig:
    """The tuned config for env_id, or the defaults with that env_id when there is none."""
    return PRESETS[env_id] if env_id in PRESETS else TRPOConfig(env_id=env_id)
