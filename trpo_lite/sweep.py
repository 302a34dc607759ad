"""Sweeps of training runs over config fields and seeds, on an Optuna study (``python -m trpo_lite sweep``).

A sweep is a list of configurations (overrides of a base TRPOConfig: a full grid of field values, or
any list, such as notebook 09's one-setting-at-a-time sweeps) times a list of seeds. Each
(configuration, seed) is one trial of an Optuna study and one training run. The study lives in a
storage that worker processes share: a local journal file by default, an SQLite file, or a database
URL (PostgreSQL), which lets workers on several machines join one study. The first worker creates the
study and queues every run; every worker then claims queued trials one at a time until none is left.
Claiming is a compare-and-set of the trial's state in the storage, so every (configuration, seed) runs
exactly once however many workers there are. A worker stamps the trial it runs (host, process, time)
every ``HEARTBEAT_S`` seconds; a trial whose worker is gone (a killed process on this machine, or no
stamp for ``LOST_AFTER_S`` seconds from a machine that went down) is queued again by the other workers,
which wait for every running trial before they stop, so no run is lost with its worker. With
``search``, a TPE sampler proposes values from a space (field -> values) instead, for a number of trials
(each one training run with one of the seeds, in turn).

Each finished trial keeps its learning curve (``records.record_run`` with ``CURVE_KEYS``) as a user
attribute; ``export`` turns the study into a result file (``records.write_records``).
"""

import contextlib
import dataclasses
import json
import multiprocessing
import os
import socket
import statistics
import threading
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from trpo_lite.config import TRPOConfig, check_field_names
from trpo_lite.records import CURVE_KEYS, decode, encode, machine, record_run, run_environment
from trpo_lite.training import use_threads

optuna.logging.set_verbosity(optuna.logging.WARNING)

HEARTBEAT_S = 30.0
"""How often a worker stamps the trial it runs."""
POLL_S = 1.0
"""How often a worker with nothing left to claim looks at the other workers' running trials again."""
LOST_AFTER_S = 300.0
"""A running trial not stamped for this long lost its worker (machines' clocks may differ by a little)."""


def open_storage(where: str):
    """The Optuna storage named by ``where``: a URL (``postgresql://...``, ``sqlite:///...``) as given,
    a file ending in .db, .sqlite or .sqlite3 as SQLite, any other path as a journal file."""
    if "://" in where:
        return optuna.storages.RDBStorage(where)
    if Path(where).suffix in (".db", ".sqlite", ".sqlite3"):
        return optuna.storages.RDBStorage(f"sqlite:///{Path(where).resolve()}")
    lock = optuna.storages.journal.JournalFileOpenLock(where)  # works on every OS and on NFS
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(where, lock_obj=lock))


def parse_values(assignments: list[str]) -> dict[str, list]:
    """Command-line assignments like "max_kl=0.003,0.01" as {field: [values]}, each value of the field's
    type (int, float, bool as true/false, or str), so that a typo fails before any training."""
    defaults = TRPOConfig().to_dict()
    values = {}
    for text in assignments:
        field, _, options = text.partition("=")
        check_field_names([field])
        if not options:
            raise ValueError(f"{text!r} must read field=value,value,...; e.g. max_kl=0.003,0.01")
        values[field] = [_typed(field, option.strip(), defaults[field]) for option in options.split(",")]
    return values


def _typed(field: str, text: str, default):
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{field} takes true or false; got {text!r}")
        return text.lower() == "true"
    if isinstance(default, list):
        raise ValueError(f"{field} (a tuple of sizes) cannot be swept from the command line; use "
                         "trpo_lite.sweep.sweep in Python")
    try:
        return type(default)(text) if not isinstance(default, float) else float(text)
    except ValueError:
        raise ValueError(f"{field} takes {type(default).__name__} values; got {text!r}") from None


def grid(values: dict[str, list]) -> list[dict]:
    """Every combination of the values, field -> values, as a list of configurations {field: value}."""
    points = [{}]
    for field, options in values.items():
        points = [{**point, field: option} for point in points for option in options]
    return points


def create_or_join(storage, name: str, base: TRPOConfig, points: list[dict], seeds: list[int],
                   search: dict | None = None) -> optuna.Study:
    """Create the study and queue every (configuration, seed), or join the study another worker created.

    Args:
        storage: from ``open_storage``.
        name: the study's name.
        base: the config every run starts from.
        points: the configurations, each {field: value} (see ``grid``); unused with search.
        seeds: the seeds every configuration is trained with.
        search: None for the listed points, or {"space": {field: values}, "trials": N} for a TPE search.
    The creator stores all of it in the study, then marks it ready; a worker that joins waits for that
    mark, so it never finds the queue half filled.
    """
    for point in points:
        check_field_names(point)
        dataclasses.replace(base, **point)  # a bad value fails here, before any training
    if search is not None:
        check_field_names(search["space"])
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                    sampler=optuna.samplers.TPESampler(seed=0))
    except optuna.exceptions.DuplicatedStudyError:
        return _wait_until_ready(optuna.load_study(study_name=name, storage=storage))
    for key, value in (("base", base.to_dict()), ("points", points), ("seeds", seeds), ("search", search)):
        study.set_user_attr(key, value)
    if search is None:
        for i in range(len(points)):
            for seed in seeds:
                study.enqueue_trial({"point": i, "seed": seed})
    study.set_user_attr("ready", True)
    return study


def _wait_until_ready(study: optuna.Study, timeout: float = 60.0) -> optuna.Study:
    start = time.monotonic()
    while not study.user_attrs.get("ready"):
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"study {study.study_name!r} exists but its creator never finished queueing "
                               "its runs; delete the study (or its storage file) and start again")
        time.sleep(0.2)
    return study


def claim(storage, study: optuna.Study) -> int | None:
    """Claim one queued trial for this worker (WAITING -> RUNNING); its trial id, or None if none is left.

    ``set_trial_state_values`` changes the state only if no other worker changed it first, so two
    workers never claim the same trial.
    """
    study_id = storage.get_study_id_from_name(study.study_name)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                return trial_id
        except optuna.exceptions.UpdateFinishedTrialError:  # finished by another worker meanwhile
            continue
    return None


def _stamp(storage, trial_id: int) -> None:
    """Record that this process is running the trial, now (user attribute "worker")."""
    storage.set_trial_user_attr(trial_id, "worker", {"host": socket.gethostname(), "pid": os.getpid(),
                                                      "time": time.time()})


@contextlib.contextmanager
def _stamping(storage, trial_id: int):
    """Stamp the trial now, then every HEARTBEAT_S seconds from a background thread while the block runs."""
    done = threading.Event()
    _stamp(storage, trial_id)

    def beat():
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # given up: ``work`` says so
            while not done.wait(HEARTBEAT_S):
                _stamp(storage, trial_id)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _lost(trial) -> bool:
    """Whether a RUNNING trial's worker is gone: on this machine, whether its process has ended; from
    another, whether its last stamp (or its start, before the first stamp) is more than LOST_AFTER_S old."""
    worker = trial.user_attrs.get("worker")
    if worker and worker["host"] == socket.gethostname() and os.name == "posix":  # os.kill(pid, 0) only asks
        try:
            os.kill(worker["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            pass
        return False
    stamped = worker["time"] if worker else trial.datetime_start.timestamp()  # naive datetimes: local time
    return time.time() - stamped > LOST_AFTER_S


def requeue_lost(storage, study: optuna.Study) -> int:
    """Mark every running trial that lost its worker as failed; queue a grid trial again (a search
    proposes another). Returns how many were found. Marking is a compare-and-set too, so when two
    workers find the same lost trial, only one queues it again."""
    study_id = storage.get_study_id_from_name(study.study_name)
    found = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not _lost(trial):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:  # finished or marked by another worker meanwhile
            continue
        found += 1
        if study.user_attrs["search"] is None:
            study.enqueue_trial(trial.system_attrs["fixed_params"])
    return found


def trial_config(trial: optuna.Trial) -> tuple[dict, int]:
    """The configuration {field: value} and the seed of a trial: a queued one's point, or the values
    the search's sampler suggests (the seed in turn, by trial number)."""
    attrs = trial.study.user_attrs
    if attrs["search"] is None:
        point = trial.suggest_int("point", 0, len(attrs["points"]) - 1)
        return attrs["points"][point], trial.suggest_categorical("seed", attrs["seeds"])
    space = attrs["search"]["space"]
    params = {field: trial.suggest_categorical(field, values) for field, values in space.items()}
    seed = attrs["seeds"][trial.number % len(attrs["seeds"])]
    trial.set_user_attr("seed", seed)
    return params, seed


def run_trial(trial: optuna.Trial) -> float:
    """One training run: the base config with the trial's values, trained with its seed. Keeps the
    learning curve as the trial's user attribute "curve"; returns the final last-10 mean return."""
    params, seed = trial_config(trial)
    config = dataclasses.replace(TRPOConfig.from_dict(trial.study.user_attrs["base"]), **params)
    curve = record_run(config, seed, CURVE_KEYS)
    trial.set_user_attr("curve", encode(curve))
    return curve["return_last10"][-1]


def work(where: str, name: str, threads: int = 1) -> int:
    """A worker: run the study's trials until every one has finished (grid) or the trial budget is spent
    (search), on ``threads`` torch threads (``use_threads``; one, as the course's saved results). Returns
    how many trials this worker ran. With nothing left to claim it waits for the other workers' running
    trials, taking over any that lose their worker (``requeue_lost``). A grid trial interrupted midway
    (Ctrl-C, SIGTERM) is marked failed and queued again before the interrupt goes on, so running the
    command again runs it from the start."""
    use_threads(threads)
    storage = open_storage(where)
    study = _wait_until_ready(optuna.load_study(study_name=name, storage=storage))
    search, study_id = study.user_attrs["search"], storage.get_study_id_from_name(name)
    ran = 0
    while True:
        requeue_lost(storage, study)
        if search is None:
            trial_id = claim(storage, study)
            if trial_id is None:
                if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                    return ran
                time.sleep(POLL_S)  # other workers' last trials are running
                continue
            trial = optuna.Trial(study, trial_id)
        elif len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))) \
                >= search["trials"]:  # may overshoot by a trial per worker
            return ran
        else:
            trial = study.ask()
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            with _stamping(storage, trial_id):
                value = run_trial(trial)
            study.tell(trial, value)
        except optuna.exceptions.UpdateFinishedTrialError:  # the storage refuses a finished trial's writes
            print(f"trial {trial.number} of study {name!r} was given up for lost (this worker's stamps "
                  f"stopped for {LOST_AFTER_S:.0f} s) and queued again while it ran here; its result is "
                  "not kept")
            continue
        except BaseException as error:
            study.tell(trial, state=TrialState.FAIL)
            if search is None and isinstance(error, KeyboardInterrupt):
                study.enqueue_trial(trial.params)  # interrupted, not failed: a worker runs it again
            raise
        ran += 1


def sweep(where: str, name: str, base: TRPOConfig, points: list[dict], seeds: list[int],
          n_jobs: int = 1, search: dict | None = None, threads: int = 1) -> tuple[optuna.Study, list[int]]:
    """Create (or join) the study (arguments as in ``create_or_join``), then run n_jobs worker processes
    on it until it is done. Returns the study and how many trials each worker ran."""
    if not (isinstance(n_jobs, int) and n_jobs >= 1):
        raise ValueError(f"n_jobs must be an integer >= 1 (worker processes); got {n_jobs!r}")
    study = create_or_join(open_storage(where), name, base, points, seeds, search)
    if n_jobs == 1:
        return study, [work(where, name, threads)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter per worker, on every OS
    with context.Pool(n_jobs) as pool:
        return study, pool.starmap(work, [(where, name, threads)] * n_jobs)


def export(study: optuna.Study) -> tuple[dict, list[dict]]:
    """The study's finished trials as a result file's (meta, runs), in the order they were queued.

    A run is {"config": {field: value}, "seed", "total_steps", "curve": {name: [I] values per iteration}}.
    """
    attrs = study.user_attrs
    runs = []
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    for trial in sorted(finished, key=lambda t: t.number):
        config = dict(trial.params)
        seed = config.pop("seed") if "seed" in config else trial.user_attrs["seed"]
        if "point" in config:
            config = attrs["points"][config["point"]]
        runs.append({"config": config, "seed": seed, "total_steps": attrs["base"]["total_steps"],
                     "curve": decode(trial.user_attrs["curve"])})
    meta = {"study": study.study_name, **{key: attrs[key] for key in ("base", "points", "seeds", "search")},
            "trials": len(runs), "machine": machine(), "versions": run_environment()}
    return meta, runs


def summary(runs: list[dict]) -> list[str]:
    """Lines of a table: each configuration, its seeds, and the median of their final last-10 returns."""
    by_config = {}
    for run in runs:
        by_config.setdefault(json.dumps(run["config"], sort_keys=True), []).append(run)
    lines = ["configuration | seeds | median final return (last 10 episodes)"]
    for key, group in by_config.items():
        finals = [run["curve"]["return_last10"][-1] for run in group]
        seeds = ", ".join(str(run["seed"]) for run in group)
        lines.append(f"{key} | {seeds} | {statistics.median(finals):.1f}")
    return lines
