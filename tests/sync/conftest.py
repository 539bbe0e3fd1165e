"""Fixtures for sync: a hub in its own process on loopback, kiosks with real stores and workers."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.circulation.clock import Clock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Event, Store
from kiosk.config import from_dict
from kiosk.daemon.app import open_store
from kiosk.sync import hubstore
from kiosk.sync.client import HubLink, SyncWorker

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

PATRONS = [
    ("S001", "王小明", "student", 3, "三(2)班", ["CARD-S001"]),
    ("S002", "李雨涵", "student", 3, "三(2)班", ["CARD-S002"]),
    ("S003", "Tom Green", "student", 5, "五(1)班", ["CARD-S003"]),
    ("T001", "陈老师", "teacher", None, "三(2)班", ["CARD-T001"]),
]
ITEMS = [(f"97870200{n:05d}", f"书 {n}") for n in range(1, 21)]
BOOK = [barcode for barcode, _ in ITEMS]

# A kiosk's own events: its log less the rows it copied from the hub's feed (actor `hub`,
# acknowledged as they are written, never sent up: docs/sync.md).
OWN_EVENTS = "SELECT uuid FROM events WHERE actor IS NOT 'hub' ORDER BY seq"


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_school(store: Store) -> None:
    """Put four patrons and twenty books into a store."""
    with store.write() as db:
        for pid, name, role, grade, cls, cards in PATRONS:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, cards, store.now())
        for barcode, title in ITEMS:
            put_item(db, {"barcode": barcode, "title": title}, store.now())


def wait_until(check: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something true; fail with `what` after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Hub:
    """A hub process: `kiosk --config hub.toml hub` on a loopback port."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    max_batch: int = 2000
    web: str = ""  # more lines of [web]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.folder / "hub.toml"

    @property
    def db_path(self) -> Path:
        return self.folder / "hub.db"

    def write_config(self) -> None:
        self.config.write_text(
            f'[kiosk]\nid = "hub"\n[store]\npath = "hub.db"\n'
            f'[web]\nlisten = "127.0.0.1:{self.port}"\n{self.web}\n'
            f"[hub]\nmax_batch = {self.max_batch}\n",
            encoding="utf-8",
        )

    def start(self) -> None:
        self.write_config()
        log = (self.folder / "hub.log").open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "kiosk", "--config", str(self.config), "hub"],
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        wait_until(self._listening, 15, "the hub to listen")

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"hub exited: {(self.folder / 'hub.log').read_text()}")
        try:
            requests.get(self.url + "/api/v1/sync/kiosks", timeout=0.5)
        except requests.ConnectionError:
            return False
        return True

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def store(self) -> Store:
        """Open the hub's database from this test process (WAL lets both use it)."""
        return hubstore.open_hub_store(self.db_path)

    def register(self, kiosk_id: str) -> str:
        s = self.store()
        try:
            return hubstore.register_kiosk(s, kiosk_id)
        finally:
            s.close()

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Read the hub's database directly (read-only), as often as a test polls."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub process with the small school in its store."""
    h = Hub(tmp_path / "hub")
    h.folder.mkdir()
    s = h.store()
    add_school(s)
    s.close()
    h.start()
    yield h
    h.stop()


@dataclass
class KioskSide:
    """A kiosk's store, circulation service and sync worker, in this test process."""

    store: Store
    circulation: Circulation
    worker: SyncWorker

    def loans(self) -> dict[str, str]:
        return open_loans(self.store)

    def close(self) -> None:
        self.worker.stop()
        self.store.close()


def open_loans(store: Store) -> dict[str, str]:
    """Return item barcode -> patron id of every open loan."""
    rows = store.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    return {r["item_barcode"]: r["patron_id"] for r in rows}


def make_kiosk(
    folder: Path,
    hub_url: str,
    token: str,
    kiosk_id: str,
    clock: Clock | None = None,
    timeout_s: float = 2.0,
    batch_size: int = 500,
) -> KioskSide:
    """Open a kiosk store wired to a hub, with a worker that is not started."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = from_dict(
        {"kiosk": {"id": kiosk_id}, "store": {"path": "kiosk.db"}}, base_dir=folder
    )
    store = open_store(settings, clock)
    link = HubLink(hub_url, token, kiosk_id, timeout_s=timeout_s)
    worker = SyncWorker(store, link, interval_s=0.2, retry_max_s=0.5, batch_size=batch_size)
    return KioskSide(store, Circulation(store, record_stray_returns=True), worker)


@pytest.fixture
def kiosk_factory(tmp_path: Path) -> Iterator[Any]:
    """Make kiosks against a URL; all are closed at the end."""
    made: list[KioskSide] = []

    def make(hub_url: str, token: str, kiosk_id: str = "k1", **kw: Any) -> KioskSide:
        k = make_kiosk(tmp_path / kiosk_id, hub_url, token, kiosk_id, **kw)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()


def environ() -> dict[str, str]:
    """Return the environment for child processes."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "KIOSK_LANG": "en"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the kiosk command in a child process."""
    return subprocess.run(
        [PYTHON, "-m", "kiosk", *args], capture_output=True, text=True, env=environ(), cwd=ROOT
    )


def kept_for_the_record(
    store: Store, db: Any, events: Sequence[tuple[str, dict[str, Any]]], actor: str
) -> None:
    """Store kiosk A's events as a hub that only kept them for the record did: logged and
    received in order, applied to nothing."""
    for seq, (type_, data) in enumerate(events, start=1):
        e = Event(type_, store.now(), "A", actor, None, None, data, str(uuid.uuid4()))
        db.execute(
            "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, "
            "data) VALUES (:uuid, :type, :at, :kiosk_id, :actor, :patron_id, :item_barcode, "
            ":data)",
            e.row(),
        )
        db.execute(
            "INSERT INTO received (uuid, kiosk_id, kiosk_seq, received_at, clock_offset_s, "
            "effective_at) VALUES (?, 'A', ?, ?, 0, ?)",
            [e.uuid, seq, store.now(), e.at],
        )
