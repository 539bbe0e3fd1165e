"""What a SIP2 scan costs the kiosk's own store, counted, so that it cannot creep back up.

The library system answers in a fraction of a millisecond on a school's own network; everything
the kiosk does beside it (its copy of the loan) is on the child's wait. These tests count the
SQLite statements of an online checkout and return, on the writer and on the scan's reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import harness
from sip2.test_kiosk_sip2 import rows
from sip2.test_sip2_durability import traced_kiosk


def _kinds(statements: list[str]) -> list[str]:
    # The statement's verb and table, enough to see what was written where.
    out = []
    for s in statements:
        words = s.replace("(", " ").split()
        if words[0] in ("INSERT", "DELETE"):
            out.append(f"{words[0]} {words[2]}")
        elif words[0] == "UPDATE":
            out.append(f"UPDATE {words[1]}")
        elif words[0] == "SELECT":
            out.append("SELECT")
        else:
            out.append(" ".join(words[:2]))
    return out


def test_an_online_checkout_and_return_write_one_row_per_table(acs: Any, tmp_path: Path) -> None:
    server = acs()
    store, kiosk, link, written = traced_kiosk(tmp_path, server.address)
    link.start()
    try:
        harness.wait_for(lambda: link.online, "the SIP2 link to log in", 20)
        assert kiosk.scan("P001").kind == "session_started"
        assert not link.queue_open()  # asked once (the worker asks it too after logging in)
        read: list[str] = []
        store.reader.conn.set_trace_callback(read.append)
        written.clear()
        fb = kiosk.scan("B001")  # a book the kiosk has never seen: named, then lent
        assert fb.kind == "ok" and fb.result.action == "checkout", fb
        assert fb.params["title"] == "小王子"
        # SQLite reports a trigger's statements with the statement that fired them.
        writes = [s for s in _kinds(dict.fromkeys(written)) if not s.startswith("PRAGMA")]
        assert writes == [
            "BEGIN IMMEDIATE",
            "SELECT",  # the copy's step: the book's row
            "INSERT items",  # item_named: the book as the library system named it
            "INSERT loans",  # the open-loans index stops a second one: no read first
            "UPDATE items",  # lent
            "INSERT events",  # the command's two events, appended after their projections
            "INSERT events",
            "COMMIT",
        ], written
        # The scan's reads: the book, with whether it drifts (the queue is known to be empty).
        assert _kinds(read) == ["SELECT"], read

        kiosk.done()
        read.clear()
        written.clear()
        fb = kiosk.scan("B001")
        assert fb.kind == "ok" and fb.result.action == "checkin", fb
        writes = [s for s in _kinds(dict.fromkeys(written)) if not s.startswith("PRAGMA")]
        assert writes == [
            "BEGIN IMMEDIATE",
            "SELECT",  # the book and its open loan here
            "UPDATE loans",
            "UPDATE items",
            "INSERT events",
            "COMMIT",
        ], written
        assert _kinds(read) == ["SELECT"], read
    finally:
        link.stop()
        store.close()
    db = tmp_path / "kiosk.db"
    assert rows(db, "SELECT title, status FROM items WHERE barcode = 'B001'") == [
        ("小王子", "available")
    ]
    assert rows(db, "SELECT type, json_extract(data, '$.title') FROM events ORDER BY seq")[-3:] == [
        ("item_named", "小王子"),
        ("checkout", None),
        ("checkin", None),
    ]
