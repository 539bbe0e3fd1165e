"""The collection's pages (`/admin/collection`): stocktake, lost and damaged, repair, weeding,
holds, card replacement and the new school year, behind the dashboard's login.

Views are thin: each form becomes one command of `kiosk.circulation.collection`, whose refusal
is shown as a flash message in the reader's language; lists and reports are named queries.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from kiosk.circulation.collection import (
    Outcome,
    cards,
    corners,
    csvout,
    holds,
    holidays,
    lost,
    promotion,
    school_year_start,
    stocktake,
    weeding,
)
from kiosk.circulation.dashboard import local_today
from kiosk.circulation.export import actor_in_words
from kiosk.circulation.models import location_key
from kiosk.circulation.stats import search
from kiosk.circulation.stats.search import page_of
from kiosk.circulation.stats.student import class_names
from kiosk.i18n import N_, place
from kiosk.web import current_lang, found_or_404, gettext, web
from kiosk.web.admin import actor, guard, page_number
from kiosk.web.admin.records import item_page

bp = Blueprint("collection", __name__, url_prefix="/admin/collection")
bp.before_request(guard)  # the dashboard's network check and login
PAGE = 200
LISTS = {
    "lost": N_("Lost books"),
    "damaged": N_("Repair queue (damaged)"),
    "in_repair": N_("In repair"),
    "withdrawn": N_("Withdrawn books"),
}
# What an empty list says: what it would hold, so that empty reads as good news, not a fault.
EMPTY = {
    "lost": N_("No book is marked lost."),
    "damaged": N_("No damaged book is waiting to go to repair."),
    "in_repair": N_("No book is away for repair."),
    "withdrawn": N_("No book has been withdrawn."),
    "holds": N_("No book is on hold: place a hold above for a book that is out."),
    "corners_out": N_("No class has corner books out."),
    "term_recall": N_("Every book is back: nothing to recall before the end of term."),
    "surplus": N_("No title has more copies than its loans need."),
}
DONE = {
    "started": N_("Stocktake running: scan the books on the shelves at the kiosk."),
    "paused": N_("Stocktake paused: the kiosk lends and returns again."),
    "open": N_("Stocktake running again."),
    "finished": N_("Stocktake finished."),
    "returned": N_("Returned: {title}."),
    "marked_lost": N_("Books marked lost: {count}."),
    "lost": N_("Marked lost: {barcode}."),
    "damaged": N_("Marked damaged: {barcode}; it is in the repair queue."),
    "found": N_("Restored: {barcode} is back on the shelf."),
    "compensation": N_("Compensation recorded."),
    "repair_started": N_("Sent to repair."),
    "repair_done": N_("Repaired and back on the shelf."),
    "withdrawn": N_("Withdrawn: {barcode}."),
    "file_counted": N_("Counted from the scanner's file: {count} barcodes."),
    "weeded": N_(
        "Surplus copies withdrawn: {count}; refused (lent or withdrawn meanwhile): {refused}."
    ),
    "hold": N_("Hold placed."),
    "hold_cancelled": N_("Hold cancelled."),
    "card": N_("Card replaced: the old card is refused from now on."),
    "promoted": N_("The new school year has begun: classes moved up."),
    "holidays": N_("Holiday loans saved."),
}


@bp.app_template_global()
def patron_label(row: dict[str, Any]) -> str:
    """Return a patron as the forms' lists of names show them: 王小明 三(2)班 (S001)."""
    return search.patron_label(row)


@bp.app_template_global()
def patron_incidents(patron_id: str) -> list[dict[str, Any]]:
    """Return a patron's lost and damaged books, for the patron page."""
    return lost.of_patron(web().store.reader, patron_id)


@bp.app_context_processor
def incident_names() -> dict[str, Any]:
    """Give every page the words for incident kinds, compensations and outcomes."""
    return {"incident_names": lost.NAMES}


@bp.context_processor
def empty_lists() -> dict[str, Any]:
    """Give the collection's pages what each of their lists says when it is empty."""
    return {"empty": EMPTY}


def _result(outcome: Outcome, messages: dict[str, str], done: str, **params: Any) -> bool:
    """Flash what a command did, or why not; return whether it was done."""
    if outcome.refusal is not None:
        flash(gettext(messages[outcome.reason], **{**params, **outcome.refusal.params}), "error")
        return False
    flash(gettext(DONE[done], **params))
    return True


FILE_EMPTY = N_("The file has no barcodes: one barcode a line, as a handheld scanner saves them.")
PICK = {
    "none": N_(
        "Nobody is found for “{text}”: type a name, a number or pinyin initials, "
        "and pick from the list."
    ),
    "several": N_("{count} people match “{text}”: pick one from the list."),
    "class": N_("Choose the class from the list of the school's classes."),
}


def _picked(field: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the patron number a name field means ('' when unclear, flashed) and candidates."""
    text = _form(field)
    found = search.pick_patron(web().store, text)
    if len(found) == 1:
        return str(found[0]["id"]), found
    if found:
        flash(gettext(PICK["several"], count=len(found), text=text), "error")
    else:
        flash(gettext(PICK["none"], text=text), "error")
    return "", found


def scope_words(st: dict[str, Any]) -> str:
    """Return a stocktake's scope in the reader's words: `图书馆 I200-I299`, never `library`."""
    return stocktake.Scope.of(st).label(lambda location: place(location, current_lang()))


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


def _back(default: str = "collection.index") -> Any:
    """Redirect to the page the form was on, at the list's page it was on (`page` of the form)."""
    target = request.form.get("next", "")
    if not target.startswith("/admin/"):
        return redirect(url_for(default))
    # The list's page number is checked as the list checks it; the list keeps it to its last.
    page = _page_asked(request.form.get("page", ""))
    return redirect(f"{target}?page={page}" if page > 1 and "?" not in target else target)


def _page_asked(raw: str) -> int:
    """Return a page number as asked (from 1); anything else is the first page."""
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 1_000_000 else 1


def _page(count: int) -> tuple[int, int]:
    """Return the page asked for (from 1, at most the last) and the number of pages."""
    pages = max(1, -(-count // PAGE))
    return min(pages, _page_asked(request.args.get("page", ""))), pages


def _csv(
    rows: list[dict[str, Any]], columns: list[str], name: str, words: csvout.Words | None = None
) -> Response:
    out = io.StringIO()
    tz = web().settings.kiosk.timezone
    csvout.write(out, rows, columns, tz, bom=True, lang=current_lang(), words=words)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )


def _listed(
    rows: list[dict[str, Any]],
    columns: list[str],
    name: str,
    title: str,
    words: csvout.Words | None = None,
    subtitle: str = "",
) -> Response | str | None:
    """Answer a list's CSV (`format=csv`) or A4 print view (`print=1`); None for the page."""
    if request.args.get("format") == "csv":
        return _csv(rows, columns, name, words)
    if request.args.get("print") != "1":
        return None
    lang, tz = current_lang(), web().settings.kiosk.timezone
    return render_template(
        "collection/table_print.html",
        title=gettext(title),
        subtitle=subtitle,
        headers=csvout.headers(columns, lang),
        values=csvout.values(rows, columns, tz, lang, words),
        today=local_today(web().store, ZoneInfo(tz)),
    )


# -- overview and stocktake -----------------------------------------------------------------


@bp.get("/")
def index() -> str:
    """Show the stocktake, the lists' counts and the year's totals."""
    return _index({})


def _index(form: Any) -> str:
    db = web().store.reader
    current = stocktake.latest(db)
    counts = stocktake.counts(db, current) if current else None
    since = school_year_start(dt.date.today())
    lists = {k: len(lost.incidents(db, k)) for k in ("lost", "damaged", "in_repair")}
    lists["withdrawn"] = len(weeding.withdrawals(db, since))
    return render_template(
        "collection/index.html",
        current=current,
        scope=scope_words(current) if current else "",
        counts=counts,
        names=stocktake.STATUS_NAMES,
        past=stocktake.all_stocktakes(db),
        lists=lists,
        list_names=LISTS,
        totals=lost.totals(db, since),
        since=since,
        reasons=weeding.REASONS,
        holds=len(holds.all_open(db)),
        form=form,
    )


@bp.post("/stocktake/start")
def start() -> Any:
    """Start (or resume) a stocktake of a location or call-number range."""
    location = _form("location")
    location = location_key(location)  # 图书馆 is the library
    scope = stocktake.Scope(location, _form("call_from"), _form("call_to"))
    _result(stocktake.start(web().store, scope, actor()), stocktake.MESSAGES, "started")
    return redirect(url_for("collection.index"))


@bp.post("/stocktake/file")
def scanner_file() -> Any:
    """Count a handheld scanner's barcode file (one barcode a line) for the running stocktake."""
    upload = request.files.get("file")
    raw = upload.read() if upload else b""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # a Chinese Windows scanner's file
    codes = stocktake.barcodes_of_file(text)
    if not codes:
        flash(gettext(FILE_EMPTY), "error")
        return redirect(url_for("collection.index"))
    done = stocktake.scan_file(web().store, codes, actor())
    if done and not done[0].ok:
        flash(gettext(stocktake.MESSAGES[done[0].reason]), "error")
    else:
        flash(gettext(DONE["file_counted"], count=len(codes)))
    return redirect(url_for("collection.index"))


@bp.post("/stocktake/<to>")
def set_status(to: str) -> Any:
    """Pause, resume or finish the stocktake."""
    if to not in ("paused", "open", "finished"):
        abort(404)
    outcome = stocktake.set_status(web().store, to, actor())
    _result(outcome, stocktake.MESSAGES, to)
    return redirect(url_for("collection.index"))


def _stocktake_or_404(stocktake_id: str) -> dict[str, Any]:
    return found_or_404(stocktake.get(web().store.reader, stocktake_id))


@bp.get("/stocktake/<stocktake_id>")
def report(stocktake_id: str) -> Any:
    """Show a stocktake's report: problems first, filtered by status, paged; CSV on request."""
    st = _stocktake_or_404(stocktake_id)
    rows = stocktake.report(web().store.reader, st)
    if request.args.get("format") == "csv":
        columns, words = list(stocktake.REPORT_COLUMNS), stocktake.REPORT_WORDS
        return _csv(rows, columns, f"stocktake-{st['started_at'][:10]}", words)
    counts = stocktake.summary(rows)
    wanted = request.args.get("status", "")
    if wanted in stocktake.STATUSES:
        rows = [r for r in rows if r["status"] == wanted]
    page, pages = _page(len(rows))
    return render_template(
        "collection/report.html",
        st=st,
        scope=scope_words(st),
        rows=rows[(page - 1) * PAGE : page * PAGE],
        counts=counts,
        names=stocktake.STATUS_NAMES,
        wanted=wanted,
        page=page,
        pages=pages,
        printing=request.args.get("print") == "1",
    )


@bp.post("/stocktake/<stocktake_id>/return")
def return_found(stocktake_id: str) -> Any:
    """Return a book the records say is on loan but the stocktake found on the shelf."""
    ctx = web()
    result = ctx.circulation.checkin(_form("barcode"), actor=actor())
    if result.ok and result.item is not None:
        flash(gettext(DONE["returned"], title=result.item.title))
    else:
        flash(gettext(result.message, **result.params), "error")
    return redirect(url_for("collection.report", stocktake_id=stocktake_id, status="on_loan_found"))


@bp.route("/stocktake/<stocktake_id>/mark-lost", methods=["GET", "POST"])
def mark_missing_lost(stocktake_id: str) -> Any:
    """Ask, then mark every missing book of a stocktake lost in one step."""
    st = _stocktake_or_404(stocktake_id)
    store = web().store
    missing = [r for r in stocktake.report(store.reader, st) if r["status"] == "missing"]
    if request.method == "GET":
        return render_template(
            "collection/confirm_lost.html",
            st=st,
            missing=missing,
            scope=scope_words(st),
        )
    note = f"stocktake {stocktake.Scope.of(st).label()}"
    done = lost.mark_many_lost(store, [r["barcode"] for r in missing], actor(), note)
    flash(gettext(DONE["marked_lost"], count=sum(o.ok for o in done)))
    return redirect(url_for("collection.list_", which="lost"))


# -- lost, damaged, repair, withdrawn -------------------------------------------------------


@bp.get("/list/<which>")
def list_(which: str) -> Any:
    """Show one list: lost, damaged (the repair queue), in repair, or withdrawn; CSV or XLSX."""
    if which not in LISTS:
        abort(404)
    db = web().store.reader
    rows = weeding.withdrawals(db) if which == "withdrawn" else lost.incidents(db, which)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        columns = (
            ["barcode", "title", "author", "isbn", "call_number", "reason", "at", "actor", "note"]
            if which == "withdrawn"
            else [
                "item_barcode",
                "title",
                "call_number",
                "patron_id",
                "patron_name",
                "class_name",
                "at",
                "actor",
                "note",
                "compensation",
                "amount",
                "compensation_by",
                "compensation_at",
            ]
        )
        # Reasons, compensations and who did it in the reader's words, as the list shows them.
        words = {"reason": weeding.REASONS, "compensation": lost.NAMES}
        lang = current_lang()
        rows = [
            {**r, **{k: actor_in_words(r.get(k), lang) for k in ("actor", "compensation_by")}}
            for r in rows
        ]
        if fmt == "xlsx":
            tz, lang = web().settings.kiosk.timezone, current_lang()
            data = csvout.xlsx(rows, columns, tz, gettext(LISTS[which]), lang, words)
            return Response(
                data,
                mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f"attachment; filename={which}.xlsx"},
            )
        return _csv(rows, columns, which, words)
    if request.args.get("print") == "1":
        columns = (
            ["barcode", "title", "call_number", "reason", "note", "at", "actor"]
            if which == "withdrawn"
            else ["item_barcode", "title", "patron_name", "class_name", "at", "actor", "note"]
        )
        words = {"reason": weeding.REASONS}
        lang = current_lang()
        shown = [{**r, "actor": actor_in_words(r.get("actor"), lang)} for r in rows]
        return _listed(shown, columns, which, LISTS[which], words)
    page, pages = _page(len(rows))
    return render_template(
        "collection/list.html",
        which=which,
        title=LISTS[which],
        total=len(rows),
        page=page,
        pages=pages,
        rows=rows[(page - 1) * PAGE : page * PAGE],
        names=lost.NAMES,
        reasons=weeding.REASONS,
        compensations=lost.COMPENSATIONS,
    )


@bp.post("/item/mark")
def mark() -> Any:
    """Mark a book lost or damaged (an open loan closes with it, the borrower recorded)."""
    kind, barcode = _form("kind"), _form("barcode")
    if kind not in ("lost", "damaged"):
        abort(400)
    outcome = lost.mark(web().store, kind, barcode, actor(), note=_form("note"))
    if _result(outcome, lost.MESSAGES, kind, barcode=barcode):
        return _back()
    # From the book's own page, the page shows again with the note as typed.
    if request.form.get("next") == url_for("admin.item", barcode=barcode):
        return item_page(barcode, "mark", request.form), 400
    return _back()


@bp.post("/item/found")
def found() -> Any:
    """Restore a lost book that turned up."""
    barcode = _form("barcode")
    outcome = lost.found(web().store, barcode, actor(), how="dashboard")
    _result(outcome, lost.MESSAGES, "found", barcode=barcode)
    return _back()


@bp.post("/incident/<incident_id>/compensate")
def compensate(incident_id: str) -> Any:
    """Record what was paid, replaced or waived for a lost or damaged book."""
    outcome = lost.compensate(web().store, incident_id, _form("kind"), _form("amount"), actor())
    _result(outcome, lost.MESSAGES, "compensation")
    return _back()


@bp.post("/incident/<incident_id>/repair")
def repair(incident_id: str) -> Any:
    """Send a damaged book to repair, or put it back on the shelf repaired."""
    step = _form("step")
    if step not in ("started", "done"):
        abort(400)
    _result(lost.repair(web().store, incident_id, step, actor()), lost.MESSAGES, f"repair_{step}")
    return _back()


@bp.post("/item/withdraw")
def withdraw() -> Any:
    """Withdraw a book with a reason."""
    barcode = _form("barcode")
    outcome = weeding.withdraw(web().store, barcode, _form("reason"), actor(), note=_form("note"))
    done = _result(outcome, weeding.MESSAGES, "withdrawn", barcode=barcode)
    if done:
        return _back()
    # The form that was sent shows again with the reason and note as typed.
    if not request.form.get("next"):
        return _index(request.form), 400
    if request.form["next"] == url_for("admin.item", barcode=barcode):
        return item_page(barcode, "withdraw", request.form), 400
    return _back()


@bp.get("/surplus")
def surplus() -> Any:
    """List titles with more copies than their loans this school year justify."""
    since = school_year_start(dt.date.today())
    rows = weeding.surplus(web().store.reader, since)
    columns = ["title", "copies", "loans", "surplus", "barcodes"]
    subtitle = gettext("loans since {day}", day=since)
    listed = _listed(rows, columns, "surplus", N_("Surplus copies"), subtitle=subtitle)
    if listed is not None:
        return listed
    found = page_of(rows, page_number())
    return render_template(
        "collection/surplus.html",
        rows=found.rows,
        found=found,
        since=since,
        reasons=weeding.REASONS,
    )


@bp.route("/surplus/weed", methods=["GET", "POST"])
def weed_surplus() -> Any:
    """Withdraw the surplus list's copies in one step: the list of books first, then yes."""
    store = web().store
    since = school_year_start(dt.date.today())
    chosen = weeding.surplus_copies(store.reader, since)
    if request.method == "GET":
        return render_template("collection/confirm_weed.html", chosen=chosen, since=since)
    # The books confirmed are the ones shown: a copy lent or moved since is refused, not swapped.
    wanted = request.form.getlist("barcode")
    done = weeding.withdraw_many(store, wanted, "surplus", actor(), note=gettext("surplus list"))
    count = sum(o.ok for o in done)
    flash(gettext(DONE["weeded"], count=count, refused=len(done) - count))
    return redirect(url_for("collection.list_", which="withdrawn"))


# -- holds, cards, the new school year ------------------------------------------------------


@bp.route("/holds", methods=["GET", "POST"])
def holds_page() -> Any:
    """List the open holds; place one for a student on a book that is out."""
    store = web().store
    form: Any = {}
    candidates: list[dict[str, Any]] = []
    if request.method == "POST":
        patron_id, candidates = _picked("patron_id")
        if patron_id and _result(
            holds.place(store, _form("barcode"), patron_id, actor()),
            holds.MESSAGES,
            "hold",
            barcode=_form("barcode"),
        ):
            return redirect(url_for("collection.holds_page"))
        form = request.form  # the form keeps what was typed, with the names it could mean
    if not form:
        columns = ["title", "item_barcode", "name", "class_name", "status", "placed_at"]
        words = {"status": holds.STATUS_NAMES}
        listed = _listed(holds.all_open(store.reader), columns, "holds", N_("Holds"), words)
        if listed is not None:
            return listed
    found = page_of(holds.all_open(store.reader), page_number())
    page = render_template(
        "collection/holds.html",
        rows=found.rows,
        found=found,
        names=holds.STATUS_NAMES,
        form=form,
        candidates=candidates,
    )
    return (page, 400) if form else page


@bp.post("/holds/<hold_id>/cancel")
def cancel_hold(hold_id: str) -> Any:
    """Cancel a hold."""
    _result(
        holds.close(web().store, hold_id, "cancelled", actor()), holds.MESSAGES, "hold_cancelled"
    )
    return redirect(url_for("collection.holds_page"))


@bp.post("/card/replace")
def replace_card() -> Any:
    """Replace a patron's lost card in one step: the old one refused, the new one issued."""
    patron_id, _ = _picked("patron_id")
    if patron_id:
        outcome = cards.replace(web().store, patron_id, _form("old"), _form("new"), actor())
        _result(outcome, cards.MESSAGES, "card", card=_form("old"))
    return _back("collection.year")


@bp.route("/year", methods=["GET", "POST"])
def year() -> Any:
    """The new school year: the promotion's dry run, then the promotion; card coverage."""
    store, last_grade = web().store, web().settings.collection.last_grade
    plan = promotion.plan(store.reader, dt.date.today(), last_grade)
    if request.method == "POST":
        if request.form.get("action") == "close_leavers":
            outcome = promotion.close_leavers(store, actor(), last_grade)
            if outcome.ok:
                count = len(outcome.events[0].data["leavers"])
                flash(gettext(promotion.MESSAGES["leavers_closed"], count=count))
            else:
                _result(outcome, promotion.MESSAGES, "promoted")
        elif request.form.get("confirm") != "1":
            # Say what will happen, and how many, before the whole school moves up.
            return render_template(
                "collection/confirm_promote.html",
                plan=plan,
                classes=promotion.class_moves(plan),
                today=dt.date.today(),
                usual=promotion.usual_time(dt.date.today()),
            )
        else:
            _result(
                promotion.promote(store, plan, actor(), dt.date.today()),
                promotion.MESSAGES,
                "promoted",
            )
        return redirect(url_for("collection.year"))
    columns = ["class_name", "patron_id", "name", "item_barcode", "title", "due_at"]
    listed = _listed(
        corners.term_recall(store.reader), columns, "term-recall", N_("Term-end recall list")
    )
    if listed is not None:
        return listed
    return _year_page(plan)


def _year_page(plan: Any, typed: Any = None, errors: dict[int, str] | None = None) -> str:
    """Render the year's page; `typed` is a refused holiday form, shown again with `errors`."""
    store, last_grade = web().store, web().settings.collection.last_grade
    stored = holidays.by_grade(store.reader)
    ticked = {g for g in range(1, last_grade + 1) if typed.get(f"on_{g}")} if typed else set(stored)
    dates = {g: typed.get(f"due_{g}", "") for g in range(1, last_grade + 1)} if typed else stored
    return render_template(
        "collection/year.html",
        grades=range(1, last_grade + 1),
        ticked=ticked,
        dates=dates,
        holiday_errors=errors or {},
        recall=page_of(corners.term_recall(store.reader), page_number()),
        plan=plan,
        classes=promotion.class_moves(plan),
        coverage=promotion.card_coverage(store.reader),
    )


@bp.post("/holidays")
def holidays_save() -> Any:
    """Turn holiday loans on or off per grade; a wrong grade is said beside its date."""
    store, last_grade = web().store, web().settings.collection.last_grade
    wanted, problems = holidays.read_form(request.form, last_grade)
    if not problems:
        outcome = holidays.set_grades(store, wanted, last_grade, actor())
        if outcome.refusal is None:
            flash(gettext(DONE["holidays"]))
            return redirect(url_for("collection.year", _anchor="holidays"))
        params = outcome.refusal.params
        problems = {int(params["grade"]): (holidays.MESSAGES[outcome.reason], params)}
    errors = {g: gettext(message, **params) for g, (message, params) in problems.items()}
    flash(gettext("Not saved: check the fields marked in red."), "error")
    plan = promotion.plan(store.reader, dt.date.today(), last_grade)
    return _year_page(plan, request.form, errors), 400


# -- class book corners ---------------------------------------------------------------------


@bp.route("/corners", methods=["GET", "POST"])
def corners_page() -> Any:
    """Lend a box of books to a class; books out per class; the recall list."""
    ctx = web()
    db = ctx.store.reader
    if request.method == "POST":
        try:
            due = dt.date.fromisoformat(_form("due"))
        except ValueError:
            flash(gettext(corners.MESSAGES["not_a_date"]), "error")
            page = render_template("collection/corners.html", **_corner_view(), form=request.form)
            return page, 400
        codes = request.form.get("barcodes", "").split()
        if _form("class_name") not in class_names(ctx.store):
            flash(gettext(PICK["class"]), "error")
            page = render_template("collection/corners.html", **_corner_view(), form=request.form)
            return page, 400
        responsible, candidates = _picked("responsible")
        if not responsible:
            view = {**_corner_view(), "candidates": candidates}
            return render_template("collection/corners.html", **view, form=request.form), 400
        outcome = corners.lend(
            ctx.store,
            _form("class_name"),
            responsible,
            codes,
            due,
            ctx.circulation.tz,
            actor(),
        )
        if outcome.refusal is not None:
            flash(gettext(corners.MESSAGES[outcome.reason], **outcome.refusal.params), "error")
            # The form keeps what was typed: a box of thirty barcodes is not typed twice.
            return render_template("collection/corners.html", **_corner_view(), form=request.form)
        flash(
            gettext(
                corners.MESSAGES["corner_lent"],
                count=len(set(codes)),
                class_name=_form("class_name"),
                due=due.isoformat(),
            )
        )
        return redirect(url_for("collection.corners_page"))
    wanted = request.args.get("class", "")
    if request.args.get("format") == "csv":
        columns = ["class_name", "item_barcode", "title", "call_number", "due_at", "responsible"]
        return _csv(corners.recall(db, wanted), columns, "corner-recall")
    return render_template("collection/corners.html", **_corner_view(), form={})


def _corner_view() -> dict[str, Any]:
    db = web().store.reader
    wanted = request.args.get("class", "")
    due = corners.term_end(db)
    printing = request.args.get("print") == "1"
    big = 1_000_000 if printing else None
    return {
        "out": corners.out_per_class(db),
        # Paged on the screen; the print view prints the whole list.
        "recall": page_of(corners.recall(db, wanted), 1 if printing else page_number(), big),
        "wanted": wanted,
        "default_due": due.isoformat() if due else "",
        "printing": printing,
        # A corner belongs to one of the school's classes, chosen, never typed a second way.
        "classes": class_names(web().store),
        "candidates": [],
    }
