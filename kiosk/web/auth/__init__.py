"""The librarian's login: the `auth` blueprint (`/admin/login`, `/logout`, `/setup`, `/password`).

Built on Flask-Login (who is logged in, `login_required`) and Flask-WTF (CSRF on every POST,
wired in `create_app`), so that the session and token handling is a well-kept library's, not
ours. What is ours, and why:

- The session names the user *and* a generation kept in the password file. Logging out or
  changing the password starts a new generation, so every older session of that user ends at
  once, on every browser (Flask's signed cookie alone would stay valid until it expires).
- `LoginLimit` counts an attempt before the password hash is checked, per account and address,
  per address, and all together, and backs an account off across addresses; an address the
  account logged in from before is spared all but its own count (`kiosk/web/security.py`).
- `next` after login is only ever a path of this site (`safe_next`).

Every area that needs the librarian uses `login_required` (a view decorator) or
`require_login` (a blueprint's `before_request`), both from here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from kiosk.circulation.records import record_admin_action
from kiosk.i18n import N_, N_plural
from kiosk.web import gettext, web
from kiosk.web.security import allowed, new_password_problem, user_name_problem

bp = Blueprint("auth", __name__, url_prefix="/admin")
FORBIDDEN = N_("The dashboard can only be opened from the school network.")
OPEN_VIEWS = ("auth.login", "auth.setup")
TOO_MANY = N_plural(
    "Too many failed logins. Try again in {count} minute, or from a computer you logged in from"
    " before; at the kiosk, `kiosk password --unlock` lets you in at once.",
    "Too many failed logins. Try again in {count} minutes, or from a computer you logged in from"
    " before; at the kiosk, `kiosk password --unlock` lets you in at once.",
)
F = TypeVar("F", bound=Callable[..., Any])


class Librarian(UserMixin):
    """A logged-in librarian: the account name and the session generation it logged in with."""

    def __init__(self, name: str, generation: int) -> None:
        self.name = name
        self.generation = generation

    def get_id(self) -> str:
        """Return what the session keeps: generation and name."""
        return f"{self.generation}:{self.name}"


def init_login(app: Any) -> LoginManager:
    """Give the app its login manager (no remember-me cookie; sessions end with the browser)."""
    manager = LoginManager(app)
    manager.session_protection = "basic"
    manager.user_loader(_load)
    return manager


def _load(user_id: str) -> Librarian | None:
    generation, _, name = user_id.partition(":")
    passwords = web().passwords
    if name not in passwords.users() or str(passwords.generation(name)) != generation:
        return None  # logged out elsewhere, or the password changed since
    return Librarian(name, int(generation))


def user_name() -> str | None:
    """Return the logged-in librarian's account name, or None."""
    return current_user.name if current_user.is_authenticated else None


def require_login() -> Any:
    """Refuse other networks; send to set-up before a password exists, else to login."""
    ctx = web()
    if not allowed(request.remote_addr, ctx.networks):
        abort(403, description=FORBIDDEN)
    if not ctx.passwords.is_set_up() and request.endpoint != "auth.setup":
        return redirect(url_for("auth.setup"))
    if request.endpoint not in OPEN_VIEWS and user_name() is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    g.user = user_name()
    return None


def login_required(view: F) -> F:
    """Let only a logged-in librarian on an admin network run this view."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        refused = require_login()
        return refused if refused is not None else view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


bp.before_request(require_login)


def safe_next(target: str | None, default: str = "/admin/") -> str:
    """Return `target` if it is a path of this site (a route it serves), else `default`."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ch in "\\\x7f" for ch in target):
        return default  # browsers drop TABs and read \ as /: "/\t/evil" becomes "//evil"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return default
    try:
        current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:
        return default
    return target


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """Set the first librarian password (only while none exists)."""
    ctx = web()
    if ctx.passwords.is_set_up():
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        user = request.form.get("user", "").strip()
        password = request.form.get("password", "")
        problem = user_name_problem(user) or new_password_problem(
            password, request.form.get("again", "")
        )
        if problem:
            error = gettext(problem[0], **problem[1])
        else:
            ctx.passwords.set(user, password)
            record_admin_action(ctx.store, "admin_password_set", f"librarian:{user}", user=user)
            flash(gettext("Password set. Log in with it now."))
            return redirect(url_for("auth.login"))
    return render_template("admin/setup.html", error=error), 400 if error else 200


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Log in; attempts are counted before the password is checked."""
    ctx = web()
    error, status = None, 200
    if request.method == "POST":
        address = request.remote_addr or "?"
        user = request.form.get("user", "").strip()
        wait = ctx.logins.begin(user, address)
        if wait:
            error = gettext(TOO_MANY, count=math.ceil(wait / 60))
            status = 429
        elif ctx.passwords.check(user, request.form.get("password", "")):
            ctx.logins.succeeded(user, address)
            session.clear()  # a fresh session: nothing from before the login carries over
            session.permanent = True
            login_user(Librarian(user, ctx.passwords.generation(user)))
            session["user"] = user  # for display; authority comes from the login above
            return redirect(safe_next(request.args.get("next")))
        else:
            error, status = gettext("Wrong user name or password."), 401
    return render_template("admin/login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Log out: every session of this librarian ends, in every browser."""
    name = user_name()
    if name is not None:
        web().passwords.end_sessions(name)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    """Change the logged-in librarian's password; the librarian's other sessions end."""
    ctx = web()
    user = str(user_name())
    address = request.remote_addr or "?"
    error = None
    if request.method == "POST":
        new = request.form.get("password", "")
        if ctx.logins.begin(user, address):
            error = gettext("Too many wrong passwords. Try again later.")
        elif not ctx.passwords.check(user, request.form.get("current", "")):
            error = gettext("The current password is not right.")
        elif problem := new_password_problem(new, request.form.get("again", "")):
            ctx.logins.succeeded(user, address)
            error = gettext(problem[0], **problem[1])
        else:
            ctx.logins.succeeded(user, address)
            ctx.passwords.set(user, new)
            record_admin_action(ctx.store, "admin_password_changed", f"librarian:{user}", user=user)
            # This browser goes on in the new generation; every other session has ended.
            login_user(Librarian(user, ctx.passwords.generation(user)))
            flash(gettext("Password changed."))
            return redirect(url_for("admin.index"))
    return render_template("admin/password.html", error=error), 400 if error else 200
