"""A power cut never undoes what a student was told: SIGKILL `kiosk run` at random, many times.

Each round starts the daemon, writes a student card and a run of book barcodes to its FIFO, and
kills it (SIGKILL, no clean-up) at a random moment: while starting, between scans or in the middle
of a checkout. Every `[ok] checkout <barcode>` the console printed before it died must be an open
loan in the store with its checkout event, the store must pass `PRAGMA integrity_check`, and no
item may have two open loans or a loan without its event. The daemon checkpoints the WAL in the
background right after each write (`checkpoint_delay_s = 0`), so kills land during checkpoints too.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import START

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item
from kiosk.daemon.app import open_store

from .test_daemon import CARD, KioskProcess, make_school, write_config

pytestmark = pytest.mark.slow  # `kiosk run` killed and started again

# Large limits so that every checkout is allowed and the only thing that can stop one is the kill.
RULES = """
[rules]
max_loans = { student = 5000, teacher = 5000, helper = 5000, librarian = 5000 }
max_loans_by_grade = {}
"""
ROUNDS = 24
BOOKS_PER_ROUND = 200


def add_books(config_path: Path, count: int) -> list[str]:
    """Put `count` more books into the store; return their barcodes."""
    barcodes = [f"97800{n:08d}" for n in range(1, count + 1)]
    store = open_store(config.load(config_path), FakeClock(START))
    with store.write() as db:
        for barcode in barcodes:
            put_item(db, {"barcode": barcode, "title": f"Book {barcode[-4:]}"}, store.now())
    store.close()
    return barcodes


def reported_checkouts(console: list[str]) -> list[str]:
    """Return the barcodes of the checkouts the kiosk told the student were done."""
    return [line.split()[2] for line in console if line.startswith("[ok] checkout ")]


def test_every_checkout_reported_done_survives_sigkill(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, RULES)
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        text.replace('path = "kiosk.db"\n', 'path = "kiosk.db"\ncheckpoint_delay_s = 0.0\n'),
        encoding="utf-8",
    )
    assert config.load(config_path).store.checkpoint_delay_s == 0.0
    store_path = make_school(config_path)
    books = add_books(config_path, ROUNDS * BOOKS_PER_ROUND)
    rng = random.Random(20261102)
    reported: list[str] = []
    killed_mid_stream = rounds = 0
    while rounds < ROUNDS:
        batch = books[rounds * BOOKS_PER_ROUND : (rounds + 1) * BOOKS_PER_ROUND]
        k = KioskProcess(config_path)
        # The session closed with the last process: the card comes first again.
        k.scan(("\n".join([CARD, *batch]) + "\n").encode())
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.8))  # often while it is still starting
        else:
            k.wait_ready()
            assert k.read_console().startswith("[session_started] ")
            # From the first checkout on: on a fast disk a whole run takes a few tens of
            # milliseconds, and a kill timed from the start would mostly miss it.
            assert k.read_console().startswith("[ok] checkout ")
            time.sleep(rng.uniform(0.0, 0.03))
        k.kill()
        done = reported_checkouts(k.console)
        assert set(done) <= set(batch)
        killed_mid_stream += 0 < len(done) < len(batch)
        reported += done
        rounds += 1

    # The test means something only if kills landed while books were being checked out.
    assert killed_mid_stream >= 8, f"{killed_mid_stream} of {rounds} kills hit a run of scans"
    assert len(reported) >= 50

    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        open_loans = dict(
            conn.execute(
                "SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL"
            ).fetchall()
        )
        assert {b: open_loans.get(b) for b in reported} == {b: "S001" for b in reported}
        twice = conn.execute(
            "SELECT item_barcode FROM loans WHERE returned_at IS NULL "
            "GROUP BY item_barcode HAVING count(*) > 1"
        ).fetchall()
        assert twice == []
        without_event = conn.execute(
            "SELECT count(*) FROM loans WHERE uuid NOT IN "
            "(SELECT uuid FROM events WHERE type = 'checkout')"
        ).fetchone()[0]
        assert without_event == 0
        on_loan = {b for (b,) in conn.execute("SELECT barcode FROM items WHERE status = 'on_loan'")}
        assert on_loan == set(open_loans)
    finally:
        conn.close()

    # And the kiosk starts again on what the kills left behind.
    k = KioskProcess(config_path)
    k.wait_ready()
    assert k.ask(CARD).startswith("[session_started] ")
    assert k.stop() == 0
