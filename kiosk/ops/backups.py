"""Nightly backups kept to a count, and a restore that checks a backup before it trusts it.

A backup is a plain SQLite file `kiosk-YYYY-MM-DDTHHMMSS.db` (see `Store.backup`), so names sort
by time and retention is "keep the newest N of those names"; other files in the folder (the
installer's `before-upgrade-*.db`, anything a person put there) are never deleted.

`kiosk run` holds an flock(2) on the store file for as long as it runs. SQLite's own locks are
POSIX record locks, which flock does not touch, so this lock only says "the daemon is using this
store": `kiosk restore` tries it and refuses while it is held.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kiosk.circulation.migrations import KNOWN
from kiosk.circulation.store import StoreError
from kiosk.i18n import N_, _

# Messages of `kiosk backup --keep` (the command lives in kiosk/cli.py).
DELETED = N_("deleted old backup: {path}")
NEEDS_FOLDER = N_("--keep needs DEST to be a folder: {error}")

BACKUP_NAME = re.compile(r"^kiosk-\d{4}-\d{2}-\d{2}T\d{6}\.db$")


def backups_in(folder: Path) -> list[Path]:
    """Return the nightly backups in a folder, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if BACKUP_NAME.match(p.name) and p.is_file())


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; return what was deleted."""
    if keep < 1:
        raise ValueError("keep must be 1 or more")
    old = backups_in(folder)[:-keep]
    for path in old:
        path.unlink()
    return old


@dataclass(frozen=True)
class StoreCheck:
    """What a read-only look at a store file found: `problem` is None when it is usable."""

    path: Path
    problem: str | None = None
    kind: str = "ok"  # ok, missing, corrupt, newer, not_kiosk, pending
    schema: tuple[str, ...] = ()


def inspect(path: Path) -> StoreCheck:
    """Check a store or backup file without changing it: integrity, and whose schema it has."""
    if not path.is_file():
        return StoreCheck(path, _("{path} does not exist", path=path), "missing")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        problem = _("{path} cannot be opened: {error}", path=path, error=e)
        return StoreCheck(path, problem, "corrupt")
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            shown = "; ".join(rows[:3])
            return StoreCheck(
                path, _("{path} is damaged: {error}", path=path, error=shown), "corrupt"
            )
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "_sqlite_migrations" not in tables or "patrons" not in tables:
            return StoreCheck(path, _("{path} is not a kiosk store", path=path), "not_kiosk")
        schema = tuple(r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations"))
    except sqlite3.DatabaseError as e:
        return StoreCheck(path, _("{path} is damaged: {error}", path=path, error=e), "corrupt")
    finally:
        conn.close()
    newer = [n for n in schema if n not in KNOWN]
    if newer:
        problem = _(
            "{path} was made by a newer version of kiosk (schema {schema})",
            path=path,
            schema=newer[-1],
        )
        return StoreCheck(path, problem, "newer", schema)
    if len(schema) < len(KNOWN):
        return StoreCheck(path, None, "pending", schema)
    return StoreCheck(path, None, "ok", schema)


@contextlib.contextmanager
def daemon_lock(store_path: Path, wait_s: float = 0.0) -> Iterator[IO[bytes]]:
    """Hold the store's "daemon running" lock; raise StoreError(locked) if someone holds it.

    `wait_s` lets a starting daemon ride out another program's brief look at the lock (`kiosk
    doctor`, `daemon_running`) instead of failing at once.
    """
    store_path.parent.mkdir(parents=True, exist_ok=True)
    # "a" creates the file when missing without truncating an existing store.
    with open(store_path, "ab") as f:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        "locked",
                        _("{path} is in use by a running kiosk daemon", path=store_path),
                    ) from None
                time.sleep(0.05)
        try:
            yield f
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def daemon_running(store_path: Path) -> bool:
    """Return whether a kiosk daemon holds this store."""
    if not store_path.is_file():
        return False
    try:
        with daemon_lock(store_path):
            return False
    except StoreError:
        return True


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup used and where the replaced store was kept."""

    backup: Path
    store: Path
    kept: Path | None


def restore(backup: Path, store_path: Path, now: dt.datetime | None = None) -> Restored:
    """Put a checked backup in place of the store (the daemon stopped); keep the old store."""
    check = inspect(backup)
    if check.problem is not None:
        raise StoreError(check.kind, _("backup not restored: {problem}", problem=check.problem))
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    kept: Path | None = None
    with daemon_lock(store_path) as held:
        owner = os.fstat(held.fileno())
        if owner.st_size == 0:
            owner = store_path.parent.stat()  # a new store belongs to whoever owns its folder
        part = store_path.with_name(store_path.name + ".restoring")
        shutil.copyfile(backup, part)
        if os.fstat(held.fileno()).st_size > 0:
            # The old store and its WAL move aside together, so nothing in them is lost.
            kept = store_path.with_name(f"{store_path.name}.before-restore-{stamp}")
            for suffix in ("-wal", "-shm"):
                side = Path(str(store_path) + suffix)
                if side.exists():
                    side.replace(Path(str(kept) + suffix))
            store_path.replace(kept)
        else:
            store_path.unlink()  # the empty file daemon_lock made
        if os.geteuid() == 0:
            # Run with sudo: the restored file must still belong to the service's user.
            os.chown(part, owner.st_uid, owner.st_gid)
        part.replace(store_path)
    return Restored(backup, store_path, kept)
