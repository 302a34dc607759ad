"""The mujoco extra: InvertedPendulum-v5's preset learns, and a saved Hopper renders where OpenGL does."""

import dataclasses
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from extras import skip_unless

from trpo_lite.config import preset
from trpo_lite.examples.hopper import mujoco_missing, saved_hopper
from trpo_lite.persistence import evaluate
from trpo_lite.training import train

pytestmark = pytest.mark.slow


def test_inverted_pendulum_learns_to_950_within_40k_steps():
    """The preset's promise at a fixed seed: the mean return of the last 10 finished training episodes
    reaches InvertedPendulum-v5's threshold of 950 within 40k steps (about 4 s)."""
    skip_unless(importlib.util.find_spec("mujoco") is not None,
                "mujoco is not installed: pip install -e '.[mujoco]'")
    _, history = train("InvertedPendulum-v5", seed=0, progress=False, total_steps=40_000)
    returns = [e["return"] for e in history.episodes]
    windows = [np.mean(returns[j - 10:j]) for j in range(10, len(returns) + 1)]
    assert max(windows) >= 950, f"best mean of 10 consecutive training episodes: {max(windows):.1f}"


def test_saved_hopper_is_the_presets_run_and_hops():
    """The shipped agent is what notebook 08's command trains (the Hopper-v5 preset, 300k steps) and it
    hops: a random policy falls within a few dozen steps, standing still earns about 1000."""
    skip_unless(importlib.util.find_spec("mujoco") is not None,
                "mujoco is not installed: pip install -e '.[mujoco]'")
    agent = saved_hopper()
    assert agent.config == dataclasses.replace(preset("Hopper-v5"), total_steps=300_000)
    assert evaluate(agent, episodes=3, seed=0).min() > 2000


def test_mujoco_draws_here_and_a_broken_backend_is_named():
    """Where mujoco and EGL are installed (CI: tools/system_packages.sh egl) nothing is missing; a backend
    that cannot draw gives the message that says what to install, not a traceback."""
    skip_unless(importlib.util.find_spec("mujoco") is not None,
                "mujoco is not installed: pip install -e '.[mujoco]'")
    assert mujoco_missing() is None
    script = "from trpo_lite.examples.hopper import mujoco_missing; print(mujoco_missing())"
    broken = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "MUJOCO_GL": "no-such-backend"}).stdout
    assert "cannot draw here" in broken and "libegl1 libegl-mesa0" in broken and "no-such-backend" in broken


def test_without_mujoco_the_message_says_what_to_install(monkeypatch):
    """What notebook 08 prints where the extra is missing (the fresh-install test runs it that way)."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "mujoco" else real(name, *args))
    message = mujoco_missing()
    assert message.startswith("MuJoCo is not installed") and 'pip install "trpo_lite[mujoco]"' in message
