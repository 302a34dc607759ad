"""Saving, loading, evaluating and rendering a trained agent.

A saved agent is one ``torch.save`` file holding plain types and tensors
only (so ``torch.load(weights_only=True)`` reads it): the config, the two
spaces the networks were built for, and the state dict (policy, value
function, observation statistics).
"""

import os
import pickle
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from trpo_lite.agent import Agent
from trpo_lite.config import TRPOConfig
from trpo_lite.rollout import check_env_id

FORMAT_VERSION = 1
MAX_EPISODE_STEPS = 100_000
"""``evaluate`` and ``render_episode`` cut an episode here when its env has no time limit of its own."""


def save_agent(agent: Agent, path) -> None:
    """Write the agent to path (conventionally ``agent.pt``), atomically: a temporary file, then a rename,
    so an interrupted save never leaves half a file in place of a good one."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    torch.save({
        "format": FORMAT_VERSION,
        "config": agent.config.to_dict(),
        "observation_space": _describe(agent.observation_space),
        "action_space": _describe(agent.action_space),
        "state_dict": agent.state_dict(),
    }, temporary)
    os.replace(temporary, path)


def load_agent(path) -> Agent:
    """Read an agent written by ``save_agent``; its actions equal the saved agent's exactly.

    A file that is missing, truncated, not written by ``save_agent`` or holding NaN or inf weights
    raises an error naming the file (FileNotFoundError or ValueError).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved agent at {path}")
    try:
        data = torch.load(path, weights_only=True)
        if isinstance(data, dict) and "format" in data and data["format"] != FORMAT_VERSION:
            raise ValueError(f"{path} has format {data['format']!r}; this version reads {FORMAT_VERSION}")
        agent = Agent(_rebuild(data["observation_space"]), _rebuild(data["action_space"]),
                      TRPOConfig.from_dict(data["config"]))
        agent.load_state_dict(data["state_dict"])
    except (RuntimeError, EOFError, KeyError, TypeError, AttributeError, ValueError, pickle.UnpicklingError,
            zipfile.BadZipFile) as error:
        if str(error).startswith(str(path)):  # already names the file
            raise
        reason = " ".join(str(error).split())[:200] if not isinstance(error, KeyError) else f"no {error}"
        raise ValueError(f"{path} is not an agent saved by trpo_lite (truncated, or another file: {reason}); "
                         "train one with `python -m trpo_lite train`") from error
    broken = [name for name, tensor in agent.state_dict().items()
              if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if broken:
        raise ValueError(f"{path} holds non-finite (NaN or inf) weights in {broken}: the run that saved it "
                         "diverged; use an earlier checkpoint or train again")
    return agent


def evaluate(agent: Agent, env_id: str | None = None, episodes: int = 20, seed: int = 0) -> np.ndarray:
    """Returns [episodes] of deterministic episodes (the policy's mode or mean).

    Episode k resets with seed + k; env_id defaults to the one the agent was trained on.
    """
    if not (isinstance(episodes, int) and episodes >= 1):
        raise ValueError(f"episodes must be an integer >= 1; got {episodes!r}")
    env = _make(agent, env_id)
    returns = np.array([_run(agent, env, seed + k)[0] for k in range(episodes)])
    env.close()
    return returns


def render_episode(agent: Agent, env_id: str | None = None, seed: int = 0, every: int = 1,
                   **env_kwargs) -> list[np.ndarray | None]:
    """One deterministic episode's RGB frames: frames[t] [H, W, 3] (uint8) shows the state after step t
    (t = 0: the reset). Drawn for t = 0, every, 2 every, ... and the last step, None for the others:
    MuJoCo draws a frame far more slowly than it simulates a step. env_kwargs go to ``gym.make``
    (MuJoCo envs take ``width`` and ``height``)."""
    if not (isinstance(every, int) and every >= 1):
        raise ValueError(f"every must be an integer >= 1; got {every!r}")
    use_offscreen_drawing()
    env = _make(agent, env_id, render_mode="rgb_array", **env_kwargs)
    frames = _run(agent, env, seed, every)[1]
    env.close()
    return frames


def use_offscreen_drawing() -> None:
    """Draw frames without a window, unless the environment variables already choose otherwise: pygame's
    SDL (classic control) would look for a display and print an error headless; MuJoCo on Linux without
    a display draws with EGL (Debian: libegl1 and libegl-mesa0)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and headless:
        os.environ.setdefault("MUJOCO_GL", "egl")


def _make(agent: Agent, env_id: str | None, **kwargs):
    """The env to run the agent in, after checking that its spaces are the ones the agent was built for;
    without a time limit of its own, episodes are cut at MAX_EPISODE_STEPS."""
    env_id = agent.config.env_id if env_id is None else env_id
    check_env_id(env_id)
    env = gym.make(env_id, **kwargs)
    for kind, theirs, ours in (("observation", env.observation_space, agent.observation_space),
                               ("action", env.action_space, agent.action_space)):
        if _describe_plain(theirs) != _describe_plain(ours):
            env.close()
            raise ValueError(f"the agent was trained on {agent.config.env_id} with {kind} space {ours}, but "
                             f"{env_id} has {kind} space {theirs}: evaluate it on an env with those spaces")
    if env.spec is None or env.spec.max_episode_steps is None:
        env = gym.wrappers.TimeLimit(env, MAX_EPISODE_STEPS)
    return env


def _run(agent: Agent, env, seed: int, every: int = 0) -> tuple[float, list]:
    """(return, frames) of one deterministic episode; frames as ``render_episode`` gives them, or []
    when every is 0 (no drawing)."""
    obs, _ = env.reset(seed=seed)
    total, frames, done = 0.0, [env.render()] if every else [], False
    while not done:
        action = agent.act(obs[None], deterministic=True)[1][0]
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
        if every:
            frames.append(env.render() if done or len(frames) % every == 0 else None)
    return total, frames


def _describe_plain(space) -> tuple:
    """A space as plain values, for comparing two spaces (dtype of a Box aside)."""
    if isinstance(space, spaces.Discrete):
        return ("Discrete", int(space.n), int(space.start))
    if isinstance(space, spaces.Box):
        return ("Box", space.shape, space.low.tolist(), space.high.tolist())
    return (type(space).__name__, repr(space))


def _describe(space) -> dict:
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    return {"type": "Box", "low": torch.from_numpy(space.low), "high": torch.from_numpy(space.high)}


def _rebuild(desc: dict):
    if desc["type"] == "Discrete":
        return spaces.Discrete(desc["n"], start=desc["start"])
    return spaces.Box(desc["low"].numpy(), desc["high"].numpy(), dtype=desc["low"].numpy().dtype)
