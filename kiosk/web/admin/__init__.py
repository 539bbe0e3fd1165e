"""The librarian's dashboard (`/admin`): login, live status, today, overdue, charts, event log.

Only from `[web] admin_networks`, only after login (`kiosk/web/auth/`, which also sets the
first password: there is no default one). Patrons, items, import and rules live in
`admin_records.py` on the same blueprint.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from kiosk.circulation import dashboard
from kiosk.circulation.records import record_admin_action
from kiosk.circulation.stats import names, search
from kiosk.circulation.stats import overdue as chase
from kiosk.i18n import N_
from kiosk.web import current_lang, gettext, web
from kiosk.web.admin.charts import bars, columns
from kiosk.web.api import status_of
from kiosk.web.auth import require_login, user_name
from kiosk.web.live import event_stream

bp = Blueprint("admin", __name__, url_prefix="/admin")
EXPORTS = ("loans", "patrons", "items", "events")
EVENTS_PER_PAGE = 100
# Words the pages show for stored codes (roles, statuses, event types).
LABELS = (
    N_("student"),
    N_("teacher"),
    N_("helper"),
    N_("librarian"),
    N_("active"),
    N_("blocked"),
    N_("left"),
    N_("available"),
    N_("on_loan"),
    N_("lost"),
    N_("damaged"),
    N_("withdrawn"),
    N_("checkout"),
    N_("checkin"),
    N_("renew"),
    N_("undo"),
)


def actor() -> str:
    """Return who is acting, as events record it."""
    return f"librarian:{user_name() or '?'}"


MOST_PAGES = 1_000_000  # a page number past any list (a longer one would not fit an SQL offset)


def page_number() -> int:
    """Return the page a list is asked for (from 1; nonsense is the first page)."""
    raw = request.args.get("page", "1")
    return min(int(raw), MOST_PAGES) if raw.isdigit() and int(raw) > 0 else 1


@bp.app_template_global()
def page_href(page: int) -> str:
    """Return this list's address at another page, keeping its filters."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    return "?" + urlencode({**args, "page": page})


# The dashboard's login and network check (kiosk/web/auth/); the hub's pages use it too.
guard = require_login
bp.before_request(guard)


# -- dashboard -------------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(web().settings.kiosk.timezone)


@bp.get("/")
def index() -> str:
    """Show status, today, overdue counts and the charts."""
    return index_page()


def index_page(koha: dict[str, str] | None = None) -> str:
    """Render the overview; `koha` is a refused Koha export's fields and its error."""
    ctx = web()
    store, tz = ctx.store, _tz()
    start, end = dashboard.term_range(store, tz)
    month = dashboard.month_start(store, tz)
    per_day = dashboard.loans_per_day(store, tz, start, end)
    per_class = dashboard.loans_per_class(store, tz, month)[:15]
    top = dashboard.top_books(store, tz, month, 10)
    return render_template(
        "admin/index.html",
        status=status_of(ctx),
        today=dashboard.today(store, tz),
        overdue=[(c, len(rows)) for c, rows in chase.by_class(chase.overdue_loans(store, tz))],
        term=(start, end),
        per_day=columns(per_day, gettext("Loans per day this term")),
        per_class=bars(per_class, gettext("Loans per class this month")),
        top=bars(top, gettext("Top books this month")),
        loans_this_term=sum(n for _, n in per_day),
        koha=koha or {"branch": "MAIN", "holdings": "952", "error": ""},
    )


@bp.get("/today")
def today() -> str:
    """Return the live 'today' panel (fetched again after each change)."""
    return render_template("admin/_today.html", today=dashboard.today(web().store, _tz()))


@bp.get("/live")
def live() -> Response:
    """Tell the dashboard, as Server-Sent Events, that something was committed."""
    return event_stream(
        web().broker,
        opening=lambda _: ["retry: 2000\n\n"],
        render=lambda u: f"data: {json.dumps({'kind': u.kind})}\n\n" if u.kind == "ok" else None,
        idle=lambda: ": still here\n\n",
        keepalive_s=15.0,
        address=request.remote_addr or "",
        screen=False,  # even on the kiosk's own browser: the touchscreen's place is not its
    )


# The old overdue page and its print view: the overdue report does all they did (every overdue
# loan by class, one page per class to print) and more, so their addresses lead there for good.
def _args() -> dict[str, Any]:
    return request.args.to_dict()


@bp.get("/overdue")
def overdue() -> Any:
    """Send the old overdue page's visitors to the overdue report, for good."""
    return redirect(url_for("reports.overdue", **_args()), 301)


@bp.get("/overdue/print")
def overdue_print() -> Any:
    """Send the old overdue print view's visitors to the report's print view, for good."""
    return redirect(url_for("reports.overdue_print", **_args()), 301)


@bp.get("/events")
def events() -> str:
    """Show the event log, filtered, newest first, a page at a time."""
    ctx = web()
    f = {k: request.args.get(k, "").strip() for k in ("type", "actor", "patron_id", "item_barcode")}
    since, until = request.args.get("since", ""), request.args.get("until", "")
    tz, page = _tz(), page_number()
    # One row more than a page tells whether another follows: counting a year's log would not pay.
    rows = dashboard.events(
        ctx.store,
        **f,
        since=_day_stamp(since, tz),
        until=_day_stamp(until, tz, next_day=True),
        limit=EVENTS_PER_PAGE + 1,
        offset=(page - 1) * EVENTS_PER_PAGE,
    )
    found = search.page_ahead(rows, page, EVENTS_PER_PAGE)
    for row in found.rows:
        data = json.loads(row["data"])
        # A record that is not an object (a store from before the hub's checks) is shown as it is.
        row["data"] = data if isinstance(data, dict) else {"data": row["data"]}
    return render_template(
        "admin/events.html",
        rows=found.rows,
        found=found,
        known=names.lookup(ctx.store, found.rows),
        filters={**f, "since": since, "until": until},
        types=dashboard.event_types(ctx.store),
    )


def _day_stamp(day: str, tz: ZoneInfo, next_day: bool = False) -> str:
    import datetime as dt

    try:
        d = dt.date.fromisoformat(day)
    except ValueError:
        return ""
    return dashboard.day_start(d + dt.timedelta(days=1 if next_day else 0), tz)


@bp.get("/export/<kind>.csv")
def export(kind: str) -> Response:
    """Download loans, patrons, items or events as CSV (UTF-8 with BOM, for Excel)."""
    if kind not in EXPORTS:
        abort(404)
    from kiosk.circulation.export import csv_chunks

    ctx, who = web(), actor()

    def recorded(count: int) -> None:
        record_admin_action(ctx.store, "export", who, kind=kind, rows=count)

    chunks = csv_chunks(
        ctx.store,
        kind,
        timezone=ctx.settings.kiosk.timezone,
        bom=True,
        lang=current_lang(),  # column titles and stored codes in the reader's language
        done=recorded,
    )
    name = f"{kind}-{dashboard.local_today(ctx.store, _tz()).isoformat()}.csv"
    # Streamed as the rows are read: a year of events never sits in memory at once.
    return Response(
        (chunk.encode("utf-8") for chunk in chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/export/<kind>.xlsx")
def export_xlsx(kind: str) -> Response:
    """Download loans, patrons, items or events as an Excel workbook, headers in your language."""
    if kind not in EXPORTS:
        abort(404)
    from kiosk.circulation.xlsx_export import xlsx_bytes

    ctx = web()
    data, count = xlsx_bytes(ctx.store, kind, current_lang(), ctx.settings.kiosk.timezone)
    record_admin_action(ctx.store, "export", actor(), kind=kind, rows=count, format="xlsx")
    name = f"{kind}-{dashboard.local_today(ctx.store, _tz()).isoformat()}.xlsx"
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/export/koha")
def export_koha() -> Any:
    """Download the patrons as Koha's patron import CSV, or the catalogue as MARC 21."""
    from kiosk.circulation.koha_export import HOLDINGS, marc_records, write_koha_patrons

    kind, holdings = request.args.get("kind", ""), request.args.get("holdings", "952")
    branch = request.args.get("branch", "").strip()
    if kind not in ("patrons", "marc") or holdings not in HOLDINGS:
        # The form sends both; a bare address (a bookmark, a typed URL) goes back to it.
        flash(gettext("Choose what to export for Koha: the patrons or the catalogue."), "error")
        return redirect(url_for("admin.index"))
    if not KOHA_BRANCH.fullmatch(branch):
        # The overview again, the code as typed and what is wrong beside it.
        error = gettext("A Koha branch code is 1 to 10 letters, digits, - or _.")
        return index_page({"branch": branch, "holdings": holdings, "error": error}), 400
    ctx, who = web(), actor()
    day = dashboard.local_today(ctx.store, _tz()).isoformat()
    if kind == "patrons":
        text = io.StringIO()
        count = write_koha_patrons(ctx.store.reader, text, branch)
        record_admin_action(ctx.store, "export", who, kind="koha-patrons", rows=count)
        return _download(text.getvalue().encode("utf-8"), f"koha-patrons-{day}.csv", "text/csv")

    def records() -> Iterator[bytes]:
        # Streamed a book at a time, on this thread's own read connection.
        count = 0
        for record in marc_records(web().store.reader, branch=branch, holdings=holdings):
            yield record.as_marc()
            count += 1
        record_admin_action(ctx.store, "export", who, kind="koha-marc", rows=count)

    return _download(stream_with_context(records()), f"catalogue-{day}.mrc", "application/marc")


def _download(data: Any, name: str, mimetype: str) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, mimetype=mimetype, headers=disposition)


KOHA_BRANCH = re.compile(r"[A-Za-z0-9_-]{1,10}")


# Their routes join this blueprint.
from kiosk.web.admin import item_types  # noqa: E402, F401
from kiosk.web.admin import records as record_pages  # noqa: E402, F401
