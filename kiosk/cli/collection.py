"""`kiosk stocktake ...` and `kiosk promote`: the collection's chores from the command line.

`kiosk stocktake start` on a kiosk puts that kiosk in stocktake mode (the daemon reads the open
stocktake from the store at each scan), so it needs no running daemon and no restart.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from kiosk.circulation.collection import csvout, lost, promotion, stocktake
from kiosk.circulation.store import Store
from kiosk.cli.context import Context, fail, pass_ctx, shown_language, table_language
from kiosk.i18n import _


def _refused(outcome: Any, messages: dict[str, str]) -> None:
    if outcome.refusal is not None:
        fail(_(messages[outcome.reason], **outcome.refusal.params))


@click.group("stocktake")
def stocktake_cmd() -> None:
    """Count the shelves against the records (清查/盘点)."""


@stocktake_cmd.command()
@click.option("--location", default="", help="Location to count, e.g. library or 三(2)班.")
@click.option("--from", "call_from", default="", help="First call number of the range.")
@click.option("--to", "call_to", default="", help="Last call number (or its start) of the range.")
@pass_ctx
def start(ctx: Context, location: str, call_from: str, call_to: str) -> None:
    """Start a stocktake (or resume a paused one); this kiosk's scans then count for it."""
    scope = stocktake.Scope(location.strip(), call_from.strip(), call_to.strip())
    _stocktake(
        ctx,
        lambda store: stocktake.start(store, scope, "cli"),
        _("stocktake running: {scope}; scan the books on the shelves", scope=scope.label()),
    )


def _chosen(ctx: Context, stocktake_id: str | None) -> tuple[Any, dict[str, Any]]:
    store = ctx.store()
    st = (
        stocktake.get(store.reader, stocktake_id)
        if stocktake_id
        else stocktake.latest(store.reader)
    )
    if st is None:
        store.close()
        fail(_("no stocktake yet; start one with `kiosk stocktake start --location LOC`"))
    assert st is not None
    return store, st


@stocktake_cmd.command()
@click.option("--id", "stocktake_id", help="Which stocktake (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def status(ctx: Context, stocktake_id: str | None, as_json: bool) -> None:
    """Show the stocktake's scope, state and counts so far."""
    store, st = _chosen(ctx, stocktake_id)
    try:
        counts = stocktake.counts(store.reader, st)
    finally:
        store.close()
    scope = stocktake.Scope.of(st).label()
    if as_json:
        out = {"id": st["id"], "scope": scope, "status": st["status"], "counts": counts}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(
        _(
            "stocktake {scope}: {status}",
            scope=scope,
            status=_(stocktake.STATUS_NAMES[st["status"]]),
        )
    )
    for key, n in counts.items():
        click.echo(f"  {_(stocktake.STATUS_NAMES[key])}: {n}")


@stocktake_cmd.command()
@click.option("--id", "stocktake_id", help="Which stocktake (default: the current one).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv"]),
    default="text",
    show_default=True,
    help="text for reading, csv for a spreadsheet (one row per barcode).",
)
@table_language
@pass_ctx
def report(ctx: Context, stocktake_id: str | None, fmt: str, lang: str, codes: bool) -> None:
    """List every barcode with its status: found, missing, misplaced, on_loan_found, unknown."""
    store, st = _chosen(ctx, stocktake_id)
    try:
        rows = stocktake.report(store.reader, st)
    finally:
        store.close()
    if fmt == "csv":
        tz, shown = ctx.settings.kiosk.timezone, shown_language(lang, codes)
        columns, words = list(stocktake.REPORT_COLUMNS), stocktake.REPORT_WORDS
        csvout.write(sys.stdout, rows, columns, tz, lang=shown, words=words)
        return
    for r in rows:
        click.echo(
            f"{r['barcode']:<16} {_(stocktake.STATUS_NAMES[r['status']]):<12} "
            f"{r['call_number'] or '':<14} {r['title'] or ''}"
        )


@stocktake_cmd.command()
@pass_ctx
def pause(ctx: Context) -> None:
    """Pause the stocktake: the kiosk lends and returns again until it is resumed."""
    _stocktake(
        ctx, lambda store: stocktake.set_status(store, "paused", "cli"), _("stocktake paused")
    )


@stocktake_cmd.command()
@pass_ctx
def resume(ctx: Context) -> None:
    """Resume a paused stocktake."""
    _stocktake(
        ctx, lambda store: stocktake.set_status(store, "open", "cli"), _("stocktake running again")
    )


@stocktake_cmd.command()
@pass_ctx
def finish(ctx: Context) -> None:
    """Finish the stocktake; its report stays."""
    _stocktake(
        ctx,
        lambda store: stocktake.set_status(store, "finished", "cli"),
        _("stocktake finished; `kiosk stocktake report` shows what was found"),
    )


def _stocktake(ctx: Context, act: Callable[[Store], Any], done: str) -> None:
    """Start a stocktake or change its state; say `done`, or why it was refused."""
    store = ctx.store()
    try:
        outcome = act(store)
    finally:
        store.close()
    _refused(outcome, stocktake.MESSAGES)
    click.echo(done)


@stocktake_cmd.command("mark-lost")
@click.option("--id", "stocktake_id", help="Which stocktake (default: the current one).")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@pass_ctx
def mark_lost(ctx: Context, stocktake_id: str | None, yes: bool) -> None:
    """Mark every missing book of the stocktake lost, after confirmation."""
    store, st = _chosen(ctx, stocktake_id)
    try:
        missing = [
            r["barcode"] for r in stocktake.report(store.reader, st) if r["status"] == "missing"
        ]
        if not missing:
            click.echo(_("no missing books"))
            return
        if not yes:
            click.confirm(
                _("mark the missing books lost ({count})?", count=len(missing)), abort=True
            )
        note = f"stocktake {stocktake.Scope.of(st).label()}"
        done = sum(o.ok for o in lost.mark_many_lost(store, missing, "cli", note))
    finally:
        store.close()
    click.echo(_("Books marked lost: {count}", count=done))


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option("--close-leavers", is_flag=True, help="Only close the leavers whose books are back.")
@pass_ctx
def promote(ctx: Context, dry_run: bool, close_leavers: bool) -> None:
    """Move every class up a grade for the new school year; leavers with books stay on a list."""
    import datetime as dt

    last_grade = ctx.settings.collection.last_grade
    store = ctx.store()
    try:
        if close_leavers:
            outcome = promotion.close_leavers(store, "cli", last_grade)
        else:
            plan = promotion.plan(store.reader, dt.date.today(), last_grade)
            click.echo(promotion.describe(plan, _))
            if dry_run:
                click.echo(_("dry run: nothing changed"))
                return
            outcome = promotion.promote(store, plan, "cli", dt.date.today())
    finally:
        store.close()
    _refused(outcome, promotion.MESSAGES)
    if close_leavers:
        count = len(outcome.events[0].data["leavers"])
        click.echo(_(promotion.MESSAGES["leavers_closed"], count=count))


LISTS = ("lost", "damaged", "in-repair", "withdrawn", "corners", "holds", "surplus")


@click.command("list")
@click.argument("kind", type=click.Choice(LISTS))
@table_language
@pass_ctx
def list_cmd(ctx: Context, kind: str, lang: str, codes: bool) -> None:
    """Write a collection list as CSV (lost, damaged, in-repair, withdrawn, corners, holds...)."""
    import datetime as dt

    from kiosk.circulation.collection import corners, holds, weeding

    store = ctx.store()
    try:
        db = store.reader
        if kind == "withdrawn":
            rows = weeding.withdrawals(db)
        elif kind == "corners":
            rows = corners.recall(db)
        elif kind == "holds":
            rows = holds.all_open(db)
        elif kind == "surplus":
            today = dt.date.today()
            rows = weeding.surplus(
                db, f"{today.year if today.month >= 9 else today.year - 1}-09-01"
            )
        else:
            rows = lost.incidents(db, kind.replace("-", "_"))
    finally:
        store.close()
    # The codes in words, as the dashboard's lists show them.
    words = {
        "kind": lost.NAMES,
        "compensation": lost.NAMES,
        "resolved_as": lost.NAMES,
        "reason": weeding.REASONS,
        "status": holds.STATUS_NAMES if kind == "holds" else None,
    }
    if rows:
        tz, shown = ctx.settings.kiosk.timezone, shown_language(lang, codes)
        csvout.write(sys.stdout, rows, list(rows[0]), tz, lang=shown, words=words)
