"""trpo_lite.gae against the direct sum over each episode segment (E13)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trpo_lite import compute_advantage, discounted_returns, gae, td_residuals


def direct_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """A_t = sum_l (gamma lam)^l delta_{t+l}, summed until the segment's last step; plain loops."""
    T, N = rewards.shape
    out = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            for l in range(T - t):
                k = t + l
                bootstrap = 0.0 if terminated[k, n] else gamma * next_values[k, n]
                delta = rewards[k, n] + bootstrap - values[k, n]
                out[t, n] += (gamma * lam) ** l * delta
                if terminated[k, n] or truncated[k, n]:
                    break
    return out


def batch(seed, T=12, N=3):
    g = torch.Generator().manual_seed(seed)
    rewards, values, next_values = (torch.randn(T, N, generator=g, dtype=torch.float64) for _ in range(3))
    terminated = torch.zeros(T, N, dtype=torch.bool)
    truncated = torch.zeros(T, N, dtype=torch.bool)
    terminated[3, 0] = terminated[8, 1] = True  # episode ends in the middle of the batch
    truncated[5, 0] = truncated[2, 2] = True  # time limit cuts episodes mid-batch
    return rewards, values, next_values, terminated, truncated


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.95, 1.0])
def test_gae_matches_direct_sum_with_terminations_and_truncations(lam):
    args = batch(0)
    expected = direct_gae(*(a.numpy() for a in args), gamma=0.9, lam=lam)
    np.testing.assert_allclose(gae(*args, gamma=0.9, lam=lam).numpy(), expected, atol=1e-12)


def test_lambda_zero_is_the_td_residual():
    r, v, nv, term, trunc = batch(1)
    delta = r + 0.9 * nv * (~term) - v
    np.testing.assert_allclose(gae(r, v, nv, term, trunc, 0.9, 0.0), delta, atol=1e-12)
    np.testing.assert_allclose(td_residuals(r, v, nv, term, 0.9), delta, atol=1e-12)


def test_lambda_one_is_the_return_minus_value():
    """Over one column: a terminated episode, then one truncated at the batch end (bootstrapped)."""
    r = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    v = torch.tensor([0.5, 0.4, 0.3, 0.2, 0.1], dtype=torch.float64)
    nv = torch.tensor([0.4, 0.3, 9.9, 0.1, 7.0], dtype=torch.float64)  # 9.9: terminal, ignored
    term = torch.tensor([False, False, True, False, False])
    trunc = torch.tensor([False, False, False, False, True])
    g = 0.9
    returns = [1 + g * 2 + g**2 * 3, 2 + g * 3, 3, 4 + g * 5 + g**2 * 7.0, 5 + g * 7.0]
    expected = torch.tensor(returns, dtype=torch.float64) - v
    np.testing.assert_allclose(gae(r, v, nv, term, trunc, g, 1.0), expected, atol=1e-12)


def test_truncation_bootstraps_but_termination_does_not():
    r, v = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    nv = torch.ones(1, dtype=torch.float64)
    yes, no = torch.tensor([True]), torch.tensor([False])
    assert gae(r, v, nv, no, yes, 0.5, 0.9).item() == pytest.approx(0.5)
    assert gae(r, v, nv, yes, no, 0.5, 0.9).item() == 0.0


def seed_compute_advantage(gamma, lmbda, td_delta):
    """Verbatim from the seed notes (shared/seed/trpo-notes.zh.md)."""
    td_delta = td_delta.detach().numpy()
    advantage_list = []
    advantage = 0.0
    for delta in td_delta[::-1]:
        advantage = gamma * lmbda * advantage + delta
        advantage_list.append(advantage)
    advantage_list.reverse()
    return torch.tensor(advantage_list, dtype=torch.float)


def test_compute_advantage_reproduces_the_seed_notes():
    td_delta = torch.randn(50, requires_grad=True)
    ours, seed = compute_advantage(0.98, 0.95, td_delta), seed_compute_advantage(0.98, 0.95, td_delta)
    assert ours.dtype == seed.dtype == torch.float32 and ours.shape == seed.shape
    torch.testing.assert_close(ours, seed, rtol=1e-6, atol=1e-6)


def test_discounted_returns_cut_at_episode_ends():
    r = torch.tensor([1.0, 1.0, 1.0, 1.0])
    done = torch.tensor([False, True, False, False])
    torch.testing.assert_close(discounted_returns(r, 0.5, done), torch.tensor([1.5, 1.0, 1.5, 1.0]))


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    T=st.integers(1, 10),
    N=st.integers(1, 3),
    gamma=st.floats(0.0, 1.0),
    lam=st.floats(0.0, 1.0),
    p_done=st.floats(0.0, 0.5),
)
def test_gae_equals_direct_sum_for_any_batch(seed, T, N, gamma, lam, p_done):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.normal(size=(T, N)) for _ in range(3))
    term, trunc = rng.random((T, N)) < p_done, rng.random((T, N)) < p_done
    got = gae(*(torch.as_tensor(a) for a in (r, v, nv, term, trunc)), gamma=gamma, lam=lam)
    np.testing.assert_allclose(got.numpy(), direct_gae(r, v, nv, term, trunc, gamma, lam), atol=1e-9)


def test_bad_inputs_are_rejected_with_the_argument_named():
    r, v, nv, term, trunc = batch(2)
    with pytest.raises(ValueError, match=r"lam must lie in \[0, 1\]; got 1.5"):
        gae(r, v, nv, term, trunc, 0.9, 1.5)
    with pytest.raises(ValueError, match=r"gamma must lie in \[0, 1\]; got -0.1"):
        gae(r, v, nv, term, trunc, -0.1, 0.9)
    with pytest.raises(ValueError, match=r"values has shape \(12, 2\), expected \(12, 3\)"):
        gae(r, v[:, :2], nv, term, trunc, 0.9, 0.9)
    with pytest.raises(ValueError, match="truncated has shape"):
        gae(r, v, nv, term, trunc[:5], 0.9, 0.9)
    with pytest.raises(ValueError, match="lmbda"):
        compute_advantage(0.9, -1.0, r[:, 0])


def test_numpy_scalars_and_float_masks_are_accepted():
    r = torch.tensor([1.0, 1.0, 1.0])
    done = torch.tensor([0.0, 1.0, 0.0])  # a 0/1 float mask, as some env wrappers return
    expected = discounted_returns(r, 0.5, done.bool())
    torch.testing.assert_close(discounted_returns(r, np.float32(0.5), done), expected)
    with pytest.raises(ValueError, match="gamma must lie in"):
        discounted_returns(r, True, done)
