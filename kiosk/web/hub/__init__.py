"""The hub's own pages (`/admin/hub`): the conflicts between kiosks and each kiosk's last contact.

Only the hub's web app has them (`create_app(..., hub=True)`, from `kiosk hub`): the same
dashboard, on the hub's store, with these two pages and the menu's links to them. They read the
hub's tables through `kiosk.sync.hubstore`, behind the dashboard's network check and login.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from kiosk.circulation.schemas import PROBLEMS
from kiosk.circulation.stats.search import page_of
from kiosk.sync import hubstore
from kiosk.sync.conflicts import KINDS
from kiosk.web import web
from kiosk.web.admin import guard

bp = Blueprint("hub", __name__, url_prefix="/admin/hub")
bp.before_request(guard)


@bp.get("/conflicts")
def conflicts() -> str:
    """Show the conflicts between kiosks, newest first, a page at a time."""
    raw = request.args.get("page", "1")
    found = page_of(hubstore.conflicts(web().store), int(raw) if raw.isdigit() else 1)
    return render_template(
        "hub/conflicts.html", rows=found.rows, found=found, kinds=KINDS, problems=PROBLEMS
    )


@bp.get("/kiosks")
def kiosks() -> str:
    """Show each kiosk's last contact, clock offset and events received."""
    return render_template("hub/kiosks.html", rows=hubstore.kiosks(web().store))
