"""The collection at the desk (`/desk/collection`): what a helper's card opens besides returns.

A helper (their card tapped on the kiosk, the page on the kiosk's own screen) or the librarian
starts, pauses and resumes the stocktake (then every book scanned at the kiosk is counted),
places a hold for a student asking for a book that is out, and puts a damaged book in the
repair queue. Finishing a stocktake and everything else stay on the dashboard.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from kiosk.circulation.collection import holds, lost, stocktake
from kiosk.circulation.collection.stocktake import Scope
from kiosk.web import gettext, web
from kiosk.web.collection import DONE, scope_words
from kiosk.web.desk import open_operator

# Nested in the desk's blueprint (`desk.collection.*`), whose network check runs first.
bp: Blueprint = Blueprint("collection", __name__, url_prefix="/collection")


def _flash(outcome: Any, messages: dict[str, str], done: str, **params: Any) -> None:
    if outcome.refusal is not None:
        flash(gettext(messages[outcome.reason], **{**params, **outcome.refusal.params}), "error")
    else:
        flash(gettext(DONE[done], **params))


@bp.get("/")
def page() -> Any:
    """Show the stocktake's state and the desk's collection forms."""
    return _shown({})


def _shown(form: Any) -> Any:
    """Render the page; `form` is what a refused form was sent with, shown again as typed."""
    op = open_operator(web())
    db = web().store.reader
    current = stocktake.unfinished(db)
    counts = stocktake.counts(db, current) if current else None
    locations = [r[0] for r in db.execute("SELECT DISTINCT location FROM items ORDER BY 1")]
    return render_template(
        "collection/desk.html",
        op=op,
        current=current,
        counts=counts,
        scope=scope_words(current) if current else "",
        names=stocktake.STATUS_NAMES,
        locations=locations,
        form=form,
    )


def _refused_or_back(outcome: Any) -> Any:
    """After a refusal the page again with the form as typed (a helper types nothing twice)."""
    if outcome.refusal is not None:
        return _shown(request.form), 400
    return redirect(url_for("desk.collection.page"))


@bp.post("/stocktake")
def stocktake_action() -> Any:
    """Start (or resume), or pause, the stocktake from the desk."""
    op, store = open_operator(web()), web().store
    action = request.form.get("action", "")
    if action == "start":
        scope = Scope(request.form.get("location", "").strip())
        _flash(stocktake.start(store, scope, op["actor"]), stocktake.MESSAGES, "started")
    elif action in ("paused", "open"):
        _flash(stocktake.set_status(store, action, op["actor"]), stocktake.MESSAGES, action)
    else:
        abort(400)
    return redirect(url_for("desk.collection.page"))


@bp.post("/hold")
def hold() -> Any:
    """Place a hold for a student on a book that is out."""
    op = open_operator(web())
    barcode, patron = request.form.get("barcode", "").strip(), request.form.get("patron_id", "")
    placed = holds.place(web().store, barcode, patron.strip(), op["actor"])
    _flash(placed, holds.MESSAGES, "hold", barcode=barcode)
    return _refused_or_back(placed)


@bp.post("/damaged")
def damaged() -> Any:
    """Put a damaged book in the repair queue."""
    op = open_operator(web())
    barcode = request.form.get("barcode", "").strip()
    note = request.form.get("note", "").strip()
    marked = lost.mark(web().store, "damaged", barcode, op["actor"], note=note)
    _flash(marked, lost.MESSAGES, "damaged", barcode=barcode)
    return _refused_or_back(marked)
