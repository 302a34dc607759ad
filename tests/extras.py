"""Tests of optional parts (PostgreSQL, the mujoco extra, an OpenGL backend): skip where one is missing,
fail in CI, which installs them all."""

import os

import pytest


def skip_unless(available: bool, missing: str) -> None:
    """Skip a test whose optional part is missing, naming it and the fix; CI sets TRPO_LITE_REQUIRE_EXTRAS=1
    (.ci/run), where a missing part fails the test instead, since its set-up should have installed it."""
    if available:
        return
    if os.environ.get("TRPO_LITE_REQUIRE_EXTRAS"):
        pytest.fail(f"{missing} (CI requires it: see .ci/run and tools/system_packages.sh)")
    pytest.skip(missing)
