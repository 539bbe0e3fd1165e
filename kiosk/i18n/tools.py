"""Keep the catalogs in step with the code: `python -m kiosk.i18n.tools update|check`."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from kiosk.i18n import LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).parents[1]  # kiosk/
# Catalog per area, by path prefix under kiosk/ (longest match wins); anything else is "core".
AREAS = {
    "devices": "devices",
    "web": "web",
    "sync": "sync",
    "ops": "ops",
    "circulation/importers": "data",
    "circulation/importers/worker.py": "catalogue",
    "circulation/export.py": "data",
    "circulation/demo.py": "data",
    "circulation/collection": "collection",
    "circulation/reading": "collection",
    "circulation/projections/reading.py": "collection",
    "web/reading": "collection",
    "web/templates/reading": "collection",
    "circulation/projections/donations.py": "collection",
    "web/templates/donations": "collection",
    "circulation/projections/collection.py": "collection",
    "cli/collection.py": "collection",
    "web/collection": "collection",
    "web/desk/collection.py": "collection",
    "web/templates/collection": "collection",
    "circulation/catalogue.py": "catalogue",
    "circulation/xlsx_export.py": "catalogue",
    "web/catalogue": "catalogue",
    "web/desk/new_book.py": "catalogue",
    "cli/catalogue.py": "catalogue",
    "web/templates/catalogue": "catalogue",
    "circulation/stats": "reports",
    "circulation/tabular.py": "reports",
    "circulation/projections/notices.py": "reports",
    "web/reports": "reports",
    "web/admin/rules_form.py": "reports",
    "web/templates/reports": "reports",
    "cli/reports.py": "reports",
    "web/reading/stars.py": "reports",
    "web/templates/stars": "reports",
    "sip2": "sip2",
    "cli/sip2.py": "sip2",
    "cli/devices.py": "devices",
    "cli/hub.py": "sync",
    "web/hub": "sync",
    "web/templates/hub": "sync",
    "cli/restore.py": "ops",
    "cli/doctor.py": "ops",
    "cli/password.py": "web",
    "circulation/sip2_queue.py": "sip2",
}
KEYWORDS = {"_": None, "N_": None, "N_plural": (1, 2), "gettext": None, "ngettext": (1, 2)}


def area_of(path: Path) -> str:
    """Return the catalog a source file's messages belong to."""
    rel = path.relative_to(PACKAGE).as_posix()
    matches = [p for p in AREAS if rel == p or rel.startswith(p + "/")]
    return AREAS[max(matches, key=len)] if matches else "core"


def extract() -> dict[str, dict[str, list[tuple[str, int]]]]:
    """Return msgid -> places, per area, from the Python code and the Jinja templates."""
    found: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix == ".py":
            method = "python"
        elif path.suffix == ".html" and "templates" in path.parts:
            method = "jinja2.ext:babel_extract"
        else:
            continue
        options = {"extensions": "jinja2.ext.i18n"} if method != "python" else {}
        for line, msg, _comments, _ctx in extract_from_file(
            method, str(path), KEYWORDS, options=options
        ):
            for msgid in msg if isinstance(msg, tuple) else (msg,):
                if msgid:
                    where = (str(path.relative_to(PACKAGE.parent)), line)
                    found.setdefault(area_of(path), {}).setdefault(msgid, []).append(where)
    for text in command_help():
        found.setdefault("cli", {}).setdefault(text, []).append(("kiosk/cli.py", 0))
    return found


def command_help() -> list[str]:
    """Return the help texts of every `kiosk` command and option (their docstrings and help=)."""
    from kiosk.cli import main
    from kiosk.cli.help import help_texts

    return sorted(set(help_texts(main)))


def po_path(lang: str, area: str) -> Path:
    """Return the catalog file of one language and area."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{area}.po"


def read(lang: str, area: str) -> Catalog:
    """Read a catalog, or an empty one."""
    path = po_path(lang, area)
    if not path.exists():
        return Catalog(locale=lang)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def update() -> None:
    """Add new message ids to every catalog, keep translations, drop ids no longer used."""
    for area, messages in extract().items():
        for lang in LANGUAGES:
            old = read(lang, area)
            new = Catalog(locale=lang, project="kiosk", charset="utf-8")
            for msgid in sorted(messages):
                kept = old.get(msgid)
                string = kept.string if kept and kept.string else ""
                if lang == "en" and not string:
                    string = msgid  # ids are English source text
                new.add(msgid, string)
            path = po_path(lang, area)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as f:
                write_po(f, new, width=100, sort_output=True, omit_header=True)


def missing() -> list[str]:
    """Return 'lang area: msgid' for every message without a translation."""
    problems = []
    for area, messages in extract().items():
        for lang in LANGUAGES:
            cat = read(lang, area)
            for msgid in sorted(messages):
                m = cat.get(msgid)
                if m is None or not m.string:
                    problems.append(f"{lang} {area}: {msgid}")
    return problems


def disagreeing() -> list[str]:
    """Return 'lang: msgid' for every id that two catalogs translate differently.

    The catalogs of a language are merged into one table (i18n.catalog), so of two different
    translations of one id only one would ever be shown, whichever file sorts last.
    """
    problems = []
    for lang in LANGUAGES:
        seen: dict[str, tuple[str, str]] = {}
        for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
            for m in read(lang, path.stem):
                if not m.id or not m.string or isinstance(m.id, tuple):
                    continue
                first = seen.setdefault(str(m.id), (path.stem, str(m.string)))
                if first[1] != m.string:
                    problems.append(
                        f"{lang}: {m.id!r} is {first[1]!r} in {first[0]}.po "
                        f"but {m.string!r} in {path.stem}.po"
                    )
    return problems


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        update()
    problems = missing() + disagreeing()
    print("\n".join(problems) or "all messages translated")
    sys.exit(1 if problems else 0)
