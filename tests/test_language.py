"""The reader's language: lookups by English text, catalogs that agree with their English, and a CJK
font that covers every character the Chinese edition draws."""

import json
import string
import warnings
from importlib.resources import files

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from trpo_lite import language
from trpo_lite.figures.style import COURSE_FONT, static_figure, use_course_style
from trpo_lite.language import language as current
from trpo_lite.language import tr, use_language


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_language("en")


def catalog_files():
    return sorted((files("trpo_lite") / "locale" / "zh").iterdir(), key=lambda f: f.name)


def test_english_is_the_default_and_placeholders_are_filled():
    assert current() == "en"
    assert tr("{n} episodes", n=3) == "3 episodes" and tr("return") == "return"


def test_chinese_comes_from_the_catalog_and_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(language, "catalog", lambda code: {"{n} episodes": "{n} 个回合"})
    use_language("zh")
    assert tr("{n} episodes", n=3) == "3 个回合"
    assert tr("not translated yet") == "not translated yet"
    with pytest.raises(ValueError, match=r"language must be one of \['en', 'zh'\]; got 'fr'"):
        use_language("fr")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_translation_keeps_its_placeholders_and_is_chinese():
    entries = {}
    for f in catalog_files():
        entries |= json.loads(f.read_text(encoding="utf-8"))
    for english, chinese in entries.items():
        assert placeholders(chinese) == placeholders(english), (english, chinese)
        assert any("\u4e00" <= c <= "\u9fff" for c in chinese) or chinese == english, (english, chinese)
    assert language.catalog("zh") == entries


def test_the_course_fonts_have_every_character_the_catalogs_use():
    """Figures draw with DejaVu Sans, then the course font for what it lacks (COURSE_STYLE's font.family)."""
    cmap = TTFont(str(COURSE_FONT)).getBestCmap()
    dejavu = TTFont(font_manager.findfont("DejaVu Sans")).getBestCmap()
    used = {c for f in catalog_files() for c in f.read_text(encoding="utf-8") if ord(c) > 127}
    missing = sorted(c for c in used if ord(c) not in cmap and ord(c) not in dejavu)
    assert not missing, f"{missing}: rerun tools/subset_font.py"
    assert ord("信") in cmap and ord("区") in cmap  # the common characters are in even without catalogs


def test_chinese_text_draws_without_missing_glyphs():
    use_course_style()
    fig = static_figure((4, 3))
    ax = fig.subplots()
    ax.set(title="训练中的回报（最近 10 个回合）", xlabel="环境步数", ylabel="平均 KL")
    ax.plot([0, 1], [0, 1], label="信任区域 δ = 0.01")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a UserWarning
        fig.canvas.draw()
