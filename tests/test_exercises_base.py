"""What every exercise checker shares."""

import pytest

from trpo_lite import exercises

CHECKERS = [getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")]


def test_every_exported_checker_is_covered():
    assert len(CHECKERS) == len(exercises.__all__) - 1  # all but ExerciseError


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_checker_lets_an_unfilled_stub_through(check):
    # Every notebook catches NotImplementedError to print "fill in ..."; a checker must let it through.
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check(stub)
