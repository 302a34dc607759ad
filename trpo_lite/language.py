"""The language of what a reader sees: English (the default) or Simplified Chinese.

``use_language("zh")`` (the Chinese notebooks' set-up cell calls it) switches figure titles, axis labels
and legends, slider descriptions, printed checks and the exercise checkers' feedback to Chinese; the
library's own error messages stay English. A text is looked up by its English wording, ``tr("return
while training")``, in the catalogs ``trpo_lite/locale/<language>/*.json`` (one file per topic, each a
JSON object from English to the translation), so the code reads as English and a missing translation
shows the English text rather than nothing. Placeholders ``{name}`` are filled after the lookup.
"""

import json
from functools import cache
from importlib.resources import files

LANGUAGES = {"en": "English", "zh": "简体中文 (Simplified Chinese)"}
_current = ["en"]


def use_language(code: str) -> None:
    """Show the course in this language from now on: "en" (the default) or "zh"."""
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}; got {code!r}")
    _current[0] = code


def language() -> str:
    """The language in use: "en" or "zh"."""
    return _current[0]


def tr(text: str, **fields) -> str:
    """text in the language in use, with its placeholders filled: ``tr("{n} episodes", n=3)``."""
    translated = text if language() == "en" else catalog(language()).get(text, text)
    return translated.format(**fields) if fields else translated


@cache
def catalog(code: str) -> dict[str, str]:
    """Every translation into language ``code``: English text -> translated text, from all its files."""
    merged = {}
    folder = files("trpo_lite") / "locale" / code
    for entry in sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []:
        if entry.name.endswith(".json"):
            for english, translated in json.loads(entry.read_text(encoding="utf-8")).items():
                if merged.get(english, translated) != translated:
                    raise ValueError(f"{code}/{entry.name} translates {english!r} differently from another "
                                     "catalog file: one text, one translation")
                merged[english] = translated
    return merged
