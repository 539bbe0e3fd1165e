"""The touchscreen (`/`): shows the session as it happens; its buttons are Done and Renew.

The page gets the whole state on load and after every change as a Server-Sent Event built from
a snapshot the session listener took right after the commit. It shows a student's given name
and class, their own loans, their own reading this term and a badge they just earned
(docs/reading.md) and this session's results, nothing else of anyone. Every answer is
shown, idle or not: with no session it stays `answer_display_s` on the idle screen.
"""

from __future__ import annotations

import time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, jsonify, render_template, request

from kiosk.circulation import dashboard
from kiosk.circulation.reading import badges, progress
from kiosk.circulation.schemas import is_utc_stamp
from kiosk.circulation.stats import month, rankings
from kiosk.config.rule_defaults import BOOK_TYPE
from kiosk.i18n import N_, N_plural, item_type_name, translate
from kiosk.web import COPY_WAIT_S, Web, at_the_screen, bilingual, web
from kiosk.web.live import Update, event_stream, sse_message
from kiosk.web.security import allowed

bp = Blueprint("screen", __name__)
KEEPALIVE_S = 10.0
IDLE_CACHE_S = 60.0
MODE_TITLES = {
    "desk": N_("Desk mode"),
    "lend_for": N_("Lending for a student"),
    "counting": N_("Stocktake: books scanned are counted"),
    "box": N_("Packing a box for a class corner"),
}
# Refusals about the borrower, not the book: said once in the list, on the newest row, so a
# teacher with an overdue book does not read the same sentence for every book scanned.
ABOUT_THE_BORROWER = {"has_overdue", "limit_reached", "patron_blocked"}
READ_THIS_TERM = N_plural("You read {count} book this term", "You read {count} books this term")
LIST_PROGRESS = N_("{name}: {done} / {target}")


def _both(message: str, params: dict[str, Any]) -> dict[str, str]:
    return {
        "zh": translate(message, "zh_CN", **params),
        "en": translate(message, "en", **params),
    }


def _both_words(message: str) -> str:
    """Return a message in both languages as plain text (for a title), Chinese first."""
    zh, en = translate(message, "zh_CN"), translate(message, "en")
    return zh if zh == en else f"{zh} / {en}"


def _feedback(fb: Any) -> dict[str, Any]:
    title = fb.result.item.title if fb.result is not None and fb.result.item else ""
    if not title and fb.reason == "unknown_code" and fb.mode != "idle":
        # A code scanned in a session is most likely a book's: show it, so the child can find
        # which book it was (idle, it may be a card's number, which stays off the screen).
        title = fb.code
    return {"kind": fb.kind, "reason": fb.reason, "title": title, **_both(fb.message, fb.params)}


def _results(results: Any) -> list[dict[str, Any]]:
    """Return the session's results, newest first, each borrower refusal said once."""
    shown: list[dict[str, Any]] = []
    said: set[str] = set()
    for fb in reversed(list(results)):
        row = _feedback(fb)
        if row["reason"] in ABOUT_THE_BORROWER:
            if row["reason"] in said:
                row = {**row, "zh": "", "en": ""}
            said.add(row["reason"])
        shown.append(row)
    return shown


def _type_words(label: str) -> dict[str, str]:
    return {"zh": item_type_name(label, "zh_CN"), "en": item_type_name(label, "en")}


def _loans(ctx: Web, patron: Any) -> list[dict[str, Any]]:
    if patron is None:
        return []
    c = ctx.circulation
    now = ctx.store.now()
    rules = c.rules()
    today = c.local_date(now)
    active = patron.status == "active"
    remote = getattr(c, "rules_elsewhere", False)
    loans = []
    for row in c.loans_of(patron.id):
        if not is_utc_stamp(row["due_at"]):  # a bad record from elsewhere: shown, never a 500
            shown = {"title": row["title"], "due": "", "overdue": False, "renewable": False}
            loans.append({**shown, "code": row["item_barcode"]})
            continue
        due = c.local_date(row["due_at"])
        overdue = row["due_at"] < now
        kind = rules.item_type(row["item_type"])
        renewals = rules.limits(patron, kind.key).renewals if kind.lendable else 0
        # A renewal today would move the due date to this; where it moves nothing (a book
        # borrowed today), the button would only spend the renewal.
        renewed_due = rules.due_date(patron, today, kind.key)
        loans.append(
            {
                "title": row["title"],
                "due": due.isoformat(),
                "overdue": overdue,
                "code": row["item_barcode"],
                # The button shows only where the rules allow it; the service decides again.
                # A library system's self-check (SIP2) asks the system, which has the rules.
                "renewable": active
                and not overdue
                and (remote or (row["renewals"] < renewals and renewed_due > due)),
            }
        )
        if kind.key != BOOK_TYPE:  # a magazine or another type says so: it is due sooner
            loans[-1]["kind"] = _type_words(kind.label)
    # Drifting books (图书漂流) the child has now: beside the loans, with no due date.
    for row in c.drifting_with(patron.id):
        shown = {"title": row["title"], "due": "", "overdue": False, "renewable": False}
        loans.append({**shown, "code": row["item_barcode"], "drifting": True})
    return loans


def _reading(ctx: Web, patron: Any) -> dict[str, Any] | None:
    """Return a student's own reading this term for their own session (docs/reading.md)."""
    if not ctx.settings.reading.show_progress or patron is None or patron.role != "student":
        return None
    c = ctx.circulation
    today = c.local_date(ctx.store.now())
    since = progress.term_start(c.rules().term_start, today)
    mine = progress.progress(ctx.store.reader, patron.id, patron.grade, since)
    grade_list = mine["list"]
    return {
        "read": _both(READ_THIS_TERM, {"count": mine["read"]}),
        "list": _both(LIST_PROGRESS, grade_list) if grade_list else None,
        "suggest": [
            {"title": s["title"], "shelf": _both(s["shelf"], {}) if s["shelf"] else None}
            for s in mine["suggest"]
        ],
    }


def _badges(ctx: Web, update: Update | None) -> list[dict[str, Any]]:
    """Return the badges the child earned with this update's answer, in words: shown with that
    answer only, so once (a page opened later, or the next state, has none)."""
    earned = getattr(update.feedback, "badges", ()) if update is not None else ()
    now = ctx.kiosk.patron if ctx.kiosk is not None else None
    if not earned or now is None or update is None or update.patron is None:
        return []
    if now.id != update.patron.id:
        # An old update sent again (a page resuming its stream) after the child left: the
        # next child or the idle screen never gets it.
        return []
    return [
        {"badge": b["badge"], **_both(badges.SAID[b["badge"]], {"count": b["count"]})}
        for b in earned
        if b["badge"] in badges.SAID
    ]


_idle_cache: dict[int, tuple[float, dict[str, Any]]] = {}


def idle_view(ctx: Web) -> dict[str, Any]:
    """Return this month's class ranking and the new books, cached for a minute."""
    hit = _idle_cache.get(id(ctx))
    if hit and time.monotonic() - hit[0] < IDLE_CACHE_S:
        return hit[1]
    tz = ZoneInfo(ctx.settings.kiosk.timezone)
    today = dashboard.local_today(ctx.store, tz)
    ranked = rankings.class_ranking(ctx.store, month(today.year, today.month), tz)
    view = {
        # Loans per student, so that a small class is not punished (kiosk.circulation.stats).
        "ranking": [
            {"class": r["name"], "loans": r["per_student"]} for r in ranked[:5] if r["loans"]
        ],
        "new_books": [r["title"] for r in dashboard.new_books(ctx.store)],
    }
    _idle_cache[id(ctx)] = (time.monotonic(), view)
    return view


def _offline(ctx: Web) -> bool:
    state = ctx.sync_state()
    return bool(state is not None and not state.get("online"))


PRIVATE: dict[str, Any] = {
    "patron": None,
    "loans": [],
    "results": [],
    "last": None,
    "reading": None,
    "badges": [],
}


def shown_here(state: dict[str, Any], mine: bool | None = None) -> dict[str, Any]:
    """Return the state for this client: whole on the kiosk's own screen, else without the
    student (name, loans, results): others on the network see only that a session runs."""
    if (at_the_screen() if mine is None else mine) or "patron" not in state:
        return state
    return {**state, **PRIVATE}


def state_of(ctx: Web, update: Update | None = None) -> dict[str, Any]:
    """Return what the screen shows: from an update's snapshot, or from the live session."""
    kiosk = ctx.kiosk
    ctx.circulation.copies_written(COPY_WAIT_S)  # the child's loans as the answer says
    results: tuple[Any, ...]
    if update is None:
        last, show_s = None, None
        counting = bool(kiosk is not None and kiosk.counting)
        if kiosk is None:
            mode, patron, results, left = "idle", None, (), None
        else:
            mode, patron, results = kiosk.mode, kiosk.patron, tuple(kiosk.results[-8:])
            left = kiosk.seconds_left()
            answer = kiosk.answer() if mode == "idle" else None
            if answer is not None:  # a page (re)opened just after a return: show it too
                last, show_s = _feedback(answer[0]), answer[1]
    else:
        mode, patron, results, left = (
            update.mode,
            update.patron,
            update.results,
            update.seconds_left,
        )
        last = _feedback(update.feedback) if update.feedback is not None else None
        show_s = ctx.settings.kiosk.answer_display_s
        counting = bool(update.extra.get("counting"))
    state: dict[str, Any] = {
        "mode": mode,
        "event": update.kind if update else "state",
        "published_ms": update.extra.get("published_ms") if update else None,
        "seconds_left": None if left is None else round(left, 1),
        "last": last,
        "show_s": show_s,
        "offline": _offline(ctx),
        "available": kiosk is not None,
        # Stocktake mode: the screen says so in its own colour, and that there is no lending.
        "counting": counting,
    }
    if mode == "idle":
        state["idle"] = idle_view(ctx)
        return state
    titled = "counting" if counting and mode == "desk" else mode
    state["mode_title"] = _both(MODE_TITLES[titled], {}) if titled in MODE_TITLES else None
    state["patron"] = (
        {"name": patron.given_name, "class": patron.class_name} if patron is not None else None
    )
    state["loans"] = _loans(ctx, patron) if mode in ("patron", "lend_for") else []
    state["reading"] = _reading(ctx, patron) if mode == "patron" else None
    state["badges"] = _badges(ctx, update) if mode == "patron" else []
    state["results"] = _results(results)
    return state


@bp.get("/")
def page() -> str:
    """Show the touchscreen page."""
    ctx = web()
    return render_template(
        "screen.html",
        _=bilingual,
        both_words=_both_words,
        state=shown_here(state_of(ctx)),
        timeout_s=ctx.settings.kiosk.session_timeout_s,
        first=ctx.settings.kiosk.language,
    )


@bp.get("/events")
def events() -> Response:
    """Stream the session to the page as Server-Sent Events."""
    ctx = web()
    mine = at_the_screen()  # read now: the stream runs outside the request
    return event_stream(
        ctx.broker,
        opening=lambda _: ["retry: 1000\n", sse_message(shown_here(state_of(ctx), mine))],
        render=lambda update: sse_message(shown_here(state_of(ctx, update), mine)),
        idle=lambda: sse_message({"event": "status", "offline": _offline(ctx)}, event="status"),
        keepalive_s=KEEPALIVE_S,
        address=request.remote_addr or "",
        # The kiosk's own screen always gets a place; the same address's desk is not the screen.
        screen=mine,
    )


@bp.post("/done")
def done() -> Any:
    """End the session now: the touchscreen's one button (from the kiosk's own network only)."""
    ctx = web()
    if not allowed(request.remote_addr, ctx.networks):
        abort(403)
    if ctx.kiosk is None:
        abort(404)
    fb: Any = ctx.kiosk.done()
    return jsonify({"ended": fb is not None})


@bp.post("/renew")
def renew() -> Any:
    """Renew one of the session's own loans: the Renew button on the child's list."""
    ctx = web()
    # Only the kiosk's own screen shows the child's loans, so only it may renew one.
    if not at_the_screen():
        abort(403)
    if ctx.kiosk is None:
        abort(404)
    code = str((request.get_json(silent=True) or {}).get("code", ""))
    fb: Any = ctx.kiosk.renew(code) if code else None
    return jsonify({"renewed": fb is not None and fb.result is not None and fb.result.ok})


@bp.get("/favicon.ico")
def favicon() -> tuple[str, int]:
    """Answer browsers' icon request with nothing, rather than a logged 404."""
    return "", 204


# The area's other pages join this blueprint: the search and the catalogue, the idle board.
from kiosk.web.screen import board, find  # noqa: E402, F401
