"""The librarian's records: patrons, cards, items, CSV import with progress, rules and calendar.

Each change is one function of kiosk.circulation.records: one transaction, one event naming the
librarian who made it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from kiosk import config
from kiosk.circulation import covers, decide, queries, records, shelfmap
from kiosk.circulation.collection import lost, weeding
from kiosk.circulation.events import Refusal
from kiosk.circulation.models import ITEM_STATUSES, ROLES, location_key
from kiosk.circulation.queries import drifting
from kiosk.circulation.reading import badges
from kiosk.circulation.rules import default_limits, load_rules
from kiosk.circulation.stats import search
from kiosk.config import rule_defaults
from kiosk.i18n import N_
from kiosk.web import current_lang, found_or_404, gettext, web
from kiosk.web.admin import actor, bp, page_number, rules_form

PATRON_STATUSES = decide.PATRON_STATUSES
LOST_ELSEWHERE = N_(
    "Use the buttons of the book's page: marking it lost, damaged or withdrawn, or back from "
    "lost or damaged, records the borrower and the reason."
)
ITEM_LOANS_PER_PAGE = 20


@bp.get("/patrons")
def patrons() -> str:
    """List patrons 50 a page; search by part of a name, id, class or card, or pinyin initials."""
    q = request.args.get("q", "").strip()
    found = search.patrons(web().store, q, page_number())
    return render_template("admin/patrons.html", rows=found.rows, q=q, found=found)


@bp.get("/patrons.json")
def patrons_found() -> Any:
    """Return the patrons a form's name field finds (name, number, class or pinyin initials)."""
    q = request.args.get("q", "").strip()
    rows = search.patrons(web().store, q, 1).rows[: search.PICK_AT_ONCE] if q else []
    return jsonify([{"id": r["id"], "label": search.patron_label(r)} for r in rows])


def _patron_or_404(patron_id: str) -> dict[str, Any]:
    return found_or_404(queries.patron_row(web().store.reader, patron_id))


@bp.get("/patrons/<patron_id>")
def patron(patron_id: str) -> str:
    """Show a patron: details, cards and loans."""
    return patron_page(patron_id)


def patron_page(patron_id: str, typed: Any = None, errors: dict[str, str] | None = None) -> str:
    """Render a patron's page; `typed` is a refused details form, shown again with `errors`."""
    ctx = web()
    p = _patron_or_404(patron_id)
    return render_template(
        "admin/patron.html",
        p=p,
        typed=typed or p,
        errors=errors or {},
        cards=queries.cards_of(ctx.store.reader, patron_id),
        loans=ctx.circulation.loans_of(patron_id),
        badges=badges.of_patron(ctx.store.reader, patron_id),
        badge_names=badges.NAMES,
        roles=ROLES,
        statuses=PATRON_STATUSES,
    )


# What is wrong with a patron's details, said beside the field.
PATRON_PROBLEMS = {
    "name": N_("A patron needs a name."),
    "role": N_("Choose one of the roles."),
    "grade": N_("The grade is a number, like 3, or empty."),
}


@bp.post("/patrons/<patron_id>")
def patron_save(patron_id: str) -> Any:
    """Save a patron's details; a wrong field is said beside it, the form keeps what was typed."""
    _patron_or_404(patron_id)
    f = request.form
    name, role, grade = f.get("name", "").strip(), f.get("role", ""), f.get("grade", "").strip()
    wrong = {
        "name": not name,
        "role": role not in ROLES,
        "grade": bool(grade) and not grade.isdigit(),
    }
    errors = {k: gettext(PATRON_PROBLEMS[k]) for k, bad in wrong.items() if bad}
    if errors:
        flash(gettext("Not saved: check the fields marked in red."), "error")
        typed = {k: f.get(k, "") for k in ("name", "role", "grade", "class_name")}
        return patron_page(patron_id, typed, errors), 400
    changes = {
        "name": name,
        "role": role,
        "grade": int(grade) if grade else None,
        "class_name": f.get("class_name", "").strip(),
    }
    records.edit_patron(web().store, patron_id, changes, actor())
    flash(gettext("Saved."))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.post("/patrons/<patron_id>/status")
def patron_status(patron_id: str) -> Any:
    """Block, unblock or mark a patron as left."""
    _patron_or_404(patron_id)
    status = request.form.get("status", "")
    if isinstance(records.set_patron_status(web().store, patron_id, status, actor()), Refusal):
        abort(400)
    flash(gettext("Saved."))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.post("/patrons/<patron_id>/cards/lost")
def card_lost(patron_id: str) -> Any:
    """Report one of the patron's cards lost."""
    code = request.form.get("code", "")
    event = records.report_card_lost(web().store, code, actor(), patron_id=patron_id)
    if event is None:
        abort(404)
    flash(gettext("Card {code} is now refused.", code=event.data["card"]))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.post("/patrons/<patron_id>/cards")
def card_issue(patron_id: str) -> Any:
    """Give the patron a new card (tap it on the kiosk's reader or type its number)."""
    _patron_or_404(patron_id)
    code = request.form.get("code", "").strip()
    done = records.issue_card(web().store, patron_id, code, actor())
    if isinstance(done, Refusal) and done.reason == "card_taken":
        flash(
            gettext(
                "Card {code} already belongs to {name}.",
                code=done.params["code"],  # the card as the store keeps it: the same card
                name=done.params["name"],
            ),
            "error",
        )
    elif isinstance(done, Refusal):
        flash(gettext("Type or scan the new card's number."), "error")
    else:
        flash(gettext("Card {code} issued.", code=done.data["card"]))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.get("/items")
def items() -> str:
    """List items 50 a page; search by part of a title, author, barcode, ISBN or call number."""
    q = request.args.get("q", "").strip()
    found = search.items(web().store, q, page_number())
    return render_template("admin/items.html", rows=found.rows, q=q, found=found)


def _item_or_404(barcode: str) -> dict[str, Any]:
    return found_or_404(queries.item_row(web().store.reader, barcode))


@bp.get("/items/<barcode>")
def item(barcode: str) -> str:
    """Show an item, its loans (latest first, a page at a time) and its status commands."""
    return item_page(barcode)


def item_page(barcode: str, refused: str = "", form: Any = None) -> str:
    """Render a book's page; `form` is the fields of its refused form (`mark` or `withdraw`)."""
    from kiosk.web.admin import item_types  # it joins the blueprint after this module

    page, per_page = page_number(), ITEM_LOANS_PER_PAGE
    # One loan more than a page tells whether older ones follow.
    rows = queries.loans_of_item(web().store.reader, barcode, per_page + 1, (page - 1) * per_page)
    found = search.page_ahead(rows, page, per_page)
    return render_template(
        "admin/item.html",
        i=_item_or_404(barcode),
        loans=found.rows,
        found=found,
        statuses=ITEM_STATUSES,
        incident=_open_incident(barcode),
        reasons=weeding.REASONS,
        drift=drifting.drift_of(web().store.reader, barcode),
        item_types=item_types.all_types(),
        # Only the form that was sent shows its fields again: both have a note.
        forms={refused: form} if refused and form is not None else {},
    )


def _open_incident(barcode: str) -> dict[str, Any] | None:
    """Return the book's lost or damaged record still open (its own way back to the shelf)."""
    history = lost.history(web().store.reader, barcode)
    return next((i for i in reversed(history) if not i["resolved_as"]), None)


@bp.post("/items/<barcode>")
def item_save(barcode: str) -> Any:
    """Save an item's details."""
    _item_or_404(barcode)
    f = request.form
    changes = {
        k: f.get(k, "").strip() for k in ("title", "author", "isbn", "call_number", "location")
    }
    # The page shows 图书馆; the store keeps `library` (models.location_key).
    changes["location"] = location_key(changes["location"])
    if not changes["title"]:
        flash(gettext("A book needs a title."), "error")
    else:
        records.edit_item(web().store, barcode, changes, actor())
        flash(gettext("Saved."))
    return redirect(url_for("admin.item", barcode=barcode))


@bp.post("/items/<barcode>/cover")
def item_cover(barcode: str) -> Any:
    """Keep a photo as the book's cover, scaled down; a file that is not a photo changes nothing."""
    _item_or_404(barcode)
    upload = request.files.get("cover")
    data = upload.read(covers.MAX_BYTES + 1) if upload is not None else b""
    done = covers.set_cover(web().store, barcode, data, actor())
    if isinstance(done, Refusal):
        flash(gettext(covers.REFUSALS[done.reason]), "error")
    else:
        flash(gettext("The cover is saved."))
    return redirect(url_for("admin.item", barcode=barcode))


@bp.get("/map")
def library_map() -> str:
    """Show the library map as a grid to fill in: a shelf's name and its classes in each box."""
    drawn = {(c.row, c.col): c for c in shelfmap.boxes(web().store)}
    return _library_map_page(drawn)


def _library_map_page(drawn: dict[tuple[int, int], Any]) -> str:
    return render_template(
        "admin/map.html",
        rows=range(shelfmap.ROWS),
        cols=range(shelfmap.COLS),
        drawn=drawn,
        shelves=shelfmap.SHELVES,
    )


@bp.post("/map")
def library_map_save() -> Any:
    """Save the drawn map; a box that does not make sense is said and nothing changes."""
    f = request.form
    cells = [
        shelfmap.Cell(r, c, f.get(f"name-{r}-{c}", "")[:100], f.get(f"classes-{r}-{c}", "")[:60])
        for r in range(shelfmap.ROWS)
        for c in range(shelfmap.COLS)
    ]
    done = shelfmap.set_map(web().store, cells, actor())
    if isinstance(done, Refusal):
        flash(gettext(shelfmap.REFUSALS[done.reason], **done.params), "error")
        # The page keeps what was typed, to be put right.
        return _library_map_page({(c.row, c.col): c for c in cells})
    flash(gettext("The library map is saved."))
    return redirect(url_for("admin.library_map"))


@bp.post("/items/<barcode>/status")
def item_status(barcode: str) -> Any:
    """Put a withdrawn book (or one marked without a record) back on the shelf.

    Lost, damaged and withdrawn have one path each, the collection's commands (the book page's
    buttons post to them): they record the borrower, close the loan, and keep the reason.
    """
    item = _item_or_404(barcode)
    status = request.form.get("status", "")
    # A lost book comes back by "Found again", a damaged one with a record by "Repaired".
    if status != "available" or item["status"] == "lost" or _open_incident(barcode):
        flash(gettext(LOST_ELSEWHERE), "error")
        return redirect(url_for("admin.item", barcode=barcode))
    done = records.set_item_status(web().store, barcode, status, actor())
    if isinstance(done, Refusal):
        flash(gettext("A book on loan is returned first; then its status can change."), "error")
    else:
        flash(gettext("Saved."))
    return redirect(url_for("admin.item", barcode=barcode))


# -- import ----------------------------------------------------------------------------------


@bp.get("/import")
def import_form() -> str:
    """Show the CSV upload form."""
    return render_template("admin/import.html")


@bp.post("/import")
def import_start() -> Any:
    """Save the uploaded file and import it in the background; the page shows progress."""
    from kiosk.circulation.importers import FORMATS, file_format, journal, mappings

    ctx = web()
    kind, upload = request.form.get("kind", ""), request.files.get("file")
    if kind not in ("patrons", "items", "records") or upload is None or not upload.filename:
        flash(gettext("Choose what the file holds and the file."), "error")
        return redirect(url_for("admin.import_form"))
    # The name is only shown; the file is saved under a name of ours (an upload may be called
    # "..", or carry a NUL or a path).
    name = Path(upload.filename.replace("\\", "/")).name
    if not name.strip(". ") or any(ord(ch) < 32 for ch in name):
        abort(400, gettext("The file's name cannot be used; rename the file and try again."))
    # Beside the store, not in /tmp: the daemon removes what a kill left there when it starts.
    journal.uploads(ctx.store).mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="import-", dir=journal.uploads(ctx.store)))
    suffix = Path(name).suffix.lower()
    path = folder / ("upload" + (suffix if suffix in FORMATS else ""))
    upload.save(path)
    if kind == "patrons" and file_format(path) == "marc":
        shutil.rmtree(folder, ignore_errors=True)
        flash(gettext("A MARC file holds books: choose books."), "error")
        return redirect(url_for("admin.import_form"))
    dry_run = bool(request.form.get("dry_run"))
    sheet = request.form.get("sheet", "").strip() or None
    store = ctx.store
    spec = {
        "store": str(store.path),
        "kiosk_id": store.kiosk_id,
        "wal_max_pages": store.wal_max_pages,
        "kind": kind,
        "file": str(path),
        "name": name,
        "sheet": sheet,
        "encoding": request.form.get("encoding", "").strip() or None,
        "dry_run": dry_run,
        "actor": actor(),
        "lang": current_lang(),
    }
    fmt = file_format(path)
    if fmt in ("csv", "xlsx"):
        header, _ = mappings.first_rows(path, fmt, sheet)
        if header and mappings.needs_mapping(header, kind):
            saved = mappings.saved_mapping(store.reader, kind, header)
            if saved is None:  # a file no one has mapped yet: ask which column is which
                token = uuid.uuid4().hex
                web().jobs[token] = {"finished": False, "_spec": spec, "_folder": folder}
                return redirect(url_for("admin.import_map", token=token))
            spec["columns"] = saved
    return redirect(url_for("admin.import_job", job_id=_start_import(spec, folder)))


@bp.get("/import/map/<token>")
def import_map(token: str) -> str:
    """Show the file's columns beside ours, with its first rows, to say which is which."""
    return _map_page(token, {}, [])


@bp.post("/import/map/<token>")
def import_map_save(token: str) -> Any:
    """Check the mapping against the file, remember it for files like it and import."""
    from kiosk.circulation.importers import ImportReport, file_format, mappings
    from kiosk.circulation.importers.columns import map_header

    pending = web().jobs.get(token)
    if pending is None or "_spec" not in pending:
        abort(404)
    spec = pending["_spec"]
    header, _ = mappings.first_rows(
        Path(spec["file"]), file_format(Path(spec["file"])), spec["sheet"]
    )
    chosen: dict[str, list[str]] = {}
    for col in _our_columns(spec["kind"]):
        parts = [request.form.get(f"{col}_{n}", "") for n in (1, 2)]
        parts = [p for p in parts if p]
        if parts:
            chosen[col] = parts
    report = ImportReport(spec["kind"], spec["name"])
    if map_header(header, spec["kind"], report, chosen) is None:
        problems = [e.text(current_lang()) for e in report.errors]
        return _map_page(token, chosen, problems), 400
    web().jobs.pop(token)
    mappings.save_mapping(web().store, spec["kind"], header, chosen, actor())
    job_id = _start_import({**spec, "columns": chosen}, pending["_folder"])
    return redirect(url_for("admin.import_job", job_id=job_id))


def _our_columns(kind: str) -> list[str]:
    from kiosk.circulation.importers.checks import COLUMNS

    return list(COLUMNS[kind])


def column_map_page(
    token: str,
    name: str,
    path: Path,
    sheet: str | None,
    ours: list[tuple[str, str, bool]],
    chosen: dict[str, list[str]],
    problems: list[str],
) -> str:
    """Show a sheet's columns and first rows beside ours (name, header, required), to match them."""
    from kiosk.circulation.importers import file_format, mappings

    header, preview = mappings.first_rows(path, file_format(path), sheet)
    return render_template(
        "admin/import_map.html",
        token=token,
        name=name,
        header=header,
        preview=preview,
        ours=ours,
        chosen=chosen,
        problems=problems,
    )


def _map_page(token: str, chosen: dict[str, list[str]], problems: list[str]) -> str:
    from kiosk.circulation.importers.checks import CHINESE_HEADERS, REQUIRED

    pending = web().jobs.get(token)
    if pending is None or "_spec" not in pending:
        abort(404)
    spec, kind = pending["_spec"], pending["_spec"]["kind"]
    ours = [(c, CHINESE_HEADERS[c], c in REQUIRED[kind]) for c in _our_columns(kind)]
    return column_map_page(
        token, spec["name"], Path(spec["file"]), spec["sheet"], ours, chosen, problems
    )


def _start_import(spec: dict[str, Any], folder: Path) -> str:
    """Run an import job in a process of its own; return the job's id for its page."""
    from kiosk.circulation.importers import worker

    job_id = uuid.uuid4().hex
    job: dict[str, Any] = {"done": 0, "total": 0, "finished": False, "kind": spec["kind"]}
    web().jobs[job_id] = job
    store = web().store

    def run() -> None:
        # In a process of its own: a large file must not take the CPU or memory from the scans.
        def progress(done: int, total: int) -> None:
            job.update(done=done, total=total)

        try:
            job.update(worker.run_job(store, spec, progress))
        except Exception as e:  # show the librarian what went wrong, keep the kiosk running
            job.update(ok=False, errors=[], summary=str(e))
        finally:
            if job.get("can_keep_going"):
                job["_spec"], job["_folder"] = spec, folder  # kept for "import the good rows"
            elif not job.get("rejected"):
                shutil.rmtree(folder, ignore_errors=True)
            else:
                job["_folder"] = folder  # the rejects file, to download
            job["finished"] = True

    threading.Thread(target=run, name=f"import-{job_id[:6]}", daemon=True).start()
    return job_id


@bp.post("/import/<job_id>/good")
def import_good_rows(job_id: str) -> Any:
    """Import the good rows of a checked file; its bad ones go to a file to download and fix."""
    job = web().jobs.get(job_id)
    if job is None or "_spec" not in job:
        abort(404)
    spec, folder = job.pop("_spec"), job.pop("_folder")
    job["can_keep_going"] = False
    name = Path(spec["name"])
    rejects = folder / ("rejects" + Path(spec["file"]).suffix)
    spec = {**spec, "rejects": str(rejects), "dry_run": False, "actor": actor()}
    new_id = _start_import(spec, folder)
    to_fix = gettext("rows to fix")
    web().jobs[new_id]["rejects_name"] = f"{name.stem}-{to_fix}{name.suffix}"
    return redirect(url_for("admin.import_job", job_id=new_id))


@bp.get("/import/<job_id>/rejects")
def import_rejects(job_id: str) -> Any:
    """Download the bad rows an import left out, in the file's own format."""
    job = web().jobs.get(job_id)
    if job is None or not job.get("rejected") or "_folder" not in job:
        abort(404)
    found = sorted(Path(job["_folder"]).glob("rejects*"))
    if not found:
        abort(404)
    return send_file(found[0], as_attachment=True, download_name=job["rejects_name"])


@bp.get("/import/<job_id>")
def import_job(job_id: str) -> str:
    """Show an import's progress bar, then its row errors or summary."""
    if job_id not in web().jobs:
        abort(404)
    return render_template("admin/import_job.html", job_id=job_id)


@bp.get("/import/<job_id>.json")
def import_progress(job_id: str) -> Any:
    """Return an import's progress."""
    job = web().jobs.get(job_id)
    if job is None:
        abort(404)
    return jsonify({k: v for k, v in job.items() if not k.startswith("_")})


# -- rules -----------------------------------------------------------------------------------


@bp.get("/rules")
def rules() -> str:
    """Show the loan rules and the term calendar."""
    return render_template(
        "admin/rules.html", typed=_typed(load_rules(web().store.reader)), errors={}, roles=ROLES
    )


@bp.post("/rules")
def rules_save() -> Any:
    """Check and save the rules; each problem is named beside its field and nothing changes."""
    form = rules_form.check(request.form, request.form.getlist("closed_weekdays"))
    if form.ok:
        try:
            settings = config.from_dict({"rules": form.rules}, source=gettext("rules form"))
        except config.ConfigError as e:  # the form's own checks should have caught it
            flash(gettext("Not saved: {problem}", problem=e.said(current_lang())), "error")
            return redirect(url_for("admin.rules"))
        records.set_rules(web().store, dataclasses.replace(settings.rules), actor())
        flash(gettext("Rules saved."))
        return redirect(url_for("admin.rules"))
    errors = {k: gettext(msg, **params) for k, (msg, params) in form.errors.items()}
    flash(gettext("Not saved: check the fields marked in red."), "error")
    return render_template("admin/rules.html", typed=form.typed, errors=errors, roles=ROLES), 400


def _typed(r: Any) -> dict[str, Any]:
    """Return the stored rules as the form's fields."""
    typed: dict[str, Any] = {}
    for role in ROLES:
        lim = r.by_role.get(role) or default_limits(role)  # kiosk/config/rule_defaults.py
        typed[f"loan_days_{role}"] = lim.loan_days
        typed[f"max_loans_{role}"] = lim.max_loans
    for g in rules_form.GRADES:
        typed[f"grade_{g}"] = r.max_loans_by_grade.get(g, "")
    first = next(iter(r.by_role.values()), None)
    typed.update(
        renewals=first.renewals if first else rule_defaults.RENEWALS,
        block_when_overdue=r.block_when_overdue,
        holiday_loans=r.holiday_loans,
        term_start=r.term_start or "",
        term_end=r.term_end or "",
        closed_weekdays=[str(d) for d in r.closed_weekdays],
        closed_days=rules_form.holiday_lines(r.closed_days),
    )
    return typed
