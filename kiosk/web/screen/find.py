"""Find a book: the search of the touchscreen and the read-only catalogue page (`/catalogue`).

Both ask `/find.json?q=`, which answers from `circulation/stats/find.py` (the dashboard's book
list uses the same search): titles with their copies on the shelf, on loan with the date they
are back by, in a class corner, and the shelf's class in words; never who has a book. From the
kiosk's own screen each search counts as a touch (`Kiosk.touch`): an idle search closes after
`search_timeout_s` without one (`watch`, on the daemon's loop, tells the page), and a card
tapped meanwhile starts the session at once. "I want this" (`/find/want`) asks for a hold.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, jsonify, render_template, request, send_file, url_for

from kiosk.circulation import covers, shelfmap
from kiosk.circulation.reading.lists import grade_list, grades_with_lists
from kiosk.circulation.stats import find as finding
from kiosk.i18n import N_, translate
from kiosk.web import Web, at_the_screen, current_lang, web
from kiosk.web.live import Update
from kiosk.web.screen import bp
from kiosk.web.security import allowed

MAX_QUERY = 40
BROWSE_WORDS = {"new": N_("New books"), "popular": N_("Most borrowed this month")}
GRADE_LIST = N_("Grade {grade} reading list")
NUMERALS = "一二三四五六七八九"  # 三年级, as a school says its grades


def grade_words(grade: int, lang: str) -> str:
    """Return a grade's list's name in a language: 三年级推荐书目, Grade 3 reading list."""
    said = NUMERALS[grade - 1] if lang == "zh_CN" and 1 <= grade <= len(NUMERALS) else grade
    return translate(GRADE_LIST, lang, grade=said)


def _grades(ctx: Web) -> list[int]:
    """Return the grades whose list can be browsed: the child's own in a student's session at
    the kiosk's screen; else (idle, a teacher, the desk, the network) every grade with one."""
    kiosk = ctx.kiosk
    patron = kiosk.patron if kiosk is not None and kiosk.mode == "patron" else None
    if at_the_screen() and patron is not None and patron.role == "student":
        has = patron.grade is not None and grade_list(ctx.store.reader, patron.grade) is not None
        return [patron.grade] if has else []
    return grades_with_lists(ctx.store.reader)


def _both(message: str, **params: Any) -> dict[str, str]:
    return {"zh": translate(message, "zh_CN", **params), "en": translate(message, "en", **params)}


def shown(t: finding.Title, places: dict[str, shelfmap.Place] | None = None) -> dict[str, Any]:
    """Return a title as the pages show it: where its copies are, never who has them."""
    letter = t.subject
    # A title whose every copy drifts belongs to no shelf: no shelf, call number or place shown.
    adrift = t.drifting > 0 and t.drifting == len(t.barcodes)
    place = None if adrift else (places or {}).get(letter)
    return {
        "key": t.key,
        "title": t.title,
        "author": t.author,
        "call_number": "" if adrift else t.call_number,
        "shelf": (
            {"letter": letter, "words": finding.SHELVES[letter], **_both(finding.SHELVES[letter])}
            if letter and not adrift
            else None
        ),
        "drifting": t.drifting,
        "adrift": adrift,
        "on_shelf": t.on_shelf,
        "on_loan": t.on_loan,
        "back_by": t.back_by,
        "corners": t.corners,
        "kept": t.kept,
        "cover": url_for("screen.cover", name=t.cover) if t.cover else None,
        # The shelf's box on the library map, when the librarian has drawn one.
        "place": dataclasses.asdict(place) if place else None,
        # A hold is for a title with nothing on the shelf and a copy that will come back.
        "can_want": t.on_shelf == 0 and t.on_loan > 0,
    }


def _may_search(ctx: Web) -> bool:
    return at_the_screen() or allowed(request.remote_addr, ctx.networks)


@bp.get("/find.json")
def search() -> Any:
    """Answer a search as the child types: the titles found, where their copies are."""
    ctx = web()
    if not _may_search(ctx):
        abort(403)
    q = request.args.get("q", "")[:MAX_QUERY]
    what = request.args.get("browse", "")
    if at_the_screen() and ctx.kiosk is not None:
        ctx.kiosk.touch()
    tz = ZoneInfo(ctx.settings.kiosk.timezone)
    found = finding.browse(ctx.store, what, tz) if what else finding.find(ctx.store, q, tz=tz)
    places = shelfmap.places(ctx.store)
    answer: dict[str, Any] = {"q": q, "titles": [shown(t, places) for t in found.titles]}
    answer["more"] = found.more
    if not q.strip() and not what:
        # Nothing typed yet: what can be browsed instead (the shelves that hold books).
        answer["browse"] = (
            [
                {
                    "key": f"{finding.GRADE}{g}",
                    "zh": grade_words(g, "zh_CN"),
                    "en": grade_words(g, "en"),
                }
                for g in _grades(ctx)
            ]
            + [{"key": key, **_both(words)} for key, words in BROWSE_WORDS.items()]
            + [
                {"key": letter, "letter": letter, **_both(finding.SHELVES[letter])}
                for letter, _ in finding.shelves(ctx.store)
            ]
        )
    return jsonify(answer)


@bp.get("/covers/<name>")
def cover(name: str) -> Any:
    """Send a book's cover photo, kept on the kiosk (a file's name never changes its bytes)."""
    ctx = web()
    if not _may_search(ctx):
        abort(403)
    path = covers.path_of(ctx.store, name)
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=365 * 86400)


@bp.post("/find/touch")
def touch() -> Any:
    """Count a touch on the search (a key that changes nothing, a scroll): the child is there."""
    ctx = web()
    if not at_the_screen() or ctx.kiosk is None:
        abort(403)
    ctx.kiosk.touch()
    return jsonify({"ok": True})


@bp.post("/find/want")
def want() -> Any:
    """ "I want this": a hold for the session's child now, or for the next card tapped."""
    ctx = web()
    # Only the kiosk's own screen: a card tap there says who the hold is for.
    if not at_the_screen() or ctx.kiosk is None:
        abort(403)
    key = str((request.get_json(silent=True) or {}).get("key", ""))[:64]
    if not key:
        abort(400)
    fb = ctx.kiosk.want(key)
    if fb is None:
        return jsonify({"tap_card": True})
    # The answer comes on the screen's stream too, with the session; this is for the page.
    return jsonify({"tap_card": False, "kind": fb.kind, **_both(fb.message, **fb.params)})


@bp.get("/catalogue")
def catalogue() -> str:
    """Show the read-only catalogue: the same search, on the school's network."""
    ctx = web()
    if not allowed(request.remote_addr, ctx.networks) and not at_the_screen():
        abort(403)
    q = request.args.get("q", "").strip()[:MAX_QUERY]
    what = request.args.get("browse", "")
    tz = ZoneInfo(ctx.settings.kiosk.timezone)
    found = finding.browse(ctx.store, what, tz) if what else finding.find(ctx.store, q, tz=tz)
    shelves = [(letter, finding.SHELVES[letter]) for letter, _ in finding.shelves(ctx.store)]
    return render_template(
        "find/catalogue.html",
        q=q,
        what=what,
        titles=[shown(t, shelfmap.places(ctx.store)) for t in found.titles],
        more=found.more,
        browse=BROWSE_WORDS,
        grades=[
            (f"{finding.GRADE}{g}", grade_words(g, current_lang()))
            for g in grades_with_lists(ctx.store.reader)
        ],
        shelves=shelves,
    )


def watch(ctx: Web) -> Any:
    """Return the daemon loop's check: an idle search with no touch for a while closes."""

    def check() -> None:
        kiosk = ctx.kiosk
        if kiosk is not None and kiosk.search_over():
            extra = {"published_ms": time.time() * 1000, "counting": kiosk.counting}
            ctx.broker.publish(Update(kind="search_ended", mode=kiosk.mode, extra=extra))

    return check
