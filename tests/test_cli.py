"""The command line: a run folder's files, evaluation, --help text, and one-line errors."""

import argparse
import csv
import json
import subprocess
import sys
import time

import pytest

from trpo_lite.cli import build_parser, main
from trpo_lite.persistence import load_agent

TRAIN = ["train", "--env", "CartPole-v1", "--steps", "600", "--seed", "3", "--num-envs", "4", "--no-progress"]


def test_train_writes_a_run_folder_and_evaluate_reads_it(tmp_path, capsys):
    run = tmp_path / "runs" / "cartpole"
    before = time.time()
    assert main([*TRAIN, "--out", str(run)]) == 0
    episodes = list(csv.DictReader(open(run / "episodes.csv")))
    times = [float(e["unix_time"]) for e in episodes]  # when each episode ended, seconds since 1970
    assert before < times[0] and times == sorted(times) and times[-1] < time.time()
    assert {p.name for p in run.iterdir()} == {"progress.csv", "episodes.csv", "curve.png", "agent.pt",
                                               "state.pt", "config.json", "status.json"}
    rows = list(csv.DictReader(open(run / "progress.csv")))
    # 4 copies x 64 steps per batch (the preset's steps_per_env): 600 steps take 3 batches.
    assert [int(r["time/env_steps"]) for r in rows] == [256, 512, 768]
    assert "rollout/return_mean" in rows[0] and "line_search/accepted" in rows[0]
    saved = json.loads((run / "config.json").read_text())
    assert saved["seed"] == 3 and saved["config"]["num_envs"] == 4 and saved["config"]["total_steps"] == 600
    assert load_agent(run / "agent.pt").config.num_envs == 4
    capsys.readouterr()

    assert main(["evaluate", str(run), "--episodes", "3", "--seed", "5"]) == 0
    result = json.loads((run / "eval.json").read_text())
    assert result["episodes"] == 3 and len(result["returns"]) == 3 and result["seed"] == 5
    assert result["mean"] == pytest.approx(sum(result["returns"]) / 3)
    out = capsys.readouterr().out
    assert f"mean return {result['mean']:.2f}" in out and f"std {result['std']:.2f}" in out


def one_line_error(capsys, argv, expected_code=2):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors exit from inside parse_args
        code = exit_.code
    err = capsys.readouterr().err
    assert code == expected_code
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_env_id(capsys, tmp_path):
    err = one_line_error(capsys, ["train", "--env", "NoSuchEnv-v0", "--out", str(tmp_path)])
    assert "env_id 'NoSuchEnv-v0' is not a registered gymnasium environment" in err


@pytest.mark.parametrize("steps", ["-5", "0", "ten"])
def test_bad_step_count(capsys, tmp_path, steps):
    err = one_line_error(capsys, ["train", "--steps", steps, "--out", str(tmp_path)])
    assert f"argument --steps: must be a positive integer; got '{steps}'" in err


def test_missing_run_folder(capsys, tmp_path):
    err = one_line_error(capsys, ["evaluate", str(tmp_path / "nope")])
    assert f"run folder {tmp_path / 'nope'} does not exist" in err


def test_run_folder_without_agent(capsys, tmp_path):
    err = one_line_error(capsys, ["evaluate", str(tmp_path)])
    assert f"no saved agent at {tmp_path / 'agent.pt'}" in err


def test_unsupported_env(capsys, tmp_path):
    err = one_line_error(capsys, ["train", "--env", "FrozenLake-v1", "--out", str(tmp_path), "--steps", "10"])
    assert "observation_space must be a flat Box" in err


def test_every_option_has_help_text():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"train", "evaluate", "sweep"}
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "trpo_lite", "evaluate", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"python -m trpo_lite evaluate: error: run folder {tmp_path / 'nope'} does not exist (write one "
        f"with `python -m trpo_lite train --out {tmp_path / 'nope'}`)"]
