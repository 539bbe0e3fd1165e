"""The SIP2 catalog says what the other catalogs say: one message id, one translation.

The catalogs of all areas are merged into one table per language, so a message id translated
differently here would change another area's words (as "missing" once did a stocktake report).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kiosk.i18n import LANGUAGES, LOCALE_DIR


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sip2_messages_agree_with_the_other_catalogs(lang: str) -> None:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"

    def table(path: Path) -> dict[str, str]:
        with path.open("rb") as f:
            return {str(m.id): str(m.string) for m in read_po(f, locale=lang) if m.id}

    ours = table(folder / "sip2.po")
    for path in sorted(folder.glob("*.po")):
        if path.name == "sip2.po":
            continue
        theirs = table(path)
        differ = {k: (v, theirs[k]) for k, v in ours.items() if k in theirs and theirs[k] != v}
        assert differ == {}, f"{path.name}: {differ}"
