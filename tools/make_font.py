"""Make the Chinese web font the pages ship: a subset of WenQuanYi Micro Hei.

The pages must render Chinese on any kiosk screen without fetching anything, and a whole CJK font
is too large for the package, so we keep the 6,763 characters of GB2312 (what school names and
book titles use), everything in the catalogs and templates, ASCII and CJK punctuation.

Run by hand when the catalogs gain characters outside GB2312 (needs Debian's fonts-wqy-microhei
and `pip install fonttools brotli`); the result is committed:
    python tools/make_font.py
"""

from __future__ import annotations

import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "kiosk/web/static/fonts/wqy-microhei-subset.woff2"


def gb2312() -> set[str]:
    """Return the characters of GB2312 (levels 1 and 2 of the hanzi, and its symbols)."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def project_text() -> set[str]:
    """Return every character the catalogs and templates use."""
    chars: set[str] = set()
    for pattern in ("kiosk/locale/**/*.po", "kiosk/web/templates/**/*.html"):
        for path in ROOT.glob(pattern):
            chars |= set(path.read_text(encoding="utf-8"))
    return chars


def main() -> None:
    """Write the subset font."""
    wanted = gb2312() | project_text() | {chr(c) for c in range(0x20, 0x7F)}
    wanted |= {chr(c) for c in range(0x3000, 0x3040)} | {chr(c) for c in range(0xFF00, 0xFF70)}
    wanted = {c for c in wanted if not re.match(r"\s", c) or c == " "}
    font = TTCollection(str(SOURCE)).fonts[0]
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(wanted)))
    subsetter.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(str(OUT))
    print(f"{OUT.relative_to(ROOT)}: {len(wanted)} characters, {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
