"""The shipped Chinese font covers every character the pages can show from the catalogs."""

from __future__ import annotations

from pathlib import Path

from fontTools.ttLib import TTFont

ROOT = Path(__file__).parents[2]
FONT = ROOT / "kiosk/web/static/fonts/wqy-microhei-subset.woff2"


def shown_characters() -> set[str]:
    chars: set[str] = set()
    for pattern in ("kiosk/locale/*/LC_MESSAGES/*.po", "kiosk/web/templates/**/*.html"):
        for path in ROOT.glob(pattern):
            chars |= {c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F}
    return chars


def test_every_catalog_and_template_character_has_a_glyph() -> None:
    cmap = TTFont(str(FONT)).getBestCmap()
    missing = sorted(c for c in shown_characters() if ord(c) not in cmap)
    assert missing == [], f"run tools/make_font.py: {''.join(missing)}"


def test_common_names_and_titles_are_covered() -> None:
    cmap = TTFont(str(FONT)).getBestCmap()
    for text in ("王小明李雨涵张晨陈老师", "红楼梦小王子草房子西游记", "三年级二班借书还书续借"):
        assert all(ord(c) in cmap for c in text), text
