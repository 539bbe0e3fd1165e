"""The desk (`/desk`) for class library helpers and the librarian.

A helper opens it by tapping their card on the kiosk (then the kiosk's own screen, on loopback,
shows the desk); the librarian by logging in. Codes typed on the keypad go through the session
like scans, so a helper's returns and "lend for" are recorded with the helper as actor. The
librarian, without a helper session, returns and lends directly, recorded as the librarian.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for

from kiosk.circulation import desk as desk_actions
from kiosk.circulation import queries, shelfmap
from kiosk.circulation.models import Patron
from kiosk.circulation.service import Result
from kiosk.circulation.stats import find as finding
from kiosk.i18n import N_, translate
from kiosk.web import Web, find, web
from kiosk.web.auth import FORBIDDEN, user_name
from kiosk.web.security import allowed

bp = Blueprint("desk", __name__, url_prefix="/desk")
LOOPBACK = ("127.0.0.1", "::1")
UNDO_MESSAGES = {
    "undone": N_("Undone: {title}."),
    "nothing_to_undo": N_("Nothing to undo."),
    "too_late": N_("Too late to undo; ask the librarian."),
    "changed_since": N_("That book has changed since; it cannot be undone here."),
}
NOT_OPEN = N_("Tap a helper card on the kiosk, or log in as the librarian.")
NOT_HERE = N_("The desk is not available here: no kiosk is running.")


def operator(ctx: Web) -> dict[str, Any] | None:
    """Return who runs the desk now: the helper of the kiosk's session, or the librarian."""
    kiosk = ctx.kiosk
    if (
        kiosk is not None
        and kiosk.mode in ("desk", "lend_for")
        and kiosk.helper is not None
        and request.remote_addr in LOOPBACK
    ):
        return {"kind": "helper", "actor": kiosk.helper.id, "name": kiosk.helper.given_name}
    user = user_name()
    if user is not None:
        return {"kind": "librarian", "actor": f"librarian:{user}", "name": user}
    return None


@bp.before_request
def guard() -> None:
    """Refuse other networks."""
    if not allowed(request.remote_addr, web().networks):
        abort(403, description=FORBIDDEN)


@bp.get("/")
def page() -> Any:
    """Show the desk: keypad, running list, undo, search."""
    ctx = web()
    if ctx.kiosk is None:
        return render_template("desk.html", op=None, reason=NOT_HERE), 200
    op = operator(ctx)
    q = request.args.get("q", "").strip()
    found = search(ctx, q) if op and q else {"patrons": [], "titles": []}
    if op and op["kind"] == "helper":
        found["patrons"] = [for_helper(p) for p in found["patrons"]]
    lend_to = _lend_to(ctx) if op and op["kind"] == "librarian" else None
    return render_template("desk.html", op=op, reason=NOT_OPEN, q=q, found=found, lend_to=lend_to)


def _lend_to(ctx: Web) -> dict[str, Any] | None:
    pid = session.get("lend_to")
    if not pid:
        return None
    patron = ctx.circulation.patron(pid)
    return {"id": patron.id, "name": patron.name, "class": patron.class_name} if patron else None


def search(ctx: Web, q: str) -> dict[str, list[dict[str, Any]]]:
    """Find patrons (name, class, a card to lend with) and books (where they are)."""
    # Books through the kiosk's own search: a helper finds a book for a child the way the child
    # would (pinyin initials too), and sees where its copies are, never who has them.
    tz = ZoneInfo(ctx.settings.kiosk.timezone)
    found = finding.find(ctx.store, q[: find.MAX_QUERY], tz=tz)
    places = shelfmap.places(ctx.store)
    titles = [find.shown(t, places) for t in found.titles]
    return {**queries.desk_search(ctx.store.reader, q), "titles": titles}


def for_helper(row: dict[str, Any]) -> dict[str, Any]:
    """Return what a helper needs to pick a child: the given name, class and loans, no card."""
    name = Patron(row["id"], row["name"], "student", None, row["class_name"], "").given_name
    return {**row, "name": name, "card": bool(row["card"])}


def _said(message: str, params: dict[str, Any], kind: str, title: str = "") -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "zh": translate(message, "zh_CN", **params),
        "en": translate(message, "en", **params),
    }


def _result(r: Result) -> dict[str, Any]:
    kind = "ok" if r.ok else "error"
    return _said(r.message, r.params, kind, r.item.title if r.item else "")


@bp.post("/type")
def type_code() -> Any:
    """Take a code from the keypad: into the session for a helper, or act for the librarian."""
    ctx = web()
    op = operator(ctx)
    if op is None or ctx.daemon is None:
        abort(403, description=NOT_OPEN)
    code = request.form.get("code", "").strip()
    if not code:
        return jsonify({"queued": False})
    if op["kind"] == "helper":
        ctx.daemon.type_code(code, "keypad")
        return jsonify({"queued": True})
    c = ctx.circulation
    lend_to = session.get("lend_to")
    if lend_to:
        result = c.lend(lend_to, code, actor=op["actor"])
    else:
        result = c.checkin(code, actor=op["actor"])
    # The same feedback as a scan: the touchscreen shows it and the sync wakes for it.
    ctx.daemon.kiosk.announce(result, code)
    return jsonify({"queued": False, "result": _result(result)})


@bp.post("/lend")
def lend() -> Any:
    """Choose (or clear) the patron the librarian lends to."""
    ctx = web()
    op = operator(ctx)
    if op is None:
        abort(403, description=NOT_OPEN)
    pid = request.form.get("patron_id", "")
    if op["kind"] == "helper" and ctx.daemon is not None:
        # The helper's session lends to the student whose card is read, as at the kiosk.
        active = [
            c["code"] for c in queries.cards_of(ctx.store.reader, pid) if c["status"] == "active"
        ]
        card = active[-1] if active else None
        if card:
            ctx.daemon.type_code(card, "keypad")
        return jsonify({"queued": bool(card)})
    if op["kind"] == "librarian":
        session["lend_to"] = pid if pid and ctx.circulation.patron(pid) else None
    return redirect(url_for("desk.page"))


@bp.post("/undo")
def undo() -> Any:
    """Undo the operator's last action, if it is recent enough."""
    ctx = web()
    op = operator(ctx)
    if op is None:
        abort(403, description=NOT_OPEN)
    done = desk_actions.undo_last(ctx.store, op["actor"], ctx.settings.web.undo_window_s)
    if done.ok and ctx.daemon is not None:
        message = UNDO_MESSAGES[done.reason]
        ctx.daemon.kiosk.announce(
            Result(True, "undo", done.reason, message, done.params, event=done.event)
        )
    kind = "ok" if done.ok else "warning"
    return jsonify({"ok": done.ok, "result": _said(UNDO_MESSAGES[done.reason], done.params, kind)})
