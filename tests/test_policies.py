"""Policies: distributions checked against hand-written formulas, sampling, clipping, bad spaces."""

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces

from trpo_lite.importance import mean_kl
from trpo_lite.policies import CategoricalPolicy, GaussianPolicy, make_policy

OBS4 = spaces.Box(-np.inf, np.inf, (4,), np.float32)


def test_categorical_log_prob_and_entropy_match_softmax():
    torch.manual_seed(0)
    policy = make_policy(OBS4, spaces.Discrete(3), (8,))
    assert isinstance(policy, CategoricalPolicy)
    obs, actions = torch.randn(5, 4), torch.tensor([0, 2, 1, 1, 0])
    logits = policy.logits(obs)
    probs = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    dist = policy.distribution(obs)
    assert torch.allclose(dist.log_prob(actions), torch.log(probs[torch.arange(5), actions]), atol=1e-6)
    assert torch.allclose(dist.entropy(), -(probs * torch.log(probs)).sum(-1), atol=1e-6)


def test_gaussian_log_prob_entropy_and_kl_match_closed_forms():
    torch.manual_seed(0)
    space = spaces.Box(-2.0, 2.0, (2,), np.float32)
    policy = make_policy(OBS4, space, (8,), log_std_init=-0.3)
    assert isinstance(policy, GaussianPolicy)
    obs, actions = torch.randn(5, 4), torch.randn(5, 2) * 3  # outside the bounds: log_prob is unclipped
    mu, std = policy.mean(obs), torch.full((2,), math.exp(-0.3))
    by_hand = (-0.5 * ((actions - mu) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
    dist = policy.distribution(obs)
    assert dist.log_prob(actions).shape == (5,)
    assert torch.allclose(dist.log_prob(actions), by_hand, atol=1e-5)
    entropy = (0.5 + 0.5 * math.log(2 * math.pi) + torch.log(std)).sum()
    assert torch.allclose(dist.entropy(), entropy.expand(5))
    # mean_kl (E8) on the Independent distribution: the sum over dimensions of the 1-D Gaussian KLs.
    with torch.no_grad():
        policy.log_std += 0.2
    new = policy.distribution(obs)
    new_std = std * math.exp(0.2)
    kl = (torch.log(new_std / std) + (std**2) / (2 * new_std**2) - 0.5).sum()  # same means
    assert torch.allclose(mean_kl(dist, new), kl, atol=1e-6)


def test_deterministic_actions_are_mode_and_mean():
    torch.manual_seed(1)
    obs = torch.randn(6, 4)
    cat = make_policy(OBS4, spaces.Discrete(3), (8,))
    assert torch.equal(cat.act(obs, deterministic=True), cat.logits(obs).argmax(-1))
    gauss = make_policy(OBS4, spaces.Box(-1.0, 1.0, (2,), np.float32), (8,))
    assert torch.equal(gauss.act(obs, deterministic=True), gauss.mean(obs))


def test_sampled_actions_follow_the_distribution():
    torch.manual_seed(2)
    cat = make_policy(OBS4, spaces.Discrete(3), (8,))
    with torch.no_grad():
        cat.logits[-1].bias.copy_(torch.tensor([1.0, 0.0, -1.0]))
    obs = torch.zeros(20_000, 4)  # one state, many draws
    counts = torch.bincount(cat.act(obs), minlength=3).double() / len(obs)
    assert torch.allclose(counts, torch.softmax(torch.tensor([1.0, 0.0, -1.0]), 0).double(), atol=0.015)
    gauss = make_policy(OBS4, spaces.Box(-9.0, 9.0, (1,), np.float32), (8,), log_std_init=math.log(0.5))
    with torch.no_grad():
        draws = gauss.act(obs)[:, 0] - gauss.mean(obs)[:, 0]
    assert abs(float(draws.mean())) < 0.02 and abs(float(draws.std()) - 0.5) < 0.02


def test_sampled_actions_are_those_of_torch_multinomial():
    # torch.multinomial draws one sample as argmax p / E with E ~ Exp(1): the Gumbel-max draw of act.
    cat = make_policy(OBS4, spaces.Discrete(5), (8,))
    obs = 3 * torch.randn(4000, 4)
    with torch.no_grad():
        probs = torch.softmax(cat.logits(obs), -1)
        torch.manual_seed(7)
        ours = cat.act(obs)
        torch.manual_seed(7)
        theirs = torch.multinomial(probs, 1).squeeze(-1)
    assert (ours == theirs).float().mean() > 0.999  # equal but for float ties (rounding of p / E)
    assert len(ours.unique()) == 5


def test_initial_policy_is_close_to_uniform():
    policy = make_policy(OBS4, spaces.Discrete(4), (64, 64))
    entropy = policy.distribution(torch.randn(100, 4)).entropy()
    assert torch.all(entropy > math.log(4) - 0.01)


def test_env_actions_are_clipped_and_shifted():
    gauss = make_policy(OBS4, spaces.Box(np.array([-1.0, 0.0], np.float32), np.array([1.0, 2.0], np.float32)))
    clipped = gauss.to_env(np.array([[-3.0, 5.0], [0.5, 1.0]], np.float32))
    np.testing.assert_array_equal(clipped, [[-1.0, 2.0], [0.5, 1.0]])
    cat = make_policy(OBS4, spaces.Discrete(3, start=-1))
    np.testing.assert_array_equal(cat.to_env(np.array([0, 1, 2])), [-1, 0, 1])


@pytest.mark.parametrize(
    "obs_space, action_space, match",
    [
        (spaces.Discrete(5), spaces.Discrete(2), r"observation_space must be a flat Box.*Discrete\(5\)"),
        (spaces.Box(0, 1, (3, 3)), spaces.Discrete(2), r"observation_space must be a flat Box.*\(3, 3\)"),
        (spaces.Dict({"a": OBS4}), spaces.Discrete(2), r"observation_space must be a flat Box.*Dict"),
        (OBS4, spaces.MultiDiscrete([2, 3]), r"action_space MultiDiscrete.*supported: Discrete.*1-D Box"),
        (OBS4, spaces.Box(-1, 1, (2, 2)), r"action_space Box.*\(2, 2\).*supported"),
        (OBS4, spaces.Dict({"a": spaces.Discrete(2)}), r"action_space Dict.*supported"),
    ],
)
def test_unsupported_spaces_raise(obs_space, action_space, match):
    with pytest.raises(ValueError, match=match):
        make_policy(obs_space, action_space)
