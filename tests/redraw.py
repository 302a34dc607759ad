"""The check every slider view's tests share: a view redraws one figure, and only its arguments count."""

from trpo_lite.widgets import to_png


def assert_redraws_in_place(view, a: tuple, b: tuple) -> None:
    """view(*a), then view(*b), then view(*a) again: a's PNG comes back to the byte, b's differs,
    and every call returns the same Figure (built once, its artists moved)."""
    first = to_png(view(*a))
    other = to_png(view(*b))
    assert to_png(view(*a)) == first
    assert other != first
    assert view(*b) is view(*a)
