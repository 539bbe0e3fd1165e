"""The row checks every import format shares: columns, values, duplicates, cards in the store.

A format module (CSV, XLSX, MARC) turns its file into numbered rows of column values; `Checker`
checks each one as it streams past and keeps only what it needs to find duplicates, so every
problem in the file is found in one pass. Errors stop the import; warnings (an ISBN with a wrong
check digit) are listed and counted, and the row is imported as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk import codes
from kiosk.circulation import cards
from kiosk.circulation.models import location_key
from kiosk.circulation.rules import load_rules
from kiosk.codes import normal_isbn as normal_isbn  # re-exported: importers use it here
from kiosk.i18n import ITEM_TYPE_NAMES, LANGUAGES, N_, N_plural, cli_language, translate

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 200

# Column -> (accepted headers, longest value). Headers compare without case, blanks or "_".
TITLE_LENGTH = 4000
# The names come from our own export, Chinese library programs' exports, Koha (cardnumber,
# categorycode, itemcallnumber, holdingbranch) and OpenLibry (Nummer, Klasse, Mediennummer,
# Titel, Autor); see `columns` for names used only as a fallback, and joined columns.
PATRON_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "card_id": (
        (
            "card_id",
            "card",
            "cards",
            "卡号",
            "借书证号",
            "读者证号",
            "借阅证号",
            "cardnumber",
            "Nummer",
        ),
        400,
    ),
    "name": (("name", "姓名", "读者姓名", "Name"), 64),
    "class": (("class", "class_name", "班级", "所在班级", "Klasse"), 32),
    "grade": (("grade", "年级"), 16),
    "role": (("role", "身份", "角色", "读者类型", "读者类别", "categorycode"), 32),
    "patron_id": (("patron_id", "student_id", "学号", "读者号", "读者条码"), 64),
}
ITEM_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "barcode": (("barcode", "条码号", "条码", "条形码", "登录号", "财产号", "Mediennummer"), 64),
    # Long titles are kept whole (screens shorten them); the limit only catches a wrong column.
    "title": (("title", "题名", "书名", "正题名", "Titel"), TITLE_LENGTH),
    "author": (("author", "责任者", "作者", "著者", "第一责任者", "Autor"), 1000),
    "isbn": (("isbn", "ISBN", "国际标准书号", "ISBN号"), 32),
    "call_number": (("call_number", "索书号", "分类号", "中图分类号", "itemcallnumber"), 64),
    "location": (
        ("location", "馆藏地点", "馆藏地", "馆藏位置", "holdingbranch", "Standort"),
        64,
    ),
    # Its loan rules (rules.ItemType); Koha's items CSV says itype. See `ITEM_TYPE_WORDS`.
    "item_type": (
        ("item_type", "type", "类型", "图书类型", "文献类型", "资料类型", "itype", "Medientyp"),
        64,
    ),
}
# MARC records kept for cataloguing at the desk: found by ISBN, no copies of their own.
RECORD_COLUMNS = {k: ITEM_COLUMNS[k] for k in ("isbn", "title", "author", "call_number")}
# A reading list's titles from a sheet (kiosk/circulation/reading/fromfile.py): any of a copy's
# barcode, an ISBN or a title finds the book, so none is required by itself.
TITLE_COLUMNS = {k: ITEM_COLUMNS[k] for k in ("barcode", "isbn", "title", "author")}
COLUMNS = {
    "patrons": PATRON_COLUMNS,
    "items": ITEM_COLUMNS,
    "records": RECORD_COLUMNS,
    "titles": TITLE_COLUMNS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "patrons": ("card_id", "name"),
    "items": ("barcode", "title"),
    "records": ("isbn", "title"),  # MARC: a record without an ISBN is kept by its 001
    "titles": (),
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
    "item_type": "类型",
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
    # 读者类型 in Chinese library programs, Koha's sample patron categories (ST student,
    # T teacher, S staff, J juvenile, K kid): staff borrow as teachers do.
    "教职工": "teacher",
    "职工": "teacher",
    "st": "student",
    "t": "teacher",
    "s": "teacher",
    "j": "student",
    "k": "student",
}
# An item type as files write it (blanks and case aside), besides each type's own key and names:
# Chinese library programs' 文献类型, Koha's usual itype codes (BK, REF, MAG, SER...).
ITEM_TYPE_WORDS = {
    "图书": "book",
    "普通图书": "book",
    "书": "book",
    "bk": "book",
    "book": "book",
    "books": "book",
    "工具书": "reference",
    "参考书": "reference",
    "字典": "reference",
    "词典": "reference",
    "ref": "reference",
    "reference": "reference",
    "报刊杂志": "magazine",
    "报刊": "magazine",
    "期刊": "magazine",
    "杂志": "magazine",
    "报纸": "magazine",
    "mag": "magazine",
    "magazine": "magazine",
    "per": "magazine",
    "periodical": "magazine",
    "ser": "magazine",
    "serial": "magazine",
    "journal": "magazine",
}
CHINESE_NUMBERS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_GRADE = re.compile(r"([0-9]{1,2}|[一二三四五六七八九]|十[一二]?)\s*(?:年级)?")
_NUMBER = r"[0-9]{1,2}|十[一二]?|[一二三四五六七八九十]"
# The ways schools write a class: 三(2)班, 三年级二班, 3年2班, 3-2, 3.2, 3/2, 3a, Grade 3 Class 2,
# G3C2, Year 3, Klasse 3b, 302 (grade 3, class 02), or just the grade (3, 三年级).
_CLASS_FORMS = [
    re.compile(
        rf"^\s*(?:grade|year|klasse|g)?\s*({_NUMBER})\s*(?:年级|年|[(（.\-/]|\s*class\s*|c|班)?"
        rf"\s*({_NUMBER}|[a-z])?\s*[)）]?\s*班?\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*([1-9]|1[0-2])([0-9]{2})\s*班?\s*$"),  # 302, 1002
]

MESSAGES = {
    "not_text": N_("the file is not {encoding} text (unreadable bytes near row {row})"),
    "unknown_encoding": N_("unknown text encoding {encoding}"),
    "empty": N_("the file is empty: it needs a header row and at least one row"),
    "missing_columns": N_("missing column(s): {columns}"),
    "unknown_map_column": N_("--map names {column}, which is not one of ours ({columns})"),
    "map_not_in_file": N_("--map names column(s) the file does not have: {columns}"),
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
    "bad_item_type": N_(
        "item type {value} is unknown (use book/图书, reference/工具书, magazine/报刊杂志, or "
        "first add the type on the dashboard's item types page)"
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
    "no_copies": N_(
        "the record has no copies (no barcode in CNMARC 905$b, MARC 21 852$p or 952$p): nothing "
        "to shelve; import the file as records to keep it for cataloguing at the desk"
    ),
    "no_copies_at_all": N_(
        "no record in the file has copies (barcodes in CNMARC 905$b, MARC 21 852$p or 952$p): "
        "to keep the records for cataloguing at the desk, import the file as records"
    ),
    "no_records": N_("the file holds no MARC records (it is empty)"),
    "holdings": N_(
        "a holdings record (of record {record}) that does not follow its book: left out"
    ),
    "no_title": N_("the record has no title ({column} and the other title fields are empty)"),
    "not_marc": N_(
        "the file is XML but not MARCXML (its first element is <{root}>): export the records as "
        "MARCXML or MARC (ISO 2709)"
    ),
    "bad_encoding": N_(
        "the record's text does not read as {encoding} (its declared or usual encoding) nor as "
        "UTF-8, GB18030, CP1251 or Latin-1; name the file's encoding with --encoding"
    ),
    "encoding_found": N_(
        "the records' text read wrongly as {declared}; they read cleanly as {found} and were read "
        "so (from this record on); if that is wrong, name the encoding with --encoding"
    ),
}
# Problems with the file itself, not with a row: no good rows can be told from bad ones.
FILE_PROBLEMS = frozenset(
    MESSAGES[k]
    for k in (
        "not_text",
        "unknown_encoding",
        "empty",
        "missing_columns",
        "duplicate_column",
        "field_too_big",
        "not_xlsx",
        "xls",
        "no_sheet",
        "not_marc",
        "no_records",
        "no_copies_at_all",
    )
)
# Warnings about records that were not imported (the others are imported as written).
LEFT_OUT = frozenset(MESSAGES[k] for k in ("no_copies", "holdings"))
SUMMARY = N_plural(
    "{kind}: {count} row read ({encoding}): {inserted} new, {updated} updated, "
    "{unchanged} unchanged",
    "{kind}: {count} rows read ({encoding}): {inserted} new, {updated} updated, "
    "{unchanged} unchanged",
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
    rejected: int = 0  # bad rows (or records) written to the rejects file
    rejects_file: str = ""
    unreadable: bool = False  # the reader gave up on the file itself (a damaged workbook, a bomb)

    @property
    def ok(self) -> bool:
        """Return whether the file had no bad rows."""
        return not self.errors

    @property
    def file_problem(self) -> bool:
        """Return whether a problem is the file's own (its header, its format), not a row's."""
        return self.unreadable or any(e.message in FILE_PROBLEMS for e in self.errors)

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
        if self.rejected:
            counts["rejected"] = self.rejected
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
        counts["count"] = counts.pop("rows")  # the plural follows the rows read
        text = translate(SUMMARY, lang, kind=kind, encoding=self.encoding, **counts)
        sep = "；" if lang.startswith("zh") else "; "
        if self.records:
            text += sep + translate(RECORDS, lang, count=self.records)
        left_out = [w for w in self.warnings if w.message in LEFT_OUT]
        if len(self.warnings) > len(left_out):
            text += sep + translate(WARNINGS, lang, count=len(self.warnings) - len(left_out))
        if left_out:
            text += sep + translate(LEFT_OUT_RECORDS, lang, count=len(left_out))
        if self.rejected:
            text += sep + translate(
                REJECTED, lang, count=self.rejected, file=self.rejects_file or "-"
            )
        if self.ignored_columns:
            text += sep + translate(IGNORED, lang, columns=", ".join(self.ignored_columns))
        if self.dry_run:
            text += sep + translate(DRY_RUN, lang)
        return text


RECORDS = N_plural("from {count} MARC record", "from {count} MARC records")
WARNINGS = N_plural(
    "{count} warning (listed above), imported as written",
    "{count} warnings (listed above), imported as written",
)
LEFT_OUT_RECORDS = N_plural(
    "{count} record without copies, or holdings record, left out (listed above)",
    "{count} records without copies, or holdings records, left out (listed above)",
)
REJECTED = N_plural(
    "{count} bad row or record left out, written to {file} to fix and import again",
    "{count} bad rows or records left out, written to {file} to fix and import again",
)


class Checker:
    """Check rows one at a time, remembering only keys and cards to find duplicates."""

    def __init__(self, kind: str, report: ImportReport, db: Database) -> None:
        self.kind = kind
        self.report = report
        self.db = db  # a read connection: the checks never hold the write lock
        self.keys: dict[str, int] = {}
        self.seen_cards = cards.CardIndex()
        self._item_types: dict[str, str] | None = None  # a word for a type -> its key

    def check(self, number: int, values: dict[str, str]) -> dict[str, Any] | None:
        """Return the clean row, or None when it has errors (they go to the report)."""
        bad = _Errors(number, self.report.names, marc=bool(self.report.records))
        record_key = values.pop("record_key", "")
        _common_checks(values, self.kind, bad)
        if self.kind == "patrons":
            row = _patron_row(values, bad)
            key_col, key = "patron_id", row["id"]
        elif self.kind == "records":
            # A record's ISBN is its key: a second record of one ISBN replaces the first. A
            # record without one is kept by its control number (see marcfile._record_key).
            book = _item_row({**values, "barcode": ""}, bad)
            row = {k: book[k] for k in RECORD_COLUMNS}
            row["isbn"] = row["isbn"] or record_key
            key_col, key = "isbn", ""
        else:
            row = _item_row(values, bad)
            key_col, key = "barcode", row["barcode"]
            if values.get("item_type"):  # an empty cell leaves the item's type as it is
                kind = self.item_types().get(_word(values["item_type"]))
                if kind is None:
                    bad.add("item_type", "bad_item_type", value=values["item_type"])
                row["item_type"] = kind
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

    def item_types(self) -> dict[str, str]:
        """Return every word a file may use for an item type, with the type's key."""
        if self._item_types is None:
            words = {_word(w): k for w, k in ITEM_TYPE_WORDS.items()}
            for key, kind in load_rules(self.db).item_types.items():
                words[_word(key)] = key
                if kind.name:
                    words[_word(kind.name)] = key
            for key, name in ITEM_TYPE_NAMES.items():
                for lang in LANGUAGES:
                    words[_word(translate(name, lang))] = key
            self._item_types = words
        return self._item_types


def _word(text: str) -> str:
    return re.sub(r"[\s_]+", "", text).casefold()


class _Errors:
    """The problems of one row, each naming its column as the file's header does."""

    WARNINGS = frozenset({"bad_isbn"})

    def __init__(self, row: int, names: dict[str, str], marc: bool = False) -> None:
        self.row = row
        self.names = names
        self.marc = marc
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []

    def add(self, column: str, reason: str, **params: Any) -> None:
        name = self.names.get(column, column)
        found = RowError(self.row, name, MESSAGES[reason], {"column": name, **params})
        (self.warnings if reason in self.WARNINGS else self.errors).append(found)


def _common_checks(values: dict[str, str], kind: str, bad: _Errors) -> None:
    columns = COLUMNS[kind]
    for col, value in values.items():
        # isprintable() is False for every control, format, private-use or unassigned
        # character (and for separators other than the blank): only then look closer.
        if not value.isprintable() and any(unicodedata.category(ch)[0] == "C" for ch in value):
            bad.add(col, "control")
        elif len(value) > columns[col][1]:
            bad.add(col, "too_long", limit=columns[col][1])
    for col in REQUIRED[kind]:
        if bad.marc and col != "title":
            continue  # in MARC only the title is needed (see marcfile)
        if not values.get(col):
            bad.add(col, "no_title" if bad.marc else "required")


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
    """Return the grade a class name gives: 三(2)班, 三年级二班, 3-2, 302, Grade 3 Class 2..."""
    found = parse_class(name)
    return found[0] if found else None


def parse_class(name: str) -> tuple[int, str] | None:
    """Return (grade, class within the grade, or "") of a class as schools write it, or None."""
    for form in _CLASS_FORMS[::-1]:
        m = form.match(name)
        if m:
            grade = _grade_number(m.group(1))
            if grade is None:
                return None
            within = m.group(2) or ""
            if within and not within.isascii():
                within = str(_grade_number(within) or within)  # 二 -> 2
            return grade, within.lstrip("0").upper() if within.isdigit() else within.upper()
    return None


def _grade_number(token: str) -> int | None:
    if token.isdigit():
        n = int(token)
    elif token.startswith("十"):
        n = 10 + (CHINESE_NUMBERS[token[1]] if len(token) > 1 else 0)
    elif token not in CHINESE_NUMBERS:
        return None
    else:
        n = CHINESE_NUMBERS[token]
    return n if 1 <= n <= 12 else None


def isbn13_check_digit(first12: str) -> str:
    """Return the check digit of an ISBN-13 from its first 12 digits."""
    return codes.ean13_check_digit(first12)
