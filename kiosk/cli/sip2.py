"""`kiosk sip2`: try a card and a book against the library system, list replay conflicts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from kiosk.cli.context import Context, fail, pass_ctx
from kiosk.i18n import _, cli_language


@click.group()
def sip2() -> None:
    """The kiosk as a self-check of a library system over SIP2 (docs/sip2.md)."""


@sip2.command("test")
@click.argument("card")
@click.argument("barcode", required=False)
@pass_ctx
def test_cmd(ctx: Context, card: str, barcode: str | None) -> None:
    """Ask the library system about CARD (63) and BARCODE (17), and print its answers."""
    from kiosk.sip2.client import LoginRefused, Offline, Sip2Client
    from kiosk.sip2.diagnose import CIRCULATION, STATUS_WORDS
    from kiosk.sip2.protocol import Malformed, due_date
    from kiosk.sip2.service import card_check
    from kiosk.sip2.wiring import resolved

    s = ctx.settings
    if not s.sip2.address:
        fail(_("no [sip2] address in {config}", config=ctx.config_path))
    client = Sip2Client(resolved(s))
    try:
        client.connect()
        info = client.patron_information(card)
        item = client.item_information(barcode) if barcode else None
    except (Offline, LoginRefused, Malformed) as e:
        fail(_("the library system did not answer well: {error}; try `kiosk doctor`", error=e))
        raise AssertionError from None
    finally:
        client.close()
    valid = info.get("BL", "?")
    name = info.get("AE")
    click.echo(_("card {card}: {name}, valid patron: {valid}", card=card, name=name, valid=valid))
    flags = [_(w) for i, w in STATUS_WORDS.items() if info.fixed[i : i + 1] == "Y"]
    verdict = card_check(info)
    click.echo(_("status: {flags}", flags=", ".join(flags) or _("no blocks")))
    click.echo(_("the kiosk would: {verdict}", verdict=_("lend") if verdict.ok else verdict.reason))
    click.echo(_("books on loan: {count}", count=info.fixed[43:47].strip() or "0"))
    if info.get("BV"):
        click.echo(_("fines: {amount} {currency}", amount=info.get("BV"), currency=info.get("BH")))
    for line in info.all("AF"):
        click.echo(_("the library says: {words}", words=line))
    if item is not None:
        code = item.fixed[:2]
        click.echo(
            _(
                "book {barcode}: {title}, {status}",
                barcode=barcode,
                title=item.get("AJ") or "-",
                status=_(CIRCULATION.get(code, code)),
            )
        )
        due = due_date(item.get("AH"), ZoneInfo(s.kiosk.timezone))
        if due is not None:
            click.echo(_("due {date}", date=due.strftime("%Y-%m-%d %H:%M")))
        for line in item.all("AF"):
            click.echo(_("the library says: {words}", words=line))


@sip2.command()
@pass_ctx
def conflicts(ctx: Context) -> None:
    """List what the library system refused when the offline transactions were sent."""
    from kiosk.sip2.conflicts import describe, refused

    store = ctx.store()
    try:
        rows = refused(store)
    finally:
        store.close()
    if not rows:
        click.echo(_("no conflicts: the library system took every offline transaction"))
        return
    for row in rows:
        click.echo(describe(row, cli_language(), ctx.settings.kiosk.timezone))
