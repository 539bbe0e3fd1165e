"""The librarian's reports (`/admin/reports`): reading figures, rankings, new books, overdue
chasing with parents' notices, a student's reading record, class summaries; each as a page, a
clean A4 print view, CSV and XLSX. Reading stars and the festival report
(`/admin/reports/stars`) are the reading area's (`kiosk/web/reading/stars.py`).

The data comes from the named queries of `kiosk.circulation.stats`; this module only reads the
request, calls them and renders.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from kiosk.circulation import tabular
from kiosk.circulation.dashboard import local_today
from kiosk.circulation.stats import (
    Period,
    PeriodError,
    books,
    month,
    names,
    rankings,
    reading,
    resolve,
    search,
)
from kiosk.circulation.stats import donations as donated
from kiosk.circulation.stats import overdue as chase
from kiosk.circulation.stats import student as students
from kiosk.circulation.stats.tables import REPORTS, Ask, ReportError, make
from kiosk.web import current_lang, gettext, web
from kiosk.web.admin import actor, guard, page_number

NAMES_AT_ONCE = 400
OVERDUE_PER_PAGE = 100
NEW_BOOKS_PER_PAGE = 100
LATEST_NOTICES = 10  # on the overdue page; every one on /notices/printed
bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
bp.before_request(guard)


def _tz() -> ZoneInfo:
    return ZoneInfo(web().settings.kiosk.timezone)


def period() -> Period:
    """Return the period the page asks for (this month by default); a bad one is flashed."""
    a = request.args
    store, tz = web().store, _tz()
    try:
        return resolve(
            store,
            tz,
            a.get("period", "month"),
            month_text=a.get("month", ""),
            first=a.get("from", ""),
            last=a.get("to", ""),
        )
    except PeriodError as e:
        flash(gettext(e.message, **e.params), "error")
        today = local_today(store, tz)
        return month(today.year, today.month)


def _args(**extra: Any) -> dict[str, Any]:
    """Return this page's period arguments (for links to its print view and downloads)."""
    keep = {k: v for k, v in request.args.items() if k in ("period", "month", "from", "to")}
    return {**keep, **{k: v for k, v in extra.items() if v}}


def _page(template: str, **ctx: Any) -> str:
    return render_template(f"reports/{template}", args=_args, **ctx)


@bp.get("/")
def index() -> str:
    """Show the reading figures of a period: classes, grades and the school."""
    store, tz, when = web().store, _tz(), period()
    classes = reading.by_class(store, when, tz)
    return _page(
        "index.html",
        period=when,
        classes=classes,
        grades=reading.by_grade(classes),
        school=reading.total(classes, gettext("Whole school")),
        donated=donated.figures(store, when),
    )


@bp.get("/books")
def books_read() -> str:
    """Show what was read: the most borrowed titles, loans by subject, the collection's use."""
    store, tz, when = web().store, _tz(), period()
    return _page(
        "books.html",
        period=when,
        top_books=rankings.top_books(store, when, tz, 20),
        subjects=reading.by_subject(store, when, tz),
        collection=reading.collection(store, when, tz),
    )


@bp.get("/print")
def index_print() -> str:
    """Print the reading figures of a period on A4."""
    store, tz, when = web().store, _tz(), period()
    classes = reading.by_class(store, when, tz)
    return _page(
        "index_print.html",
        period=when,
        classes=classes,
        school=reading.total(classes, gettext("Whole school")),
        donated=donated.figures(store, when),
    )


@bp.get("/rankings")
def ranking() -> str:
    """Show the class ranking and the top readers per class and grade."""
    store, tz, when = web().store, _tz(), period()
    return _page(
        "rankings.html",
        period=when,
        ranking=rankings.class_ranking(store, when, tz),
        by_class=rankings.top_readers(store, when, tz, "class", 3),
        by_grade=rankings.top_readers(store, when, tz, "grade", 5),
    )


@bp.get("/rankings/print")
def ranking_print() -> str:
    """Print the rankings as an A4 poster (classes and books; readers by name only)."""
    return _page("rankings_print.html", **_rankings())


def _rankings() -> dict[str, Any]:
    store, tz, when = web().store, _tz(), period()
    return {
        "period": when,
        "ranking": rankings.class_ranking(store, when, tz),
        "by_class": rankings.top_readers(store, when, tz, "class", 3),
        "by_grade": rankings.top_readers(store, when, tz, "grade", 5),
        "top_books": rankings.top_books(store, when, tz, 10),
    }


@bp.get("/new-books")
def new_books() -> str:
    """Show the titles added in a period, by 中图法 class, a page at a time."""
    shown = _new_books()
    # A page of titles in the bulletin's order; each class's heading counts all its titles.
    ordered = [t for _, _, titles in shown["groups"] for t in titles]
    found = search.page_of(ordered, page_number(), NEW_BOOKS_PER_PAGE)
    counts = {letter: len(titles) for letter, _, titles in shown["groups"]}
    shown["groups"] = books.by_subject(found.rows)
    return _page("new_books.html", **shown, found=found, counts=counts)


@bp.get("/new-books/print")
def new_books_print() -> str:
    """Print the new-books bulletin."""
    return _page("new_books_print.html", **_new_books())


def _new_books() -> dict[str, Any]:
    when = period()
    rows = books.new_books(web().store, when, _tz())
    return {"period": when, "groups": books.by_subject(rows), "count": len(rows)}


@bp.get("/non-borrowers")
def non_borrowers() -> str:
    """List the students who borrowed nothing in a period, per class."""
    when, class_name = period(), request.args.get("class", "")
    rows = reading.non_borrowers(web().store, when, _tz(), class_name)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["class_name"] or "-", []).append(r)
    # A whole school's list is long: then each class with its count, its names one click away.
    summary = not class_name and len(rows) > NAMES_AT_ONCE
    return _page(
        "non_borrowers.html",
        period=when,
        groups=list(groups.items()),
        class_name=class_name,
        summary=summary,
        total=len(rows),
    )


@bp.get("/non-borrowers/print")
def non_borrowers_print() -> str:
    """Print the students who borrowed nothing for the class teachers: one A4 page per class."""
    when, class_name = period(), request.args.get("class", "")
    rows = reading.non_borrowers(web().store, when, _tz(), class_name)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["class_name"] or "-", []).append(r)
    return _page("non_borrowers_print.html", period=when, groups=list(groups.items()))


# -- overdue chasing ---------------------------------------------------------------------------


def _level(default: int = 1) -> int:
    raw = request.values.get("level", "")
    return int(raw) if raw in ("1", "2", "3") else default


@bp.get("/overdue")
def overdue() -> str:
    """Show overdue loans per class with levels, the notices printed, and the notice's text."""
    store, tz = web().store, _tz()
    level, class_name = _level(), request.args.get("class", "")
    rows = chase.overdue_loans(store, tz, class_name, level)
    # A page of loans at a time, grouped by class; each class's heading counts all its books.
    found = search.page_of(rows, page_number(), OVERDUE_PER_PAGE)
    counts: dict[str, int] = {}
    for r in rows:
        counts[chase.group_of(r)] = counts.get(chase.group_of(r), 0) + 1
    return _page(
        "overdue.html",
        classes=chase.by_class(found.rows),
        counts=counts,
        found=found,
        level=level,
        levels=_levels(),
        class_name=class_name,
        printed=chase.printed(store, LATEST_NOTICES),
        printed_count=chase.printed_count(store),
    )


@bp.get("/notices/printed")
def notices_printed_list() -> str:
    """List every parents' notice printed, newest first, a page at a time."""
    store = web().store
    total = chase.printed_count(store)
    page = min(page_number(), max(1, -(-total // search.PER_PAGE)))
    rows = chase.printed(store, search.PER_PAGE, (page - 1) * search.PER_PAGE)
    return _page(
        "notices_printed.html",
        found=search.Page(rows, total, page, search.PER_PAGE),
        levels=_levels(),
    )


@bp.get("/overdue/print")
def overdue_print() -> str:
    """Print the overdue list for the class teachers: one A4 page per class."""
    store, tz = web().store, _tz()
    rows = chase.overdue_loans(store, tz, request.args.get("class", ""), _level())
    # The class teachers' lists name the children; the staff get reminders of their own.
    classes = [(c, r) for c, r in chase.by_class(rows) if c != chase.STAFF]
    return _page("overdue_print.html", classes=classes, today=local_today(store, tz))


@bp.get("/overdue/staff")
def staff_reminders() -> str:
    """Print a reminder for each teacher or librarian with books overdue: one A4 page each."""
    store, tz = web().store, _tz()
    rows = chase.overdue_loans(store, tz, "", _level())
    people = [p for p in chase.by_student(rows) if chase.is_staff(p)]
    return _page("staff_reminders.html", people=people, today=local_today(store, tz))


def _parents(class_name: str, level: int) -> list[dict[str, Any]]:
    """Return the students whose parents get a notice: the children only, never the staff."""
    rows = chase.overdue_loans(web().store, _tz(), class_name, level)
    return [p for p in chase.by_student(rows) if not chase.is_staff(p)]


@bp.get("/notices")
def notices() -> str:
    """Print the parents' notices: one A4 page per student, in the school's words."""
    store, tz = web().store, _tz()
    level = _level(3)
    people = _parents(request.args.get("class", ""), level)
    today = local_today(store, tz)
    body = chase.template(store)
    for p in people:
        p["text"] = chase.fill(body, p, today)
    return _page(
        "notices.html",
        people=people,
        today=today,
        level=level,
        class_name=request.args.get("class", ""),
        autoprint=request.args.get("print") == "1",
    )


@bp.post("/notices")
def notices_printed() -> Any:
    """Record that these parents' notices are printed now, then print them; ask before twice."""
    store = web().store
    class_name = request.form.get("class", "")
    level = _level(3)
    people = _parents(class_name, level)
    again = [p for p in people if chase.already_noticed(p)]
    if again and request.form.get("again") != "1":
        return _page(
            "notices_again.html",
            people=people,
            again=again,
            last=max(p["notice_at"] for p in again),
            level=level,
            class_name=class_name,
        )
    count = chase.record_printed(store, people, actor())
    flash(gettext("{count} notices recorded as printed.", count=count))
    return redirect(url_for(".notices", level=level, print="1", **_args(**{"class": class_name})))


def _levels() -> list[tuple[int, str]]:
    """Return each level's first day overdue and name, as the librarian set them."""
    days = chase.levels(web().store)
    return [(d, name) for d, (_, name) in zip(days, chase.LEVELS, strict=True)]


@bp.post("/levels")
def levels_save() -> Any:
    """Save the days from which the teacher and the parents are told; problems beside fields."""
    store = web().store
    teacher, parents = request.form.get("teacher", ""), request.form.get("parents", "")
    problems = chase.levels_problems(teacher, parents)
    if not problems:
        chase.set_levels(store, int(teacher), int(parents), actor())
        flash(gettext("Levels saved."))
        return redirect(url_for(".notice_text"))
    errors = {k: gettext(m, **p) for k, (m, p) in problems.items()}
    typed = {"teacher": teacher, "parents": parents}
    return _notice_page(chase.template(store), None, typed, errors), 400


def _notice_page(
    body: str, error: str | None, typed: dict[str, str] | None = None, errors: Any = None
) -> str:
    days = chase.levels(web().store)
    return _page(
        "notice_text.html",
        body=body,
        error=error,
        placeholders=chase.PLACEHOLDERS,
        typed=typed or {"teacher": str(days[1]), "parents": str(days[2])},
        errors=errors or {},
    )


@bp.route("/notice-text", methods=["GET", "POST"])
def notice_text() -> Any:
    """Edit the text of the parents' notice; a bad text is named and nothing changes."""
    store = web().store
    body, error = chase.template(store), None
    if request.method == "POST":
        body = request.form.get("body", "").replace("\r\n", "\n")
        problem = chase.template_problem(body)
        if problem:
            error = gettext(problem[0], **problem[1])
        else:
            chase.set_template(store, body, actor())
            flash(gettext("Notice text saved."))
            return redirect(url_for(".notice_text"))
    return _notice_page(body, error), 400 if error else 200


# -- students and classes ---------------------------------------------------------------------


@bp.get("/student/<patron_id>")
def student(patron_id: str) -> str:
    """Show everything a student borrowed, by school year and term."""
    return _page("student.html", **_student(patron_id))


@bp.get("/student/<patron_id>/print")
def student_print(patron_id: str) -> str:
    """Print a student's reading record for a parents' meeting."""
    return _page("student_print.html", **_student(patron_id))


def _student(patron_id: str) -> dict[str, Any]:
    store = web().store
    p = students.patron_by_card(store, patron_id)
    if p is None or p["id"] != patron_id:
        abort(404)
    rows = students.reading_record(store, patron_id, _tz())
    return {"p": p, "terms": students.by_term(rows), "count": len(rows)}


@bp.get("/class")
def class_summary() -> str:
    """Show a class's term summary per student, for the evaluation."""
    return _page("class.html", **_class())


@bp.get("/class/print")
def class_print() -> str:
    """Print a class's summary."""
    return _page("class_print.html", **_class())


def _class() -> dict[str, Any]:
    store, tz = web().store, _tz()
    names = students.class_names(store)
    name = request.args.get("class", "") or (names[0] if names else "")
    when = period() if request.args.get("period") else resolve(store, tz, "term")
    return {
        "period": when,
        "class_name": name,
        "names": names,
        "rows": students.class_summary(store, name, when, tz) if name else [],
    }


# -- downloads --------------------------------------------------------------------------------


@bp.get("/export/<name>.<fmt>")
def export(name: str, fmt: str) -> Response:
    """Download a report as CSV or XLSX (Chinese column titles unless lang=en)."""
    if name not in REPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    store, tz = web().store, _tz()
    lang = current_lang()
    when = (
        period()
        if request.args.get("period") or name != "class-summary"
        else resolve(store, tz, "term")
    )
    ask = Ask(when, request.args.get("class", ""), request.args.get("card", ""), lang)
    try:
        table = make(name, store, tz, ask)
    except ReportError as e:
        abort(400, description=gettext(e.message, **e.params))
    title = gettext(table.title)
    data = tabular.render(fmt, table.headers(lang), table.values(), title)
    filename = f"{name}-{when.first.isoformat()}-{when.last.isoformat()}.{fmt}"
    return Response(
        data,
        mimetype=tabular.MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- stored values in words, for every page -----------------------------------------------------


@bp.app_template_filter("who")
def who(actor: str, known: dict[str, dict[str, str]] | None = None) -> str:
    """Show who did something by name: a patron's name, 'librarian li', 'self-service'."""
    kind, ident = names.actor_parts(actor)
    if kind == "patron":
        if ident in names.ACTORS:
            return gettext(names.ACTORS[ident])
        found = (known or {}).get("names", {}).get(ident)
        if found is None and known is None:
            found = web().store.value("SELECT name FROM patrons WHERE id = ?", [ident])
        return str(found or ident)
    return f"{gettext(kind)} {ident}".strip()


@bp.app_template_filter("place")
def place_words(location: str | None) -> str:
    """Show a stored location in words: library -> 图书馆 / Library."""
    from kiosk.i18n import place

    return place(location or "", current_lang())


@bp.app_template_filter("detail_key")
def detail_key(key: str) -> str:
    """Show a key of an event's details in words: call_number -> 索书号."""
    from kiosk.circulation.export import key_in_words

    return key_in_words(key, current_lang())


@bp.app_template_filter("detail")
def detail(value: Any, key: str = "") -> str:
    """Show one value of an event's details: times in the school's time zone, codes in words."""
    from kiosk.circulation.export import detail_in_words

    return detail_in_words(key, value, current_lang(), web().settings.kiosk.timezone)
