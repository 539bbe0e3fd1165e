"""Find our columns in a table's header, whatever the program that wrote it called them.

Headers compare without case, blanks, "_" or "-". Each of our columns has the names it goes by
in the programs schools leave (`checks.COLUMNS`: ours, Chinese library programs', Koha's,
OpenLibry's); some are found only when no better one is there (Koha's `sort1` is often the class,
a teacher's column a class's); some are two columns joined (Koha's surname + firstname, OpenLibry's
Nachname + Vorname, Titel + Untertitel). For any other file the librarian says which of its
columns is which (`--map title=Buchtitel --map name=Nachname+Vorname`, or a mapping file of
such lines); what they say comes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from kiosk.circulation.importers.checks import (
    CHINESE_HEADERS,
    COLUMNS,
    MESSAGES,
    REQUIRED,
    ImportReport,
    RowError,
)

# Used only when the file has no column of a better name for it.
FALLBACKS: dict[str, dict[str, tuple[str, ...]]] = {
    "patrons": {"class": ("sort1",), "patron_id": ("borrowernumber", "userid")},
    "items": {"location": ("homebranch",)},
    "records": {},
    "titles": {},
}
# Two columns that together make one of ours, as (first, second); the first pair found is used.
JOINED: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "patrons": {"name": (("surname", "firstname"), ("nachname", "vorname"), ("姓", "名"))},
    "items": {"title": (("titel", "untertitel"), ("正题名", "副题名"))},
    "records": {"title": (("titel", "untertitel"), ("正题名", "副题名"))},
    "titles": {"title": (("titel", "untertitel"), ("正题名", "副题名"))},
}
_CJK = re.compile(r"[\u3400-\u9fff]")
Mapping_ = dict[str, tuple[int, ...]]  # our column -> the file's columns (one, or two joined)


def normal(header: str) -> str:
    """Return a header as compared: no case, blanks, '_' or '-'."""
    return re.sub(r"[\s_\-]+", "", header.strip().lstrip("\ufeff")).lower()


def parse_map(lines: Iterable[str]) -> dict[str, list[str]]:
    """Return a mapping from `column=Header` or `name=Surname+Firstname` lines (# comments)."""
    found: dict[str, list[str]] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        ours, sep, theirs = line.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValueError(line)
        found[ours.strip()] = [h.strip() for h in theirs.split("+") if h.strip()]
    return found


def read_map(path: Path) -> dict[str, list[str]]:
    """Return the mapping in a file of `column=Header` lines."""
    return parse_map(path.read_text(encoding="utf-8-sig").splitlines())


def map_header(
    cells: list[str],
    kind: str,
    report: ImportReport,
    given: Mapping[str, list[str]] | None = None,
) -> Mapping_ | None:
    """Map each of our columns to the file's; report missing, doubled or unknown columns."""
    columns = COLUMNS[kind]
    where = {normal(c): i for i, c in reversed(list(enumerate(cells))) if c}
    found: Mapping_ = {}
    for col, headers in (given or {}).items():
        if col not in columns:
            shown = ", ".join(columns)
            params = {"column": col, "columns": shown}
            report.errors.append(RowError(1, col, MESSAGES["unknown_map_column"], params))
            return None
        missing = [h for h in headers if normal(h) not in where]
        if missing:
            params = {"columns": ", ".join(missing)}
            report.errors.append(RowError(1, "", MESSAGES["map_not_in_file"], params))
            return None
        found[col] = tuple(where[normal(h)] for h in headers)
    # Two columns joined come before one of the same meaning: Titel + Untertitel, not Titel.
    for col, pairs in JOINED[kind].items():
        if col in found:
            continue
        for first, second in pairs:
            if normal(first) in where and normal(second) in where:
                found[col] = (where[normal(first)], where[normal(second)])
                break
    taken = {i for idx in found.values() for i in idx}
    given_or_joined = set(found)
    aliases = {normal(a): col for col, (names, _) in columns.items() for a in names}
    for i, cell in enumerate(cells):
        ours = aliases.get(normal(cell))
        if ours is None or i in taken or ours in given_or_joined:
            continue
        if ours in found:
            first = cells[found[ours][0]]
            params = {"column": ours, "first": first, "second": cell}
            report.errors.append(RowError(1, cell, MESSAGES["duplicate_column"], params))
            return None
        found[ours] = (i,)
    taken = {i for idx in found.values() for i in idx}
    for col, names in FALLBACKS[kind].items():
        hits = [where[normal(n)] for n in names if normal(n) in where]
        if col not in found and hits and hits[0] not in taken:
            found[col] = (hits[0],)
    taken = {i for idx in found.values() for i in idx}
    report.ignored_columns.extend(c for i, c in enumerate(cells) if c and i not in taken)
    missing = [c for c in REQUIRED[kind] if c not in found]
    if missing:
        shown = ", ".join(f"{c} ({CHINESE_HEADERS[c]})" for c in missing)
        params = {"columns": shown, "header": ", ".join(c for c in cells if c)}
        report.errors.append(RowError(1, "", MESSAGES["missing_columns"], params))
        return None
    # Errors name a column as the file's own header says it: 卡号 in a Chinese file.
    report.names = {c: "+".join(cells[i] for i in idx) for c, idx in found.items()}
    return found


def joined(col: str, parts: list[str]) -> str:
    """Return two columns' values as one: a name (surname first in Chinese), a title."""
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return parts[0] if parts else ""
    first, second = parts
    if col == "name":
        # Koha and OpenLibry keep the surname first: 张 + 小明 is 张小明, Bell + Ida is Ida Bell.
        return first + second if _CJK.search(first + second) else f"{second} {first}"
    return f"{first} : {second}"


def table_rows(
    records: Iterable[tuple[int, list[str]]],
    kind: str,
    report: ImportReport,
    given: Mapping[str, list[str]] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, column values) of a table whose first non-blank row is the header."""
    mapping = None
    for number, cells in records:
        if not any(cells):
            continue  # blank lines above the header, or as Excel leaves them at the end
        if mapping is None:
            mapping = map_header(cells, kind, report, given)
            if mapping is None:
                return
            continue
        yield (
            number,
            {
                c: joined(c, [cells[i] if i < len(cells) else "" for i in idx])
                for c, idx in mapping.items()
            },
        )
    if mapping is None and not report.errors:
        report.errors.append(RowError(1, "", MESSAGES["empty"]))
