"""Nightly backups kept to a count, and a restore that checks a backup before it trusts it.

A backup is a plain SQLite file `kiosk-YYYY-MM-DDTHHMMSS.db` (see `Store.backup`), so names sort
by time and retention is "keep the newest N of those names"; other files in the folder (the
installer's `before-upgrade-*.db`, anything a person put there) are never deleted.

`kiosk run` holds an flock(2) on the store file for as long as it runs. SQLite's own locks are
POSIX record locks, which flock does not touch, so this lock only says "the daemon is using this
store": `kiosk restore` tries it and refuses while it is held.

Covers (photos, kiosk/circulation/covers.py) are files beside the store, not in it, so a backup
also copies the covers it names into a `covers/` folder beside itself, and a restore copies them
back. They are named by their content, so a file already there is the same file and is skipped;
the backups of a folder share one covers folder, and pruning keeps every cover a kept backup names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kiosk.circulation import covers
from kiosk.circulation.migrations import KNOWN
from kiosk.circulation.store import StoreError
from kiosk.i18n import N_, _

# Messages of `kiosk backup --keep` (the command lives in kiosk/cli.py).
DELETED = N_("deleted old backup: {path}")
NEEDS_FOLDER = N_("--keep needs DEST to be a folder: {error}")
COVER_DELETED = N_("deleted cover no kept backup names: {path}")
COVER_MISSING = N_("cover missing, not copied: {path}")
COVER_DAMAGED = N_("cover damaged, not copied: {path}")

BACKUP_NAME = re.compile(r"^kiosk-\d{4}-\d{2}-\d{2}T\d{6}\.db$")


def backups_in(folder: Path) -> list[Path]:
    """Return the nightly backups in a folder, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if BACKUP_NAME.match(p.name) and p.is_file())


@dataclass(frozen=True)
class Pruned:
    """What a prune deleted: old backups, and the covers only they named."""

    backups: list[Path]
    covers: list[Path]


def prune(folder: Path, keep: int) -> Pruned:
    """Delete all but the newest `keep` backups in `folder`, and covers no kept store names."""
    if keep < 1:
        raise ValueError("keep must be 1 or more")
    old = backups_in(folder)[:-keep]
    dropped: set[str] = set()
    for path in old:
        with contextlib.suppress(sqlite3.Error):  # a damaged backup's covers are not candidates
            dropped |= covers.names_in(path)
        path.unlink()
    return Pruned(old, _prune_covers(folder, dropped))


def _prune_covers(folder: Path, dropped: set[str]) -> list[Path]:
    """Delete the covers in `dropped` that no store file left in `folder` names."""
    if not dropped:
        return []
    named: set[str] = set()
    # Every *.db left counts, the installer's before-upgrade copies and a person's own too.
    for path in folder.glob("*.db"):
        if not path.is_file():
            continue
        try:
            named |= covers.names_in(path)
        except sqlite3.Error:
            return []  # cannot tell what it needs: delete no cover
    gone = []
    for name in sorted(dropped - named):
        path = covers.folder_beside(folder / "x.db") / name
        if path.is_file():
            path.unlink()
            gone.append(path)
    return gone


@dataclass(frozen=True)
class CoverCopy:
    """What copying covers did: the files copied, and those missing or damaged at the source."""

    copied: list[Path]
    missing: list[Path]
    damaged: list[Path]


def copy_covers(
    db: Path, source: Path, target: Path, owner: os.stat_result | None = None
) -> CoverCopy:
    """Copy the covers `db` names from `source` to `target` unless `target` has them already."""
    copied: list[Path] = []
    missing: list[Path] = []
    damaged: list[Path] = []
    for name in sorted(covers.names_in(db)):
        dst = target / name
        if dst.is_file():
            continue  # named by its content: the same file
        src = source / name
        try:
            data = src.read_bytes()
        except OSError:
            missing.append(src)
            continue
        if not covers.is_whole(name, data):
            damaged.append(src)
            continue
        if not target.is_dir():
            target.mkdir(parents=True)
            if owner is not None:
                os.chown(target, owner.st_uid, owner.st_gid)
        # Written whole before it is named, so the page never serves half a file.
        part = dst.with_name(name + ".part")
        part.write_bytes(data)
        if owner is not None:
            os.chown(part, owner.st_uid, owner.st_gid)
        part.replace(dst)
        copied.append(dst)
    return CoverCopy(copied, missing, damaged)


def backup_covers(backup: Path, store_path: Path) -> CoverCopy:
    """Copy the covers a fresh backup names into the `covers/` folder beside it."""
    return copy_covers(backup, covers.folder_beside(store_path), covers.folder_beside(backup))


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
    covers: CoverCopy


def copy_store(source: Path, out: Path) -> None:
    """Copy a store as SQLite reads it, the changes still in its WAL file included.

    A copy of the file alone would drop them: a store copied from a kiosk that stopped without
    folding its WAL, or the `before-restore` store put back (its WAL was moved beside it).
    """
    out.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one file, as `kiosk backup` writes them
    finally:
        dst.close()
        src.close()


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
        copy_store(backup, part)
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
        root = os.geteuid() == 0
        if root:
            # Run with sudo: the restored file must still belong to the service's user.
            os.chown(part, owner.st_uid, owner.st_gid)
        part.replace(store_path)
        copy = copy_covers(
            store_path,
            covers.folder_beside(backup),
            covers.folder_beside(store_path),
            owner if root else None,
        )
    return Restored(backup, store_path, kept, copy)
