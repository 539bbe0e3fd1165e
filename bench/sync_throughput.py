"""Sync throughput: drain 10,000 queued events to a hub process, pull 50,000 items into a new kiosk.

`.venv/bin/python -m bench.sync_throughput` starts a hub (`kiosk hub`, waitress) and a plain
waitress sink in their own processes on loopback, then measures:

- pull: a new kiosk takes the hub's snapshot (50,000 items, 2,000 patrons and their cards);
- drain: the kiosk's worker pushes 10,000 queued events in batches (checked, stored once,
  replayed into loans, committed with synchronous=FULL at the hub, acknowledged at the kiosk);
- baseline: the very same request bodies sent with plain `requests.post` to the sink, which
  reads them and answers a small JSON, so the ratio shows what the protocol costs over HTTP.

- long history: a second kiosk drains 60,000 events of two teachers and two students borrowing
  and returning the same twelve books (thousands of loans each), and the rate of its last ten
  batches is set beside the rate of its first ten: a hub whose cost per event grows with history
  shows it here. `--quick` runs a tenth of it.

Medians and p99 are per request (batch or page).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from kiosk.app import open_store
from kiosk.circulation.clock import FakeClock
from kiosk.config import from_dict
from kiosk.sync import hubstore, replica
from kiosk.sync.client import HubLink, SyncWorker

ITEMS, PATRONS, EVENTS, BATCH = 50_000, 2_000, 10_000, 500
HISTORY = 60_000
READERS = [("HT1", "teacher"), ("HT2", "teacher"), ("HS1", "student"), ("HS2", "student")]
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


def wait_listening(url: str) -> None:
    for _ in range(300):
        try:
            requests.get(url, timeout=0.5)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {url}")


def seed_hub(folder: Path) -> None:
    store = hubstore.open_hub_store(folder / "hub.db")
    now = store.now()
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO patrons (id, name, role, grade, class_name, updated_at) "
            "VALUES (?, ?, 'student', ?, ?, ?)",
            [
                (f"P{i:05d}", f"学生{i}", 1 + i % 6, f"{1 + i % 6}({i % 8})班", now)
                for i in range(PATRONS)
            ],
        )
        db.conn.executemany(
            "INSERT INTO cards (code, patron_id, created_at) VALUES (?, ?, ?)",
            [(f"C{i:08d}", f"P{i:05d}", now) for i in range(PATRONS)],
        )
        db.conn.executemany(
            "INSERT INTO items (barcode, title, author, call_number, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (f"978{i:010d}", f"书名 {i}", f"作者 {i % 997}", f"I{i % 900}/{i}", now)
                for i in range(ITEMS)
            ],
        )
        db.conn.executemany(
            "INSERT INTO patrons (id, name, role, updated_at) VALUES (?, ?, ?, ?)",
            [(pid, pid, role, now) for pid, role in READERS],
        )
        db.conn.executemany(
            "INSERT INTO rules (scope, loan_days, max_loans, renewals) VALUES (?, 14, ?, 1)",
            [("role:teacher", 20), ("role:student", 5)],
        )
    store.close()


def queue_events(store: Any, clock: FakeClock) -> None:
    """Queue 10,000 events: loans and returns of 5,000 books by 2,000 students."""
    with store.write() as db:
        for i in range(EVENTS // 2):
            book, patron = f"978{(i * 7) % ITEMS:010d}", f"P{i % PATRONS:05d}"
            clock.advance(1)
            data = {"due_at": "2026-11-16T15:59:59.000Z"}
            e = store.event("checkout", patron_id=patron, item_barcode=book, data=data)
            store.record(db, e)
        for i in range(EVENTS // 2):
            clock.advance(1)
            book = f"978{(i * 7) % ITEMS:010d}"
            store.record(db, store.event("checkin", item_barcode=book, data={"loan_uuid": None}))


def queue_history(store: Any, clock: FakeClock, events: int) -> None:
    """Queue rounds of one reader borrowing all twelve books, then returning them."""
    books = [f"978{i:010d}" for i in range(12)]
    with store.write() as db:
        for n in range(events // 24):
            patron = READERS[n % len(READERS)][0]
            for kind in ("checkout", "checkin"):
                for book in books:
                    clock.advance(1)
                    data = {"due_at": "2026-11-16T15:59:59.000Z"} if kind == "checkout" else {}
                    e = store.event(kind, patron_id=patron, item_barcode=book, data=data)
                    store.record(db, e)


def long_history(folder: Path, url: str, token: str, events: int) -> None:
    """Drain a long history of a few readers and compare the first and last batches' rates."""
    clock = FakeClock()
    settings = from_dict(
        {"kiosk": {"id": "history"}, "store": {"path": "history.db"}}, base_dir=folder
    )
    store = open_store(settings, clock)
    worker = SyncWorker(store, HubLink(url, token, "history", timeout_s=120), batch_size=BATCH)
    queue_history(store, clock, events)
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
    first, last = batches[:10], batches[-10:]
    if os.environ.get("BENCH_TRACE"):
        print(" ".join(f"{t * 1000:.0f}" for t in batches))
    first_rate, last_rate = BATCH * len(first) / sum(first), BATCH * len(last) / sum(last)
    ratio = last_rate / first_rate
    met = ratio >= 0.5 and last_rate >= 2000
    print(
        f"long history: {sent:,} events of {len(READERS)} readers and 12 books in {drain_s:.2f} s "
        f"= {sent / drain_s:,.0f} events/s; first 10 batches {first_rate:,.0f} events/s, "
        f"last 10 {last_rate:,.0f} events/s, last / first {ratio:.2f} "
        f"(target: at least 0.5 and 2,000 events/s: {'met' if met else 'NOT met'})"
    )


def stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.1f} ms, p99 {p99:7.1f} ms over {len(ms)} requests"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    port, sink_port = free_port(), free_port()
    (folder / "hub.toml").write_text(
        f'[kiosk]\nid = "hub"\n[store]\npath = "hub.db"\n[web]\nlisten = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    seed_hub(folder)
    token_store = hubstore.open_hub_store(folder / "hub.db")
    token = hubstore.register_kiosk(token_store, "bench")
    history_token = hubstore.register_kiosk(token_store, "history")
    token_store.close()
    log = (folder / "hub.log").open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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
        wait_listening(url)
        wait_listening(sink_url)
        quick = "--quick" in sys.argv[1:]
        if not quick:
            run(folder, url, sink_url, token)
        long_history(folder, url, history_token, HISTORY // 10 if quick else HISTORY)
    finally:
        for proc in (hub, sink):
            proc.terminate()
            proc.wait(10)


def run(folder: Path, url: str, sink_url: str, token: str) -> None:
    clock = FakeClock()
    settings = from_dict({"kiosk": {"id": "bench"}, "store": {"path": "kiosk.db"}}, base_dir=folder)
    store = open_store(settings, clock)
    worker = SyncWorker(store, HubLink(url, token, "bench", timeout_s=60), batch_size=BATCH)
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
    assert items == ITEMS, items

    queue_events(store, clock)
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
    assert sent == EVENTS + 1 and replica.queue_length(store) == 0, (
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
    store.close()
    worker.client.close()

    size = sum(len(b) for b in bodies)
    rate, plain_rate = sent / drain_s, sent / plain_s
    print(
        f"pull: {ITEMS:,} items + {PATRONS:,} patrons and cards into a new kiosk in {pull_s:.2f} s "
        f"= {ITEMS / pull_s:,.0f} items/s; snapshot pages: {stats(pages)}"
    )
    print(
        f"drain: {sent:,} events ({size / 1e6:.1f} MB) in {drain_s:.2f} s = {rate:,.0f} events/s; "
        f"batches of {BATCH}: {stats(batches)}"
    )
    print(
        f"baseline, same bytes with plain requests.post to a waitress sink: {plain_s:.2f} s "
        f"= {plain_rate:,.0f} events/s; {stats(plain)}"
    )
    print(
        f"ratio sync / plain posts: {rate / plain_rate:.2f} (target: at least 2,000 events/s: "
        f"{'met' if rate >= 2000 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
