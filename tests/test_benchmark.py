"""benchmarks/benchmark.py: each finished run is kept on disk at once and read back instead of retrained,
and the report is written from runs kept by earlier invocations."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import benchmark  # noqa: E402  (the script's folder, put on the path above)


def test_a_finished_run_is_kept_and_read_back_not_retrained(tmp_path, monkeypatch):
    first = benchmark.run_once(tmp_path, "CartPole-v1", "trpo_lite", 3, 2048)
    (kept,) = tmp_path.glob("*.json")
    assert kept.name == "CartPole-v1_trpo_lite_seed3_2048.json"
    assert 0 < first["fraction_of_env_only"] and first["final_return"] > 0

    def no_training(*args):
        raise AssertionError("a kept run was trained again")

    monkeypatch.setattr(benchmark, "run_trpo_lite", no_training)
    monkeypatch.setattr(benchmark, "env_only", no_training)
    assert benchmark.run_once(tmp_path, "CartPole-v1", "trpo_lite", 3, 2048) == pytest.approx(first)
    with pytest.raises(AssertionError, match="trained again"):
        benchmark.run_once(tmp_path, "CartPole-v1", "trpo_lite", 4, 2048)  # another seed is a new run

    stale = benchmark.settings("CartPole-v1", "trpo_lite") | {"max_kl": 0.5}  # a preset changed since
    monkeypatch.setattr(benchmark, "settings", lambda env_id, lib: stale)
    with pytest.raises(SystemExit, match=r"seed3_2048.json was made with other settings.*delete it"):
        benchmark.run_once(tmp_path, "CartPole-v1", "trpo_lite", 3, 2048)

    args = argparse.Namespace(seeds=[3], steps=2048, runs=tmp_path)
    text = benchmark.report({"CartPole-v1": {"trpo_lite": [first]}}, args)
    assert "| CartPole-v1 | trpo_lite | " in text and "CartPole-v1 475" in text
    assert "final return | eval return" in text and f"{first['final_return']:.1f}" in text


def test_the_crossing_is_the_episode_that_brings_the_last_ten_to_the_threshold():
    episodes = [{"return": r, "env_steps": 100 * k} for k, r in enumerate([0] * 5 + [100] * 10 + [0])]
    assert benchmark.crossing(episodes, 100) == {"return": 100, "env_steps": 1400}  # episodes 5-14
    assert benchmark.crossing(episodes, 100.5) is None
    assert benchmark.crossing(episodes[:9], 0) is None  # fewer than 10 finished episodes
