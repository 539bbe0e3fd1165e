"""Grow a store to school-district size fast: bulk inserts in one transaction.

`grow(store_or_path)` adds 10,000 patrons (each with one RFID card), 50,000 items and 500,000
past loans, each with its checkout event and, when returned, its checkin event, as the service
would have written them, and each title's pinyin for the search (as an import works it out).
Most loans are returned; a few thousand are open (a few of them
overdue), so limits, overdue blocks and the open-loan indexes work on realistic data.

Benchmarks import it; `python -m bench.grow PATH` grows a file for trying things by hand.
Codes are predictable so that callers can pick patrons and items: cards `0E` + 8 hex digits
(`card_code(n)`), items 13-digit barcodes (`item_barcode(n)`), patrons `P00001`...
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.circulation.cards import number
from kiosk.circulation.clock import UTC
from kiosk.circulation.records import seed_rules
from kiosk.circulation.stats import find
from kiosk.circulation.store import Store
from kiosk.config import RulesSettings

DAY = 86400
LOAN_DAYS = 14
HISTORY_DAYS = 730  # two school years of loans behind "now"
OPEN_SHARE = 0.006  # 500,000 loans -> about 3,000 open ones


def card_code(n: int) -> str:
    """Return the card UID of grown patron number `n` (from 1)."""
    return f"0E{n:08X}"


def item_barcode(n: int) -> str:
    """Return the barcode of grown item number `n` (from 1)."""
    return f"97871{n:08d}"


def patron_id(n: int) -> str:
    """Return the id of grown patron number `n` (from 1)."""
    return f"P{n:05d}"


def _stamp(t: float) -> str:
    # The store's own format (see clock.stamp), made cheaply for a million rows.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    # A version-4 UUID from the seeded generator, formatted directly: uuid.UUID is slow here.
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def grow(
    store_or_path: Store | Path | str,
    patrons: int = 10_000,
    items: int = 50_000,
    loans: int = 500_000,
    seed: int = 2026,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Add patrons, items and past loans with their events; return counts and seconds taken."""
    started = time.monotonic()
    own = not isinstance(store_or_path, Store)
    store = store_or_path if isinstance(store_or_path, Store) else Store.open(store_or_path)
    try:
        seed_rules(store, RulesSettings())
        end = (now or store.clock.now()).astimezone(UTC).timestamp()
        rng = random.Random(seed)
        at = _stamp(end - HISTORY_DAYS * DAY)
        patron_rows, card_rows = _patrons(patrons, rng, at)
        loan_rows, event_rows, on_loan = _loans(store.kiosk_id, patrons, items, loans, rng, end)
        item_rows = [
            (
                item_barcode(n),
                f"Book {n}" if n % 3 else f"图书 {n}",
                f"Author {n % 997}",
                item_barcode(n),
                f"I{n % 900 + 100}/{n}",
                "on_loan" if n in on_loan else "available",
                at,
            )
            for n in range(1, items + 1)
        ]
        with store.write() as db:
            c = db.conn
            # A big page cache for the bulk load: the uuid indexes take rows in random order.
            c.execute("PRAGMA cache_size = -262144")
            c.executemany(
                "INSERT INTO patrons (id, name, role, grade, class_name, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'active', ?)",
                patron_rows,
            )
            c.executemany(
                "INSERT INTO cards (code, patron_id, status, created_at, number) "
                "VALUES (?, ?, 'active', ?, ?)",
                card_rows,
            )
            c.executemany(
                "INSERT INTO items (barcode, title, author, isbn, call_number, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                item_rows,
            )
            c.executemany(
                "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at, "
                "returned_at) VALUES (?, ?, ?, ?, ?, ?)",
                loan_rows,
            )
            c.executemany(
                "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, "
                "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                event_rows,
            )
        store.db.conn.execute("PRAGMA cache_size = -2000")
        find.spell(store)  # as an import does: the daemon finds every title spelled
        return {
            "patrons": patrons,
            "items": items,
            "loans": loans,
            "open_loans": len(on_loan),
            "events": len(event_rows),
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        if own:
            store.close()


def _patrons(count: int, rng: random.Random, at: str) -> tuple[list[tuple], list[tuple]]:
    patrons, cards = [], []
    for n in range(1, count + 1):
        pid, code = patron_id(n), card_code(n)
        # One in fifty is staff: mostly teachers, some helpers and librarians.
        if n % 50 == 0:
            role, grade = rng.choice(("teacher", "teacher", "teacher", "helper", "librarian")), None
        else:
            role, grade = "student", rng.randint(1, 6)
        cls = f"{grade or 0}({n % 8 + 1})班"
        patrons.append((pid, f"学生{n}", role, grade, cls, at))
        cards.append((code, pid, at, number(code)))
    return patrons, cards


def _loans(
    kiosk_id: str, patrons: int, items: int, count: int, rng: random.Random, end: float
) -> tuple[list[tuple], list[tuple], set[int]]:
    """Make loans oldest first so that no item is lent again before it came back."""
    open_count = min(int(count * OPEN_SHARE), items, patrons)
    free_at = [0.0] * (items + 1)  # when each item is back on the shelf
    loans, events = [], []
    on_loan: set[int] = set()
    open_patrons = rng.sample(range(1, patrons + 1), open_count)
    span = HISTORY_DAYS * DAY
    for i in range(count):
        is_open = i >= count - open_count
        # Returned loans spread over the history; open ones in the last loan period.
        if is_open:
            out = end - rng.uniform(0.5, LOAN_DAYS + 4) * DAY
        else:
            out = end - span + (span - 30 * DAY) * i / count
        n = rng.randint(1, items)
        while free_at[n] > out or n in on_loan:
            n = rng.randint(1, items)
        pid = patron_id(
            open_patrons[i - (count - open_count)] if is_open else rng.randint(1, patrons)
        )
        loan_uuid, barcode = _uuid(rng), item_barcode(n)
        due = _stamp(out + LOAN_DAYS * DAY)
        out_at = _stamp(out)
        data = f'{{"due_at": "{due}"}}'
        events.append((out_at, (loan_uuid, "checkout", out_at, kiosk_id, pid, pid, barcode, data)))
        if is_open:
            on_loan.add(n)
            returned = None
        else:
            back = out + rng.uniform(1, LOAN_DAYS + 6) * DAY
            free_at[n] = back
            returned = _stamp(back)
            late = "true" if returned > due else "false"
            data = f'{{"loan_uuid": "{loan_uuid}", "overdue": {late}}}'
            events.append(
                (returned, (_uuid(rng), "checkin", returned, kiosk_id, pid, pid, barcode, data))
            )
        loans.append((loan_uuid, barcode, pid, out_at, due, returned))
    # The event log is in time order, as a kiosk would have written it.
    events.sort(key=lambda e: e[0])
    return loans, [row for _, row in events], on_loan


if __name__ == "__main__":
    print(grow(Path(sys.argv[1] if len(sys.argv) > 1 else "grown.db").resolve()))
