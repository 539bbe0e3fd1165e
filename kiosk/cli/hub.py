"""`kiosk hub`: run the central hub, register and revoke kiosks, show kiosks and conflicts."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kiosk.circulation.records import seed_rules
from kiosk.circulation.store import Store, StoreError
from kiosk.i18n import N_, _
from kiosk.sync import hubstore

T = TypeVar("T")


def _fail(message: str) -> None:
    click.echo(_("error: {message}", message=message), err=True)
    sys.exit(1)


def _open(ctx: click.Context) -> Store:
    settings = ctx.obj.settings  # kiosk.cli.Context, which exits on a bad config
    path = ctx.obj.store_path()  # exits when it names a folder
    if hubstore.used_by_a_kiosk(path):
        _fail(_(KIOSK_STORE, path=path, config=ctx.obj.config_path))
    try:
        store = hubstore.open_hub_store(
            path,
            hub_id=settings.kiosk.id,
            wal_max_pages=settings.store.wal_max_pages,
        )
    except StoreError as e:
        _fail(str(e))
        raise
    seed_rules(store, settings.rules)
    return store


KIOSK_STORE = N_(
    "{path} is a kiosk's own store, not a hub's ({config} is this kiosk's config); "
    "give the hub's config: kiosk --config /etc/kiosk/hub.toml hub ..."
)
CANNOT_SERVE = N_(
    "the hub cannot listen on {listen}: {problem}; set another [web] listen in {config}"
)


@click.group(invoke_without_command=True)
@click.pass_context
def hub(ctx: click.Context) -> None:
    """Run the central hub on [web] listen, or manage its kiosks (see the commands)."""
    if ctx.invoked_subcommand is not None:
        return
    from kiosk.cli.main import port_taken
    from kiosk.daemon.app import freeze_start_up_objects
    from kiosk.daemon.httpserver import limits
    from kiosk.sync.hub import combine, create_hub_app, serve

    settings = ctx.obj.settings
    host, _sep, port = settings.web.listen.rpartition(":")
    if problem := port_taken(host, int(port)):
        # Before the store is opened and "hub ready" is said.
        _fail(
            _(CANNOT_SERVE, listen=settings.web.listen, problem=problem, config=ctx.obj.config_path)
        )
    logging.basicConfig(level=settings.kiosk.log_level, format="%(name)s: %(message)s", force=True)
    store = _open(ctx)
    store.start_checkpointer(settings.store.checkpoint_delay_s)  # batches commit without it
    app = combine(create_hub_app(store, max_batch=settings.hub.max_batch), _pages(ctx, store))
    click.echo(
        _(
            "hub ready: {path}, listening on http://{listen}",
            path=store.path,
            listen=settings.web.listen,
        ),
        err=True,
    )
    # As the daemon does: a full collection walked every module, the app and the dashboard
    # (tens of ms, while holding the GIL) a few times a drain; frozen, only what came later.
    frozen = freeze_start_up_objects()
    logging.getLogger("kiosk.hub").info(
        "%d objects of start-up set aside from the collector", frozen
    )
    try:
        serve(app, settings.web.listen, threads=settings.web.threads, **limits(settings.web))
    finally:
        store.close()


def _pages(ctx: click.Context, store: Store) -> Any:
    """Return the librarian's dashboard on the hub's store, if the command line wires one."""
    factory = getattr(ctx.obj, "hub_pages", None)
    if factory is None:
        return None
    try:
        return factory(store)
    except Exception:  # the sync API must run even when the pages cannot
        logging.getLogger("kiosk.hub").exception("the dashboard could not start; sync API only")
        return None


@hub.command()
@click.argument("kiosk_id")
@click.pass_context
def register(ctx: click.Context, kiosk_id: str) -> None:
    """Give KIOSK_ID a new token and print it (an old token of that kiosk stops working)."""
    if not kiosk_id.strip() or len(kiosk_id) > 64:
        _fail(_("kiosk id must be 1 to 64 characters"))
    token = _on_hub(ctx, lambda store: hubstore.register_kiosk(store, kiosk_id))
    click.echo(token)
    click.echo(
        _("put this token in [hub] token of kiosk {kiosk}; it is shown only once", kiosk=kiosk_id),
        err=True,
    )


@hub.command()
@click.argument("kiosk_id")
@click.pass_context
def revoke(ctx: click.Context, kiosk_id: str) -> None:
    """Revoke KIOSK_ID's token: the hub refuses it from now on."""
    done = _on_hub(ctx, lambda store: hubstore.revoke_kiosk(store, kiosk_id))
    if not done:
        _fail(_("no kiosk {kiosk} with a valid token", kiosk=kiosk_id))
    click.echo(_("token of kiosk {kiosk} revoked", kiosk=kiosk_id))


def _on_hub(ctx: click.Context, act: Callable[[Store], T]) -> T:
    """Open the hub's store, do one thing with it, close it; return what it gave."""
    store = _open(ctx.find_root())
    try:
        return act(store)
    finally:
        store.close()


def _print(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo("  ".join(str(row.get(c) if row.get(c) is not None else "-") for c in columns))


@hub.command("kiosks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def kiosks_(ctx: click.Context, as_json: bool) -> None:
    """List kiosks with their last contact, clock offset and events received."""
    rows = _on_hub(ctx, hubstore.kiosks)
    cols = ["id", "last_contact", "clock_offset_s", "events_received", "revoked_at"]
    _print(rows, as_json, cols)


@hub.command("conflicts")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def conflicts_(ctx: click.Context, as_json: bool) -> None:
    """List the conflicts the hub found between kiosks, newest first."""
    rows = _on_hub(ctx, hubstore.conflicts)
    cols = [
        "at",
        "kind",
        "kiosk_id",
        "item_barcode",
        "title",
        "patron_id",
        "other_patron_id",
        "other_name",
    ]
    if not as_json:  # what each conflict means, in words (JSON keeps the codes, for scripts)
        rows = [{**r, "kind": _said(r)} for r in rows]
    _print(rows, as_json, cols)


def _said(row: dict[str, Any]) -> str:
    """Return what a conflict means in words, with the field a malformed event got wrong."""
    from kiosk.circulation.schemas import PROBLEMS
    from kiosk.sync.conflicts import KINDS

    said = _(KINDS.get(row["kind"], row["kind"]))
    detail = row["detail"]
    if isinstance(detail.get("field"), str) and detail.get("problem") in PROBLEMS:
        said += f" ({detail['field']}: {_(PROBLEMS[detail['problem']])})"
    return said


@hub.command()
@click.option("--keep", default=100_000, show_default=True, help="Newest feed entries to keep.")
@click.pass_context
def prune(ctx: click.Context, keep: int) -> None:
    """Drop old change-feed entries; a kiosk further behind then takes a fresh snapshot."""
    if keep < 0:
        _fail(_("--keep must be 0 or more"))
    dropped = _on_hub(ctx, lambda store: hubstore.prune_feed(store, keep))
    click.echo(_("dropped {count} feed entries", count=dropped))
