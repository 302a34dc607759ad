"""The committed sweeps of notebook 09 read by a plain scan of the JSON, independent of
``examples.sweep_results``: what the tests of its numbers and figures compare with."""

from trpo_lite.examples.experiments import BASELINE, SWEEPS
from trpo_lite.records import load_records

RAW = load_records("sweeps.json")


def raw_runs(sweep, value):
    """The raw JSON records of one configuration, in seed order."""
    config = dict(BASELINE, **{sweep: value})
    return sorted((r for r in RAW["runs"] if r["config"] == config), key=lambda r: r["seed"])


def every_configuration():
    """(sweep, value) of every value of every sweep (the baseline once per sweep)."""
    return [(sweep, value) for sweep, values in SWEEPS.items() for value in values]
