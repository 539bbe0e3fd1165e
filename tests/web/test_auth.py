"""`login_required` for the pages other areas add (kiosk.web.auth)."""

from __future__ import annotations

from flask import Blueprint, Flask

from kiosk.daemon.app import Daemon
from kiosk.web import create_app
from kiosk.web.auth import login_required, user_name
from web.helpers import LOOPBACK, set_up_and_login, text


def test_a_view_marked_login_required_needs_the_librarian(daemon: Daemon) -> None:
    app: Flask = create_app(store=daemon.store, settings=daemon.settings, networks=LOOPBACK)
    bp = Blueprint("new_area", __name__, url_prefix="/new-area")

    @bp.get("/")
    @login_required
    def index() -> str:
        return f"report for {user_name()}"

    app.register_blueprint(bp)
    c = app.test_client()
    assert c.get("/new-area/").headers["Location"] == "/admin/setup"
    set_up_and_login(c)
    assert text(c.get("/new-area/")) == "report for librarian"
    outside = app.test_client()
    outside.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert outside.get("/new-area/").status_code == 403
    fresh = app.test_client()
    r = fresh.get("/new-area/?x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/admin/login?next=/new-area/?x%3D1"
