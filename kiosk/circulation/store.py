"""The SQLite store: the one place that writes, one transaction per business action.

The connection runs in autocommit mode so that every write starts with our own `BEGIN IMMEDIATE`
(taking the write lock up front: a deferred BEGIN that upgrades can fail at once when the CLI and
the daemon both write) and ends in a COMMIT with `synchronous=FULL`, so a student who was told
"done" has a loan that survives a power cut.

Folding the WAL back into the database file (a checkpoint) is kept off the scan's COMMIT: the
daemon runs `start_checkpointer()`, a thread that checkpoints (PASSIVE) on its own connection a
moment after writes, and SQLite's auto-checkpoint only fires once the WAL passes `wal_max_pages`
(when that thread falls behind or is not running, as in CLI commands, which also checkpoint on
close).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import order
from kiosk.circulation.clock import Clock, SystemClock, stamp
from kiosk.circulation.events import Event, ordered_uuid
from kiosk.circulation.migrations import KNOWN, migrations
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 5.0
WAL_MAX_PAGES = 10_000  # about 40 MB of WAL before a COMMIT checkpoints by itself
CHECKPOINT_DELAY_S = 1.0
QUIET_WAITS = 10  # under a steady stream of writes, checkpoint after 10 delays anyway


class StoreError(KioskError):
    """A store that cannot be used; `kind` is corrupt, locked, newer or unwritable."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _connect(path: Path, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=FULL")
    order.register(conn)  # COLLATE school / pinyin: lists in a school's order
    return conn


def fetch(db: Database, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run a SELECT and return dict rows.

    sqlite-utils 4 wraps every `query()` in a SAVEPOINT and RELEASE (three statements per read);
    the scan path reads a dozen times per scan, so it reads through a plain cursor instead.
    """
    cur = db.conn.execute(sql, params)
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, row, strict=True)) for row in cur]


def classify(path: Path, e: sqlite3.DatabaseError) -> StoreError:
    """Turn an SQLite error into a StoreError a person can act on."""
    text = str(e)
    if "locked" in text or "busy" in text:
        return StoreError("locked", f"{path}: locked by another program ({text})")
    if "not a database" in text or "malformed" in text:
        return StoreError("corrupt", f"{path}: damaged, not touched ({text})")
    return StoreError("unwritable", f"{path}: {text}")


# Fewer events than this are appended one INSERT each: executemany and its read of the last
# seq cost more than a scan's one or two INSERTs.
FEW = 4
APPEND = (
    "INSERT INTO events (uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data) "
    "VALUES (:uuid, :type, :at, :kiosk_id, :actor, :patron_id, :item_barcode, :data)"
)


class Store:
    """A kiosk's SQLite database, opened, checked and migrated."""

    def __init__(
        self,
        path: Path,
        kiosk_id: str,
        clock: Clock,
        timeout: float = BUSY_TIMEOUT_S,
        wal_max_pages: int = WAL_MAX_PAGES,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.kiosk_id = kiosk_id
        self.clock = clock
        # Where a new event's UUID comes from: random; the demo school's is seeded, so that the
        # same seed makes the same school, event for event.
        self.new_uuid: Callable[[], str] = ordered_uuid
        self.wal_max_pages = wal_max_pages  # for a process of its own on this store (an import)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self.db = Database(_connect(path, timeout))
        self._sync = "FULL"  # the writer's synchronous setting, as `write` last set it
        # SQLite's default (1,000 pages) would checkpoint inside every 80th or so checkout's COMMIT.
        self.db.conn.execute(f"PRAGMA wal_autocheckpoint={int(wal_max_pages)}")
        self._written = threading.Event()
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self.last_checkpoint: tuple[int, int, int] | None = None  # (busy, wal frames, folded)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        kiosk_id: str = "kiosk-1",
        clock: Clock | None = None,
        create: bool = True,
        migrate: bool = True,
        timeout: float = BUSY_TIMEOUT_S,
        check: str = "full",
        wal_max_pages: int = WAL_MAX_PAGES,
    ) -> Store:
        """Open (or create) the store; check integrity and schema; apply pending migrations.

        `check="quick"` runs `PRAGMA quick_check` (about a tenth of the time on a large store: it
        skips matching indexes to tables); the daemon uses it and runs the full check in the
        background right after start-up, so a Pi is ready to lend in a second, not a minute.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise StoreError("missing", f"{path}: no store here (run `kiosk init`)")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError("unwritable", f"{path.parent}: cannot create folder: {e}") from e
        try:
            store = cls(path, kiosk_id, clock or SystemClock(), timeout, wal_max_pages)
        except sqlite3.DatabaseError as e:
            raise classify(path, e) from e
        try:
            store._check(migrate, "quick_check" if check == "quick" else "integrity_check")
        except BaseException:
            store.close()
            raise
        return store

    def _check(self, migrate: bool, pragma: str) -> None:
        try:
            mode = self.db.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            problems = [r[0] for r in self.db.conn.execute(f"PRAGMA {pragma}")]
        except sqlite3.DatabaseError as e:
            raise self._classify(e) from e
        if mode != "wal":
            raise StoreError("unwritable", f"{self.path}: cannot switch to WAL (got {mode})")
        if problems != ["ok"]:
            shown = "; ".join(problems[:5])
            raise StoreError("corrupt", f"{self.path}: integrity check failed: {shown}")
        applied = [m.name for m in migrations.applied(self.db)]
        unknown = [n for n in applied if n not in KNOWN]
        if unknown:
            raise StoreError(
                "newer",
                f"{self.path}: made by a newer version of kiosk (schema {unknown[-1]}); "
                "upgrade kiosk, this version will not touch it",
            )
        if not applied and self.db.table_names() and "patrons" not in self.db.table_names():
            raise StoreError("corrupt", f"{self.path}: not a kiosk store (has other tables)")
        if migrate and len(applied) < len(KNOWN):
            try:
                with self._write_lock:
                    migrations.apply(self.db)
            except sqlite3.DatabaseError as e:
                raise self._classify(e) from e

    def _classify(self, e: sqlite3.DatabaseError) -> StoreError:
        return classify(self.path, e)

    @property
    def schema(self) -> list[str]:
        """Return the names of the applied migrations."""
        return [m.name for m in migrations.applied(self.db)]

    def now(self) -> str:
        """Return the current time as the store writes it."""
        return stamp(self.clock.now())

    @contextlib.contextmanager
    def write(self, durable: bool = True) -> Iterator[Database]:
        """Run one business action as one durable transaction (BEGIN IMMEDIATE ... COMMIT).

        `durable=False` is for a copy of what another system has already committed (a SIP2
        library system's answer): the commit is not synced to disk on its own, so it survives a
        crash of the daemon but a power cut may lose it; the next durable commit syncs it too.
        """
        with self._write_lock:
            conn = self.db.conn
            if conn.in_transaction:
                # A nested action joins the outer one: one action, one transaction.
                yield self.db
                return
            # The setting changes only when it must: a SIP2 kiosk's copies follow one another
            # without setting it back and forth (two statements, a tenth of a copy's time).
            sync = "FULL" if durable else "NORMAL"
            if sync != self._sync:
                conn.execute(f"PRAGMA synchronous={sync}")
                self._sync = sync
            yield from self._transaction(conn)
            self._written.set()  # the checkpointer, if running, folds it in a moment later

    def _transaction(self, conn: sqlite3.Connection) -> Iterator[Database]:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise self._classify(e) from e
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def record(self, db: Database, event: Event) -> Event:
        """Append an event inside the current write; return it with its sequence number."""
        if not db.conn.in_transaction:
            raise RuntimeError("events are recorded only inside store.write()")
        cur = db.conn.execute(APPEND, event.row())
        return Event(**{**event.__dict__, "seq": cur.lastrowid})

    def record_all(self, db: Database, events: list[Event]) -> list[Event]:
        """Append events inside the current write, in one statement; return them with their seqs.

        An import's batch of copies is hundreds of events: one `executemany` costs less than
        one INSERT each. The seqs are consecutive (AUTOINCREMENT, under the write lock).
        """
        if not db.conn.in_transaction:
            raise RuntimeError("events are recorded only inside store.write()")
        if len(events) < FEW:  # a scan's command: a statement each, as `record`, and no read
            return [
                Event(**{**e.__dict__, "seq": db.conn.execute(APPEND, e.row()).lastrowid})
                for e in events
            ]
        db.conn.executemany(APPEND, [e.row() for e in events])
        last = db.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        first = last - len(events) + 1
        return [Event(**{**e.__dict__, "seq": first + n}) for n, e in enumerate(events)]

    def event(self, type: str, **kw: Any) -> Event:
        """Make a new event of this kiosk, stamped now, with this store's kind of UUID."""
        kw.setdefault("uuid", self.new_uuid())
        return Event(type=type, at=self.now(), kiosk_id=self.kiosk_id, **kw)

    @property
    def reader(self) -> Database:
        """Return this thread's own read connection (WAL lets it read while another writes)."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = _connect(self.path, self.timeout)
            conn.execute("PRAGMA query_only=ON")
            db = Database(conn)
            self._local.db = db
            with self._write_lock:
                self._readers.append(conn)
        return db

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Run a read-only query on this thread's reader and return dict rows."""
        return fetch(self.reader, sql, params)

    def value(self, sql: str, params: Any = ()) -> Any:
        """Run a read-only query and return the first column of the first row."""
        row = self.reader.execute(sql, params).fetchone()
        return row[0] if row else None

    def integrity(self) -> str:
        """Return 'ok' or the first problems PRAGMA integrity_check reports."""
        rows = [r[0] for r in self.reader.execute("PRAGMA integrity_check")]
        return "ok" if rows == ["ok"] else "; ".join(rows[:5])

    def backup(self, dest: Path | str) -> Path:
        """Copy the database to `dest` while it is in use (SQLite online backup)."""
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"kiosk-{self.now()[:19].replace(':', '')}.db"
        tmp = dest.with_name(dest.name + ".part")
        target = sqlite3.connect(str(tmp))
        try:
            with self._write_lock:
                self.db.conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
        if ok != "ok":
            tmp.unlink(missing_ok=True)
            raise StoreError("corrupt", f"{dest}: backup failed its integrity check: {ok}")
        tmp.replace(dest)
        return dest

    def checkpoint(self, conn: sqlite3.Connection | None = None) -> tuple[int, int, int]:
        """Fold what readers no longer need from the WAL into the file; never wait for a writer."""
        row = (conn or self.db.conn).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.last_checkpoint = (int(row[0]), int(row[1]), int(row[2]))
        return self.last_checkpoint

    def start_checkpointer(self, delay_s: float = CHECKPOINT_DELAY_S) -> None:
        """Checkpoint in a thread of its own `delay_s` after writes, between scans, not in them."""
        if self._checkpointer is not None:
            return
        # Its own connection: a PASSIVE checkpoint there runs beside a writer, never holding one up.
        conn = _connect(self.path, self.timeout)
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, args=(conn, delay_s), name="checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self, conn: sqlite3.Connection, delay_s: float) -> None:
        try:
            while not self._stopping.is_set():
                self._written.wait()  # close() sets it too, to wake this thread up
                if self._stopping.is_set():
                    break
                # Wait for a quiet moment between scans (no write for delay_s), though never
                # longer than QUIET_WAITS delays; the WAL is durable meanwhile.
                for _ in range(QUIET_WAITS):
                    self._written.clear()
                    if self._stopping.wait(delay_s):
                        return
                    if not self._written.is_set():
                        break
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as e:
                    # Busy or locked by a CLI command: the next write tries again.
                    log.warning("background checkpoint failed: %s", e)
        finally:
            conn.close()

    def interrupt(self) -> None:
        """Abort the statements other threads are running on this store's read connections.

        Safe from any thread (`sqlite3.Connection.interrupt`). A connection closed under a
        running statement can crash the process (the start-up's full integrity check runs for
        seconds in a thread of its own); interrupted, the statement ends in an error that its
        thread handles, and the thread can be waited for before the store closes.
        """
        for conn in list(self._readers):
            conn.interrupt()

    def close(self) -> None:
        """Stop the checkpointer, fold this store's writes into the file, close every connection."""
        self.interrupt()
        self._stopping.set()
        self._written.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._write_lock:
            with contextlib.suppress(sqlite3.Error):
                self.checkpoint()
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self.db.conn.close()
