"""Import patrons or items from a CSV file, all or nothing.

Files come from Excel: UTF-8 with or without a BOM, or GB18030/GBK as Chinese Excel saves "CSV";
headers in English or Chinese. Every row is checked first; any bad row is reported with the row
number Excel shows (the header is row 1) and the column, and then nothing is imported. A good file
is written in one transaction with one `import` event. Re-importing a file updates patrons (by
patron id, else by their first card) and items (by barcode).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.store import Store
from kiosk.i18n import N_, cli_language, translate

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 200

# Column -> (accepted headers, longest value). Headers compare without case, blanks or "_".
PATRON_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "card_id": (("card_id", "card", "cards", "卡号", "借书证号", "读者证号"), 400),
    "name": (("name", "姓名"), 64),
    "class": (("class", "class_name", "班级"), 32),
    "grade": (("grade", "年级"), 16),
    "role": (("role", "身份", "角色"), 32),
    "patron_id": (("patron_id", "student_id", "学号", "读者号"), 64),
}
ITEM_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "barcode": (("barcode", "条码号", "条码", "条形码"), 64),
    "title": (("title", "题名", "书名"), 300),
    "author": (("author", "责任者", "作者"), 200),
    "isbn": (("isbn", "ISBN", "国际标准书号"), 32),
    "call_number": (("call_number", "索书号"), 64),
    "location": (("location", "馆藏地点", "馆藏地"), 64),
}
REQUIRED = {"patrons": ("card_id", "name"), "items": ("barcode", "title")}
CHINESE_HEADERS = {
    "card_id": "卡号",
    "name": "姓名",
    "class": "班级",
    "grade": "年级",
    "role": "身份",
    "patron_id": "学号",
    "barcode": "条码号",
    "title": "题名",
    "author": "责任者",
    "call_number": "索书号",
    "location": "馆藏地点",
}
LIBRARY = {"library", "图书馆", "总馆", "馆内"}
CARD_LENGTH = 64

ROLES = {
    "student": "student",
    "学生": "student",
    "teacher": "teacher",
    "教师": "teacher",
    "老师": "teacher",
    "helper": "helper",
    "小图书管理员": "helper",
    "图书管理员助理": "helper",
    "小管理员": "helper",
    "librarian": "librarian",
    "图书管理员": "librarian",
}
CHINESE_NUMBERS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_GRADE = re.compile(r"([0-9]{1,2}|[一二三四五六七八九]|十[一二]?)\s*(?:年级)?")
_CLASS_GRADE = re.compile(r"^\s*([0-9]{1,2}|十[一二]?|[一二三四五六七八九])\s*(?:年级|[(（.\-])")

MESSAGES = {
    "not_text": N_("the file is not {encoding} text (unreadable bytes near row {row})"),
    "unknown_encoding": N_("unknown text encoding {encoding}"),
    "empty": N_("the file is empty: it needs a header row and at least one row"),
    "missing_columns": N_("missing column(s): {columns}"),
    "duplicate_column": N_("two columns mean {column}: {first} and {second}"),
    "required": N_("{column} is empty"),
    "too_long": N_("{column} is longer than {limit} characters"),
    "control": N_("{column} contains a control character (like a line break or tab)"),
    "bad_grade": N_("grade {value} is not a grade (use 1 to 12 or 一年级 ... 六年级)"),
    "grade_needed": N_("a student needs a grade (a grade column, or a class like 三(2)班)"),
    "bad_role": N_(
        "role {value} is unknown (use student/学生, teacher/教师, helper/小图书管理员 or "
        "librarian/图书管理员)"
    ),
    "bad_isbn": N_("ISBN {value} is not valid (check digit or length)"),
    "bad_card": N_("card id {value} is longer than 64 characters or contains a blank"),
    "duplicate_key": N_("{column} {value} is already on row {first}"),
    "duplicate_card": N_("card {value} is already on row {first}"),
    "card_taken": N_("card {value} already belongs to {owner} ({patron_id})"),
}
SUMMARY = N_(
    "{kind}: {rows} rows read ({encoding}): {inserted} new, {updated} updated, "
    "{unchanged} unchanged"
)
DRY_RUN = N_("dry run: nothing changed")
IGNORED = N_("ignored columns: {columns}")
KINDS = {"patrons": N_("patrons"), "items": N_("items")}


@dataclass(frozen=True)
class RowError:
    """One problem in the file: the row Excel shows (header = 1), the column and why."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        """Return the reason in a language."""
        return translate(self.message, lang, **self.params)

    @property
    def reason(self) -> str:
        """Return the reason in the terminal's language."""
        return self.text(cli_language())


@dataclass
class ImportReport:
    """What an import found and did."""

    kind: str
    file: str
    encoding: str = ""
    dry_run: bool = False
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict, repr=False)  # column -> file's header

    @property
    def ok(self) -> bool:
        """Return whether the file had no bad rows."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Return the counts, as the import event keeps them."""
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }

    def summary(self, lang: str | None = None) -> str:
        """Return one translated line: the counts, and whether it was a dry run."""
        lang = lang or cli_language()
        kind = translate(KINDS.get(self.kind, self.kind), lang)
        text = translate(SUMMARY, lang, kind=kind, encoding=self.encoding, **self.counts())
        sep = "；" if lang.startswith("zh") else "; "
        if self.ignored_columns:
            text += sep + translate(IGNORED, lang, columns=", ".join(self.ignored_columns))
        if self.dry_run:
            text += sep + translate(DRY_RUN, lang)
        return text


class _Rollback(Exception):
    """Leave the import transaction without keeping anything."""


def import_csv(
    store: Store,
    kind: str,
    path: Path | str,
    *,
    encoding: str | None = None,
    dry_run: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of a patrons or items CSV file, then import all of it or nothing."""
    if kind not in REQUIRED:
        raise ValueError(f"kind must be patrons or items, not {kind!r}")
    path = Path(path)
    report = ImportReport(kind, path.name, dry_run=dry_run)
    text = _decode(path.read_bytes(), encoding, report)
    if text is None:
        return report
    rows = _parse(text, kind, report)
    if report.errors:
        return report
    report.rows = len(rows)
    try:
        with store.write() as db:
            if kind == "patrons":
                _resolve_patrons(db, rows, report)
            if report.errors:
                raise _Rollback
            now = store.now()
            for done, (_, row) in enumerate(rows, start=1):
                if kind == "patrons":
                    outcome = put_patron(db, row, row.pop("cards"), now)
                else:
                    outcome = put_item(db, row, now)
                key = "unchanged" if outcome == "same" else outcome
                setattr(report, key, getattr(report, key) + 1)
                if progress and done % PROGRESS_EVERY == 0:
                    progress(done, len(rows))
            if dry_run:
                # The dry run made every write, so its counts are exact; now it takes them back.
                raise _Rollback
            data = {"kind": kind, "file": path.name, "encoding": report.encoding}
            store.record(db, store.event("import", actor=actor, data={**data, **report.counts()}))
    except _Rollback:
        pass
    if progress and not report.errors:
        progress(len(rows), len(rows))
    return report


# -- reading the file ---------------------------------------------------------------------------


def _decode(raw: bytes, encoding: str | None, report: ImportReport) -> str | None:
    """Return the file's text; try UTF-8 (with or without BOM), then GB18030, as Excel saves."""
    last = ("", 1)
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            error = RowError(1, "", MESSAGES["unknown_encoding"], {"encoding": encoding})
            report.errors.append(error)
            return None
        candidates = ["utf-8-sig" if name == "utf-8" else name]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text"
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for name in candidates:
        try:
            text = raw.decode(name)
        except UnicodeDecodeError as e:
            last = (name, raw[: e.start].count(b"\n") + 1)
            continue
        report.encoding = {"utf-8-sig": "UTF-8", "gb18030": "GB18030"}.get(name, name)
        if name == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
            report.encoding = "UTF-8 (BOM)"
        return text
    shown = {"utf-8-sig": "UTF-8", "gb18030": "UTF-8 / GB18030"}.get(candidates[-1], last[0])
    params: dict[str, Any] = {"encoding": shown, "row": last[1]}
    report.errors.append(RowError(last[1], "", MESSAGES["not_text"], params))
    return None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (Excel row number, cells); a quoted line break stays in its row, as in Excel."""
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield number, [_unquote(c.strip()) for c in cells]


def _unquote(cell: str) -> str:
    """Take off the quote an export puts before text Excel would run as a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _normal(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lstrip("\ufeff")).lower()


def _header(cells: list[str], kind: str, report: ImportReport) -> dict[str, int] | None:
    """Map each known column to its position; report missing or doubled columns."""
    columns = PATRON_COLUMNS if kind == "patrons" else ITEM_COLUMNS
    aliases = {_normal(a): col for col, (names, _) in columns.items() for a in names}
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        col = aliases.get(_normal(cell))
        if col is None:
            if cell:
                report.ignored_columns.append(cell)
            continue
        if col in found:
            params = {"column": col, "first": cells[found[col]], "second": cell}
            report.errors.append(RowError(1, cell, MESSAGES["duplicate_column"], params))
            return None
        found[col] = i
    missing = [c for c in REQUIRED[kind] if c not in found]
    if missing:
        shown = ", ".join(f"{c} ({CHINESE_HEADERS[c]})" for c in missing)
        report.errors.append(RowError(1, "", MESSAGES["missing_columns"], {"columns": shown}))
        return None
    return found


def _parse(text: str, kind: str, report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    """Return (row number, clean row) for every row; bad rows go to the report instead."""
    records = _records(text)
    header = next(records, None)
    while header is not None and not any(header[1]):
        header = next(records, None)  # blank lines above the header
    if header is None:
        report.errors.append(RowError(1, "", MESSAGES["empty"]))
        return []
    mapping = _header(header[1], kind, report)
    if mapping is None:
        return []
    # Errors name a column as the file's own header says it: 卡号 in a Chinese file.
    names = report.names = {c: header[1][i] for c, i in mapping.items()}
    check = _patron_row if kind == "patrons" else _item_row
    rows: list[tuple[int, dict[str, Any]]] = []
    keys: dict[str, int] = {}
    seen_cards = cards.CardIndex()
    for number, cells in records:
        if not any(cells):
            continue  # a blank line, as Excel leaves at the end
        values = {c: cells[i] if i < len(cells) else "" for c, i in mapping.items()}
        bad = _Errors(number, names)
        _common_checks(values, kind, bad)
        row = check(values, bad)
        key_col = "barcode" if kind == "items" else "patron_id"
        key = row["barcode"] if kind == "items" else row["id"]
        if key and key in keys:
            bad.add(key_col, "duplicate_key", value=key, first=keys[key])
        if key:
            keys.setdefault(key, number)
        for code in row.get("cards", []):
            first = seen_cards.get(code)
            if first is not None and first != number:
                bad.add("card_id", "duplicate_card", value=code, first=first)
            seen_cards.add(code, number)
        report.errors.extend(bad.errors)
        if not bad.errors:
            rows.append((number, row))
    return rows


class _Errors:
    """The problems of one row, each naming its column as the file's header does."""

    def __init__(self, row: int, names: dict[str, str]) -> None:
        self.row = row
        self.names = names
        self.errors: list[RowError] = []

    def add(self, column: str, reason: str, **params: Any) -> None:
        name = self.names.get(column, column)
        self.errors.append(RowError(self.row, name, MESSAGES[reason], {"column": name, **params}))


def _common_checks(values: dict[str, str], kind: str, bad: _Errors) -> None:
    columns = PATRON_COLUMNS if kind == "patrons" else ITEM_COLUMNS
    for col, value in values.items():
        if any(unicodedata.category(ch).startswith("C") for ch in value):
            bad.add(col, "control")
        elif len(value) > columns[col][1]:
            bad.add(col, "too_long", limit=columns[col][1])
    for col in REQUIRED[kind]:
        if not values.get(col):
            bad.add(col, "required")


def _patron_row(v: dict[str, str], bad: _Errors) -> dict[str, Any]:
    """Return a patrons row from a file row; its problems go to `bad`."""
    split = (cards.canonical(c.strip()) for c in v["card_id"].split("|"))
    codes = [c for c in dict.fromkeys(split) if c]
    for code in codes:
        if len(code) > CARD_LENGTH or any(ch.isspace() for ch in code):
            bad.add("card_id", "bad_card", value=code)
    role = ROLES.get(v.get("role", "").lower() or "student")
    if role is None:
        bad.add("role", "bad_role", value=v["role"])
    grade = parse_grade(v["grade"]) if v.get("grade") else None
    if v.get("grade") and grade is None:
        bad.add("grade", "bad_grade", value=v["grade"])
    elif grade is None and role in ("student", "helper"):
        # A teacher's class is the class they teach; their own grade stays empty.
        grade = grade_of_class(v.get("class", ""))
        if grade is None and role == "student" and v.get("name") and codes:
            bad.add("grade", "grade_needed")
    return {
        "id": v.get("patron_id") or "",  # when empty, found from the cards in the store
        "name": v["name"],
        "role": role,
        "grade": grade,
        "class_name": v.get("class", ""),
        "cards": codes,
    }


def _item_row(v: dict[str, str], bad: _Errors) -> dict[str, Any]:
    """Return an items row from a file row; its problems go to `bad`."""
    isbn = ""
    if v.get("isbn"):
        isbn = normal_isbn(v["isbn"]) or ""
        if not isbn:
            bad.add("isbn", "bad_isbn", value=v["isbn"])
    location = v.get("location") or "library"
    return {
        "barcode": v["barcode"],
        "title": v["title"],
        "author": v.get("author", ""),
        "isbn": isbn,
        "call_number": v.get("call_number", ""),
        "location": "library" if location.lower() in LIBRARY else location,
    }


def _resolve_patrons(
    db: Database, rows: list[tuple[int, dict[str, Any]]], report: ImportReport
) -> None:
    """Give each row its patron id and refuse cards that belong to someone else in the store."""
    for number, row in rows:
        bad = _Errors(number, report.names)
        found = [cards.find(db, code) for code in row["cards"]]
        if not row["id"]:
            # The key is the first card, in whichever form (UID or decimal) it first came in.
            first = found[0]
            row["id"] = first[1] if first and first[0] == first[1] else row["cards"][0]
        for i, (code, card) in enumerate(zip(row["cards"], found, strict=True)):
            if card is None:
                continue
            if card[1] != row["id"]:
                name = db.execute("SELECT name FROM patrons WHERE id = ?", [card[1]]).fetchone()
                owner = name[0] if name else ""
                bad.add("card_id", "card_taken", value=code, owner=owner, patron_id=card[1])
            # A card the patron has, typed in its other form, is that card, not a second one.
            row["cards"][i] = card[0]
        report.errors.extend(bad.errors)


# -- values -------------------------------------------------------------------------------------


def parse_grade(text: str) -> int | None:
    """Return a grade from '3', '三', '三年级' or '3年级'; None if it is not one (1 to 12)."""
    m = _GRADE.fullmatch(text.strip())
    return _grade_number(m.group(1)) if m else None


def grade_of_class(name: str) -> int | None:
    """Return the grade a Chinese class name starts with: 三(2)班, 3年级2班, 3-2; else None."""
    m = _CLASS_GRADE.match(name)
    return _grade_number(m.group(1)) if m else None


def _grade_number(token: str) -> int | None:
    if token.isdigit():
        n = int(token)
    elif token.startswith("十"):
        n = 10 + (CHINESE_NUMBERS[token[1]] if len(token) > 1 else 0)
    else:
        n = CHINESE_NUMBERS[token]
    return n if 1 <= n <= 12 else None


def isbn13_check_digit(first12: str) -> str:
    """Return the check digit of an ISBN-13 from its first 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def normal_isbn(text: str) -> str | None:
    """Return an ISBN as 13 digits (an ISBN-10 converted), or None if its check digit is wrong."""
    digits = re.sub(r"[\s\-]", "", text).upper()
    if digits.upper().startswith("ISBN"):
        digits = digits[4:].lstrip(":：")
    if re.fullmatch(r"[0-9]{13}", digits):
        ok = digits.startswith(("978", "979")) and isbn13_check_digit(digits[:12]) == digits[12]
        return digits if ok else None
    if re.fullmatch(r"[0-9]{9}[0-9X]", digits):
        total = sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits))
        if total % 11:
            return None
        body = "978" + digits[:9]
        return body + isbn13_check_digit(body)
    return None
