"""Result files: package data read with importlib.resources, written atomically, non-finite floats kept."""

import math
from pathlib import Path

import pytest

from trpo_lite import TRPOConfig
from trpo_lite.records import (
    load_records,
    machine,
    made_here,
    record_run,
    result_path,
    run_environment,
    write_records,
)


def test_round_trip_keeps_nan_and_infinities_and_writes_strict_json(tmp_path):
    path = tmp_path / "sub" / "r.json"
    runs = [{"kl": [0.1, math.inf], "ret": [math.nan, 2.0], "seed": 0}, {"kl": [-math.inf], "seed": 1}]
    write_records(path, {"what": "test", "x": math.nan}, runs)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert text.splitlines()[-3:-1] == ['{"kl":[0.1,"inf"],"ret":["nan",2.0],"seed":0},',
                                        '{"kl":["-inf"],"seed":1}']  # one run a line
    back = load_records(path)
    assert back["runs"][0]["kl"] == [0.1, math.inf] and math.isnan(back["runs"][0]["ret"][0])
    assert back["runs"][1]["kl"] == [-math.inf] and math.isnan(back["meta"]["x"])
    assert not list(tmp_path.glob("sub/*.tmp"))


def test_package_data_is_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = load_records("step_size_sweep.json")
    assert len(sweep["runs"]) == 30 and result_path("sweeps.json").is_file()
    assert result_path("sweeps.json").parent == Path(__file__).resolve().parents[1] / "trpo_lite" / "data"


def test_missing_and_broken_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="no result file .*nothing.json: write it with its script"):
        load_records("nothing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"meta": ')
    with pytest.raises(ValueError, match="broken.json is not a result file"):
        load_records(broken)


def test_record_run_keeps_the_curve_and_is_reproducible():
    config = TRPOConfig(total_steps=2048, num_envs=4, steps_per_env=256)
    keys = {"env_steps": "time/env_steps", "kl": "policy/kl"}
    first, again = record_run(config, 3, keys), record_run(config, 3, keys)
    assert first == again and first["env_steps"] == [1024, 2048] and set(first) == set(keys)
    assert record_run(config, 4, keys)["kl"] != first["kl"]


def test_machine_descriptions_name_versions_and_cpu():
    env = run_environment()
    assert {"python", "machine", "cpu", "torch", "gymnasium", "numpy"} == set(env) and env["cpu"]
    assert machine()["torch_threads"] >= 1


def test_made_here_compares_the_cpu_model_and_the_versions_in_either_layout():
    here = run_environment()
    assert made_here({"environment": here})
    assert not made_here({"environment": here | {"cpu": "another CPU"}})
    assert not made_here({"environment": here | {"torch": "0.0.1"}})
    versions = {k: here[k] for k in ("python", "torch", "gymnasium", "numpy")} | {"trpo_lite": "0.1.0"}
    assert made_here({"versions": versions, "machine": {"cpu": here["cpu"], "cpu_count": 2}})
    assert not made_here({"versions": versions, "machine": {"cpu": "another CPU"}})
