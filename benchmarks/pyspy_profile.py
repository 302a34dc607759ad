"""Where the time of `python -m trpo_lite train` goes: py-spy samples, added up by part of the loop.

    python benchmarks/pyspy_profile.py                   # CartPole-v1, seed 0, 100k steps, 250 samples/s
    python benchmarks/pyspy_profile.py --raw before.raw  # only add up a `py-spy record --format raw` file

py-spy (https://github.com/benfred/py-spy, `pip install py-spy`) samples the process from outside
and writes every distinct stack with its sample count. A sample counts towards a part when a frame
of the part is on its stack, so nested parts (env step inside collect inside train) are counted in
each; "other" is what no part of the same level holds. Samples of threads other than the main one
(tqdm's monitor waiting on its timer) are left out.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PY_SPY = os.environ.get("PY_SPY", "py-spy")

# (label, a frame that marks it as py-spy prints it "function (file:line)", parent label or None)
PARTS = (
    ("imports", "_find_and_load (<frozen importlib._bootstrap>", None),
    ("train", "train (trpo_lite/training.py", None),
    ("value fit", "fit_value (trpo_lite/value.py", "train"),
    ("collect", "collect (trpo_lite/rollout.py", "train"),
    ("env step", "step (gymnasium/wrappers/vector/common.py", "collect"),
    ("policy act", "act (trpo_lite/agent.py", "collect"),
    ("update_policy", "update_policy (trpo_lite/agent.py", "train"),
    ("CG (with its fvps)", "conjugate_gradient (trpo_lite/cg.py", "update_policy"),
    ("fvp (all)", "fisher_vector_product", "update_policy"),
    ("line search", "line_search (trpo_lite/step.py", "update_policy"),
    ("advantages (V, GAE)", "estimate_advantages (trpo_lite/rollout.py", "train"),
    ("curve.png", "_save_curve (trpo_lite/cli.py", None),
)
TOP_LEVEL = ("imports", "train", "curve.png")  # disjoint enough: imports inside train are counted in both
CHILDREN_OF_TRAIN = ("value fit", "collect", "update_policy", "advantages (V, GAE)")


def aggregate(lines) -> dict[str, int]:
    """Samples per part (PARTS labels), plus "process" (all of the main thread's samples),
    "train: other" and "process: other", from the lines of a py-spy raw file ("stack count")."""
    counts = {label: 0 for label, _, _ in PARTS}
    counts.update({"process": 0, "train: other": 0, "process: other": 0})
    for line in lines:
        if not line.strip():
            continue
        stack, n = line.rsplit(" ", 1)
        if "Thread._bootstrap" in stack:  # another thread: not the work of the run
            continue
        n = int(n)
        counts["process"] += n
        held = {label for label, frame, _ in PARTS if frame in stack}
        for label in held:
            counts[label] += n
        if "train" in held and not held & set(CHILDREN_OF_TRAIN):
            counts["train: other"] += n
        if not held & set(TOP_LEVEL):
            counts["process: other"] += n
    return counts


def rows(counts: dict[str, int], rate: float) -> list[tuple[str, float, float, float]]:
    """(label, seconds, share of the process, share of train) for every part, in display order."""
    order = ["process", "imports", "train", "value fit", "collect", "env step", "policy act", "update_policy",
             "CG (with its fvps)", "fvp (all)", "line search", "advantages (V, GAE)", "train: other",
             "curve.png", "process: other"]
    parent = {label: p for label, _, p in PARTS}
    out = []
    for label in order:
        n = counts[label]
        in_train = label == "train" or label == "train: other" or _under(label, "train", parent)
        out.append((("    " * _depth(label, parent)) + label, n / rate, n / counts["process"],
                    n / counts["train"] if in_train and counts["train"] else float("nan")))
    return out


def _depth(label, parent) -> int:
    if label == "train: other":
        return 1
    depth = 0
    while parent.get(label):
        label, depth = parent[label], depth + 1
    return depth


def _under(label, ancestor, parent) -> bool:
    while parent.get(label):
        label = parent[label]
        if label == ancestor:
            return True
    return False


def markdown(columns: dict[str, dict[str, int]], rate: float) -> list[str]:
    """A table with, per column (e.g. "before", "after"), each part's share of the process and of train."""
    names = list(columns)
    header = ["part"] + [f"{name}: {what}" for name in names for what in ("% of process", "% of train")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    tables = [rows(columns[name], rate) for name in names]
    for i, (label, *_) in enumerate(tables[0]):
        cells = []
        for table in tables:
            _, seconds, of_process, of_train = table[i]
            cells += [f"{100 * of_process:.1f}", "" if of_train != of_train else f"{100 * of_train:.1f}"]
        shown = label.replace("    ", "&nbsp;&nbsp;&nbsp;&nbsp;")
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    seconds = ", ".join(f"{name}: process {columns[name]['process'] / rate:.1f} s, train "
                        f"{columns[name]['train'] / rate:.1f} s of samples" for name in names)
    lines += ["", f"Sampled by py-spy at {rate:g}/s ({seconds}; py-spy slows the process a little)."]
    return lines


def record(raw: Path, steps: int, seed: int, rate: float, python: str = sys.executable) -> None:
    """Run `python -m trpo_lite train --env CartPole-v1` under py-spy, writing its raw samples to ``raw``."""
    with tempfile.TemporaryDirectory() as run_dir:
        subprocess.run([PY_SPY, "record", "--format", "raw", "--rate", str(rate), "--output", str(raw), "--",
                        python, "-m", "trpo_lite", "train", "--env", "CartPole-v1", "--steps", str(steps),
                        "--seed", str(seed), "--out", os.path.join(run_dir, "run"), "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", nargs="+", type=Path, help="add up these raw files instead of recording one")
    parser.add_argument("--names", nargs="+", help="column names of the raw files (default: their names)")
    parser.add_argument("--steps", type=int, default=100_000, help="environment steps (default: 100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=250, help="samples per second (default: 250)")
    args = parser.parse_args()
    raws = args.raw
    if raws is None:
        raws = [Path(tempfile.mkdtemp()) / "profile.raw"]
        record(raws[0], args.steps, args.seed, args.rate)
    names = args.names or [raw.stem for raw in raws]
    columns = {name: aggregate(raw.read_text().splitlines()) for name, raw in zip(names, raws, strict=True)}
    print("\n".join(markdown(columns, args.rate)))


if __name__ == "__main__":
    main()
