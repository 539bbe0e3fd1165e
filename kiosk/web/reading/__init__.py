"""The recommended reading lists' pages (`/admin/reading`), behind the dashboard's login.

Views are thin: each form is one command of `kiosk.circulation.reading.lists`, whose refusal is
flashed in the reader's language; the pages read its named queries. A list prints as a one-page
A4 bulletin for the classroom and downloads as an Excel sheet.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from kiosk.circulation import tabular
from kiosk.circulation.collection import Outcome
from kiosk.circulation.importers import FORMATS, ImportReport, file_format, journal, mappings
from kiosk.circulation.importers.checks import CHINESE_HEADERS, TITLE_COLUMNS
from kiosk.circulation.importers.columns import map_header
from kiosk.circulation.reading import fromfile, lists
from kiosk.i18n import N_, N_plural
from kiosk.web import found_or_404, gettext, web
from kiosk.web.admin import actor, guard
from kiosk.web.admin.records import column_map_page

# One blueprint for the area, under /admin: the lists' pages are its own (`/admin/reading`), the
# stars (`/admin/reports/stars`) and donations (`/admin/donations`) nest in it (`reading.stars.*`,
# `reading.donations.*`), all behind the dashboard's network check and login.
bp = Blueprint("reading", __name__, url_prefix="/admin")
bp.before_request(guard)
DONE = {
    "saved": N_("List saved."),
    "added": N_("Added to the list: {title}."),
    "removed": N_("Taken off the list."),
}
COLUMNS = {
    "title": N_("Title"),
    "author": N_("Author"),
    "isbn": N_("ISBN"),
    "call_number": N_("Call number"),
    "copies": N_("Copies"),
    "on_shelf": N_("On the shelf now"),
}
# Above this many titles the bulletin's rows get smaller, so that it stays one A4 page.
LONG_LIST = 20
FROM_FILE = N_plural("{count} title added from the file.", "{count} titles added from the file.")
NOTHING_ADDED = N_("Nothing was added: {problem}")
NO_FILE = N_("Choose a file.")
SAY_A_COLUMN = N_("Say which column holds the barcodes, the ISBNs or the titles.")


def _done(outcome: Outcome, done: str, **params: Any) -> None:
    """Flash what a command did, or why not."""
    if outcome.refusal is not None:
        flash(gettext(lists.MESSAGES[outcome.reason], **outcome.refusal.params), "error")
    else:
        flash(gettext(DONE[done], **params))


def _list_form() -> lists.ListForm | None:
    """Read the list's fields; None (and a message) when a number is not a number."""
    grade, target = request.form.get("grade", "").strip(), request.form.get("target", "0").strip()
    if not (grade == "" or grade.isdigit()) or not (target or "0").isdigit():
        flash(gettext(lists.MESSAGES["bad_target"], most=lists.MAX_TARGET), "error")
        return None
    return lists.ListForm(
        name=request.form.get("name", ""),
        grade=int(grade) if grade else None,
        term=request.form.get("term", ""),
        target=int(target or 0),
    )


def _found(list_id: str) -> dict[str, Any]:
    return found_or_404(lists.get_list(web().store.reader, list_id))


@bp.get("/reading/")
def index() -> str:
    """Show every list and the form for a new one."""
    ctx = web()
    return render_template(
        "reading/index.html",
        lists=lists.all_lists(ctx.store.reader),
        grades=range(1, ctx.settings.collection.last_grade + 1),
    )


@bp.post("/reading/")
def create() -> Any:
    """Make a new list (a grade's for a term, or an ad-hoc one)."""
    form = _list_form()
    if form is None:
        return redirect(url_for("reading.index"))
    outcome = lists.save_list(web().store, form, web().settings.collection.last_grade, actor())
    _done(outcome, "saved")
    if not outcome.ok:
        return redirect(url_for("reading.index"))
    return redirect(url_for("reading.show", list_id=outcome.events[0].data["list"]))


@bp.get("/reading/<list_id>")
def show(list_id: str) -> str:
    """Show a list's titles with their copies and how many are on the shelf; search to add."""
    return _page(list_id)


def _page(list_id: str, result: dict[str, Any] | None = None) -> str:
    ctx = web()
    found = _found(list_id)
    words = request.args.get("q", "").strip()
    return render_template(
        "reading/list.html",
        list=found,
        titles=lists.titles(ctx.store.reader, list_id),
        words=words,
        matches=lists.search(ctx.store.reader, words) if words else [],
        grades=range(1, ctx.settings.collection.last_grade + 1),
        result=result,
    )


@bp.post("/reading/<list_id>/file")
def from_file(list_id: str) -> Any:
    """Add the titles of a MARC file or a sheet; show what was added and the rows that were not.

    A sheet whose columns have names we do not know goes first to the column mapping (the
    imports' page), remembered for files with the same header."""
    _found(list_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(gettext(NO_FILE), "error")
        return redirect(url_for("reading.show", list_id=list_id))
    store = web().store
    # Saved under a name of ours beside the store (an upload's own name may be anything).
    journal.uploads(store).mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="list-", dir=journal.uploads(store)))
    name = Path(upload.filename.replace("\\", "/")).name
    suffix = Path(name).suffix.lower()
    path = folder / ("upload" + (suffix if suffix in FORMATS else ""))
    upload.save(path)
    fmt = file_format(path)
    header = mappings.first_rows(path, fmt)[0] if fmt in ("csv", "xlsx") else []
    columns = mappings.saved_mapping(store.reader, "titles", header) if header else None
    if columns is None and header and fromfile.needs_mapping(header):
        token = uuid.uuid4().hex
        web().jobs[token] = {"_list_file": path, "_folder": folder, "list": list_id, "name": name}
        return redirect(url_for("reading.file_map", list_id=list_id, token=token))
    return _add_file(list_id, path, folder, columns)


def _add_file(
    list_id: str, path: Path, folder: Path, columns: dict[str, list[str]] | None
) -> tuple[str, int]:
    """Add a saved file's titles, remove the file and show the outcome on the list's page."""
    try:
        done = fromfile.add_from_file(web().store, list_id, path, actor(), columns)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.problem is not None:
        problem = gettext(done.problem.message, **done.problem.params)
        return _page(list_id, {"problem": gettext(NOTHING_ADDED, problem=problem)}), 400
    result: dict[str, Any] = {
        "added": gettext(FROM_FILE, count=len(done.added)),
        "skipped": [
            {"row": s.row, "named": s.named, "why": gettext(s.message, **s.params)}
            for s in done.skipped
        ],
    }
    return _page(list_id, result), 200


def _waiting(list_id: str, token: str) -> dict[str, Any]:
    pending = web().jobs.get(token)
    if pending is None or pending.get("list") != list_id or "_list_file" not in pending:
        abort(404)
    return dict(pending)


@bp.get("/reading/<list_id>/file/<token>")
def file_map(list_id: str, token: str, chosen: Any = None, problems: Any = None) -> str:
    """Show a sheet's columns beside ours, with its first rows, to say which is which."""
    pending = _waiting(list_id, token)
    ours = [(c, CHINESE_HEADERS[c], False) for c in TITLE_COLUMNS]
    path = pending["_list_file"]
    return column_map_page(token, pending["name"], path, None, ours, chosen or {}, problems or [])


@bp.post("/reading/<list_id>/file/<token>")
def file_map_save(list_id: str, token: str) -> Any:
    """Check the columns said against the sheet, remember them for sheets like it, and add."""
    pending = _waiting(list_id, token)
    path = pending["_list_file"]
    header = mappings.first_rows(path, file_format(path))[0]
    chosen: dict[str, list[str]] = {}
    for col in TITLE_COLUMNS:
        parts = [p for p in (request.form.get(f"{col}_{n}", "") for n in (1, 2)) if p]
        if parts:
            chosen[col] = parts
    report = ImportReport("titles", pending["name"])
    problems = []
    if map_header(header, "titles", report, chosen) is None:
        problems = [gettext(e.message, **e.params) for e in report.errors]
    elif not any(c in chosen for c in fromfile.CODES):
        problems = [gettext(SAY_A_COLUMN)]
    if problems:
        return file_map(list_id, token, chosen, problems), 400
    web().jobs.pop(token, None)
    mappings.save_mapping(web().store, "titles", header, chosen, actor())
    return _add_file(list_id, path, pending["_folder"], chosen)


@bp.post("/reading/<list_id>")
def edit(list_id: str) -> Any:
    """Change a list's name, grade, term or target."""
    form = _list_form()
    if form is not None:
        last_grade = web().settings.collection.last_grade
        _done(lists.save_list(web().store, form, last_grade, actor(), list_id), "saved")
    return redirect(url_for("reading.show", list_id=list_id))


@bp.post("/reading/<list_id>/add")
def add(list_id: str) -> Any:
    """Add a title by a copy's barcode, its ISBN or its exact title."""
    outcome = lists.add_title(web().store, list_id, request.form.get("code", ""), actor())
    title = outcome.events[0].data["title"] if outcome.ok else ""
    _done(outcome, "added", title=title)
    return redirect(url_for("reading.show", list_id=list_id))


@bp.post("/reading/<list_id>/remove")
def remove(list_id: str) -> Any:
    """Take a title off the list."""
    key = request.form.get("key", "")
    _done(lists.remove_title(web().store, list_id, key, actor()), "removed")
    return redirect(url_for("reading.show", list_id=list_id))


@bp.get("/reading/<list_id>/print")
def bulletin(list_id: str) -> str:
    """Print the list as a one-page A4 bulletin for the classroom."""
    found = _found(list_id)
    titles = lists.titles(web().store.reader, list_id)
    return render_template(
        "reading/bulletin.html", list=found, titles=titles, long=len(titles) > LONG_LIST
    )


@bp.get("/reading/<list_id>.xlsx")
def export(list_id: str) -> Response:
    """Download the list with its copies and the books on the shelf now as an Excel sheet."""
    found = _found(list_id)
    rows = lists.titles(web().store.reader, list_id)
    data = tabular.xlsx_bytes(
        [gettext(h) for h in COLUMNS.values()],
        ([r[c] for c in COLUMNS] for r in rows),
        sheet=found["name"],
    )
    return Response(
        data,
        mimetype=tabular.MIMETYPES["xlsx"],
        headers={"Content-Disposition": "attachment; filename=reading-list.xlsx"},
    )


# The area's other pages nest in its blueprint.
from kiosk.web.reading import donations, stars  # noqa: E402

bp.register_blueprint(stars.bp)
bp.register_blueprint(donations.bp)
