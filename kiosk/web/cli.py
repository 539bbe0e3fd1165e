"""`kiosk password`: set a librarian's password from the kiosk's own shell (a forgotten one too)."""

from __future__ import annotations

import getpass

import click

from kiosk.circulation.records import record_admin_action
from kiosk.i18n import _
from kiosk.web.security import Passwords, new_password_problem, user_name_problem


def fail(message: str) -> None:
    """Say what is wrong and exit non-zero, changing nothing."""
    click.echo(_("error: {message}", message=message), err=True)
    raise SystemExit(1)


@click.command()
@click.option("--user", default="librarian", show_default=True, help="The librarian's user name.")
@click.pass_context
def password(ctx: click.Context, user: str) -> None:
    """Set a librarian's password, for a first install or a forgotten password."""
    kiosk_ctx = ctx.obj  # the main command's Context (not imported: web must not reach the wiring)
    settings = kiosk_ctx.settings
    if problem := user_name_problem(user):
        fail(_(problem[0], **problem[1]))
    first = click.prompt(_("New password"), hide_input=True, err=True)
    # Length first, before asking again; then whether the two agree.
    if problem := new_password_problem(first, first) or new_password_problem(
        first, click.prompt(_("Password again"), hide_input=True, err=True)
    ):
        fail(_(problem[0], **problem[1]))
    store = kiosk_ctx.store(create=True)
    try:
        Passwords(settings.resolve(settings.web.password_file)).set(user, first)
        record_admin_action(store, "admin_password_set", f"cli:{getpass.getuser()}", user=user)
    finally:
        store.close()
    click.echo(_("Password set for {user}.", user=user))
