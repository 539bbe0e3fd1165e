"""Backups kept to a count, and `kiosk restore` that checks a backup and refuses while running."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from kiosk.circulation import covers
from kiosk.circulation.records import put_patron
from kiosk.circulation.store import Store, StoreError
from kiosk.cli import main
from kiosk.ops.backups import daemon_lock, daemon_running

KIOSK = str(Path(sys.executable).with_name("kiosk"))


@pytest.fixture
def cfg(tmp_path: Path, store: Store) -> Path:
    """A config for the small school's store; the fixture's connection is closed."""
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(
        '[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n[indicator]\nkind = "none"\n',
        encoding="utf-8",
    )
    return path


def kiosk(cfg: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(cfg), *args], env={"KIOSK_LANG": "en"})
    return result.exit_code, result.output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def patron_ids(db: Path) -> list[str]:
    store = Store.open(db, migrate=False)
    try:
        return [r["id"] for r in store.query("SELECT id FROM patrons ORDER BY id")]
    finally:
        store.close()


def add_patron(db: Path, pid: str) -> None:
    store = Store.open(db)
    with store.write() as tx:
        put_patron(tx, {"id": pid, "name": "新同学", "role": "student", "grade": 2}, [], "now")
    store.close()


def photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), colour).save(out, "JPEG")
    return out.getvalue()


def give_covers(db: Path, colours: list[tuple[int, int, int]]) -> dict[str, bytes]:
    """Photograph the first books' covers; return each kept cover file's name and bytes."""
    store = Store.open(db)
    try:
        barcodes = [r["barcode"] for r in store.query("SELECT barcode FROM items ORDER BY barcode")]
        for barcode, colour in zip(barcodes, colours, strict=False):
            covers.set_cover(store, barcode, photo(colour), "librarian:x")
        names = [r["cover"] for r in store.query("SELECT cover FROM items WHERE cover IS NOT NULL")]
        return {n: (covers.folder(store) / n).read_bytes() for n in names}
    finally:
        store.close()


def served(db: Path) -> dict[str, bytes]:
    """Return the covers the store's items name that the pages can serve, with their bytes."""
    store = Store.open(db, migrate=False)
    try:
        names = [r["cover"] for r in store.query("SELECT cover FROM items WHERE cover IS NOT NULL")]
        found = {n: covers.path_of(store, n) for n in names}
        return {n: p.read_bytes() for n, p in found.items() if p is not None}
    finally:
        store.close()


def test_covers_lost_with_the_store_come_back_with_a_restore(cfg: Path, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    kept = give_covers(db, [(200, 30, 30), (30, 30, 200)])
    assert len(kept) == 2
    nightly = tmp_path / "backups"

    code, out = kiosk(cfg, "backup", "--keep", "3", str(nightly))

    assert code == 0, out
    assert {p.name: p.read_bytes() for p in (nightly / "covers").iterdir()} == kept
    shutil.rmtree(tmp_path / "covers")  # the SD card's covers are gone
    assert served(db) == {}
    (backup,) = nightly.glob("kiosk-*.db")

    code, out = kiosk(cfg, "restore", str(backup))

    assert code == 0, out
    assert served(db) == kept
    assert out.splitlines()[0] == f"restored {backup} to {db}"


def test_a_cover_missing_at_backup_time_is_reported_and_the_rest_kept(
    cfg: Path, tmp_path: Path
) -> None:
    db = tmp_path / "kiosk.db"
    kept = give_covers(db, [(200, 30, 30), (30, 30, 200)])
    lost, other = sorted(kept)
    (tmp_path / "covers" / lost).unlink()
    (tmp_path / "nightly").mkdir()

    code, out = kiosk(cfg, "backup", str(tmp_path / "nightly"))

    assert code == 0, out
    assert out.splitlines()[1:] == [f"cover missing, not copied: {tmp_path / 'covers' / lost}"]
    assert [p.name for p in (tmp_path / "nightly" / "covers").iterdir()] == [other]
    assert len(list((tmp_path / "nightly").glob("kiosk-*.db"))) == 1


def test_keep_deletes_a_cover_only_when_no_kept_backup_names_it(cfg: Path, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    nightly = tmp_path / "nightly"
    first = give_covers(db, [(200, 30, 30), (30, 30, 200)])
    code, out = kiosk(cfg, "backup", "--keep", "2", str(nightly))
    assert code == 0, out
    later = give_covers(db, [(30, 200, 30)])  # the first book's cover taken again
    (replaced,) = set(first) - set(later)
    oldest = min(nightly.glob("kiosk-*.db"))
    # Backups are named to the second; the older one is renamed so the next is distinct.
    oldest.rename(nightly / "kiosk-2026-01-01T023000.db")

    code, out = kiosk(cfg, "backup", "--keep", "2", str(nightly))
    assert code == 0, out
    assert {p.name for p in (nightly / "covers").iterdir()} == set(first) | set(later)

    code, out = kiosk(cfg, "backup", "--keep", "1", str(nightly))

    assert code == 0, out
    assert {p.name for p in (nightly / "covers").iterdir()} == set(later)
    assert f"deleted cover no kept backup names: {nightly / 'covers' / replaced}" in out


def test_backup_keep_deletes_only_the_oldest_nightly_backups(cfg: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [folder / f"kiosk-2026-01-0{d}T023000.db" for d in (1, 2, 3)]
    for path in old:
        shutil.copyfile(tmp_path / "kiosk.db", path)
    other = [folder / "before-upgrade-20260101T000000-abc.db", folder / "notes.txt"]
    for path in other:
        path.write_text("keep me", encoding="utf-8")

    code, out = kiosk(cfg, "backup", "--keep", "2", str(folder))

    assert code == 0, out
    left = sorted(p.name for p in folder.iterdir())
    new = [n for n in left if n.startswith("kiosk-") and n not in {p.name for p in old}]
    assert len(new) == 1
    assert left == sorted([old[2].name, new[0], *(p.name for p in other)])
    assert out.splitlines()[1:] == [
        f"deleted old backup: {old[0]}",
        f"deleted old backup: {old[1]}",
    ]
    assert patron_ids(folder / new[0]) == patron_ids(tmp_path / "kiosk.db")


def test_backup_keep_makes_the_folder(cfg: Path, tmp_path: Path) -> None:
    code, out = kiosk(cfg, "backup", "--keep", "3", str(tmp_path / "nightly"))
    assert code == 0, out
    assert len(list((tmp_path / "nightly").glob("kiosk-*.db"))) == 1


def test_restore_puts_a_backup_back_and_keeps_the_store_it_replaced(
    cfg: Path, tmp_path: Path
) -> None:
    db = tmp_path / "kiosk.db"
    code, out = kiosk(cfg, "backup", str(tmp_path / "saved.db"))
    assert code == 0, out
    before = patron_ids(db)
    add_patron(db, "S999")  # a change made after the backup
    assert "S999" in patron_ids(db)

    code, out = kiosk(cfg, "restore", str(tmp_path / "saved.db"))

    assert code == 0, out
    assert patron_ids(db) == before
    kept = list(tmp_path.glob("kiosk.db.before-restore-*"))
    assert len(kept) == 1 and not kept[0].name.endswith(("-wal", "-shm"))
    assert "S999" in patron_ids(kept[0])
    assert out.splitlines() == [
        f"restored {tmp_path / 'saved.db'} to {db}",
        f"the store it replaced is kept as {kept[0]}",
        "start the kiosk again: sudo systemctl start kiosk",
    ]


def read_only_ids(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM patrons ORDER BY id")]
    finally:
        conn.close()


def killed_after_adding(db: Path, pid: str) -> None:
    """Add a patron in a process that is then killed: the change is only in the WAL file."""
    code = f"""
import os
from kiosk.circulation.records import put_patron
from kiosk.circulation.store import Store
store = Store.open({str(db)!r})
with store.write() as tx:
    put_patron(tx, {{"id": {pid!r}, "name": "新同学", "role": "student", "grade": 2}}, [], "now")
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_putting_the_replaced_store_back_keeps_what_its_wal_held(cfg: Path, tmp_path: Path) -> None:
    # The kiosk stopped without folding its WAL (a crash, a power cut); the IT person restores
    # last night's backup, then puts the replaced store back. Before, a restore copied the
    # file alone: the loans and patrons still in the WAL were silently lost.
    db = tmp_path / "kiosk.db"
    code, out = kiosk(cfg, "backup", str(tmp_path / "nightly.db"))
    assert code == 0, out
    killed_after_adding(db, "S999")
    assert Path(f"{db}-wal").stat().st_size > 0
    assert "S999" in read_only_ids(db)  # (a Store would fold the WAL in when it closes)

    code, out = kiosk(cfg, "restore", str(tmp_path / "nightly.db"))
    assert code == 0, out
    assert "S999" not in patron_ids(db)
    (kept,) = [p for p in tmp_path.glob("kiosk.db.before-restore-*") if p.name[-4] != "-"]
    assert Path(f"{kept}-wal").exists()  # moved beside it, with the patron in it

    code, out = kiosk(cfg, "restore", str(kept))

    assert code == 0, out
    assert "S999" in patron_ids(db)
    assert Path(f"{kept}-wal").exists()  # the file restored from is left as it was


def test_restore_refuses_a_damaged_backup_and_changes_nothing(cfg: Path, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    code, _ = kiosk(cfg, "backup", str(tmp_path / "saved.db"))
    assert code == 0
    data = bytearray((tmp_path / "saved.db").read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of the backup overwritten, like a bad SD card
    (tmp_path / "saved.db").write_bytes(bytes(data))
    want = digest(db)

    code, out = kiosk(cfg, "restore", str(tmp_path / "saved.db"))

    assert code == 1
    assert out.startswith(f"error: backup not restored: {tmp_path / 'saved.db'} is damaged: ")
    assert digest(db) == want
    assert list(tmp_path.glob("*.before-restore-*")) == []


def test_restore_refuses_what_is_not_a_kiosk_store(cfg: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database at all, just text\n" * 200)
    code, out = kiosk(cfg, "restore", str(tmp_path / "notes.txt"))
    assert code == 1
    assert f"error: backup not restored: {tmp_path / 'notes.txt'} is damaged" in out
    code, out = kiosk(cfg, "restore", str(tmp_path / "missing.db"))
    assert (code, out) == (
        1,
        f"error: backup not restored: {tmp_path / 'missing.db'} does not exist\n",
    )


def test_restore_refuses_while_the_daemon_runs(cfg: Path, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    code, _ = kiosk(cfg, "backup", str(tmp_path / "saved.db"))
    assert code == 0
    proc = subprocess.Popen(
        [KIOSK, "--config", str(cfg), "run"],
        env={**os.environ, "KIOSK_LANG": "en"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 15
        while not daemon_running(db) and time.monotonic() < end:
            time.sleep(0.05)
        assert daemon_running(db)
        want = digest(db)

        code, out = kiosk(cfg, "restore", str(tmp_path / "saved.db"))

        assert code == 1
        assert out == (
            f"error: {db} is in use by a running kiosk daemon; "
            "stop it first: sudo systemctl stop kiosk\n"
        )
        assert digest(db) == want
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert not daemon_running(db)
    code, out = kiosk(cfg, "restore", str(tmp_path / "saved.db"))
    assert code == 0, out


def test_a_second_daemon_on_the_same_store_is_refused(cfg: Path, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    env = {**os.environ, "KIOSK_LANG": "en"}
    first = subprocess.Popen(
        [KIOSK, "--config", str(cfg), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 15
        while not daemon_running(db) and time.monotonic() < end:
            time.sleep(0.2)
        second = subprocess.run(
            [KIOSK, "--config", str(cfg), "run"], env=env, capture_output=True, text=True
        )
        assert second.returncode == 1
        assert second.stderr.endswith(f"error: {db} is in use by a running kiosk daemon\n")
        assert first.poll() is None  # the first one goes on
    finally:
        first.terminate()
        first.wait(15)


def test_a_starting_daemon_rides_out_a_brief_look_at_its_lock(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    held, release = threading.Event(), threading.Event()

    def look_briefly() -> None:  # what `kiosk doctor` does to see if the daemon runs
        with daemon_lock(db):
            held.set()
            release.wait(5)

    looker = threading.Thread(target=look_briefly)
    looker.start()
    assert held.wait(5)
    # Without a wait the lock is refused ...
    with pytest.raises(StoreError) as refused, daemon_lock(db):
        pass
    assert refused.value.kind == "locked"
    # ... with one, it is taken as soon as the look is over.
    threading.Timer(0.3, release.set).start()
    with daemon_lock(db, wait_s=2.0):
        assert release.is_set()  # taken only after the look let go, not beside it
    looker.join()


def test_a_damaged_cover_is_reported_and_not_copied_over_the_backups(
    cfg: Path, tmp_path: Path
) -> None:
    db = tmp_path / "kiosk.db"
    (name,) = give_covers(db, [(200, 30, 30)])
    broken = tmp_path / "covers" / name
    broken.write_bytes(broken.read_bytes()[:500])  # cut short, like a bad SD card
    (tmp_path / "nightly").mkdir()

    code, out = kiosk(cfg, "backup", str(tmp_path / "nightly"))

    assert code == 0, out
    assert out.splitlines()[1:] == [f"cover damaged, not copied: {broken}"]
    assert not (tmp_path / "nightly" / "covers").exists()
