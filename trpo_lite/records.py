"""Recorded training runs: learning curves, the result files the notebooks load, and the machine.

The course's saved results (``trpo_lite/data/*.json``) ship inside the package
and are read with ``importlib.resources``, so the notebooks work from a wheel,
in Colab and from any folder. The scripts in ``benchmarks/`` train the runs
with ``record_run`` and write the files with ``write_records``; a notebook can
rerun one saved run with the same function and compare.

A result file is JSON: ``{"meta": {...}, "runs": [...]}``, the metadata
indented and one run per line, so that a rerun's diff shows which runs changed.
JSON has no NaN or infinity: they are written as the strings "nan", "inf" and
"-inf" and read back as floats.
"""

import json
import math
import os
import platform
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import torch

from trpo_lite.config import TRPOConfig
from trpo_lite.training import train

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
CURVE_KEYS = {  # what a recorded run keeps of each history row: short name -> history key (README)
    "env_steps": "time/env_steps",
    "return_last10": "rollout/return_last10",
    "return_mean": "rollout/return_mean",
    "kl": "policy/kl",
    "backtracks": "line_search/backtracks",
    "accepted": "line_search/accepted",
    "wall": "time/wall",
}


def record_run(config: TRPOConfig, seed: int, keys: dict[str, str]) -> dict[str, list]:
    """Train ``config`` with ``seed`` and keep the learning curve: {name: [I] values, one per iteration}.

    Args:
        config: the full settings (a saved run stores them: ``TRPOConfig.from_dict``).
        seed: fixes the networks, the action draws and the environments (``train``).
        keys: short name -> history key (README, "Training history"), e.g. {"kl": "policy/kl"}.
    The numbers also depend on torch's thread count (``trpo_lite.use_threads``) and on the
    machine and versions (``run_environment``).
    Raises KeyboardInterrupt when training was interrupted (Ctrl-C, SIGTERM): a part of a run is not kept
    as if it were the whole.
    """
    _, history = train(config, seed=seed, progress=False)
    history.check_finished(f"{config.env_id} seed {seed}")
    return {name: [row[key] for row in history] for name, key in keys.items()}


def run_environment() -> dict[str, str]:
    """What a training run's exact numbers depend on besides the seed and the thread count: versions,
    CPU architecture and model. A rerun matches a saved run bit for bit only where this matches."""
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu": cpu_name(),
            **{name: version(name) for name in ("torch", "gymnasium", "numpy")}}


def made_here(meta: dict) -> bool:
    """Whether the runs a result file's ``meta`` describes were made on this CPU model with these versions
    (``run_environment``): only there does a rerun match them to the last bit. On another CPU the same seed
    gives the same runs up to rounding: float32 sums are added in another order, and every update carries
    those last bits forward. (Older files keep the versions under "versions" and the CPU under "machine".)"""
    saved = meta.get("environment") or {**meta["versions"], "cpu": meta["machine"]["cpu"]}
    here = run_environment()
    return all(here[name] == value for name, value in saved.items() if name in here)


def machine() -> dict:
    """Where and how a benchmark ran: the CPU, its cores, torch's threads, the platform, the 1-minute
    load average (None where the OS has none, e.g. Windows)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(), "load_average_1min": None if load is None else round(load, 2)}


def cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows, else 'unknown'."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def result_path(name: str) -> Path:
    """Where the package keeps the result file ``name`` (e.g. "sweeps.json"): trpo_lite/data/name."""
    return Path(str(files("trpo_lite") / "data" / name))


def load_records(source: "str | Path") -> dict:
    """A result file as {"meta", "runs"}: ``source`` is a file name in the package's data (a str, e.g.
    "sweeps.json") or a Path to a file elsewhere (e.g. one a benchmark script wrote to /tmp)."""
    where = source if isinstance(source, Path) else files("trpo_lite") / "data" / source
    try:
        text = where.read_text()
    except FileNotFoundError as error:
        raise FileNotFoundError(f"no result file {where}: write it with its script in benchmarks/ "
                                "(see benchmarks/README.md)") from error
    try:
        return decode(json.loads(text))
    except json.JSONDecodeError as error:
        raise ValueError(f"{where} is not a result file (not JSON: {error}); rerun its script in "
                         "benchmarks/") from error


def write_records(path, meta: dict, runs: list[dict]) -> None:
    """Write a result file: meta indented, one run per line, non-finite floats as strings; atomically
    (a temporary file, then a rename), so an interrupted write never leaves half a file."""
    path = Path(path)
    lines = [json.dumps(encode(run), separators=(",", ":"), allow_nan=False) for run in runs]
    meta_text = json.dumps(encode(meta), indent=1, ensure_ascii=False, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text('{"meta": ' + meta_text + ',\n "runs": [\n' + ",\n".join(lines) + "\n]}\n")
    temporary.replace(path)


def encode(value):
    """value with every non-finite float (nested in dicts and lists) as the string "nan", "inf" or "-inf",
    so that it can be written as strict JSON."""
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def decode(value):
    """The inverse of ``encode``."""
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return NON_FINITE.get(value, value) if isinstance(value, str) else value
