"""The one handler: a command is read, decided and committed in one write, or changes nothing.

And no module but the handler (and the projector it calls) commits events: the last test reads
the source of `kiosk/` and names every other call of the projector's `commit` or `store.record`.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from kiosk.circulation.commands import Checkin, Checkout, SetNoticeText, Visit
from kiosk.circulation.handler import command_types, handle
from kiosk.circulation.store import Store

RED, PRINCE = "9787020002207", "9787535449450"
KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def counts(store: Store) -> tuple[int, int, str]:
    """Return the number of events and loans, and the red book's status."""
    return (
        store.value("SELECT count(*) FROM events"),
        store.value("SELECT count(*) FROM loans"),
        store.value("SELECT status FROM items WHERE barcode = ?", [RED]),
    )


def test_a_refusal_changes_nothing_and_records_nothing(store: Store) -> None:
    handle(store, Checkout("S001", RED))
    before = counts(store)
    changes = store.db.conn.total_changes
    done = handle(store, Checkout("S002", RED))  # the book is S001's
    assert (done.ok, done.reason, done.events) == (False, "on_loan_to_other", ())
    assert done.state.loan.patron_id == "S001"  # the state it was decided on comes back
    assert counts(store) == before
    assert store.db.conn.total_changes == changes
    # A refused command of another step: a notice text that says nothing.
    done = handle(store, SetNoticeText("   ", "librarian:li"))
    assert done.reason == "bad_notice_text"
    assert counts(store) == before
    assert store.db.conn.total_changes == changes


def test_a_command_inside_an_outer_write_joins_it_and_falls_with_it(store: Store) -> None:
    before = counts(store)
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        with pytest.raises(RuntimeError), store.write():
            out = handle(store, Checkout("S001", RED))
            back = handle(store, Checkin(RED))
            assert out.ok and back.ok
            raise RuntimeError("the outer action fails after both")
    finally:
        store.db.conn.set_trace_callback(None)
    assert counts(store) == before  # neither the loan nor its return, nor their events
    assert seen.count("BEGIN IMMEDIATE") == 1 and "ROLLBACK" in seen and "COMMIT" not in seen

    with store.write():
        handle(store, Checkout("S001", RED))
        handle(store, Checkout("S001", PRINCE))
    assert store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 2
    assert store.value("SELECT count(*) FROM events WHERE type = 'checkout'") == 2


def test_the_actor_given_is_set_on_every_event(store: Store) -> None:
    done = handle(store, Checkout("S001", RED, "helper:H001"), actor="librarian:li")
    assert done.event.actor == "librarian:li"
    row = store.query("SELECT actor FROM events WHERE uuid = ?", [done.event.uuid])
    assert row == [{"actor": "librarian:li"}]
    done = handle(store, Visit("S002", "S002"))  # without one, the decision's actor
    assert done.event.actor == "S002"


def test_new_events_have_uuids_that_sort_in_the_order_they_were_made(store: Store) -> None:
    # Random (version 4) UUIDs put each new event on a random page of the events' uuid index,
    # at the kiosk and at the hub; the hub's drain wrote twice the pages a batch with them.
    made = [handle(store, Checkout("S001", RED)).event.uuid]
    made.append(store.event("checkin", item_barcode=RED).uuid)  # how tests and benches queue
    made.append(handle(store, Checkout("S002", PRINCE)).event.uuid)
    assert [uuid.UUID(u).version for u in made] == [7, 7, 7]
    assert sorted(made) == made and len(set(made)) == 3


def test_a_command_with_no_step_raises_and_writes_nothing(store: Store) -> None:
    class Unknown:
        pass

    before = counts(store)
    with pytest.raises(TypeError, match="no step handles Unknown"):
        handle(store, Unknown())
    assert counts(store) == before
    assert not store.db.conn.in_transaction
    assert "Checkout" in command_types() and "Unknown" not in command_types()


COMMITS = ("commit", "commit_stamped")  # the projector's functions that write events


def commits_in(path: Path) -> list[int]:
    """Return the lines where a module calls the projector's commit or a store's record(_all)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {
        a.asname or a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "kiosk.circulation.projector"
        for a in node.names
        if a.name in COMMITS
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in aliases:
            lines.append(node.lineno)
        elif isinstance(f, ast.Attribute) and f.attr in COMMITS:
            if isinstance(f.value, ast.Name) and f.value.id == "projector":
                lines.append(node.lineno)
        elif isinstance(f, ast.Attribute) and f.attr in ("record", "record_all"):
            on_store = ast.unparse(f.value).split(".")[-1] == "store"
            first_db = bool(node.args) and ast.unparse(node.args[0]) == "db"
            if on_store or first_db:
                lines.append(node.lineno)
    return lines


def test_only_the_handler_commits_events() -> None:
    found = []
    for path in sorted(KIOSK.rglob("*.py")):
        name = path.relative_to(KIOSK).as_posix()
        if name in ("circulation/handler.py", "circulation/projector.py"):
            continue
        found += [f"kiosk/{name}:{line}" for line in commits_in(path)]
    assert found == [], "commit events through handler.handle (a command and its step)"


def test_the_source_check_finds_a_commit_outside_the_handler(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from kiosk.circulation.projector import commit as c\n"
        "def f(store, db, drafts):\n"
        "    c(store, db, drafts, '')\n"
        "    store.record(db, None)\n"
        "    self.store.record(db, None)\n"
        "    db.conn.commit()\n"
        "    projector.commit_stamped(store, db, [])\n"
    )
    assert commits_in(bad) == [3, 4, 5, 7]
