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

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from kiosk import config
from kiosk.circulation import records
from kiosk.circulation.models import ITEM_STATUSES, ROLES
from kiosk.circulation.rules import load_rules
from kiosk.web import current_lang, gettext, web
from kiosk.web.admin import actor, bp

PATRON_STATUSES = ("active", "blocked", "left")
PAGE = 100


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.get("/patrons")
def patrons() -> str:
    """Search patrons by name, id, class or card."""
    store, q = web().store, request.args.get("q", "").strip()
    rows = store.query(
        "SELECT p.*, (SELECT count(*) FROM loans l WHERE l.patron_id = p.id "
        "AND l.returned_at IS NULL) AS loans FROM patrons p "
        "WHERE ? = '' OR p.name LIKE ? ESCAPE '\\' OR p.id = ? OR p.class_name LIKE ? ESCAPE '\\' "
        "OR p.id IN (SELECT patron_id FROM cards WHERE code = ?) "
        "ORDER BY p.class_name, p.name LIMIT ?",
        [q, _like(q), q, _like(q), q, PAGE],
    )
    return render_template("admin/patrons.html", rows=rows, q=q)


def _patron_or_404(patron_id: str) -> dict[str, Any]:
    rows = web().store.query("SELECT * FROM patrons WHERE id = ?", [patron_id])
    if not rows:
        abort(404)
    return rows[0]


@bp.get("/patrons/<patron_id>")
def patron(patron_id: str) -> str:
    """Show a patron: details, cards and loans."""
    ctx = web()
    return render_template(
        "admin/patron.html",
        p=_patron_or_404(patron_id),
        cards=ctx.store.query(
            "SELECT * FROM cards WHERE patron_id = ? ORDER BY created_at", [patron_id]
        ),
        loans=ctx.circulation.loans_of(patron_id),
        roles=ROLES,
        statuses=PATRON_STATUSES,
    )


@bp.post("/patrons/<patron_id>")
def patron_save(patron_id: str) -> Any:
    """Save a patron's details."""
    _patron_or_404(patron_id)
    f = request.form
    name, role, grade = f.get("name", "").strip(), f.get("role", ""), f.get("grade", "").strip()
    if not name or role not in ROLES or (grade and not grade.isdigit()):
        flash(gettext("Check the name, the role and the grade (a number or empty)."), "error")
    else:
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
    if status not in PATRON_STATUSES:
        abort(400)
    records.set_patron_status(web().store, patron_id, status, actor())
    flash(gettext("Saved."))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.post("/patrons/<patron_id>/cards/lost")
def card_lost(patron_id: str) -> Any:
    """Report one of the patron's cards lost."""
    code = request.form.get("code", "")
    owner = web().store.value("SELECT patron_id FROM cards WHERE code = ?", [code])
    if owner != patron_id:
        abort(404)
    records.report_card_lost(web().store, code, actor())
    flash(gettext("Card {code} is now refused.", code=code))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.post("/patrons/<patron_id>/cards")
def card_issue(patron_id: str) -> Any:
    """Give the patron a new card (tap it on the kiosk's reader or type its number)."""
    _patron_or_404(patron_id)
    code = request.form.get("code", "").strip()
    store = web().store
    if not code or len(code) > 64:
        flash(gettext("Type or scan the new card's number."), "error")
    elif store.value("SELECT patron_id FROM cards WHERE code = ?", [code]):
        flash(gettext("Card {code} already belongs to someone.", code=code), "error")
    else:
        records.issue_card(store, patron_id, code, actor())
        flash(gettext("Card {code} issued.", code=code))
    return redirect(url_for("admin.patron", patron_id=patron_id))


@bp.get("/items")
def items() -> str:
    """Search items by title, author, barcode or ISBN."""
    store, q = web().store, request.args.get("q", "").strip()
    rows = store.query(
        "SELECT * FROM items WHERE ? = '' OR title LIKE ? ESCAPE '\\' "
        "OR author LIKE ? ESCAPE '\\' OR barcode = ? OR isbn = ? ORDER BY title LIMIT ?",
        [q, _like(q), _like(q), q, q, PAGE],
    )
    return render_template("admin/items.html", rows=rows, q=q)


def _item_or_404(barcode: str) -> dict[str, Any]:
    rows = web().store.query("SELECT * FROM items WHERE barcode = ?", [barcode])
    if not rows:
        abort(404)
    return rows[0]


@bp.get("/items/<barcode>")
def item(barcode: str) -> str:
    """Show an item and its loans."""
    loans = web().store.query(
        "SELECT l.*, p.name, p.class_name FROM loans l JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.item_barcode = ? ORDER BY l.id DESC LIMIT 20",
        [barcode],
    )
    return render_template(
        "admin/item.html", i=_item_or_404(barcode), loans=loans, statuses=ITEM_STATUSES
    )


@bp.post("/items/<barcode>")
def item_save(barcode: str) -> Any:
    """Save an item's details."""
    _item_or_404(barcode)
    f = request.form
    changes = {
        k: f.get(k, "").strip() for k in ("title", "author", "isbn", "call_number", "location")
    }
    if not changes["title"]:
        flash(gettext("A book needs a title."), "error")
    else:
        records.edit_item(web().store, barcode, changes, actor())
        flash(gettext("Saved."))
    return redirect(url_for("admin.item", barcode=barcode))


@bp.post("/items/<barcode>/status")
def item_status(barcode: str) -> Any:
    """Mark an item lost, damaged, withdrawn or available."""
    i = _item_or_404(barcode)
    status = request.form.get("status", "")
    if status not in ("available", "lost", "damaged", "withdrawn") or i["status"] == "on_loan":
        flash(gettext("A book on loan is returned first; then its status can change."), "error")
    else:
        records.set_item_status(web().store, barcode, status, actor())
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
    from kiosk.circulation.importers import FORMATS, file_format, worker

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
    folder = Path(tempfile.mkdtemp(prefix="kiosk-import-"))
    suffix = Path(name).suffix.lower()
    path = folder / ("upload" + (suffix if suffix in FORMATS else ""))
    upload.save(path)
    if kind == "patrons" and file_format(path) == "marc":
        shutil.rmtree(folder, ignore_errors=True)
        flash(gettext("A MARC file holds books: choose books."), "error")
        return redirect(url_for("admin.import_form"))
    job_id = uuid.uuid4().hex
    job: dict[str, Any] = {"done": 0, "total": 0, "finished": False, "kind": kind}
    ctx.jobs[job_id] = job
    dry_run = bool(request.form.get("dry_run"))
    sheet = request.form.get("sheet", "").strip() or None

    store = ctx.store
    spec = {
        "store": str(store.path),
        "kiosk_id": store.kiosk_id,
        "kind": kind,
        "file": str(path),
        "name": name,
        "sheet": sheet,
        "dry_run": dry_run,
        "actor": actor(),
        "lang": current_lang(),
    }

    def run() -> None:
        # In a process of its own: a large file must not take the CPU or memory from the scans.
        def progress(done: int, total: int) -> None:
            job.update(done=done, total=total)

        try:
            job.update(worker.follow(worker.start(spec), progress))
        except Exception as e:  # show the librarian what went wrong, keep the kiosk running
            job.update(ok=False, errors=[], summary=str(e))
        finally:
            job["finished"] = True
            shutil.rmtree(folder, ignore_errors=True)

    threading.Thread(target=run, name=f"import-{job_id[:6]}", daemon=True).start()
    return redirect(url_for("admin.import_job", job_id=job_id))


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
    return jsonify(job)


# -- rules -----------------------------------------------------------------------------------


@bp.get("/rules")
def rules() -> str:
    """Show the loan rules and the term calendar."""
    return render_template("admin/rules.html", r=load_rules(web().store.reader), roles=ROLES)


@bp.post("/rules")
def rules_save() -> Any:
    """Check and save the rules; a bad value is named and nothing changes."""
    f = request.form
    raw: dict[str, Any] = {
        "loan_days": {r: _int(f.get(f"loan_days_{r}")) for r in ROLES},
        "max_loans": {r: _int(f.get(f"max_loans_{r}")) for r in ROLES},
        "max_loans_by_grade": {
            str(g): _int(f.get(f"grade_{g}"))
            for g in range(1, 7)
            if f.get(f"grade_{g}", "").strip()
        },
        "renewals": _int(f.get("renewals")),
        "block_when_overdue": bool(f.get("block_when_overdue")),
        "holiday_loans": bool(f.get("holiday_loans")),
        "term_start": f.get("term_start", "").strip(),
        "term_end": f.get("term_end", "").strip(),
        "closed_weekdays": [int(d) for d in f.getlist("closed_weekdays") if d.isdigit()],
        "closed_days": [d.strip() for d in f.get("closed_days", "").split() if d.strip()],
    }
    try:
        settings = config.from_dict({"rules": raw}, source=gettext("rules form"))
        if any(v is None for v in (*raw["loan_days"].values(), *raw["max_loans"].values())):
            raise config.ConfigError(gettext("every number must be filled in"))
    except (config.ConfigError, TypeError) as e:
        flash(gettext("Not saved: {problem}", problem=str(e)), "error")
        return redirect(url_for("admin.rules"))
    records.set_rules(web().store, dataclasses.replace(settings.rules), actor())
    flash(gettext("Rules saved."))
    return redirect(url_for("admin.rules"))


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None
