"""Notebook 10's live numbers (examples.ppo): the clip curves against the piecewise formula, L^CLIP against L
at the old policy on a real batch, and PPO's KL on one batch as the epochs grow."""

import numpy as np
import pytest

from trpo_lite.examples import ppo as ex


@pytest.mark.parametrize("eps", ex.CLIP_RANGES)
def test_clip_curves_are_the_piecewise_lines_of_eq_7(eps):
    c = ex.clip_curves(eps)
    rho = c["ratio"]
    # written out: A = +1 earns rho up to 1 + eps, then nothing more; A = -1 pays rho, floored at 1 - eps
    np.testing.assert_allclose(c["plus"], np.where(rho < 1 + eps, rho, 1 + eps), rtol=0, atol=1e-15)
    np.testing.assert_allclose(c["minus"], -np.where(rho > 1 - eps, rho, 1 - eps), rtol=0, atol=1e-15)
    inside_plus, inside_minus = rho < 1 + eps - 1e-9, rho > 1 - eps + 1e-9
    assert np.all(c["slope_plus"][inside_plus] == 1) and np.all(c["slope_plus"][rho > 1 + eps + 1e-9] == 0)
    assert np.all(c["slope_minus"][inside_minus] == -1)
    assert np.all(c["slope_minus"][rho < 1 - eps - 1e-9] == 0)


def test_clip_curves_refuse_a_value_off_the_grid():
    with pytest.raises(ValueError, match="clip_range must be one of the precomputed values"):
        ex.clip_curves(0.22)


def test_at_the_old_policy_l_clip_is_l_to_first_order():
    numbers = ex.first_order_numbers()
    assert numbers["L"] == numbers["L_clip"]
    assert abs(numbers["L"]) < 1e-6  # standardised advantages: L(theta) = mean A = 0
    assert numbers["gap"] <= 1e-7 * float(numbers["g"].abs().max()) and float(numbers["g"].norm()) > 0.01


def test_more_epochs_take_more_kl_and_pass_delta_trpo_does_not():
    n = ex.epoch_numbers()
    assert list(n["epochs"]) == list(ex.EPOCHS)
    assert np.all(np.diff(n["kl"]) > 0) and n["kl"][-1] > n["max_kl"] >= n["trpo_kl"] > 0
    assert n["outside"][0] == 0 and n["outside"][-1] > 0.1  # ratios leave the range despite the clip
    assert np.all(n["L_clip"] <= n["L"] + 1e-12)  # the pessimistic bound, after every update
    assert n["ratio"].shape == (1024,)
    assert np.mean(np.abs(n["ratio"] - 1) > n["clip_range"]) == n["outside"][-1]
