"""A reader's language that marks every text looked up through ``trpo_lite.tr``, so that a test can find a
figure text that bypasses it (and would stay English in the Chinese edition)."""

import contextlib
import re

from trpo_lite import language

MARKED = "xx"  # a language code of its own: figures cached per language never mix with a real one's


class _Marking(dict):
    """A catalog that 'translates' every text to itself between « and »."""

    def get(self, text, default=None):
        return f"«{text}»"


@contextlib.contextmanager
def marked_language(monkeypatch):
    """Inside: every ``tr`` text comes back as «text» (placeholders still filled)."""
    monkeypatch.setitem(language.LANGUAGES, MARKED, "every text marked")
    monkeypatch.setattr(language, "catalog", lambda code: _Marking())
    language.use_language(MARKED)
    try:
        yield
    finally:
        language.use_language("en")


def visible_texts(fig) -> list[str]:
    """The words a reader sees on fig: its suptitle and texts, each axes' titles, axis labels and legend
    entries, and figure legends (tick labels and the numbers in grid cells are numbers, not words)."""
    texts = [fig._suptitle] if fig._suptitle is not None else []
    texts += list(fig.texts)
    for legend in fig.legends:
        texts += legend.get_texts()
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    return [t.get_text() for t in texts if t.get_text()]


def untranslated(fig) -> list[str]:
    """Visible texts with a word in them (two letters or more) that did not come through ``tr``."""
    return [text for text in visible_texts(fig)
            if re.search("[A-Za-z]{2}", text) and not (text.startswith("«") and text.endswith("»"))]
