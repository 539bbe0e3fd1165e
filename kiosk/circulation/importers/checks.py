"""The row checks every import format shares: columns, values, duplicates, cards in the store.

A format module (CSV, XLSX, MARC) turns its file into numbered rows of column values; `Checker`
checks each one as it streams past and keeps only what it needs to find duplicates, so every
problem in the file is found in one pass. Errors stop the import; warnings (an ISBN with a wrong
check digit) are listed and counted, and the row is imported as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk import codes
from kiosk.circulation import cards
from kiosk.circulation.models import location_key
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
# MARC records kept for cataloguing at the desk: found by ISBN, no copies of their own.
RECORD_COLUMNS = {k: ITEM_COLUMNS[k] for k in ("isbn", "title", "author", "call_number")}
COLUMNS = {"patrons": PATRON_COLUMNS, "items": ITEM_COLUMNS, "records": RECORD_COLUMNS}
REQUIRED = {
    "patrons": ("card_id", "name"),
    "items": ("barcode", "title"),
    "records": ("isbn", "title"),
}
CHINESE_HEADERS = {
    "card_id": "卡号",
    "name": "姓名",
    "class": "班级",
    "grade": "年级",
    "role": "身份",
    "patron_id": "学号",
    "barcode": "条码号",
    "isbn": "ISBN",
    "title": "题名",
    "author": "责任者",
    "call_number": "索书号",
    "location": "馆藏地点",
}
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
    "field_too_big": N_("a cell is longer than {limit} characters; is this the right file?"),
    "control": N_("{column} contains a control character (like a line break or tab)"),
    "bad_grade": N_("grade {value} is not a grade (use 1 to 12 or 一年级 ... 六年级)"),
    "grade_needed": N_("a student needs a grade (a grade column, or a class like 三(2)班)"),
    "bad_role": N_(
        "role {value} is unknown (use student/学生, teacher/教师, helper/小图书管理员 or "
        "librarian/图书管理员)"
    ),
    "bad_isbn": N_("ISBN {value} is not valid (check digit or length); imported as written"),
    "bad_card": N_("card id {value} is longer than 64 characters or contains a blank"),
    "duplicate_key": N_("{column} {value} is already on row {first}"),
    "duplicate_key_record": N_("{column} {value} is already in record {first}"),
    "duplicate_card": N_("card {value} is already on row {first}"),
    "card_taken": N_("card {value} already belongs to {owner} ({patron_id})"),
    "not_xlsx": N_("the file is not an Excel .xlsx workbook ({problem})"),
    "xls": N_(
        "this is an old Excel .xls workbook (or one with a password): open it in Excel or WPS "
        "and save it as .xlsx (Excel Workbook), without a password"
    ),
    "no_sheet": N_("the workbook has no sheet {sheet} (it has: {sheets})"),
    "broken_record": N_("the MARC record is broken ({problem}); nothing after it can be read"),
    "bad_record": N_("the MARC record cannot be read ({problem})"),
    "no_copies": N_("the record has no item barcode (CNMARC 905$b, MARC 21 852$p or 952$p)"),
}
SUMMARY = N_(
    "{kind}: {rows} rows read ({encoding}): {inserted} new, {updated} updated, "
    "{unchanged} unchanged"
)
DRY_RUN = N_("dry run: nothing changed")
IGNORED = N_("ignored columns: {columns}")
KINDS = {"patrons": N_("patrons"), "items": N_("items"), "records": N_("MARC records")}


@dataclass(frozen=True)
class RowError:
    """One problem in the file: the row Excel shows (header = 1) or the MARC record, and why."""

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
    warnings: list[RowError] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict, repr=False)  # column -> file's header
    records: int = 0  # MARC records read; 0 for tables

    @property
    def ok(self) -> bool:
        """Return whether the file had no bad rows."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Return the counts, as the import event keeps them."""
        counts = {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "warnings": len(self.warnings),
        }
        if self.records:
            counts["records"] = self.records
        return counts

    def summary(self, lang: str | None = None) -> str:
        """Return one translated line: the counts, and whether it was a dry run."""
        lang = lang or cli_language()
        kind = translate(KINDS.get(self.kind, self.kind), lang)
        counts = {
            k: v
            for k, v in self.counts().items()
            if k in ("rows", "inserted", "updated", "unchanged")
        }
        text = translate(SUMMARY, lang, kind=kind, encoding=self.encoding, **counts)
        sep = "；" if lang.startswith("zh") else "; "
        if self.records:
            text += sep + translate(RECORDS, lang, records=self.records)
        if self.warnings:
            text += sep + translate(WARNINGS, lang, count=len(self.warnings))
        if self.ignored_columns:
            text += sep + translate(IGNORED, lang, columns=", ".join(self.ignored_columns))
        if self.dry_run:
            text += sep + translate(DRY_RUN, lang)
        return text


RECORDS = N_("from {records} MARC records")
WARNINGS = N_("{count} warnings (listed above), imported as written")


def normal(header: str) -> str:
    """Return a header as compared: no case, blanks, '_' or '-'."""
    return re.sub(r"[\s_\-]+", "", header.strip().lstrip("\ufeff")).lower()


def map_header(cells: list[str], kind: str, report: ImportReport) -> dict[str, int] | None:
    """Map each known column to its position; report missing or doubled columns."""
    columns = COLUMNS[kind]
    aliases = {normal(a): col for col, (names, _) in columns.items() for a in names}
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        col = aliases.get(normal(cell))
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
    # Errors name a column as the file's own header says it: 卡号 in a Chinese file.
    report.names = {c: cells[i] for c, i in found.items()}
    return found


def table_rows(
    records: Iterable[tuple[int, list[str]]], kind: str, report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, column values) of a table whose first non-blank row is the header."""
    mapping = None
    for number, cells in records:
        if not any(cells):
            continue  # blank lines above the header, or as Excel leaves them at the end
        if mapping is None:
            mapping = map_header(cells, kind, report)
            if mapping is None:
                return
            continue
        yield number, {c: cells[i] if i < len(cells) else "" for c, i in mapping.items()}
    if mapping is None and not report.errors:
        report.errors.append(RowError(1, "", MESSAGES["empty"]))


class Checker:
    """Check rows one at a time, remembering only keys and cards to find duplicates."""

    def __init__(self, kind: str, report: ImportReport, db: Database) -> None:
        self.kind = kind
        self.report = report
        self.db = db  # a read connection: the checks never hold the write lock
        self.keys: dict[str, int] = {}
        self.seen_cards = cards.CardIndex()

    def check(self, number: int, values: dict[str, str]) -> dict[str, Any] | None:
        """Return the clean row, or None when it has errors (they go to the report)."""
        bad = _Errors(number, self.report.names)
        _common_checks(values, self.kind, bad)
        if self.kind == "patrons":
            row = _patron_row(values, bad)
            key_col, key = "patron_id", row["id"]
        elif self.kind == "records":
            # A record's ISBN is its key: a second record of one ISBN replaces the first.
            book = _item_row({**values, "barcode": ""}, bad)
            row = {k: book[k] for k in RECORD_COLUMNS}
            key_col, key = "isbn", ""
        else:
            row = _item_row(values, bad)
            key_col, key = "barcode", row["barcode"]
        if key:
            first = self.keys.setdefault(key, number)
            if first != number:
                reason = "duplicate_key_record" if self.report.records else "duplicate_key"
                bad.add(key_col, reason, value=key, first=first)
        for code in row.get("cards", []):
            first_card = self.seen_cards.get(code)
            if first_card is not None and first_card != number:
                bad.add("card_id", "duplicate_card", value=code, first=first_card)
            self.seen_cards.add(code, number)
        if self.kind == "patrons" and not bad.errors:
            _resolve_patron(self.db, row, bad)
        self.report.errors.extend(bad.errors)
        self.report.warnings.extend(bad.warnings)
        return None if bad.errors else row


class _Errors:
    """The problems of one row, each naming its column as the file's header does."""

    WARNINGS = frozenset({"bad_isbn"})

    def __init__(self, row: int, names: dict[str, str]) -> None:
        self.row = row
        self.names = names
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []

    def add(self, column: str, reason: str, **params: Any) -> None:
        name = self.names.get(column, column)
        found = RowError(self.row, name, MESSAGES[reason], {"column": name, **params})
        (self.warnings if reason in self.WARNINGS else self.errors).append(found)


def _common_checks(values: dict[str, str], kind: str, bad: _Errors) -> None:
    columns = COLUMNS[kind]
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
            # The barcode is the key, not the ISBN: old records keep their wrong check digits.
            isbn = re.sub(r"\s+", "", v["isbn"])
            bad.add("isbn", "bad_isbn", value=v["isbn"])
    location = v.get("location") or "library"
    return {
        "barcode": v["barcode"],
        "title": v["title"],
        "author": v.get("author", ""),
        "isbn": isbn,
        "call_number": v.get("call_number", ""),
        "location": location_key(location),
    }


def _resolve_patron(db: Database, row: dict[str, Any], bad: _Errors) -> None:
    """Give the row its patron id and refuse cards that belong to someone else in the store."""
    found = [cards.holder(db, code) for code in row["cards"]]
    if not row["id"]:
        # The key is the first card, in whichever form (UID or decimal) it first came in.
        first = found[0]
        row["id"] = (
            first["patron_id"] if first and first["code"] == first["patron_id"] else row["cards"][0]
        )
    for i, (code, card) in enumerate(zip(row["cards"], found, strict=True)):
        if card is None:
            continue
        if card["patron_id"] != row["id"]:
            bad.add(
                "card_id", "card_taken", value=code, owner=card["name"], patron_id=card["patron_id"]
            )
        # A card the patron has, typed in its other form, is that card, not a second one.
        row["cards"][i] = card["code"]


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
    return codes.ean13_check_digit(first12)


def normal_isbn(text: str) -> str | None:
    """Return an ISBN as 13 digits (an ISBN-10 converted), or None if its check digit is wrong."""
    digits = re.sub(r"[\s\-]", "", text).upper()
    if digits.startswith("ISBN"):
        digits = digits[4:].lstrip(":：")
    if len(digits) == 13:
        return digits if digits.startswith(("978", "979")) and codes.ean13_ok(digits) else None
    return codes.isbn10_to_13(digits) if codes.isbn10_ok(digits) else None
