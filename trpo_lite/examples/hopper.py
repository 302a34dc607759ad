"""Notebook 08, last section: the Hopper-v5 agent that ships with the package, and whether this machine can
simulate and draw MuJoCo (the `mujoco` extra and an OpenGL backend).

The agent in ``trpo_lite/data/hopper_agent.pt`` was trained by ``HOPPER_COMMAND`` (the Hopper-v5 preset,
seed 0; about 75 s on the course's 2-core machine); ``tests/test_mujoco.py`` checks that it hops.
"""

import importlib.util

import gymnasium as gym

from trpo_lite.agent import Agent
from trpo_lite.language import tr
from trpo_lite.persistence import load_agent, use_offscreen_drawing
from trpo_lite.records import result_path

HOPPER_COMMAND = "python -m trpo_lite train --env Hopper-v5 --steps 300000 --seed 0 --out runs/hopper"
HOPPER_AGENT = "hopper_agent.pt"


def saved_hopper() -> Agent:
    """The Hopper-v5 agent trained by ``HOPPER_COMMAND`` (its run folder's agent.pt)."""
    return load_agent(result_path(HOPPER_AGENT))


def mujoco_missing() -> str | None:
    """None where Hopper-v5 can be simulated and drawn here; otherwise what is missing and how to get it."""
    if importlib.util.find_spec("mujoco") is None:
        return tr("MuJoCo is not installed, so the Hopper cannot be shown here. Install the course's mujoco "
                  "extra (pip install \"trpo_lite[mujoco]\", or pip install \"gymnasium[mujoco]\"), then "
                  "restart the kernel and run this notebook again.")
    use_offscreen_drawing()
    try:
        env = gym.make("Hopper-v5", render_mode="rgb_array", width=16, height=16)
        try:
            env.reset(seed=0)
            env.render()
        finally:
            env.close()
    except Exception as error:  # each backend fails its own way (ImportError, AttributeError, FatalError)
        return tr("MuJoCo is installed but cannot draw here ({error}). Without a display it draws with EGL: "
                  "on Debian or Ubuntu, sudo apt-get install libegl1 libegl-mesa0, then restart the kernel "
                  "(MUJOCO_GL=egl is this package's default where there is no display; MUJOCO_GL=osmesa with "
                  "libosmesa6 works too). On a laptop with a display, MuJoCo draws with glfw.",
                  error=f"{type(error).__name__}: {error}")
    return None
