"""Sync throughput: drain 10,000 queued events to a hub process, pull 50,000 items into a new kiosk.

    .venv/bin/python -m bench.sync_throughput [--rounds 3] [--quick] [--dir FOLDER]

It starts a hub (`kiosk hub`, waitress) and a plain waitress sink in their own processes on
loopback. Each round (bench.harness: median of the rounds, with their spread) a new kiosk:

- pull: takes the hub's snapshot (50,000 items, 2,000 patrons and their cards);
- drain: its worker pushes 10,000 queued events in batches (checked, stored once, replayed into
  loans, committed with synchronous=FULL at the hub, acknowledged at the kiosk). The kiosk's
  clock is right (it agrees with the hub's when it sends), and each round's backlog lies in a
  stretch of time after the previous round's: the same books and students, lent again later,
  as a kiosk back online after some days sends them. (Rounds that all started at one fake time
  were corrected by their clock offset onto one stretch of time, every book's loan landing
  inside the previous round's loan of it: a replay of every book, not a drain.);
- baseline over HTTP: the very same request bodies sent with plain `requests.post` to the sink,
  which reads them and answers a small JSON: what the transport alone costs;
- baseline for storing: the same events inserted into a new store with the hub's schema and
  pragmas, one `executemany` and one COMMIT: the least that stores them durably;
- long history: another new kiosk drains 60,000 events of two teachers and two students
  borrowing and returning the same twelve books (7,500 loans each; the hub keeps every earlier
  round's events too), and the rate of its last ten batches is set beside the rate of its
  first ten: a hub whose cost per event grows with history shows it there.

Rates are per round; medians and p99 of requests are per batch or snapshot page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import harness
from kiosk.circulation.clock import FakeClock, SystemClock
from kiosk.config import HubSettings, from_dict
from kiosk.daemon.app import open_store
from kiosk.sync import hubstore, replica
from kiosk.sync.client import HubLink, SyncWorker

ITEMS, PATRONS, EVENTS, HISTORY = 50_000, 2_000, 10_000, 60_000
BATCH = HubSettings().batch_size  # as a kiosk sends them: `[hub] batch_size`
READERS = [("HT1", "teacher"), ("HT2", "teacher"), ("HS1", "student"), ("HS2", "student")]
MAX_ROUNDS = 10  # readers and books of the long history are seeded for this many rounds
ROOT = Path(__file__).resolve().parents[1]

SINK = """
import sys, waitress
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'{"ok": true}'
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
waitress.serve(app, listen=sys.argv[1], threads=4, _quiet=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_hub(folder: Path, items: int, patrons: int) -> None:
    store = hubstore.open_hub_store(folder / "hub.db")
    now = store.now()
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO patrons (id, name, role, grade, class_name, updated_at) "
            "VALUES (?, ?, 'student', ?, ?, ?)",
            [
                (f"P{i:05d}", f"学生{i}", 1 + i % 6, f"{1 + i % 6}({i % 8})班", now)
                for i in range(patrons)
            ],
        )
        db.conn.executemany(
            "INSERT INTO cards (code, patron_id, created_at) VALUES (?, ?, ?)",
            [(f"C{i:08d}", f"P{i:05d}", now) for i in range(patrons)],
        )
        db.conn.executemany(
            "INSERT INTO items (barcode, title, author, call_number, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (f"978{i:010d}", f"书名 {i}", f"作者 {i % 997}", f"I{i % 900}/{i}", now)
                for i in range(items)
            ],
        )
        db.conn.executemany(
            "INSERT INTO patrons (id, name, role, updated_at) VALUES (?, ?, ?, ?)",
            [(f"{pid}-{r}", pid, role, now) for pid, role in READERS for r in range(MAX_ROUNDS)],
        )
        db.conn.executemany(
            "INSERT INTO items (barcode, title, updated_at) VALUES (?, ?, ?)",
            [(f"H{r}-{i:02d}", f"常借的书 {i}", now) for r in range(MAX_ROUNDS) for i in range(12)],
        )
        db.conn.executemany(
            "INSERT INTO rules (scope, loan_days, max_loans, renewals) VALUES (?, 14, ?, 1)",
            [("role:teacher", 20), ("role:student", 5)],
        )
    store.close()


def queue_events(store: Any, clock: FakeClock, size: Sizes) -> None:
    """Queue loans and returns of as many books (by the students in turn) as there are events."""
    with store.write() as db:
        for i in range(size.events // 2):
            book, patron = f"978{(i * 7) % size.items:010d}", f"P{i % size.patrons:05d}"
            clock.advance(1)
            data = {"due_at": "2026-11-16T15:59:59.000Z"}
            e = store.event("checkout", patron_id=patron, item_barcode=book, data=data)
            store.record(db, e)
        for i in range(size.events // 2):
            clock.advance(1)
            book = f"978{(i * 7) % size.items:010d}"
            store.record(db, store.event("checkin", item_barcode=book, data={"loan_uuid": None}))


def queue_history(store: Any, clock: FakeClock, events: int, r: int) -> None:
    """Queue rounds of one reader borrowing all twelve books, then returning them.

    Each bench round has its own four readers and twelve books: every round's kiosk clock
    starts at the same fake time, so rounds sharing them would all land in one stretch of
    (skew-corrected) time, a week-offline kiosk on every batch rather than a long history.
    """
    books = [f"H{r}-{i:02d}" for i in range(12)]
    with store.write() as db:
        for n in range(events // 24):
            patron = f"{READERS[n % len(READERS)][0]}-{r}"
            for kind in ("checkout", "checkin"):
                for book in books:
                    clock.advance(1)
                    data = {"due_at": "2026-11-16T15:59:59.000Z"} if kind == "checkout" else {}
                    e = store.event(kind, patron_id=patron, item_barcode=book, data=data)
                    store.record(db, e)


@dataclass
class Sizes:
    """How big the hub is and how much a kiosk sends each round."""

    items: int
    patrons: int
    events: int
    batch: int
    history: int


def main(argv: list[str] | None = None) -> None:
    """Start a hub and a sink, measure in rounds, print the tables."""
    args = harness.parser(__doc__).parse_args(argv)
    size = harness.size(
        args,
        Sizes(ITEMS, PATRONS, EVENTS, BATCH, HISTORY),
        Sizes(items=500, patrons=50, events=200, batch=50, history=1_200),
    )
    bench = harness.Bench("sync_throughput", args)
    if bench.n_rounds > MAX_ROUNDS:
        raise SystemExit(f"--rounds: at most {MAX_ROUNDS}")
    with harness.workdir(args, "sync") as folder:
        port, sink_port = free_port(), free_port()
        (folder / "hub.toml").write_text(
            f'[kiosk]\nid = "hub"\n[store]\npath = "hub.db"\n[web]\nlisten = "127.0.0.1:{port}"\n',
            encoding="utf-8",
        )
        seed_hub(folder, size.items, size.patrons)
        token_store = hubstore.open_hub_store(folder / "hub.db")
        tokens = [hubstore.register_kiosk(token_store, f"bench{r}") for r in range(bench.n_rounds)]
        history_tokens = [
            hubstore.register_kiosk(token_store, f"history{r}") for r in range(bench.n_rounds)
        ]
        token_store.close()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with (folder / "hub.log").open("wb") as log:
            hub = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "--config", str(folder / "hub.toml"), "hub"],
                stdout=log,
                stderr=log,
                cwd=ROOT,
                env=env,
            )
            sink = subprocess.Popen(
                [sys.executable, "-c", SINK, f"127.0.0.1:{sink_port}"], cwd=ROOT, env=env
            )
            try:
                url, sink_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sink_port}"
                harness.wait_listening(url, "the hub (`kiosk hub`)")
                harness.wait_listening(sink_url, "the plain waitress sink")
                for r in bench.rounds():
                    one_round(folder / f"round{r}", bench, size, url, sink_url, tokens[r], r)
                    long_history(folder / f"history{r}", bench, size, url, history_tokens[r], r)
            finally:
                for proc in (hub, sink):
                    proc.terminate()
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    report(bench, size)


def new_kiosk(
    folder: Path,
    url: str,
    token: str,
    kiosk_id: str,
    batch: int,
    start: dt.datetime | None = None,
) -> tuple[FakeClock, Any, SyncWorker]:
    """Open a new kiosk store in `folder` with a sync worker for the hub (not started)."""
    folder.mkdir()
    clock = FakeClock() if start is None else FakeClock(start)
    settings = from_dict(
        {"kiosk": {"id": kiosk_id}, "store": {"path": "kiosk.db"}}, base_dir=folder
    )
    store = open_store(settings, clock)
    worker = SyncWorker(store, HubLink(url, token, kiosk_id, timeout_s=120), batch_size=batch)
    return clock, store, worker


def one_round(
    folder: Path,
    bench: harness.Bench,
    size: Sizes,
    url: str,
    sink_url: str,
    token: str,
    r: int,
) -> None:
    """A new kiosk pulls the snapshot and drains its events; then the same bytes and rows bare."""
    # Each round's backlog in its own stretch of the past, in order, before any later round's.
    start = SystemClock().now() - dt.timedelta(seconds=2 * size.events * (MAX_ROUNDS - r))
    clock, store, worker = new_kiosk(folder, url, token, f"bench{r}", size.batch, start)
    client = worker.client

    pages: list[float] = []
    original_snapshot = client.snapshot

    def timed_snapshot(part: str, after: str) -> dict[str, Any]:
        t = time.perf_counter()
        try:
            return original_snapshot(part, after)
        finally:
            pages.append(time.perf_counter() - t)

    client.snapshot = timed_snapshot  # type: ignore[method-assign]
    t0 = time.perf_counter()
    worker.pull()
    pull_s = time.perf_counter() - t0
    items = store.value("SELECT count(*) FROM items")
    assert items == size.items + 12 * MAX_ROUNDS, items

    queue_events(store, clock, size)
    clock.advance((SystemClock().now() - clock.now()).total_seconds())  # right when it sends
    bodies: list[bytes] = []
    batches: list[float] = []
    original_post = client.post_events

    def timed_post(payload: bytes) -> dict[str, Any]:
        bodies.append(payload)
        t = time.perf_counter()
        try:
            return original_post(payload)
        finally:
            batches.append(time.perf_counter() - t)

    client.post_events = timed_post  # type: ignore[method-assign]
    t0 = time.perf_counter()
    sent = worker.push()
    drain_s = time.perf_counter() - t0
    assert sent == size.events + 1 and replica.queue_length(store) == 0, (
        sent,
        replica.queue_length(store),
    )

    plain: list[float] = []
    t0 = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        resp = requests.post(
            sink_url, data=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        resp.raise_for_status()
        json.loads(resp.content)
        plain.append(time.perf_counter() - t)
    plain_s = time.perf_counter() - t0

    rows = store.reader.execute(
        "SELECT uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data FROM events"
    ).fetchall()
    store.close()
    worker.client.close()
    durable_s = durable_insert(folder / "floor.db", rows)

    bench.record("drain events to the hub", sent / drain_s, "events/s")
    bench.record("baseline: same bytes, plain requests.post to a sink", sent / plain_s, "events/s")
    bench.record(
        "baseline: same events, executemany + one COMMIT", len(rows) / durable_s, "events/s"
    )
    bench.record("drain: per batch", [b * 1000 for b in batches], "ms")
    bench.record("baseline: per plain post", [b * 1000 for b in plain], "ms")
    bench.record("pull the snapshot into a new kiosk", size.items / pull_s, "items/s")
    bench.record("pull: per snapshot page", [p * 1000 for p in pages], "ms")
    if r == 0:
        mb = sum(len(b) for b in bodies) / 1e6
        bench.note(
            f"drain: {sent:,} events ({mb:.1f} MB) in batches of {size.batch} from a new kiosk "
            f"each round; pull: {size.items:,} items, {size.patrons:,} patrons and their cards"
        )


def long_history(
    folder: Path, bench: harness.Bench, size: Sizes, url: str, token: str, r: int
) -> None:
    """A new kiosk drains a long history of a few readers; record its first and last batches."""
    clock, store, worker = new_kiosk(folder, url, token, f"history{r}", size.batch)
    queue_history(store, clock, size.history, r)
    batches: list[float] = []
    original_post = worker.client.post_events

    def timed_post(payload: bytes) -> dict[str, Any]:
        t = time.perf_counter()
        try:
            return original_post(payload)
        finally:
            batches.append(time.perf_counter() - t)

    worker.client.post_events = timed_post  # type: ignore[method-assign]
    t0 = time.perf_counter()
    sent = worker.push()
    drain_s = time.perf_counter() - t0
    assert replica.queue_length(store) == 0, replica.queue_length(store)
    store.close()
    worker.client.close()
    n = min(10, len(batches) // 2)
    first, last = batches[:n], batches[-n - 1 : -1]  # the very last batch is the rules event
    bench.record("long history: drain", sent / drain_s, "events/s")
    bench.record("long history: first batches", size.batch * n / sum(first), "events/s")
    bench.record("long history: last batches", size.batch * n / sum(last), "events/s")
    if r == 0:
        bench.note(
            f"long history: {sent:,} events of {len(READERS)} readers and 12 books per round, on a "
            f"hub keeping every round's; first and last {n} batches of {size.batch}"
        )


def durable_insert(path: Path, rows: list[tuple]) -> float:
    """Insert the events into a new hub store in one transaction; return the seconds it took.

    The floor for storing them: the hub's schema and pragmas (WAL, synchronous=FULL), one
    executemany and one COMMIT, none of the checks, replay or answers the hub does per batch.
    """
    floor = hubstore.open_hub_store(path)
    try:
        t0 = time.perf_counter()
        with floor.write() as db:
            db.conn.executemany(
                "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, "
                "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return time.perf_counter() - t0
    finally:
        floor.close()


def report(bench: harness.Bench, size: Sizes) -> None:
    """Add the summary rows and print the tables."""
    drain = "drain events to the hub"
    bench.compare(
        f"drain {size.events:,} events: rate",
        drain,
        "baseline: same events, executemany + one COMMIT",
        "p50",
        harness.at_least(2000, "events/s"),
    )
    bench.compare(
        f"drain {size.events:,} events: rate, over HTTP only",
        drain,
        "baseline: same bytes, plain requests.post to a sink",
        "p50",
    )
    bench.compare("drain: per batch, p99", "drain: per batch", "baseline: per plain post", "p99")
    bench.compare(
        f"long history ({size.history:,} events a round): last batches beside the first",
        "long history: last batches",
        "long history: first batches",
        "p50",
        harness.Target(
            "≥ 0.5x first and ≥ 2,000 events/s",
            lambda ours, ratio: ratio is not None and ratio >= 0.5 and ours >= 2000,
        ),
    )
    bench.compare(
        f"pull {size.items:,} items into a new kiosk: rate",
        "pull the snapshot into a new kiosk",
        None,
        "p50",
    )
    bench.report()


if __name__ == "__main__":
    main()
