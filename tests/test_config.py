"""TRPOConfig: validation of every field, serialisation, and the presets."""

import dataclasses
import importlib.util
import json

import gymnasium as gym
import pytest
from extras import skip_unless

from trpo_lite.agent import Agent
from trpo_lite.config import PRESETS, REWARD_THRESHOLDS, TRPOConfig, preset


def test_json_round_trip():
    config = TRPOConfig(env_id="Acrobot-v1", hidden_sizes=(32, 16), max_kl=0.05)
    assert TRPOConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_every_field_has_a_docstring():
    import inspect

    import trpo_lite.config as module

    lines = [text.strip() for text in inspect.getsource(module.TRPOConfig).splitlines()]
    for field in dataclasses.fields(TRPOConfig):
        line = next(i for i, text in enumerate(lines) if text.startswith(f"{field.name}:"))
        assert lines[line + 1].startswith('"""'), field.name


@pytest.mark.parametrize("field, value, match", [
    ("total_steps", 0, r"total_steps must be an integer >= 1; got 0"),
    ("num_envs", 2.5, r"num_envs must be an integer >= 1; got 2.5"),
    ("max_backtracks", -1, r"max_backtracks must be an integer >= 0; got -1"),
    ("env_id", "", r"env_id must be a gymnasium id like 'CartPole-v1'; got ''"),
    ("update", "sac", r"update must be one of \('trpo', 'npg', 'vpg', 'ppo'\); got 'sac'"),
    ("vectorization", "threads", r"vectorization must be one of \('sync', 'async'\); got 'threads'"),
    ("hidden_sizes", [64, 64], r"hidden_sizes must be a tuple of positive integers.*got \[64, 64\]"),
    ("value_hidden_sizes", (64, 0), r"value_hidden_sizes must be a tuple of positive integers"),
    ("gamma", 1.0, r"gamma must lie in \[0, 1\)"),
    ("lam", 1.5, r"lam must lie in \[0, 1\]; got 1.5"),
    ("max_kl", 0.0, r"max_kl must be a finite number > 0; got 0.0"),
    ("damping", -0.1, r"damping must be a finite number >= 0; got -0.1"),
    ("fvp_subsample", 0.0, r"fvp_subsample must lie in \(0, 1\]; got 0.0"),
    ("backtrack_coef", 1.0, r"backtrack_coef must lie in \(0, 1\); got 1.0"),
    ("value_lr", float("nan"), r"value_lr must be a finite number > 0; got nan"),
    ("clip_range", 0.0, r"clip_range must lie in \(0, 1\).*; got 0.0"),
    ("clip_range", 1.0, r"clip_range must lie in \(0, 1\).*; got 1.0"),
    ("clip_range", "0.2", r"clip_range must lie in \(0, 1\).*; got '0.2'"),
    ("ppo_epochs", 0, r"ppo_epochs must be an integer >= 1; got 0"),
    ("ppo_minibatches", 2.0, r"ppo_minibatches must be an integer >= 1; got 2.0"),
    ("ppo_lr", -1e-3, r"ppo_lr must be a finite number > 0; got -0.001"),
])
def test_bad_values_raise_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        TRPOConfig(**{field: value})


def test_unknown_fields_are_named():
    with pytest.raises(ValueError, match=r"unknown TRPOConfig fields \['maxkl'\]"):
        TRPOConfig.from_dict({"maxkl": 0.1})


def test_presets_cover_the_course_envs_and_fall_back_to_defaults():
    assert set(PRESETS) == {"CartPole-v1", "Acrobot-v1", "Pendulum-v1", "InvertedPendulum-v5", "Hopper-v5",
                            "HalfCheetah-v5"}
    assert set(PRESETS) == set(REWARD_THRESHOLDS)
    assert all(config.env_id == env_id for env_id, config in PRESETS.items())
    assert all(env_id in gym.registry for env_id in PRESETS)  # MuJoCo ids are registered without mujoco
    assert preset("MountainCar-v0") == TRPOConfig(env_id="MountainCar-v0")
    assert preset("Acrobot-v1") is PRESETS["Acrobot-v1"]


@pytest.mark.parametrize("env_id", sorted(PRESETS))
def test_preset_builds_an_agent_for_its_env(env_id):
    if env_id.endswith("-v5"):
        skip_unless(importlib.util.find_spec("mujoco") is not None,
                    "mujoco is not installed: pip install -e '.[mujoco]'")
    env = gym.make(env_id)
    agent = Agent(env.observation_space, env.action_space, PRESETS[env_id])
    assert agent.policy.act(agent.normalize(env.reset(seed=0)[0][None])).shape[0] == 1
    env.close()


def test_reward_thresholds_are_gymnasiums_where_it_has_one():
    for env_id, threshold in REWARD_THRESHOLDS.items():
        registered = gym.spec(env_id).reward_threshold
        assert registered == threshold or (registered is None and env_id == "Pendulum-v1"), env_id
