"""A training run's folder, written so that no completed iteration is ever lost.

    config.json    the seed and the full TRPOConfig (written before training starts)
    progress.csv   one row per completed iteration (the history keys), appended as it completes
    episodes.csv   every finished training episode (return, length, env_steps, wall, unix_time), appended
                   likewise; unix_time (seconds since 1970, ``time.time()``) lets a script outside the
                   process time an episode from the moment it started the process
    agent.pt       the agent (``persistence.save_agent``), every ``CHECKPOINT_EVERY`` iterations and on
                   every way out (finished, interrupted, failed)
    state.pt       what resuming needs besides the agent: the value optimizer and torch's random state
    status.json    {"status": "running" | "finished" | "interrupted" | "failed", "reason", "iterations",
                   "env_steps"}

Whole files are written atomically (a temporary file, then ``os.replace``); rows are appended and
flushed, so a crash loses at most the iteration it interrupted. An existing non-empty folder is never
reused, except to resume the run it holds.
"""

import csv
import json
import os
from pathlib import Path

import torch

from trpo_lite.config import TRPOConfig
from trpo_lite.persistence import save_agent

CHECKPOINT_EVERY = 10
"""Iterations between two saves of agent.pt during training (it is also saved on every way out)."""
EPISODE_KEYS = ("return", "length", "env_steps", "wall", "unix_time")
STATUSES = ("running", "finished", "interrupted", "failed")


class RunFolder:
    """The files of one run; ``create`` starts a new one, ``open`` an existing one to resume it."""

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def create(cls, path, config: TRPOConfig, seed: int) -> "RunFolder":
        """A new run folder for config and seed. Refuses a path that is a file, or a folder that is not
        empty, before anything is trained (resume that run, or choose another folder)."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path} is a file, not a run folder: choose a folder for the run")
        if path.is_dir() and any(path.iterdir()):
            raise ValueError(f"run folder {path} already holds files; nothing was trained. Continue that run "
                             f"with `--resume {path}` (trpo_lite.training.resume in Python), or choose "
                             "another folder")
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        _write_atomically(path / "config.json", json.dumps({"seed": seed, "config": config.to_dict()},
                                                             indent=2))
        run.set_status("running")
        return run

    def config(self) -> tuple[TRPOConfig, int]:
        """(config, seed) of the run."""
        if not (self.path / "config.json").is_file():
            raise FileNotFoundError(f"{self.path} is not a run folder (no config.json); start a run there "
                                    "with `python -m trpo_lite train --out`")
        saved = json.loads((self.path / "config.json").read_text())
        return TRPOConfig.from_dict(saved["config"]), int(saved["seed"])

    def append(self, row: dict, episodes: list[dict]) -> None:
        """Add one completed iteration's history row and the episodes that ended in it."""
        _append_rows(self.path / "progress.csv", list(row), [row])
        _append_rows(self.path / "episodes.csv", list(EPISODE_KEYS), episodes)

    def rows(self) -> tuple[list[dict], list[dict]]:
        """The saved history rows and episodes, with their numbers and booleans restored."""
        return _read_rows(self.path / "progress.csv"), _read_rows(self.path / "episodes.csv")

    def checkpoint(self, agent, value_optimizer, iterations: int) -> None:
        """Save the agent as of its completed iterations, and what resuming needs besides it."""
        save_agent(agent, self.path / "agent.pt")
        state = {"value_optimizer": value_optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
                 "iterations": iterations}
        temporary = self.path / "state.pt.tmp"
        torch.save(state, temporary)
        os.replace(temporary, self.path / "state.pt")

    def restore_state(self, value_optimizer) -> int:
        """Load the value optimizer's state and torch's random state saved with the last checkpoint;
        returns the number of iterations the checkpoint had completed."""
        state = torch.load(self.path / "state.pt", weights_only=True)
        value_optimizer.load_state_dict(state["value_optimizer"])
        torch.set_rng_state(state["torch_rng"])
        return int(state["iterations"])

    def truncate(self, iterations: int) -> tuple[list[dict], list[dict]]:
        """Keep the first ``iterations`` rows (and their episodes) on disk, dropping any that came after the
        last checkpoint (a killed run); returns them as ``rows`` does."""
        rows, episodes = self.rows()
        rows = rows[:iterations]
        steps = rows[-1]["time/env_steps"] if rows else 0
        episodes = [e for e in episodes if e["env_steps"] <= steps]
        for name, fields, kept in (("progress.csv", list(rows[0]) if rows else [], rows),
                                   ("episodes.csv", list(episodes[0]) if episodes else [], episodes)):
            temporary = self.path / (name + ".tmp")
            temporary.unlink(missing_ok=True)
            if kept:
                _append_rows(temporary, fields, kept)
                os.replace(temporary, self.path / name)
            else:
                (self.path / name).unlink(missing_ok=True)
        return rows, episodes

    def set_status(self, status: str, reason: str = "", iterations: int = 0, env_steps: int = 0) -> None:
        """Record how the run stands or ended (one of STATUSES) and why."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {status!r}")
        _write_atomically(self.path / "status.json", json.dumps(
            {"status": status, "reason": reason, "iterations": iterations, "env_steps": env_steps}, indent=2))

    def status(self) -> dict:
        """The status file's contents."""
        return json.loads((self.path / "status.json").read_text())


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _append_rows(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Append rows to a CSV file; a file that exists keeps its columns (a run folder of an earlier version
    that lacks a column is continued without it)."""
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with open(path, newline="") as f:
            fields = next(csv.reader(f), fields)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(f)]


def _number(text: str):
    """A CSV cell back as what was written: a bool, an int or a float (nan included)."""
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        return float(text)
