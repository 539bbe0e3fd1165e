"""The collection's and reading's chores go through the one handler; none commits on its own."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import kiosk.circulation.collection as collection_pkg
import kiosk.circulation.reading as reading_pkg
from kiosk.circulation.collection import commands as collection_commands
from kiosk.circulation.collection import lost, stocktake, weeding
from kiosk.circulation.handler import command_types
from kiosk.circulation.reading import commands as reading_commands
from kiosk.circulation.store import Store

RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"
AREAS = [Path(collection_pkg.__file__).parent, Path(reading_pkg.__file__).parent]


def test_every_chore_command_has_a_step() -> None:
    kinds = [
        name
        for module in (collection_commands, reading_commands)
        for name, kind in inspect.getmembers(module, inspect.isclass)
        if dataclasses.is_dataclass(kind) and kind.__module__ == module.__name__
    ]
    assert len(kinds) >= 25
    assert sorted(set(kinds) - set(command_types())) == []


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for area in AREAS:
        for path in sorted(area.glob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_module_of_the_collection_or_reading_commits_on_its_own() -> None:
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "kiosk.circulation.projector":
                found.append(f"{path.name}: imports the projector")
            if isinstance(node, ast.Attribute) and node.attr in ("commit", "record", "project"):
                found.append(f"{path.name}:{node.lineno}: .{node.attr}")
            # A write opened here only holds a batch's commands in one transaction.
            opens_write = isinstance(node, ast.With) and "write(" in ast.unparse(node.items[0])
            if opens_write and "handle(" not in ast.unparse(node):
                found.append(f"{path.name}:{node.lineno}: a write with no handle()")
    assert found == []


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Collect the statements the store's writer runs."""
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        store.db.conn.set_trace_callback(None)


def test_a_batch_of_withdrawals_is_one_transaction_with_the_actor_on_every_event(
    store: Store,
) -> None:
    with statements(store) as seen:
        done = weeding.withdraw_many(store, [RED, PRINCE, "no-such-book"], "worn", "librarian:a")
    assert [o.reason for o in done] == ["ok", "ok", "no_such_item"]
    assert [s for s in seen if s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    assert [(e.type, e.item_barcode, e.actor) for o in done for e in o.events] == [
        ("item_withdrawn", RED, "librarian:a"),
        ("item_withdrawn", PRINCE, "librarian:a"),
    ]
    statuses = store.query("SELECT status FROM items WHERE barcode IN (?, ?)", [RED, PRINCE])
    assert statuses == [{"status": "withdrawn"}, {"status": "withdrawn"}]


def test_a_refused_chore_changes_nothing_and_says_why(store: Store) -> None:
    before = store.value("SELECT max(seq) FROM events")
    assert lost.mark(store, "lost", "no-such-book", "librarian:a").reason == "no_such_item"
    assert stocktake.scan(store, WEB, "helper").outcome.reason == "no_stocktake"
    assert store.value("SELECT max(seq) FROM events") == before
    assert store.value("SELECT count(*) FROM incidents") == 0


def test_a_stocktake_scan_answers_from_what_its_step_read(store: Store) -> None:
    assert stocktake.start(store, stocktake.Scope(location="library"), "librarian:a").ok
    counted = stocktake.scan(store, RED, "helper")
    assert counted.outcome.ok and counted.outcome.event.actor == "helper"
    assert counted.item is not None and counted.item["barcode"] == RED
    assert counted.status in stocktake.STATUSES
    unknown = stocktake.scan(store, "X-404", "helper")
    assert (unknown.status, unknown.item) == ("unknown", None)
