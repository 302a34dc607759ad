"""Checkers for notebook 10's exercises: the clipped surrogate L^CLIP (PPO eq. 7), and the KL at the edge of
the clip range (E8).

The reference is ``trpo_lite.ppo.clipped_surrogate``. Each case mixes samples on both sides of the range with
both signs of advantage, so that every usual slip gives its own wrong number.
"""

import math

import numpy as np
import torch

from trpo_lite.exercises._base import check_close, check_value, passed
from trpo_lite.language import tr
from trpo_lite.ppo import clipped_surrogate

# (ratios rho, advantages A, epsilon): in each, some rho lie below, inside and above [1 - eps, 1 + eps], for
# A > 0 and for A < 0.
CASES = (
    ([0.5, 0.9, 1.1, 1.6, 0.6, 1.05, 1.4, 0.95], [1.0, 2.0, 0.5, 1.5, -1.0, -0.5, -2.0, 0.3], 0.2),
    ([1.3, 0.7, 1.02, 0.85, 1.25, 0.8], [0.4, -1.2, 2.5, 1.1, -0.7, 0.9], 0.1),
)


def check_clipped_surrogate(fn) -> str:
    """fn(ratio [B], advantages [B], clip_range) -> L^CLIP = mean_b min(rho_b A_b, clip(rho_b, 1 - eps,
    1 + eps) A_b), a number; ratio and advantages are float64 tensors."""
    for ratios, advantages, eps in CASES:
        rho, A = torch.tensor(ratios, dtype=torch.float64), torch.tensor(advantages, dtype=torch.float64)
        expected = float(clipped_surrogate(rho.log(), torch.zeros_like(rho), A, eps))
        clipped = rho.clamp(1 - eps, 1 + eps)

        def mistakes(rho=rho, A=A, clipped=clipped, eps=eps):
            unclipped = rho * A
            return [
                (float(unclipped.mean()),
                 tr("you left out the clip: that is the plain surrogate L (E6), which keeps rewarding a "
                    "ratio however far it moves from 1")),
                (float((clipped * A).mean()),
                 tr("you dropped the min: where a ratio moved the wrong way (A > 0 and rho < 1 - epsilon, "
                    "say) the clip hides the loss; keep the smaller of the unclipped and the clipped term")),
                (float(torch.max(unclipped, clipped * A).mean()),
                 tr("you took the larger of the two terms; L^CLIP takes the smaller, pessimistic one")),
                (float(unclipped.clamp(1 - eps, 1 + eps).mean()),
                 tr("clip the ratio rho, then multiply by A; you clipped the product rho A")),
                (float(torch.min(unclipped, rho.clamp(-eps, eps) * A).mean()),
                 tr("the clip range is [1 - epsilon, 1 + epsilon], around rho = 1, not [-epsilon, epsilon]")),
                (float(torch.min(unclipped, clipped * A).sum()),
                 tr("L^CLIP is a mean over the batch, not a sum")),
            ]

        got = fn(rho.clone(), A.clone(), eps)
        check_close(tr("L^CLIP"), got, expected, mistakes=mistakes,
                    where=tr("With epsilon = {eps} and ratios {ratios}", eps=eps, ratios=ratios))
    return passed(tr("L^CLIP = mean of min(rho A, clip(rho, 1 - epsilon, 1 + epsilon) A) (PPO eq. 7)."))


def check_clip_edge_kl(got) -> str:
    """The number D_KL(pi_old || pi_new) for pi_old = (1/2, 1/2) and pi_new = (1/2 (1 + eps), 1/2 (1 - eps))
    with eps = 0.2: the policy of a two-action state when one action's ratio reaches 1 + epsilon."""
    old, new = np.array([0.5, 0.5]), np.array([0.6, 0.4])
    kl = float(old @ np.log(old / new))
    mistakes = [
        (float(new @ np.log(new / old)),
         tr("that is D_KL(π_new || π_old); TRPO's trust region (E8) puts π_old first")),
        (kl / math.log(2), tr("that is in bits (log base 2); use the natural log")),
        (0.5 * (0.2**2 + 0.2**2) / 2,
         tr("that is the quadratic approximation 1/2 sum_a π_old(a) (ρ_a - 1)^2 (E9); the exact KL is "
            "asked")),
    ]
    return check_value(tr("D_KL(π_old || π_new)"), got, kl, mistakes=mistakes,
                       hint=tr("sum over both actions of π_old(a) log(π_old(a) / π_new(a)), natural log"))
