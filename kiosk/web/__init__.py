"""The kiosk's pages and API: `create_app` builds the Flask app, `WebServer` serves it.

One package per area, each with one blueprint (docs/web.md lists them with their URLs):
`screen` (the touchscreen, `/`), `desk` (helpers, `/desk`), `admin` (the librarian's dashboard,
`/admin`), `auth` (login), `catalogue` (cards and labels), `collection`, `reports`, `reading`,
`api` (JSON, `/api/v1`) and, on the hub only, `hub`. What every area shares stays here: this
module (the app, the request's language, `web()`), `live.py` (the live pages' updates),
`security.py` (passwords, login limits, networks) and `server.py` (waitress). The app works on a
store alone (the hub reuses the dashboard) or on a running daemon, which adds the live session
and the devices.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.config import Settings
from kiosk.i18n import LANGUAGES, N_, translate
from kiosk.web.live import Broker, Update
from kiosk.web.security import LoginLimit, Network, Passwords, parse_networks, secret_key

COPY_WAIT_S = 5.0  # at most: a copy waits for the store's writer as long as any write
CSRF_MESSAGE = N_("This form has expired. Go back, reload the page and try again.")


@dataclass
class Web:
    """What every request handler needs: the store, the daemon (or None) and the settings."""

    store: Store
    settings: Settings
    daemon: Any = None
    circulation: Circulation = field(init=False)
    broker: Broker = field(default_factory=Broker)
    passwords: Passwords = field(init=False)
    logins: LoginLimit = field(init=False)
    networks: list[Network] = field(default_factory=list)
    screens: list[Network] = field(default_factory=list)
    jobs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.settings
        self.circulation = (
            self.daemon.circulation
            if self.daemon is not None
            else Circulation(self.store, s.kiosk.timezone)
        )
        self.passwords = Passwords(s.resolve(s.web.password_file))
        self.logins = LoginLimit(
            s.web.login_attempts,
            s.web.login_window_s,
            s.web.login_ceiling,
            accounts=self.passwords,
        )

    @property
    def kiosk(self) -> Any:
        """Return the live session, or None without a daemon."""
        return self.daemon.kiosk if self.daemon is not None else None

    def sync_state(self) -> dict[str, Any] | None:
        """Return the sync worker's state, or None when no hub is configured."""
        sync = getattr(self.daemon, "sync", None) if self.daemon is not None else None
        if sync is None:
            return None
        try:
            return dict(sync.state())
        except Exception as e:  # a broken sync worker must not break the pages
            return {"online": False, "last_error": str(e), "queue_length": None}


def web() -> Web:
    """Return this app's `Web`."""
    ctx: Web = current_app.extensions["kiosk"]
    return ctx


Found = TypeVar("Found")


def found_or_404(row: Found | None) -> Found:
    """Return the record a page's address names, or answer 404 when there is none."""
    if row is None:
        abort(404)
    return row


def create_app(
    *,
    store: Store,
    settings: Settings,
    daemon: Any = None,
    networks: list[Network] | None = None,
    test_config: dict[str, Any] | None = None,
    hub: bool = False,
) -> Flask:
    """Build the app on a store (and a running daemon, if any); `hub` adds the hub's pages."""
    s = settings.web
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings.resolve(s.secret_key_file)),
        SESSION_COOKIE_NAME="kiosk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=s.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=s.session_hours),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        JSON_AS_ASCII=False,
        # The touchscreen stays open for days: its token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = SessionInterface()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if test_config:
        app.config.update(test_config)
    ctx = Web(
        store=store,
        settings=settings,
        daemon=daemon,
        broker=Broker(max_clients=max(1, s.threads - 2), per_address=s.live_pages_per_address),
        networks=networks if networks is not None else parse_networks(s.admin_networks),
        screens=parse_networks(s.screen_addresses),
    )
    app.extensions["kiosk"] = ctx
    from kiosk.web import (
        admin,
        api,
        auth,
        catalogue,
        collection,
        desk,
        reading,
        reports,
        screen,
    )
    from kiosk.web.screen import find

    if daemon is not None:
        daemon.kiosk.subscribe(_session_listener(ctx))
        daemon.on_loop.append(find.watch(ctx))  # an idle search closes after a while

    CSRFProtect(app)
    auth.init_login(app)
    for area in (auth, screen, desk, admin, api, catalogue, collection, reports, reading):
        app.register_blueprint(area.bp)
    if hub:
        from kiosk.web import hub as hub_pages

        app.config["HUB"] = True  # the dashboard's menu then links the hub's own pages
        app.register_blueprint(hub_pages.bp)
    app.before_request(_before)
    app.jinja_env.globals.update(_=gettext, csrf_token=generate_csrf, lang=current_lang)
    app.jinja_env.filters["local_time"] = local_time
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(HTTPException, _error_page)
    return app


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the page came over HTTPS.

    Behind the reverse proxy (`[web] trusted_proxy`), waitress takes the scheme from the
    proxy's X-Forwarded-Proto, so `request.is_secure` says what the browser used.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return True for HTTPS requests, or always with `[web] cookie_secure`."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _csrf_refused(e: CSRFError) -> Any:
    e.description = CSRF_MESSAGE
    return _error_page(e)


# What a librarian or helper reads instead of werkzeug's defaults, in both languages.
HTTP_ERRORS = {
    400: N_("The request was not understood. Reload the page and try again."),
    403: N_("This page cannot be opened from here."),
    404: N_("There is no such page."),
    405: N_("This page cannot be used that way. Go back and use the buttons on the page."),
    413: N_("The file is too large: at most 20 MB. Split it into smaller files."),
    500: N_(
        "Something went wrong on the kiosk. Try again; if it happens again, tell the IT person."
    ),
}


def _error_page(e: HTTPException) -> Any:
    """Show an error in the reader's language: what is wrong, and what to do."""
    from flask import render_template

    description = e.description
    if description == type(e).description:  # werkzeug's own English text: use ours
        description = HTTP_ERRORS.get(e.code or 0, description)
    message = gettext(description) if description else ""
    # werkzeug's own headers of the error (a 405's Allow), not its HTML content type.
    headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return {"error": message}, e.code, headers
    return render_template("error.html", code=e.code, message=message), e.code, headers


def _session_listener(ctx: Web) -> Any:
    """Return the session listener: a snapshot into every page's queue, never waiting."""

    def listener(fb: Any) -> None:
        kiosk = ctx.kiosk
        ctx.broker.publish(
            Update(
                kind=fb.kind,
                feedback=fb,
                mode=kiosk.mode,
                patron=kiosk.patron,
                results=tuple(kiosk.results[-8:]),
                seconds_left=kiosk.seconds_left(),
                extra={"published_ms": time.time() * 1000, "counting": kiosk.counting},
            )
        )

    return listener


# -- per request -----------------------------------------------------------------------------


def _before() -> None:
    # An answer on the screen may have its copy written a moment later (SIP2): a page reads
    # the store after it, as the child saw it.
    web().circulation.copies_written(COPY_WAIT_S)
    chosen = request.args.get("lang") or request.cookies.get("lang")
    g.lang = chosen if chosen in LANGUAGES else web().settings.kiosk.language
    if session.get("user"):
        from kiosk.web.auth import user_name

        if user_name() is None:  # logged out elsewhere or the password changed: over here too
            session.pop("user")


def _security_headers(response: Any) -> Any:
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Everything the pages use comes from this server; nothing inline runs.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    )
    return response


def at_the_screen() -> bool:
    """Return whether this request comes from the kiosk's own screen (`[web] screen_addresses`)."""
    from kiosk.web.security import allowed

    return allowed(request.remote_addr, web().screens)


def current_lang() -> str:
    """Return the language of this request."""
    return str(getattr(g, "lang", "zh_CN"))


def gettext(message: str, /, **params: Any) -> str:
    """Translate a message id into the language of this request."""
    return translate(message, current_lang(), **params)


def bilingual(message: str, /, **params: Any) -> Markup:
    """Return a message in both languages; the touchscreen shows one and switches in a tap."""
    zh, en = translate(message, "zh_CN", **params), translate(message, "en", **params)
    return Markup('<span lang="zh-CN">{}</span><span lang="en">{}</span>').format(
        escape(zh), escape(en)
    )


def local_time(stamp: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in the school's time zone."""
    if not stamp:
        return ""
    from zoneinfo import ZoneInfo

    try:
        when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:  # a bad record (from a store before the hub's checks): shown as it is
        return str(stamp)
    return when.astimezone(ZoneInfo(web().settings.kiosk.timezone)).strftime(fmt)
