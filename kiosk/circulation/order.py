"""School order for lists and prints: classes 一, 二, 三 … 十二 and 1, 2 … 10 by their numbers,
and Chinese names in pinyin order (陈 before 李 before 王), as a school's own lists go.

The same orders are SQLite collations (`COLLATE school`, `COLLATE pinyin`) on every store
connection, so a query that pages a sorted list sorts it in this order too.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from typing import Any

_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}
_CHINESE_NUMBER = re.compile(r"[一二三四五六七八九十]+")
_PARTS = re.compile(r"(\d+)")


def _chinese_to_digits(text: str) -> str:
    """Return a Chinese number as digits: 三 -> 3, 十二 -> 12, 二十 -> 20."""
    if "十" not in text:
        return "".join(str(_NUMERALS[c]) for c in text)
    tens, _, ones = text.partition("十")
    value = (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0)
    return str(value)


@functools.lru_cache(maxsize=10_000)
def class_key(name: str) -> tuple[Any, ...]:
    """Return a sort key that puts 二(1)班 before 三(1)班 and 2(10) after 2(9)."""
    digits = _CHINESE_NUMBER.sub(lambda m: _chinese_to_digits(m.group(0)), name or "")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _PARTS.split(digits) if p)


@functools.lru_cache(maxsize=100_000)
def name_key(name: str) -> tuple[str, str]:
    """Return a sort key that puts Chinese names in pinyin order (then by the characters)."""
    from pypinyin import Style, lazy_pinyin  # loaded on the first sort, not at start-up

    text = name or ""
    return " ".join(lazy_pinyin(text, style=Style.TONE3, errors="default")).lower(), text


def _compare(key: Any) -> Any:
    def compare(a: str | None, b: str | None) -> int:
        ka, kb = key(a or ""), key(b or "")
        return (ka > kb) - (ka < kb)

    return compare


def register(conn: sqlite3.Connection) -> None:
    """Give a connection the school's orders as collations: `school` (classes), `pinyin`."""
    conn.create_collation("school", _compare(class_key))
    conn.create_collation("pinyin", _compare(name_key))
