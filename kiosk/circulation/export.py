"""Write loans, patrons, items or events as CSV, one row at a time.

Rows stream from an SQLite cursor straight into the CSV writer, so a store with half a million
loans is never held in memory; only the catalogue (titles, names, cards) is, for the loans export.
Times are shown in the school's time zone as `2026-11-02 12:31:05`, which Excel reads as a date
and time. Patrons and items come out with the columns `kiosk import` reads, so an export can be
edited and imported back.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.store import Store
from kiosk.i18n import translate

KINDS = ("loans", "patrons", "items", "events")
# A patron's cards as `kiosk import` reads them: active ones, oldest first, joined by "|".
_CARDS = (
    "(SELECT group_concat(code, '|') FROM (SELECT code FROM cards "
    "WHERE patron_id = {p} AND status = 'active' ORDER BY created_at, code))"
)
QUERIES: dict[str, tuple[tuple[str, ...], str]] = {
    "loans": (
        (
            "item_barcode",
            "title",
            "patron_id",
            "card_id",
            "name",
            "class",
            "checked_out_at",
            "due_at",
            "returned_at",
            "renewals",
        ),
        # Titles, names and cards are filled in from the catalogue in memory (see _loans):
        # joining them in SQL costs a B-tree lookup per loan, several times the whole scan.
        "SELECT item_barcode, patron_id, checked_out_at, due_at, returned_at, renewals "
        "FROM loans ORDER BY checked_out_at, id",
    ),
    "patrons": (
        ("patron_id", "card_id", "name", "class", "grade", "role", "status"),
        "SELECT id, "
        + _CARDS.format(p="patrons.id")
        + ", name, class_name, grade, role, status FROM patrons ORDER BY id",
    ),
    "items": (
        ("barcode", "title", "author", "isbn", "call_number", "location", "status"),
        "SELECT barcode, title, author, isbn, call_number, location, status "
        "FROM items ORDER BY barcode",
    ),
    "events": (
        ("seq", "uuid", "type", "at", "kiosk_id", "actor", "patron_id", "item_barcode", "data"),
        "SELECT seq, uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data "
        "FROM events ORDER BY seq",
    ),
}
TIME_COLUMNS = {"checked_out_at", "due_at", "returned_at", "at"}
# Stored codes a person reads (roles, statuses, event types): shown in words, as the pages do.
SHOWN_AS_WORDS = frozenset({"role", "status", "type"})
# Column titles of a Chinese export: the import's own Chinese headers where it has one, so an
# exported file still imports back (see importers.checks.CHINESE_HEADERS).
CHINESE_TITLES = {
    "patron_id": "学号",
    "card_id": "卡号",
    "name": "姓名",
    "class": "班级",
    "grade": "年级",
    "role": "身份",
    "status": "状态",
    "barcode": "条码号",
    "item_barcode": "条码号",
    "title": "题名",
    "author": "责任者",
    "isbn": "ISBN",
    "call_number": "索书号",
    "location": "馆藏地点",
    "checked_out_at": "借出时间",
    "due_at": "应还时间",
    "returned_at": "归还时间",
    "renewals": "续借次数",
    "seq": "序号",
    "uuid": "UUID",
    "type": "类型",
    "at": "时间",
    "kiosk_id": "借还机",
    "actor": "操作人",
    "data": "详细信息",
}


def write_csv(
    store: Store,
    kind: str,
    stream: TextIO,
    *,
    timezone: str = "Asia/Shanghai",
    bom: bool = False,
    lang: str | None = None,
) -> int:
    """Write one kind of record as UTF-8 CSV to a text stream; return the number of rows.

    `lang` gives the columns that language's titles (in Chinese the ones `kiosk import` reads)
    and shows roles, statuses and event types in its words; without it the columns keep their
    names and the stored codes stay as they are, for scripts.
    """
    counted: list[int] = []
    chunks = csv_chunks(store, kind, timezone=timezone, bom=bom, lang=lang, done=counted.append)
    for chunk in chunks:
        stream.write(chunk)
    return counted[0]


def in_words(value: Any, lang: str, names: Mapping[str, str] | None = None) -> Any:
    """Return a stored code (a role, a status, an event type) in the reader's words.

    `names` maps codes to their message ids where the pages show them through one (a reason, a
    compensation); other codes are message ids themselves. Empty values and numbers stay.
    """
    if not isinstance(value, str) or not value:
        return value
    return translate(names.get(value, value) if names else value, lang)


def actor_in_words(actor: Any, lang: str, _timezone: str = "") -> Any:
    """Return who did something in words: 'librarian:li' -> '图书管理员 li'; a patron stays."""
    from kiosk.circulation.stats.names import ACTORS, actor_parts

    if not isinstance(actor, str) or not actor:
        return actor
    kind, who = actor_parts(actor)
    if kind == "patron":
        return translate(ACTORS[who], lang) if who in ACTORS else who
    return f"{translate(kind, lang)} {who}".strip()


def details_in_words(raw: Any, lang: str, timezone: str) -> Any:
    """Return an event's details as 'key: value; ...' in words, times in the school's zone."""
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else None
    except ValueError:
        return raw
    if not isinstance(data, dict):
        return raw
    return "; ".join(
        f"{key_in_words(k, lang)}: {detail_in_words(k, v, lang, timezone)}" for k, v in data.items()
    )


def key_in_words(key: str, lang: str) -> str:
    """Return a key of an event's details in words: call_number -> 索书号 / call number."""
    from kiosk.circulation.stats.names import DATA_KEY_WORDS

    return translate(DATA_KEY_WORDS.get(key, key), lang)


def detail_in_words(key: str, value: Any, lang: str, timezone: str) -> str:
    """Return one value of an event's details in words; a saved row or rule's keys too.

    A copy of a row (an item_saved's, a patron_saved's) and the rules of a rules_set are shown as
    their fields in words, never as code: (身份: 学生, 借期天数: 14), not {'role': 'student'}.
    """
    from kiosk.circulation.stats.names import TIME_KEYS, WEEKDAYS
    from kiosk.i18n import item_type_name, place

    if value is None or value == []:
        return "–"
    if isinstance(value, bool):
        return translate("yes" if value else "no", lang)
    if isinstance(value, dict):
        # A rule says whom it is for first: (适用于: 身份 学生, 借期天数: 14, ...).
        keys = sorted(value, key=lambda k: k != "scope")
        return ", ".join(
            f"{key_in_words(k, lang)}: {detail_in_words(k, value[k], lang, timezone)}" for k in keys
        )
    if key == "closed_weekdays" and isinstance(value, int) and 1 <= value <= 7:
        return translate(WEEKDAYS[value - 1], lang)
    if isinstance(value, list):
        shown = [detail_in_words(key, v, lang, timezone) for v in value]
        if any(isinstance(v, dict) for v in value):
            return " ".join(f"({s})" for s in shown)
        return ", ".join(shown)
    if not isinstance(value, str):
        return str(value)
    if key in TIME_KEYS:
        try:
            return parse_stamp(value).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if key in ("status", "kind", "role"):
        return translate(value, lang)
    if key == "location":
        return place(value, lang)
    if key == "item_type":
        return item_type_name(value, lang)
    if key == "scope" and ":" in value:
        # A rule's scope: 'role:student' -> 身份 学生, 'type:magazine' -> 图书类型 报刊杂志.
        kind, _, name = value.partition(":")
        kind = "item_type" if kind == "type" else kind
        return f"{translate(kind, lang)} {detail_in_words(kind, name, lang, timezone)}"
    return value


def csv_chunks(
    store: Store,
    kind: str,
    *,
    timezone: str = "Asia/Shanghai",
    bom: bool = False,
    lang: str | None = None,
    rows_per_chunk: int = 500,
    done: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Yield one kind of record as CSV text in chunks, as the rows are read (for a download).

    `lang` as for write_csv. `done` is called with the number of rows once the last chunk is out.
    """
    if kind not in QUERIES:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    header = QUERIES[kind][0]
    words = [i for i, c in enumerate(header) if c in SHOWN_AS_WORDS] if lang else []
    if lang == "zh_CN":
        header = tuple(CHINESE_TITLES.get(c, c) for c in header)
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")  # Excel on Windows reads UTF-8 only with it
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    count = 0
    # The event log's actor and details in words too: "图书管理员 li", "应还时间: 2026-11-20 16:00".
    columns = QUERIES[kind][0]
    told = [columns.index(c) for c in ("actor", "data") if c in columns] if lang else []
    for row in rows(store, kind, timezone):
        for i in words:
            row[i] = in_words(row[i], lang or "")
        for i in told:
            said = actor_in_words if columns[i] == "actor" else details_in_words
            row[i] = said(row[i], lang or "", timezone)
        writer.writerow([spreadsheet_safe(v) for v in row])
        count += 1
        if count % rows_per_chunk == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
    if done is not None:
        done(count)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Quote text that Excel would run as a formula (a title like `=HYPERLINK(...)`), and drop
    control characters (a NUL, a TAB or a line break inside a barcode must not forge a cell).

    The import takes the quote off again, so an exported file imports back unchanged.
    """
    if isinstance(value, str):
        value = without_controls(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def without_controls(text: str) -> str:
    """Return text without control or format characters and line separators (spaces stay)."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch.isprintable() or unicodedata.category(ch) == "Zs")


def rows(store: Store, kind: str, timezone: str = "Asia/Shanghai") -> Iterator[list[Any]]:
    """Yield the CSV rows of one kind of record, times in the school's local time."""
    header, sql = QUERIES[kind]
    shown = _local_time(ZoneInfo(timezone))
    times = [i for i, name in enumerate(header) if name in TIME_COLUMNS]
    # A cursor yields rows as SQLite steps through them: nothing is fetched all at once.
    cursor = store.reader.execute(sql)
    for raw in _loans(store, cursor) if kind == "loans" else cursor:
        row = ["" if v is None else v for v in raw]
        for i in times:
            row[i] = shown(row[i]) if row[i] else ""
        yield row


def _loans(store: Store, cursor: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Add title, cards, name and class to each loan; only the catalogue is held in memory."""
    db = store.reader
    titles = dict(db.execute("SELECT barcode, title FROM items").fetchall())
    people = {r[0]: r[1:] for r in db.execute("SELECT id, name, class_name FROM patrons")}
    cards: dict[str, str] = {}
    for patron_id, code in db.execute(
        "SELECT patron_id, code FROM cards WHERE status = 'active' "
        "ORDER BY patron_id, created_at, code"
    ):
        cards[patron_id] = f"{cards[patron_id]}|{code}" if patron_id in cards else code
    for barcode, patron_id, *times in cursor:
        name, class_name = people.get(patron_id, ("", ""))
        yield (
            barcode,
            titles.get(barcode),
            patron_id,
            cards.get(patron_id),
            name,
            class_name,
            *times,
        )


def _local_time(tz: ZoneInfo) -> Callable[[str], str]:
    # Cached for the due times, which repeat (end of day); isoformat is much faster than strftime.
    @functools.lru_cache(maxsize=4096)
    def shown(stamp: str) -> str:
        return parse_stamp(stamp).astimezone(tz).replace(tzinfo=None).isoformat(" ", "seconds")

    return shown
