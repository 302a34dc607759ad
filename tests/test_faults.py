"""Nothing lost, nothing silent: faults are named where they start, and completed work stays on disk.

Small fault environments of the suite's own (registered below): NaN and inf rewards and observations
mid-batch and at terminal steps, an env that raises in step, an env whose optimum is reached at once
(the gradient vanishes), an endless env; corrupt and mismatched files; SIGINT and SIGTERM sent to a
command-line run in a subprocess.
"""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

import trpo_lite.persistence as persistence
from trpo_lite import TRPOConfig, train, update_policy
from trpo_lite._validate import NonFiniteError
from trpo_lite.cli import main
from trpo_lite.gae import compute_advantage, discounted_returns, gae, td_residuals
from trpo_lite.persistence import evaluate, load_agent, save_agent
from trpo_lite.run_folder import RunFolder
from trpo_lite.training import TrainingFailed, resume

pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment FaultCase-v0")

# 2 copies x 32 steps per iteration: each iteration takes milliseconds.
SMALL = dict(num_envs=2, steps_per_env=32, hidden_sizes=(8,), value_hidden_sizes=(8,), value_epochs=1)


class FaultEnv(gym.Env):
    """Episodes of `length` steps, obs [2], two actions, reward 1 per step. At the `fault_step`-th step
    of copy 0 (counted over the env's life) it puts `value` into the reward or the observation, or raises."""

    observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, fault_step=10**9, where="reward", value=math.nan, length=8):
        self.fault_step, self.where, self.value, self.length = fault_step, where, value, length
        self.steps, self.t = 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps, self.t = self.steps + 1, self.t + 1
        obs, reward = np.array([self.t, action], np.float32), 1.0
        if self.steps == self.fault_step:
            if self.where == "raise":
                raise RuntimeError("the simulator lost its connection")
            if self.where == "reward":
                reward = self.value
            else:
                obs[0] = self.value
        return obs, reward, self.t >= self.length, False, {}


class BanditEnv(FaultEnv):
    """One-step episodes from one state: action 1 pays 1, action 0 pays 0. A large trust region makes the
    policy deterministic within a few updates; then its gradient vanishes (the softmax saturates)."""

    def __init__(self):
        super().__init__(length=1)

    def step(self, action):
        obs, _, terminated, truncated, info = super().step(action)
        return np.zeros(2, np.float32), float(action), terminated, truncated, info


gym.register("Fault-v0", entry_point=FaultEnv, max_episode_steps=1000)
gym.register("Endless-v0", entry_point=lambda: FaultEnv(length=10**12))  # no time limit
gym.register("Bandit-v0", entry_point=BanditEnv, max_episode_steps=10)


def fault_config(**env_kwargs):
    gym.register("FaultCase-v0", entry_point=lambda: FaultEnv(**env_kwargs), max_episode_steps=1000)
    return TRPOConfig(env_id="FaultCase-v0", total_steps=64 * 6, **SMALL)


# ---- integer inputs, masks that select (gae) ------------------------------------------------------------

def test_integer_rewards_are_discounted_as_floats():
    expected = torch.tensor([2.71, 1.9, 1.0])
    torch.testing.assert_close(discounted_returns(torch.tensor([1, 1, 1]), 0.9), expected)


def test_the_seed_notes_compute_advantage_gives_its_own_numbers_for_integers():
    got = compute_advantage(0.9, 0.9, torch.tensor([1, 2, 3]))
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, torch.tensor([4.5883, 4.43, 3.0]), rtol=0, atol=1e-4)


def test_boolean_rewards_give_float_td_residuals():
    zeros = torch.zeros(2)
    delta = td_residuals(torch.tensor([True, False]), zeros, zeros, torch.tensor([False, True]), 0.9)
    assert delta.dtype == torch.float32 and delta.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_value_after_termination_is_ignored_even_when_not_finite(bad):
    rewards, values = torch.ones(3), torch.zeros(3)
    next_values = torch.tensor([0.5, bad, 0.2])
    terminated, truncated = torch.tensor([False, True, False]), torch.zeros(3, dtype=torch.bool)
    advantages = gae(rewards, values, next_values, terminated, truncated, 0.9, 0.95)
    assert torch.isfinite(advantages).all()
    assert advantages[1] == 1.0  # r_1 alone: V(s_2) after a termination is 0 by definition


# ---- config types ----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("normalize_obs", "no", "normalize_obs must be True or False; got 'no'"),
    ("normalize_advantages", 1, "normalize_advantages must be True or False; got 1"),
    ("num_envs", True, "num_envs must be an integer >= 1; got True"),
    ("log_std_init", math.nan, "log_std_init must be a finite number; got nan"),
    ("gamma", "0.9", r"gamma must lie in \[0, 1\)"),
])
def test_config_fields_check_their_types(field, value, message):
    with pytest.raises(ValueError, match=message):
        TRPOConfig(**{field: value})


# ---- environment faults during training -------------------------------------------------------------

@pytest.mark.parametrize("where, value, step, quantity", [
    ("reward", math.nan, 70, "reward"),
    ("reward", math.inf, 70, "reward"),
    ("obs", math.nan, 70, "observation"),
    ("obs", -math.inf, 72, "final observation"),  # step 72 ends copy 0's 9th episode
])
def test_non_finite_env_output_is_named_and_the_completed_iterations_are_kept(tmp_path, where, value,
                                                                                step, quantity):
    run = tmp_path / "run"
    with pytest.raises(TrainingFailed) as failure:
        train(fault_config(fault_step=step, where=where, value=value), seed=0, progress=False, run_dir=run)
    cause = failure.value.__cause__
    assert isinstance(cause, NonFiniteError)
    assert f"FaultCase-v0 copy 0 returned a non-finite {quantity} (" in str(cause)
    assert f"at step {(step - 1) % 32} of the batch" in str(cause)
    # copy 0 reaches its 70th step in the third iteration: two completed iterations are kept
    assert len(failure.value.history) == 2 and "completed iterations are kept" in str(failure.value)
    assert_run_on_disk(run, "failed", iterations=2)
    assert "NonFiniteError" in RunFolder(run).status()["reason"]


def assert_run_on_disk(run, status, iterations):
    """The run folder says how it ended, and holds every completed iteration and an agent that loads."""
    assert RunFolder(run).status()["status"] == status
    rows = list(csv.DictReader(open(run / "progress.csv"))) if iterations else []
    assert [int(r["time/iteration"]) for r in rows] == list(range(1, iterations + 1))
    agent = load_agent(run / "agent.pt")
    assert all(torch.isfinite(t).all() for t in agent.state_dict().values() if t.is_floating_point())


def test_an_env_that_raises_keeps_the_completed_work(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TrainingFailed, match="RuntimeError: the simulator lost its connection") as failure:
        train(fault_config(fault_step=100, where="raise"), seed=0, progress=False, run_dir=run)
    assert isinstance(failure.value.__cause__, RuntimeError)
    assert_run_on_disk(run, "failed", iterations=3)


def test_a_callback_that_raises_keeps_the_history_and_the_agent_it_saw(tmp_path):
    seen = []

    def callback(row):
        seen.append(row)
        if len(seen) == 2:
            raise KeyError("plot")

    run = tmp_path / "run"
    with pytest.raises(TrainingFailed, match=r"KeyError: 'plot'") as failure:
        train(fault_config(), seed=0, progress=False, run_dir=run, callback=callback)
    assert len(failure.value.history) == 2 and failure.value.history[-1] is seen[-1]
    assert_run_on_disk(run, "failed", iterations=2)


def test_an_interrupt_returns_and_saves_the_last_completed_iteration(tmp_path):
    def callback(row):
        if row["time/iteration"] == 3:
            raise KeyboardInterrupt

    run = tmp_path / "run"
    agent, history = train(fault_config(), seed=0, progress=False, run_dir=run, callback=callback)
    assert history.status == "interrupted" and history.reason == "Ctrl-C" and len(history) == 3
    assert_run_on_disk(run, "interrupted", iterations=3)
    for saved, kept in zip(load_agent(run / "agent.pt").state_dict().values(), agent.state_dict().values(),
                           strict=True):
        assert torch.equal(saved, kept)


# ---- the update: non-finite inputs, a vanished gradient -----------------------------------------------

@pytest.mark.parametrize("update", ["trpo", "npg", "vpg"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_advantages_change_no_parameter(update, bad):
    agent, _ = train(fault_config(), seed=0, progress=False, total_steps=64)
    before = [p.detach().clone() for p in agent.policy.parameters()]
    obs, actions = torch.zeros(16, 2), torch.zeros(16, dtype=torch.long)
    advantages = torch.ones(16)
    advantages[5] = bad
    config = TRPOConfig(env_id="FaultCase-v0", update=update)
    with pytest.raises(NonFiniteError, match=r"advantages hold non-finite values .* indices \[5\]"):
        update_policy(agent.policy, obs, actions, advantages, config)
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters(), strict=True))


@pytest.mark.parametrize("update", ["trpo", "npg"])
def test_a_vanished_gradient_is_a_skipped_update_and_training_goes_on(update):
    agent, history = train(TRPOConfig(env_id="Bandit-v0", total_steps=64 * 12, update=update, max_kl=3.0,
                                      **SMALL), seed=0, progress=False)
    assert history.status == "finished" and len(history) == 12
    skipped = [row for row in history if row["policy/skipped"]]
    assert skipped and history[-1]["policy/skipped"]  # deterministic by the end, and still training
    assert all(not row["line_search/accepted"] and row["policy/kl"] == 0.0 for row in skipped)
    probs = agent.policy.distribution(torch.zeros(1, 2)).probs
    assert probs.max() > 1 - 1e-4  # deterministic (npg's huge steps may settle on the wrong action)


def test_zero_advantages_skip_the_update_and_change_nothing():
    agent, _ = train(fault_config(), seed=0, progress=False, total_steps=64)
    before = [p.detach().clone() for p in agent.policy.parameters()]
    obs, actions = torch.randn(16, 2), torch.zeros(16, dtype=torch.long)
    stats = update_policy(agent.policy, obs, actions, torch.zeros(16), TRPOConfig(env_id="FaultCase-v0"))
    assert stats["policy/skipped"] and stats["policy/kl"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters(), strict=True))


def test_npg_with_a_huge_trust_region_runs_to_its_budget():
    """The crash of the issue: npg, max_kl 3 on CartPole drives the policy deterministic within a few
    updates; CG then returns x = 0 and the update must be skipped, not raise."""
    _, history = train("CartPole-v1", seed=0, progress=False, update="npg", max_kl=3.0, total_steps=30 * 512,
                       num_envs=8, steps_per_env=64)
    assert history.status == "finished" and len(history) == 30


# ---- run folders: never overwritten, resumable -------------------------------------------------------

def test_an_existing_run_folder_is_refused_before_training(tmp_path):
    run = tmp_path / "run"
    train(fault_config(), seed=0, progress=False, run_dir=run, total_steps=64)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(ValueError, match=r"already holds files; nothing was trained.*--resume"):
        train(fault_config(), seed=1, progress=False, run_dir=run)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_out_naming_a_file_is_refused_at_once(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    start = time.perf_counter()
    code = main(["train", "--env", "CartPole-v1", "--out", str(tmp_path / "notes.txt"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "is a file, not a run folder" in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - start < 5 and (tmp_path / "notes.txt").read_text() == "mine"


def interrupted_run(tmp_path, at: int = 3):
    def callback(row):
        if row["time/iteration"] == at:
            raise KeyboardInterrupt

    run = tmp_path / "run"
    train(fault_config(), seed=4, progress=False, run_dir=run, callback=callback)
    return run


def test_resume_continues_to_the_budget_and_is_reproducible(tmp_path):
    run = interrupted_run(tmp_path)
    (run / "eval.json").write_text("{}")
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(run), str(copy)], check=True)
    agent, history = resume(run, progress=False)
    assert history.status == "finished" and [r["time/iteration"] for r in history] == [1, 2, 3, 4, 5, 6]
    assert not (run / "eval.json").exists()  # it described the agent before the resume
    assert_run_on_disk(run, "finished", iterations=6)
    _, again = resume(copy, progress=False)
    strip = [{k: v for k, v in r.items() if k != "time/wall"} for r in history]
    assert strip == [{k: v for k, v in r.items() if k != "time/wall"} for r in again]
    # Not bit for bit the uninterrupted run: the environments start new episodes at the resume point.
    _, whole = train(fault_config(), seed=4, progress=False)
    assert [r["rollout/episodes"] for r in whole][:3] == [r["rollout/episodes"] for r in history][:3]


def test_resume_continues_a_folder_of_an_earlier_version_without_the_unix_time_column(tmp_path):
    run = interrupted_run(tmp_path)
    old = [line.rsplit(",", 1)[0] for line in (run / "episodes.csv").read_text().splitlines()]
    assert old[0] == "return,length,env_steps,wall"
    (run / "episodes.csv").write_text("\n".join(old) + "\n")
    _, history = resume(run, progress=False)
    saved = list(csv.DictReader(open(run / "episodes.csv")))
    assert list(saved[0]) == ["return", "length", "env_steps", "wall"] and len(saved) == len(history.episodes)
    assert [float(e["return"]) for e in saved] == [e["return"] for e in history.episodes]


def test_resume_after_a_kill_drops_the_rows_after_the_last_checkpoint(tmp_path):
    run = interrupted_run(tmp_path)
    rows = (run / "progress.csv").read_text().splitlines()
    (run / "progress.csv").write_text("\n".join(rows + [rows[-1].replace(",3,", ",4,")]) + "\n")  # a 4th row
    _, history = resume(run, progress=False)
    assert [r["time/iteration"] for r in history] == [1, 2, 3, 4, 5, 6]


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "is not a run folder (no config.json)" in capsys.readouterr().err


# ---- files: truncated, foreign, non-finite, mismatched ------------------------------------------------

@pytest.fixture(scope="module")
def saved_agent(tmp_path_factory):
    path = tmp_path_factory.mktemp("agent") / "agent.pt"
    save_agent(train("CartPole-v1", seed=0, progress=False, total_steps=128, **SMALL)[0], path)
    return path


def test_a_truncated_agent_file_is_named_in_one_line(tmp_path, saved_agent, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "agent.pt").write_bytes(saved_agent.read_bytes()[:500])
    assert main(["evaluate", str(run)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{run / 'agent.pt'} is not an agent saved by trpo_lite (truncated, or another file" in err


def test_a_foreign_file_is_named(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"other.pt is not an agent saved by .*no 'observation_space'"):
        load_agent(tmp_path / "other.pt")
    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(ValueError, match="text.pt is not an agent saved by trpo_lite"):
        load_agent(tmp_path / "text.pt")


def test_non_finite_weights_are_refused(tmp_path, saved_agent):
    agent = load_agent(saved_agent)
    with torch.no_grad():
        next(agent.policy.parameters())[0, 0] = math.nan
    save_agent(agent, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match=r"nan.pt holds non-finite \(NaN or inf\) weights in \['policy\."):
        load_agent(tmp_path / "nan.pt")


def test_evaluating_on_an_env_with_other_spaces_names_both(tmp_path, saved_agent, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "agent.pt").write_bytes(saved_agent.read_bytes())
    assert main(["evaluate", str(run), "--env", "Pendulum-v1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "trained on CartPole-v1 with observation space Box(" in err
    assert "Pendulum-v1 has observation space Box(" in err


def test_evaluate_ends_on_an_env_without_a_time_limit(monkeypatch):
    monkeypatch.setattr(persistence, "MAX_EPISODE_STEPS", 300)
    agent, _ = train(TRPOConfig(env_id="Endless-v0", total_steps=64, **SMALL), seed=0, progress=False)
    returns = evaluate(agent, episodes=2)
    assert returns.tolist() == [300.0, 300.0]  # reward 1 per step, cut at the cap


# ---- signals to a command-line run -------------------------------------------------------------------

@pytest.mark.parametrize("sig, code, reason",
                         [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_signal_stops_a_cli_run_and_keeps_its_work(tmp_path, sig, code, reason):
    run = tmp_path / "run"
    # A shell that runs the tests in the background ignores SIGINT, and a child inherits that: Python then
    # installs no Ctrl-C handler. The run gets the default disposition, as in a terminal.
    process = subprocess.Popen([sys.executable, "-m", "trpo_lite", "train", "--env", "CartPole-v1", "--steps",
                                "10000000", "--out", str(run), "--no-progress"],
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        progress = run / "progress.csv"
        while not (progress.exists() and len(progress.read_text().splitlines()) > 2):
            assert time.monotonic() < deadline and process.poll() is None, "the run did not start"
            time.sleep(0.1)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()  # never leave a 10M-step run behind a failed assertion
    assert process.returncode == code, err
    assert f"interrupted by {reason} after" in err and f"--resume {run}" in err
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "interrupted" and status["reason"] == reason and status["iterations"] >= 2
    assert_run_on_disk(run, "interrupted", iterations=status["iterations"])
    assert (run / "curve.png").exists()
