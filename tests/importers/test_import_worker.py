"""The dashboard's import process: it runs on the store with the kiosk's own WAL bound."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.circulation.store import Store

pytestmark = pytest.mark.slow  # the import worker process


def patrons_csv(path: Path, count: int) -> Path:
    lines = ["学号,姓名,班级,年级,身份,卡号"]
    lines += [f"W{n:05d},学生{n},三(2)班,3,学生,0E{n:08X}" for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wal_after_import(folder: Path, wal_max_pages: int) -> int:
    """Import 4,000 patrons in a worker process; return the WAL's size at its highest."""
    folder.mkdir()
    store = Store.open(folder / "kiosk.db", kiosk_id="k1")
    store.close()
    # An idle connection keeps the WAL file (SQLite deletes it when the last one closes); its
    # size is then the most the import let the WAL grow before a COMMIT folded it back.
    keep = sqlite3.connect(folder / "kiosk.db")
    keep.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL index
    try:
        job = {
            "store": str(folder / "kiosk.db"),
            "kiosk_id": "k1",
            "wal_max_pages": wal_max_pages,
            "kind": "patrons",
            "file": str(patrons_csv(folder / "patrons.csv", 4000)),
            "name": "patrons.csv",
            "dry_run": False,
            "actor": "librarian",
            "lang": "en",
        }
        cmd = [sys.executable, "-m", "kiosk.circulation.importers.worker", json.dumps(job)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert done.returncode == 0 and report["ok"], done.stderr
        assert keep.execute("SELECT count(*) FROM patrons").fetchone()[0] == 4000
        return (folder / "kiosk.db-wal").stat().st_size
    finally:
        keep.close()


def test_the_import_process_keeps_the_wal_within_the_configured_bound(tmp_path: Path) -> None:
    bounded = wal_after_import(tmp_path / "bounded", 32)
    unbounded = wal_after_import(tmp_path / "unbounded", 1_000_000)
    # Unbounded, the WAL holds the whole import; bounded, a COMMIT folds it back once it
    # passes 32 pages, so it never holds much more than one batch.
    assert bounded * 2 < unbounded, (bounded, unbounded)
