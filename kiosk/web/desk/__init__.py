"""The desk (`/desk`) for class library helpers and the librarian.

A helper opens it by tapping their card on the kiosk (then the kiosk's own screen, on loopback,
shows the desk); the librarian by logging in. Codes typed on the keypad go through the session
like scans, so a helper's returns and "lend for" are recorded with the helper as actor. The
librarian, without a helper session, returns and lends directly, recorded as the librarian.

The desk speaks to a helper, not to a child: each answer is worded for the person at the desk
(`HELPER_WORDS`), and its running list follows the session on its own stream (`/desk/events`),
which resumes from the last line it showed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from kiosk.circulation import desk as desk_actions
from kiosk.circulation import queries, shelfmap
from kiosk.circulation.collection import corners
from kiosk.circulation.models import Patron
from kiosk.circulation.service import Result
from kiosk.circulation.session import BOX, HELPER_MODES, LEND_FOR
from kiosk.circulation.stats import find as finding
from kiosk.circulation.stats import student
from kiosk.i18n import N_, N_plural, translate
from kiosk.web import Web, at_the_screen, web
from kiosk.web.auth import FORBIDDEN, user_name
from kiosk.web.live import Client, Update, event_stream, sse_message
from kiosk.web.screen import find
from kiosk.web.security import allowed

bp = Blueprint("desk", __name__, url_prefix="/desk")
LOOPBACK = ("127.0.0.1", "::1")
KEEPALIVE_S = 10.0
UNDO_MESSAGES = {
    "undone": N_("Undone: {title}."),
    "nothing_to_undo": N_("Nothing to undo."),
    "too_late": N_("Too late to undo; ask the librarian."),
    "changed_since": N_("That book has changed since; it cannot be undone here."),
    "undo_in_library_system": N_(
        "This kiosk lends for the library system: undo it there, at its desk."
    ),
}
NOT_OPEN = N_("Tap a helper card on the kiosk, or log in as the librarian.")
NOT_HERE = N_("The desk is not available here: no kiosk is running.")
# What the touchscreen tells a child ("ask a library helper") told to the helper instead:
# what is wrong and what the helper does about it. Reasons not here read the same for both.
HELPER_WORDS = {
    "unknown_code": N_(
        "Not a book or card of this library: check the barcode, or add it as a new book."
    ),
    "card_lost": N_("This card was reported lost: the student gets a new one from the librarian."),
    "patron_blocked": N_("This student's card is blocked: send them to the librarian."),
    "item_unavailable": N_(
        "This book cannot be lent (lost, damaged or withdrawn): put it aside for the librarian."
    ),
    "on_loan_to_other": N_(
        "This book is on loan to another student: return it first, then lend it."
    ),
    "limit_reached": N_plural(
        "This student already has {count} book: one must come back first.",
        "This student already has {count} books: one must come back first.",
    ),
    "has_overdue": N_("This student has an overdue book: it must come back first."),
    "renew_limit": N_("This book cannot be renewed again: it must come back."),
    "renew_overdue": N_("This book is overdue: it must come back before it is renewed."),
    "already_yours": N_("Already lent to this student just now. Due {due_date}."),
    "returned_here": N_(
        "This book was just returned: to lend it again, tap the student's card again."
    ),
    "held_for_other": N_("This book is kept for another student: put it on the hold shelf."),
    "item_found": N_("This book was marked lost and has turned up: it is back in the catalogue."),
    "fault": N_("The kiosk has a problem: tell the librarian."),
}
CORNER_NEEDS_HELPER = N_("Packing a box needs a helper's card tapped on the kiosk.")


def operator(ctx: Web) -> dict[str, Any] | None:
    """Return who runs the desk now: the helper of the kiosk's session, or the librarian."""
    kiosk = ctx.kiosk
    if (
        kiosk is not None
        and kiosk.mode in HELPER_MODES
        and kiosk.helper is not None
        and request.remote_addr in LOOPBACK
    ):
        return {"kind": "helper", "actor": kiosk.helper.id, "name": kiosk.helper.given_name}
    user = user_name()
    if user is not None:
        return {"kind": "librarian", "actor": f"librarian:{user}", "name": user}
    return None


def open_operator(ctx: Web) -> dict[str, Any]:
    """Return who runs the desk now, or answer 403 when nobody has opened it."""
    op = operator(ctx)
    if op is None:
        abort(403, description=NOT_OPEN)
    return op


@bp.before_request
def guard() -> None:
    """Refuse other networks."""
    if not allowed(request.remote_addr, web().networks):
        abort(403, description=FORBIDDEN)


@bp.get("/")
def page() -> Any:
    """Show the desk: keypad, running list, undo, search, class corners."""
    ctx = web()
    if ctx.kiosk is None:
        return render_template("desk.html", op=None, reason=NOT_HERE), 200
    op = operator(ctx)
    q = request.args.get("q", "").strip()
    found = search(ctx, q) if op and q else {"patrons": [], "titles": []}
    if op and op["kind"] == "helper":
        found["patrons"] = [for_helper(p) for p in found["patrons"]]
    lend_to = _lend_to(ctx) if op and op["kind"] == "librarian" else None
    db = ctx.store.reader
    due = corners.term_end(db)
    return render_template(
        "desk.html",
        op=op,
        reason=NOT_OPEN,
        q=q,
        found=found,
        lend_to=lend_to,
        banner=banner(ctx) if op and op["kind"] == "helper" else None,
        corners_out=corners.out_per_class(db) if op else [],
        classes=student.class_names(ctx.store) if op else [],
        default_due=due.isoformat() if due else "",
    )


def banner(ctx: Web) -> dict[str, Any] | None:
    """Return what the helper's session is doing beyond returns: lending for whom, or a box."""
    kiosk = ctx.kiosk
    if kiosk.mode == LEND_FOR and kiosk.patron is not None:
        return {"mode": LEND_FOR, "name": kiosk.patron.given_name}
    if kiosk.mode == BOX:
        return {"mode": BOX, "class_name": kiosk.box_class, "count": len(kiosk.box)}
    return None


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
    return {**queries.desk_search(ctx.store, q), "titles": titles}


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


def line(
    kind: str,
    reason: str,
    message: str,
    params: dict[str, Any],
    result: Result | None,
    code: str = "",
) -> dict[str, Any]:
    """Return one line of the running list, in a helper's words, with the event it made.

    A code that is no book of ours is shown as it was scanned, so the helper can check it."""
    title = result.item.title if result is not None and result.item else params.get("title", "")
    if not title and reason == "unknown_code":
        title = code
    said = _said(HELPER_WORDS.get(reason, message), params, kind, title)
    event = result.event if result is not None else None
    if event is not None:
        said["event"] = event.uuid
        if event.type == "undo":
            said["undoes"] = event.data.get("undone")
    return said


def _result(r: Result, code: str = "") -> dict[str, Any]:
    return line("ok" if r.ok else "error", r.reason, r.message, r.params, r, code)


# -- the helper's stream -----------------------------------------------------------------------


@bp.get("/events")
def events() -> Response:
    """Stream the helper's session to the desk, resuming after the last event the page saw.

    The page names its tab (`tab`) so that its next page (a search reloads it) replaces this
    stream at once, and sends the last event id it showed (`Last-Event-ID`, or `after` on a new
    page), so nothing that happened in between is missed.
    """
    ctx = web()
    open_operator(ctx)
    private = at_the_screen()
    after = request.headers.get("Last-Event-ID") or request.args.get("after", "")

    def opening(client: Client) -> list[str]:
        state = {"event": "state", "missed": client.missed, **_mode(ctx, None, private)}
        return ["retry: 1000\n\n", sse_message(state)]

    def render(update: Update) -> str:
        fb = update.feedback
        data: dict[str, Any] = {"event": update.kind, **_mode(ctx, update, private)}
        if fb is not None and update.kind not in ("session_started", "session_ended", "status"):
            data["line"] = line(fb.kind, fb.reason, fb.message, fb.params, fb.result, fb.code)
        return sse_message(data, event_id=ctx.broker.event_id(update))

    return event_stream(
        ctx.broker,
        opening=opening,
        render=render,
        idle=lambda: ": still here\n\n",
        keepalive_s=KEEPALIVE_S,
        address=request.remote_addr or "",
        key="desk:" + request.args.get("tab", "")[:40] if request.args.get("tab") else "",
        after=after,
    )


def _mode(ctx: Web, update: Update | None, private: bool) -> dict[str, Any]:
    """Return the session's mode and whom it lends to (a given name only, on the kiosk)."""
    kiosk = ctx.kiosk
    mode = update.mode if update is not None else kiosk.mode
    patron = update.patron if update is not None else kiosk.patron
    state: dict[str, Any] = {"mode": mode}
    if mode == LEND_FOR and patron is not None and private:
        state["lending"] = patron.given_name
    if mode == BOX:
        state["box"] = {"class_name": kiosk.box_class, "count": len(kiosk.box)}
    return state


# -- actions -----------------------------------------------------------------------------------


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
    return jsonify({"queued": False, "result": _result(result, code)})


@bp.post("/lend")
def lend() -> Any:
    """Choose the patron to lend to, or (no patron) stop lending and go back to returns."""
    ctx = web()
    op = open_operator(ctx)
    pid = request.form.get("patron_id", "")
    if op["kind"] == "helper" and ctx.daemon is not None:
        # The helper's session lends to the student whose card is read, as at the kiosk; the
        # helper's own card ends the lending (the session goes back to returns).
        who = pid or ctx.kiosk.helper.id
        active = [
            c["code"] for c in queries.cards_of(ctx.store.reader, who) if c["status"] == "active"
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
    op = open_operator(ctx)
    if getattr(ctx.daemon, "sip2", None) is not None:
        # The loan is the library system's (SIP2 has no undo): changing only the kiosk's copy
        # would make the two disagree.
        said = _said(UNDO_MESSAGES["undo_in_library_system"], {}, "warning")
        return jsonify({"ok": False, "result": said})
    done = desk_actions.undo_last(ctx.store, op["actor"], ctx.settings.web.undo_window_s)
    message = UNDO_MESSAGES[done.reason]
    result = Result(done.ok, "undo", done.reason, message, done.params, event=done.event)
    if done.ok and ctx.daemon is not None:
        ctx.daemon.kiosk.announce(result)
    kind = "ok" if done.ok else "warning"
    return jsonify({"ok": done.ok, "result": line(kind, done.reason, message, done.params, result)})


@bp.post("/corner")
def corner() -> Any:
    """Lend a box of books to a class corner: packed by scans (a helper) or typed (the librarian).

    A helper's session packs the box (`open`: box mode, every scan goes into it), then `lend`
    lends it in one event through the collection's command, the helper responsible; `cancel`
    puts the box away. The librarian names the responsible teacher or helper and the barcodes.
    """
    ctx = web()
    op = operator(ctx)
    if op is None or ctx.kiosk is None:
        abort(403, description=NOT_OPEN)
    action = request.form.get("action", "lend")
    kiosk = ctx.kiosk
    if action == "open":
        if op["kind"] != "helper":
            return jsonify({"ok": False, "result": _said(CORNER_NEEDS_HELPER, {}, "warning")})
        opened = kiosk.open_box(request.form.get("class_name", "").strip())
        return jsonify({"ok": opened is not None})
    if action == "cancel":
        kiosk.close_box()
        return jsonify({"ok": True})
    if action != "lend":
        abort(400)
    try:
        due = dt.date.fromisoformat(request.form.get("due", ""))
    except ValueError:
        # 99999-01-01 or 2026-02-30 is no day at all: said so, not "after today".
        said = _said(corners.MESSAGES["not_a_date"], {}, "error")
        return jsonify({"ok": False, "result": said})
    if op["kind"] == "helper":
        class_name, responsible, codes = kiosk.box_class, op["actor"], list(kiosk.box)
    else:
        class_name = request.form.get("class_name", "").strip()
        responsible = request.form.get("responsible", "").strip()
        codes = request.form.get("barcodes", "").split()
    outcome = corners.lend(
        ctx.store, class_name, responsible, codes, due, ctx.circulation.tz, op["actor"]
    )
    if outcome.refusal is not None:
        message = corners.MESSAGES[outcome.reason]
        said = _said(message, outcome.refusal.params, "error")
        return jsonify({"ok": False, "result": said})
    if op["kind"] == "helper":
        kiosk.close_box(lent=codes)
    params = {"class_name": class_name, "due": due.isoformat(), "count": len(set(codes))}
    message = corners.MESSAGES["corner_lent"]
    event = outcome.events[0] if outcome.events else None
    # Lights, the screen and the sync hear of it like any desk action.
    kiosk.announce(Result(True, "corner", "corner_lent", message, params, event=event))
    return jsonify({"ok": True, "result": _said(message, params, "ok")})


# The area's other pages: a new book joins this blueprint; the collection's chores nest in it.
from kiosk.web.desk import collection, new_book  # noqa: E402, F401

bp.register_blueprint(collection.bp)
