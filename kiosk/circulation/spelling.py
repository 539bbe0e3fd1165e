"""Spell titles and authors for the search: pinyin, initials, a sort key (pure; loads pypinyin).

Kept apart from the search (stats/find.py) so that an import's helper process, which spells
while the import writes, loads only this module and pypinyin.
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"\d+")
FIELD = "\x01"
Pair = tuple[str, str]  # a title and its author
Spelled = tuple[str, str, str]  # sort key, entry, entry of letters only


def spelled(text: str) -> tuple[str, str]:
    """Return a text's whole pinyin and its initials, lower case: 狼王梦 -> langwangmeng, lwm.

    One pypinyin call gives both (its phrase dictionary picks the reading of 长 in 长大 and
    长城); letters and digits are kept as they are, without spaces.
    """
    from pypinyin import lazy_pinyin  # loaded where titles are spelled, never at start-up

    parts = [p for p in lazy_pinyin(text, errors="default") if p.strip()]
    whole = "".join("".join(p.split()) for p in parts).lower()
    firsts = "".join(p.strip()[:1] if _is_hanzi_part(p) else "".join(p.split()) for p in parts)
    return whole, firsts.lower()


def _is_hanzi_part(part: str) -> bool:
    # pypinyin gives each character's syllable alone, and other text in runs (with spaces).
    return part.isascii() and part.isalpha() and part.islower()


def entry(title: str, author: str, known: dict[str, tuple[str, str]] | None = None) -> Spelled:
    """Return a title's sort key (its pinyin), its entry and its entry of letters only.

    `known` keeps the spellings of one batch, so that an author of many titles is spelled once.
    """
    fields = _fields(title, author, {} if known is None else known)
    # Numbers in their order (a series' volume 2 before volume 10).
    key = NUMBER.sub(lambda m: m.group().zfill(8), fields[1]) if fields else ""
    return (
        key,
        FIELD + FIELD.join(fields),
        FIELD + FIELD.join(_letters(fields)),
    )


def _letters(fields: list[str]) -> list[str]:
    """Return the fields with their letters only (pinyin, English words), empty ones left out."""
    kept = (" ".join("".join(c if c.isascii() else " " for c in f).split()) for f in fields)
    return [f for f in kept if f]


def _fields(title: str, author: str, known: dict[str, tuple[str, str]]) -> list[str]:
    """Return the searchable fields of a title: text, pinyin and initials of title and author."""
    fields = []
    for text in (title, author):
        clean = " ".join(text.replace(FIELD, " ").split())
        if not clean:
            continue
        if clean not in known:
            known[clean] = spelled(clean)
        whole, initials = known[clean]
        fields += [clean.lower(), whole, initials]
    return fields


def entries(pairs: list[Pair]) -> list[tuple[str, str, str, str, str]]:
    """Return the spelling of each title and author, as the search's `SPELL` takes it."""
    known: dict[str, tuple[str, str]] = {}  # an author of many titles is spelled once
    return [(*entry(title, author, known), title, author) for title, author in pairs]


def main() -> None:
    """Spell batches of titles read from stdin, a JSON list a line; answer a JSON line each."""
    import json
    import sys

    for line in sys.stdin:
        sys.stdout.write(json.dumps(entries(json.loads(line)), ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
