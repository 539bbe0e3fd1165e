"""Reading stars and the festival report (`/admin/reports/stars`), behind the dashboard's login.

The librarian saves a period with star rules (one command of `circulation/reading/stars.py`;
a refusal shows the form again with what she typed), then sees the stars per class, prints the
class lists (A4) and a certificate per child (A4 or A5), and reads the festival's figures beside
the same weeks before, as a page, an A4 print and an Excel sheet.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from kiosk.circulation import tabular
from kiosk.circulation.reading import festival
from kiosk.circulation.reading import stars as rules_
from kiosk.i18n import LANGUAGES, N_, N_plural
from kiosk.web import current_lang, gettext, web
from kiosk.web.admin import actor

# Nested in the reading area's blueprint: /admin/reports/stars, endpoints `reading.stars.*`.
bp = Blueprint("stars", __name__, url_prefix="/reports/stars")
SIZES = ("A4", "A5")
STARS = N_plural("{count} star", "{count} stars")
WEEKS = N_plural(
    "Compared with the {count} week just before: {first} – {last}.",
    "Compared with the {count} weeks just before: {first} – {last}.",
)
DAYS = N_plural(
    "Compared with the {count} day just before: {first} – {last}.",
    "Compared with the {count} days just before: {first} – {last}.",
)
READ = N_plural("read {count} book", "read {count} books")
COLUMNS = {
    "name": N_("Class"),
    "students": N_("Students"),
    "loans": N_("Loans"),
    "loans_before": N_("Loans before"),
    "readers": N_("Readers"),
    "readers_before": N_("Readers before"),
    "list_titles": N_("List titles read"),
    "list_titles_before": N_("List titles read before"),
    "stars": N_("Reading stars"),
}


@bp.context_processor
def _links() -> dict[str, Any]:
    # The reports' menu keeps a report's period in its links; these pages have their own.
    return {"args": lambda **extra: {}}


def _tz() -> ZoneInfo:
    return ZoneInfo(web().settings.kiosk.timezone)


def _typed() -> rules_.StarForm:
    fields = ("name", "month", "first", "last", "min_books", "min_list", "top")
    return rules_.StarForm(**{k: request.form.get(k, "") for k in fields})


def _found(rules_id: str) -> dict[str, Any]:
    found = rules_.get_rules(web().store.reader, rules_id)
    if found is None:
        abort(404)
    return found


def _index(form: rules_.StarForm, error: str = "") -> str:
    return render_template(
        "stars/index.html",
        saved=rules_.all_rules(web().store.reader),
        form=form,
        error=error,
    )


@bp.get("/")
def index() -> str:
    """Show the saved periods of reading stars and the form for a new one."""
    return _index(rules_.StarForm(min_books="3"))


@bp.post("/")
def create() -> Any:
    """Save a period (a month or a festival's dates) with its star rules."""
    form = _typed()
    outcome = rules_.save_rules(web().store, form, actor())
    if outcome.refusal is not None:
        message = gettext(rules_.MESSAGES[outcome.reason], **outcome.refusal.params)
        return _index(form, message), 400
    flash(gettext("Reading stars saved."))
    return redirect(url_for("reading.stars.show", rules_id=outcome.events[0].data["rules"]))


def _stars(rules: dict[str, Any]) -> list[tuple[str, list[festival.Child]]]:
    children = festival.reading(web().store, *festival.dates(rules), _tz())
    return festival.stars(children, rules)


@bp.get("/<rules_id>")
def show(rules_id: str) -> str:
    """Show a period's stars per class, its rules to change, and its prints."""
    rules = _found(rules_id)
    return render_template(
        "stars/show.html",
        rules=rules,
        classes=_stars(rules),
        form=rules_.form_of(rules),
        error="",
        sizes=SIZES,
    )


@bp.post("/<rules_id>")
def edit(rules_id: str) -> Any:
    """Change a period's name, dates or rules; a refusal keeps what was typed."""
    rules = _found(rules_id)
    form = _typed()
    outcome = rules_.save_rules(web().store, form, actor(), rules_id)
    if outcome.refusal is not None:
        message = gettext(rules_.MESSAGES[outcome.reason], **outcome.refusal.params)
        page = render_template(
            "stars/show.html",
            rules=rules,
            classes=_stars(rules),
            form=form,
            error=message,
            sizes=SIZES,
        )
        return page, 400
    flash(gettext("Reading stars saved."))
    return redirect(url_for("reading.stars.show", rules_id=rules_id))


@bp.get("/<rules_id>/print")
def class_lists(rules_id: str) -> str:
    """Print the stars of each class on A4, a class after another."""
    rules = _found(rules_id)
    return render_template("stars/list_print.html", rules=rules, classes=_stars(rules))


@bp.get("/<rules_id>/certificates")
def certificates(rules_id: str) -> str:
    """Print a certificate per star, one a page, A4 or A5, in the language the form chose."""
    rules = _found(rules_id)
    size = request.args.get("size", "A4").upper()
    size = size if size in SIZES else "A4"
    words = request.args.get("words", "")
    g.lang = words if words in LANGUAGES else current_lang()  # the form's default: Chinese
    only = request.args.get("class", "")
    people = [c for name, cs in _stars(rules) if not only or name == only for c in cs]
    return render_template(
        "stars/certificates.html",
        rules=rules,
        people=people,
        size=size,
        school=web().settings.kiosk.school,
    )


def _festival(rules_id: str) -> dict[str, Any]:
    rules = _found(rules_id)
    found = festival.figures(web().store, rules, _tz())
    first, last = found["before"]
    days = (last - first).days + 1
    words, count = (WEEKS, days // 7) if days % 7 == 0 else (DAYS, days)
    compared = gettext(words, count=count, first=first.isoformat(), last=last.isoformat())
    return {"rules": rules, "compared": compared, **found}


@bp.get("/<rules_id>/festival")
def report(rules_id: str) -> str:
    """Show the festival's figures per class and grade beside the same weeks before."""
    return render_template("stars/festival.html", **_festival(rules_id))


@bp.get("/<rules_id>/festival/print")
def report_print(rules_id: str) -> str:
    """Print the festival's figures on one A4 page."""
    return render_template("stars/festival_print.html", **_festival(rules_id))


def grade_name(grade: int | None) -> str:
    """Return a grade's name in the reader's words."""
    return gettext("Grade {grade}", grade=grade) if grade else gettext("No grade")


@bp.get("/<rules_id>/festival.xlsx")
def report_export(rules_id: str) -> Response:
    """Download the festival's figures as an Excel sheet: classes, then grades, then the school."""
    found = _festival(rules_id)
    rows = [
        *found["classes"],
        *[_named(f, grade_name(f.grade)) for f in found["grades"]],
        _named(found["school"], gettext("Whole school")),
    ]
    data = tabular.xlsx_bytes(
        [gettext(h) for h in COLUMNS.values()],
        ([_value(f, c) for c in COLUMNS] for f in rows),
        sheet=found["rules"]["name"],
    )
    return Response(
        data,
        mimetype=tabular.MIMETYPES["xlsx"],
        headers={"Content-Disposition": "attachment; filename=reading-festival.xlsx"},
    )


def _named(f: festival.Figures, name: str) -> festival.Figures:
    f.name = name
    return f


def _value(f: festival.Figures, column: str) -> Any:
    if column.endswith("_before"):
        return f.before[column.removesuffix("_before")]
    return getattr(f, column)
