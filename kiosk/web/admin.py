"""The librarian's dashboard (`/admin`): login, live status, today, overdue, charts, event log.

Only from `[web] admin_networks`, only after login (`kiosk/web/auth.py`, which also sets the
first password: there is no default one). Patrons, items, import and rules live in
`admin_records.py` on the same blueprint.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
)

from kiosk.circulation import dashboard
from kiosk.circulation.records import record_admin_action
from kiosk.circulation.stats import names
from kiosk.i18n import N_
from kiosk.web import at_the_screen, current_lang, gettext, web
from kiosk.web.api import status_of
from kiosk.web.auth import require_login, user_name
from kiosk.web.charts import bars, columns
from kiosk.web.live import event_stream

bp = Blueprint("admin", __name__, url_prefix="/admin")
EXPORTS = ("loans", "patrons", "items", "events")
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


# The dashboard's login and network check (kiosk/web/auth.py); the hub's pages use it too.
guard = require_login
bp.before_request(guard)


# -- dashboard -------------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(web().settings.kiosk.timezone)


@bp.get("/")
def index() -> str:
    """Show status, today, overdue counts and the charts."""
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
        overdue=[(c, len(rows)) for c, rows in dashboard.overdue_by_class(store)],
        term=(start, end),
        per_day=columns(per_day, gettext("Loans per day this term")),
        per_class=bars(per_class, gettext("Loans per class this month")),
        top=bars(top, gettext("Top books this month")),
        loans_this_term=sum(n for _, n in per_day),
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
        opening=lambda: ["retry: 2000\n\n"],
        render=lambda u: f"data: {json.dumps({'kind': u.kind})}\n\n" if u.kind == "ok" else None,
        idle=lambda: ": still here\n\n",
        keepalive_s=15.0,
        address=request.remote_addr or "",
        trusted=at_the_screen(),
    )


@bp.get("/overdue")
def overdue() -> str:
    """List overdue loans by class."""
    return render_template("admin/overdue.html", classes=dashboard.overdue_by_class(web().store))


@bp.get("/overdue/print")
def overdue_print() -> str:
    """Print one notice per class for the teacher to hand out."""
    ctx = web()
    classes = dashboard.overdue_by_class(ctx.store)
    wanted = request.args.get("class")
    if wanted:
        classes = [(c, rows) for c, rows in classes if c == wanted]
    return render_template(
        "admin/overdue_print.html",
        classes=classes,
        today=dashboard.local_today(ctx.store, _tz()),
    )


@bp.get("/events")
def events() -> str:
    """Show the event log, filtered."""
    ctx = web()
    f = {k: request.args.get(k, "").strip() for k in ("type", "actor", "patron_id", "item_barcode")}
    since, until = request.args.get("since", ""), request.args.get("until", "")
    tz = _tz()
    rows = dashboard.events(
        ctx.store,
        **f,
        since=_day_stamp(since, tz),
        until=_day_stamp(until, tz, next_day=True),
        limit=500,
    )
    for row in rows:
        row["data"] = json.loads(row["data"])
    return render_template(
        "admin/events.html",
        rows=rows,
        known=names.lookup(ctx.store, rows),
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
    chinese = current_lang() == "zh_CN"  # column titles in the reader's language

    def recorded(count: int) -> None:
        record_admin_action(ctx.store, "export", who, kind=kind, rows=count)

    chunks = csv_chunks(
        ctx.store,
        kind,
        timezone=ctx.settings.kiosk.timezone,
        bom=True,
        chinese=chinese,
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


from kiosk.web import admin_records  # noqa: E402, F401  (its routes join this blueprint)
