"""Sweeps on an Optuna study: every (configuration, seed) runs exactly once with several workers, on a
local journal file and on a real PostgreSQL server; the result file holds what a direct run records."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from extras import skip_unless
from optuna.trial import TrialState

from trpo_lite import TRPOConfig
from trpo_lite import records as records_module
from trpo_lite import sweep as sweep_module
from trpo_lite.cli import main
from trpo_lite.records import CURVE_KEYS, load_records, record_run
from trpo_lite.sweep import create_or_join, export, grid, open_storage, parse_values, sweep, work
from trpo_lite.training import History

# One iteration of 2 copies x 128 steps: a trial takes a fraction of a second.
BASE = TRPOConfig(env_id="CartPole-v1", total_steps=256, num_envs=2, steps_per_env=128)
POINTS = grid({"max_kl": [0.01, 0.05], "lam": [0.9, 0.97]})
SEEDS = [0, 1]


def test_grid_is_every_combination_in_order():
    assert grid({"a": [1, 2], "b": ["x", "y"]}) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"},
                                                    {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert grid({}) == [{}]


def test_bad_fields_and_values_fail_before_any_training(tmp_path):
    storage = open_storage(str(tmp_path / "s.journal"))
    with pytest.raises(ValueError, match=r"unknown TRPOConfig fields \['max_kll'\]"):
        create_or_join(storage, "bad", BASE, [{"max_kll": 0.1}], SEEDS)
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0"):
        create_or_join(storage, "bad", BASE, [{"max_kl": -1.0}], SEEDS)
    assert optuna.get_all_study_names(storage) == []
    with pytest.raises(ValueError, match="n_jobs must be an integer >= 1"):
        sweep(str(tmp_path / "s.journal"), "bad", BASE, POINTS, SEEDS, n_jobs=0)


def check_every_run_once(study, ran):
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == len(POINTS) * len(SEEDS) and all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted((t.params["point"], t.params["seed"]) for t in trials) == \
        sorted((p, s) for p in range(len(POINTS)) for s in SEEDS)
    assert sum(ran) == len(trials)  # no trial was trained twice by two workers


def test_two_workers_on_a_journal_file_run_every_trial_once(tmp_path):
    study, ran = sweep(str(tmp_path / "study.journal"), "grid", BASE, POINTS, SEEDS, n_jobs=2)
    check_every_run_once(study, ran)
    meta, runs = export(study)
    assert meta["trials"] == 8 and meta["points"] == POINTS and meta["seeds"] == SEEDS
    direct = record_run(TRPOConfig(**{**BASE.to_dict(), "hidden_sizes": (64, 64),
                                      "value_hidden_sizes": (64, 64), **POINTS[3]}), 1, CURVE_KEYS)
    (saved,) = [r for r in runs if r["config"] == POINTS[3] and r["seed"] == 1]
    del saved["curve"]["wall"], direct["wall"]
    assert saved["curve"] == direct  # the sweep records exactly what a direct run records (bar the clock)


def test_an_interrupted_trial_is_queued_again_and_a_rerun_finishes_the_grid(tmp_path, monkeypatch):
    where = str(tmp_path / "study.journal")
    study = create_or_join(open_storage(where), "grid", BASE, POINTS, SEEDS)
    calls = []

    def interrupted_third(config, seed, keys):
        calls.append(seed)
        if len(calls) == 3:  # what record_run raises when train returns an interrupted history
            raise KeyboardInterrupt("interrupted (SIGTERM); the run is not recorded")
        return record_run(config, seed, keys)

    monkeypatch.setattr(sweep_module, "record_run", interrupted_third)
    with pytest.raises(KeyboardInterrupt):
        work(where, "grid")
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(TrialState.COMPLETE) == 2 and states.count(TrialState.FAIL) == 1
    ran = work(where, "grid")  # the same command again
    trials = study.get_trials(deepcopy=False)
    done = sorted((t.params["point"], t.params["seed"]) for t in trials if t.state == TrialState.COMPLETE)
    assert done == sorted((p, s) for p in range(len(POINTS)) for s in SEEDS) and ran == len(done) - 2


def test_record_run_refuses_an_interrupted_run(monkeypatch):
    def interrupted_train(config, seed, progress):
        history = History([{"policy/kl": 0.0}])
        history.status, history.reason = "interrupted", "SIGTERM"
        return None, history

    monkeypatch.setattr(records_module, "train", interrupted_train)
    with pytest.raises(KeyboardInterrupt, match=r"CartPole-v1 seed 3: training was interrupted after 1 "
                                                r"iterations \(SIGTERM\); the run is not recorded"):
        record_run(BASE, 3, {"kl": "policy/kl"})


def test_a_second_sweep_command_joins_and_finds_nothing_left(tmp_path):
    where = str(tmp_path / "study.db")  # SQLite
    sweep(where, "grid", BASE, POINTS, SEEDS)
    study, ran = sweep(where, "grid", BASE, POINTS, SEEDS)
    assert ran == [0] and len(study.get_trials()) == 8


def test_search_runs_its_budget_of_trials(tmp_path):
    search = {"space": {"max_kl": [0.01, 0.03, 0.1]}, "trials": 3}
    study, ran = sweep(str(tmp_path / "s.journal"), "search", BASE, [], SEEDS, search=search)
    meta, runs = export(study)
    assert ran == [3] and [r["seed"] for r in runs] == [0, 1, 0]
    assert all(r["config"]["max_kl"] in (0.01, 0.03, 0.1) for r in runs)


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL server on a free loopback port, with its own data directory."""
    bin_dir = postgres_bin()
    skip_unless(bin_dir is not None, "PostgreSQL is not installed: apt-get install postgresql")
    # Not pytest's tmp_path: its parents are private to root, and the server runs as another user.
    tmp_path = Path(tempfile.mkdtemp(prefix="trpo_lite_pg_"))
    data = tmp_path / "pgdata"
    data.mkdir()
    as_user = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as Debian's postgres user
        shutil.chown(tmp_path, "postgres")
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, bin_dir / "initdb", "-D", data, "-U", "trpo", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    log = tmp_path / "server.log"
    subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {tmp_path}", "start"], check=True, capture_output=True)
    try:
        subprocess.run([*as_user, bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "trpo",
                        "sweeps"], check=True, capture_output=True)
        yield f"postgresql://trpo@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_two_workers_on_a_postgresql_server_run_every_trial_once(postgres):
    start = time.monotonic()
    study, ran = sweep(postgres, "grid", BASE, POINTS, SEEDS, n_jobs=2)
    check_every_run_once(study, ran)
    assert time.monotonic() - start < 120


def test_command_line_values_are_typed_and_checked():
    assert parse_values(["max_kl=0.003,0.01", "cg_iters=3,10", "normalize_obs=true,false", "update=npg"]) == {
        "max_kl": [0.003, 0.01], "cg_iters": [3, 10], "normalize_obs": [True, False], "update": ["npg"]}
    for bad, message in (("max_kl", "must read field=value"), ("cg_iters=3.5", "cg_iters takes int values"),
                         ("normalize_obs=yes", "takes true or false"), ("hidden_sizes=64",
                                                                         "cannot be swept from the command"),
                         ("maxkl=0.1", "unknown TRPOConfig fields")):
        with pytest.raises(ValueError, match=message):
            parse_values([bad])


def test_the_sweep_command_runs_a_grid_and_writes_a_result_file(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    argv = ["sweep", "--env", "CartPole-v1", "--steps", "256", "--grid", "max_kl=0.01,0.05", "--seeds", "0",
            "1", "--storage", str(tmp_path / "s.journal"), "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "4 runs here, 4 finished" in printed and '{"max_kl": 0.05} | 0, 1 |' in printed
    saved = load_records(out)
    assert [(r["config"], r["seed"]) for r in saved["runs"]] == [({"max_kl": m}, s) for m in (0.01, 0.05)
                                                                 for s in (0, 1)]
    assert main(argv) == 0  # the same command again joins the finished study: nothing left to run
    assert "0 runs here, 4 finished" in capsys.readouterr().out


def test_a_killed_worker_loses_no_run(tmp_path):
    """SIGKILL mid-trial (nothing can catch it): another worker on this machine sees that the trial's
    process is gone, queues the trial again and finishes the grid, every run once."""
    where = str(tmp_path / "study.journal")
    slow = TRPOConfig(env_id="CartPole-v1", total_steps=30_000, num_envs=2, steps_per_env=128)  # ~1-2 s a run
    points = [{"max_kl": 0.01}]
    study = create_or_join(open_storage(where), "grid", slow, points, SEEDS)
    command = f"from trpo_lite.sweep import work; work({where!r}, 'grid')"
    worker = subprocess.Popen([sys.executable, "-c", command])
    try:
        deadline = time.monotonic() + 60
        while not any("worker" in t.user_attrs for t in study.get_trials(states=(TrialState.RUNNING,))):
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never started a trial"
            time.sleep(0.05)
    finally:
        worker.kill()
        worker.wait()
    (killed,) = study.get_trials(states=(TrialState.RUNNING,))
    ran = work(where, "grid")
    trials = study.get_trials()
    assert [t.state for t in trials if t.number == killed.number] == [TrialState.FAIL]
    done = sorted(t.params["seed"] for t in trials if t.state == TrialState.COMPLETE)
    assert done == SEEDS and ran == len(SEEDS) - sum(t.number < killed.number for t in trials
                                                      if t.state == TrialState.COMPLETE)


def test_a_trial_from_another_machine_is_taken_over_only_when_its_stamps_stop(tmp_path):
    storage = open_storage(str(tmp_path / "study.journal"))
    study = create_or_join(storage, "grid", BASE, POINTS, SEEDS)
    trial_id = sweep_module.claim(storage, study)
    fixed = storage.get_trial(trial_id).system_attrs["fixed_params"]

    def stamped(seconds_ago):
        storage.set_trial_user_attr(trial_id, "worker", {"host": "another-machine", "pid": 1,
                                                         "time": time.time() - seconds_ago})

    stamped(sweep_module.LOST_AFTER_S - 30)
    assert sweep_module.requeue_lost(storage, study) == 0
    stamped(sweep_module.LOST_AFTER_S + 1)
    assert sweep_module.requeue_lost(storage, study) == 1
    assert storage.get_trial(trial_id).state == TrialState.FAIL
    assert study.get_trials()[-1].state == TrialState.WAITING
    assert study.get_trials()[-1].system_attrs["fixed_params"] == fixed
    assert sweep_module.requeue_lost(storage, study) == 0  # found once, queued once


def test_a_worker_whose_trial_was_given_up_keeps_no_result(tmp_path, monkeypatch, capsys):
    where = str(tmp_path / "study.journal")
    storage = open_storage(where)
    study = create_or_join(storage, "grid", BASE, POINTS[:1], [0])
    given_up = []

    def given_up_meanwhile(config, seed, keys):  # another worker took the trial over while it ran here
        if not given_up:
            (trial,) = study.get_trials(states=(TrialState.RUNNING,))
            trial_id = storage.get_trial_id_from_study_id_trial_number(
                storage.get_study_id_from_name("grid"), trial.number)
            storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
            study.enqueue_trial(trial.system_attrs["fixed_params"])
            given_up.append(trial.number)
        return record_run(config, seed, keys)

    monkeypatch.setattr(sweep_module, "record_run", given_up_meanwhile)
    assert work(where, "grid") == 1  # the queued copy, run here too; the given-up result is not kept
    assert "was given up for lost" in capsys.readouterr().out
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]


def test_an_interrupted_search_trial_leaves_its_place_in_the_budget(tmp_path, monkeypatch):
    where = str(tmp_path / "s.journal")
    search = {"space": {"max_kl": [0.01, 0.03, 0.1]}, "trials": 3}
    study = create_or_join(open_storage(where), "search", BASE, [], SEEDS, search)
    calls = []

    def interrupted_second(config, seed, keys):
        calls.append(seed)
        if len(calls) == 2:
            raise KeyboardInterrupt("interrupted (SIGTERM); the run is not recorded")
        return record_run(config, seed, keys)

    monkeypatch.setattr(sweep_module, "record_run", interrupted_second)
    with pytest.raises(KeyboardInterrupt):
        work(where, "search")
    assert work(where, "search") == 2  # the same command again: the budget is 3 finished trials
    states = [t.state for t in study.get_trials()]
    assert states.count(TrialState.COMPLETE) == 3 and states.count(TrialState.FAIL) == 1
