"""The journal of copies answered before they were written: a kill in between loses none.

A SIP2 kiosk shows the library system's answer, then writes its copy. These tests stop the
kiosk between the two (the journal's line kept, nothing written) and at the other awkward
moment (written, the line not yet emptied), and start it again.
"""

from __future__ import annotations

import os
from typing import Any

from kiosk.circulation.answered import Answered
from kiosk.circulation.handler import write_answered
from kiosk.circulation.sip2_copy import CopyCheckout
from kiosk.circulation.store import Store

AT = "2026-12-01T04:05:06.000000Z"


def lend(barcode: str, title: str) -> CopyCheckout:
    return CopyCheckout("S001", barcode, "2030-01-15T15:59:59Z", title)


def open_loans(store: Store) -> list[tuple[str, str]]:
    return store.reader.execute(
        "SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL ORDER BY 1"
    ).fetchall()


def killed(journal: Answered) -> None:
    """Stop as a kill does: the file stays as it is, nothing more is written."""
    os.close(journal._fd)


def test_a_copy_answered_and_not_written_is_written_at_the_next_start(store: Store) -> None:
    journal = Answered(store)
    copy = journal.add(lend("SIP-1", "小王子"), AT)
    assert open_loans(store) == []  # answered, not written yet
    killed(journal)

    again = Answered(store)
    assert again.recover() == 1
    assert open_loans(store) == [("SIP-1", "S001")]
    logged = store.reader.execute(
        "SELECT uuid, type, at, json_extract(data, '$.title') FROM events ORDER BY seq"
    ).fetchall()
    # The book named as the answer named it, then lent; as of the answer, with its UUIDs.
    assert logged[-2:] == [
        (copy.uuids[0], "item_named", AT, "小王子"),
        (logged[-1][0], "checkout", AT, None),
    ]
    assert again.path.read_bytes() == b""
    assert Answered(store).recover() == 0  # emptied: nothing twice


def test_a_copy_written_before_the_kill_is_not_written_twice(store: Store) -> None:
    journal = Answered(store)
    journal.add(lend("SIP-2", "夏洛的网"), AT)  # answered, not written
    copy = journal.add(lend("SIP-3", "Matilda"), AT)
    # Written, and the kill came before the journal was emptied.
    write_answered(store, copy.command, copy.at, copy.uuids)
    before = store.reader.execute("SELECT count(*) FROM events").fetchone()[0]
    killed(journal)

    assert Answered(store).recover() == 1  # SIP-2's copy; SIP-3's was in the log
    assert open_loans(store) == [("SIP-2", "S001"), ("SIP-3", "S001")]
    after = store.reader.execute("SELECT count(*) FROM events").fetchone()[0]
    assert after == before + 2  # SIP-2 named and lent; SIP-3 not again


def test_a_line_cut_short_is_skipped_and_the_others_written(store: Store, caplog: Any) -> None:
    journal = Answered(store)
    journal.add(lend("SIP-4", "Charlotte's Web"), AT)
    with open(journal.path, "ab") as f:
        f.write(b'{"command": "CopyCheckout", "fields": {"patron_id": "S0')  # cut by the kill
    killed(journal)

    assert Answered(store).recover() == 1
    assert open_loans(store) == [("SIP-4", "S001")]
    assert "line 2: not a copy" in caplog.text


def test_the_journal_is_emptied_once_every_copy_is_written(store: Store) -> None:
    journal = Answered(store)
    journal.add(lend("SIP-5", "西游记"), AT)
    journal.add(lend("SIP-6", "水浒传"), AT)
    assert journal.waiting and journal.path.stat().st_size > 0
    journal.write()
    assert not journal.waiting and journal.path.read_bytes() == b""
    assert open_loans(store) == [("SIP-5", "S001"), ("SIP-6", "S001")]
    journal.close()
