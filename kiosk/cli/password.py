"""`kiosk password`: set a librarian's password from the kiosk's own shell (a forgotten one too),
or let a librarian locked out by password guessing log in again (`--unlock`)."""

from __future__ import annotations

import getpass
import ipaddress

import click

from kiosk.circulation.records import record_admin_action
from kiosk.i18n import _


def fail(message: str) -> None:
    """Say what is wrong and exit non-zero, changing nothing."""
    click.echo(_("error: {message}", message=message), err=True)
    raise SystemExit(1)


@click.command()
@click.option("--user", default="librarian", show_default=True, help="The librarian's user name.")
@click.option(
    "--unlock",
    is_flag=True,
    help="Keep the password and let the librarian log in again at once: the running kiosk "
    "forgets the failed logins (setting a new password does this too).",
)
@click.option(
    "--address",
    default="",
    help="With --unlock: an address (like 192.168.1.23) to trust from now on as one the "
    "librarian logged in from before; guessing elsewhere never holds it up.",
)
@click.pass_context
def password(ctx: click.Context, user: str, unlock: bool, address: str) -> None:
    """Set a librarian's password (a first install, a forgotten one), or unlock its login."""
    # Here, not at the top: the other commands do not load the web pages (Flask).
    from kiosk.web.security import Passwords, new_password_problem, user_name_problem

    kiosk_ctx = ctx.obj  # the main command's Context (not imported: web must not reach the wiring)
    settings = kiosk_ctx.settings
    if problem := user_name_problem(user):
        fail(_(problem[0], **problem[1]))
    passwords = Passwords(settings.resolve(settings.web.password_file))
    if address and not unlock:
        fail(_("--address goes with --unlock."))
    if unlock:
        if user not in passwords.users():
            fail(_("There is no librarian called {user}.", user=user))
        try:
            address = str(ipaddress.ip_address(address)) if address else ""
        except ValueError:
            fail(_("{address} is not an address like 192.168.1.23.", address=address))
        passwords.unlock(user, address)
        click.echo(_("{user} can log in again now: the failed logins are forgotten.", user=user))
        if address:
            click.echo(
                _("{address} is trusted for {user} from now on.", address=address, user=user)
            )
        return
    first = click.prompt(_("New password"), hide_input=True, err=True)
    # Length first, before asking again; then whether the two agree.
    if problem := new_password_problem(first, first) or new_password_problem(
        first, click.prompt(_("Password again"), hide_input=True, err=True)
    ):
        fail(_(problem[0], **problem[1]))
    store = kiosk_ctx.store(create=True)
    try:
        passwords.set(user, first)
        record_admin_action(store, "admin_password_set", f"cli:{getpass.getuser()}", user=user)
    finally:
        store.close()
    click.echo(_("Password set for {user}.", user=user))
