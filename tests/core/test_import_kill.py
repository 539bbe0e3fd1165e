"""An import is all or nothing through a kill: SIGKILL `kiosk import` and the dashboard's worker.

A school's store holds 1,000 books X0000000..X0000999 with old titles; the file (CSV, and .xlsx
whose stored size says A1:C5) holds 100,000 books X0000000..X0099999 with new titles, so a whole
import both updates and adds. Each round copies the store, starts the import and kills it with
SIGKILL at a random moment: while it checks the file (nothing written yet), after a random number
of the 100,000 rows are written (read from the store as the import goes), or as it finishes. Then
the next start puts things right: `kiosk import --dry-run` or `kiosk run` for the command line,
the dashboard itself for its worker (it undoes a dead worker's rows at once). The store must then
hold all of the file or none of it (every title old, or all 100,000 new with one `import` event),
pass `PRAGMA integrity_check`, have no journal left, and no uploaded or temporary file behind.
Twelve rounds kill `kiosk import` (two of them of the .xlsx), eight the dashboard's worker (two
.xlsx); they run four at a time, each on its own store.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from web.helpers import LOOPBACK, set_up_and_login, token

from kiosk import config
from kiosk.app import Daemon, open_store
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.importers import journal, worker
from kiosk.circulation.records import put_item
from kiosk.i18n import translate
from kiosk.web import create_app

from . import workbooks
from .test_daemon import KioskProcess, make_school, write_config

ROWS = 100_000
OLD = 1_000  # books already in the store, which the file updates
HEADER = ["条码号", "题名", "责任者"]


def book(n: int) -> list[str | int]:
    return [f"X{n:07d}", f"书名{n}", f"作者{n % 977}"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 100,000-row file as CSV and as .xlsx (its <dimension> says A1:C5), made once."""
    folder = tmp_path_factory.mktemp("files")
    csv = folder / "books.csv"
    with csv.open("w", encoding="utf-8") as f:
        f.write(",".join(HEADER) + "\n")
        for n in range(ROWS):
            f.write(",".join(map(str, book(n))) + "\n")
    xlsx = workbooks.write(folder / "books.xlsx", [HEADER, *map(book, range(ROWS))])
    tiny = folder / "tiny.csv"
    tiny.write_text("条码号,题名\nX0000000,旧书0\n", encoding="utf-8")
    return {"csv": csv, "xlsx": xlsx, "tiny": tiny}


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the small school and the 1,000 old books, to copy for each round."""
    folder = tmp_path_factory.mktemp("school")
    path = make_school(write_config(folder))
    store = open_store(config.load(folder / "config.toml"), SystemClock())
    with store.write() as db:
        for n in range(OLD):
            put_item(db, {"barcode": f"X{n:07d}", "title": f"旧书{n}"}, store.now())
    store.close()
    return path


def outcome(db: Path) -> str:
    """Return 'none' or 'all' for what the store holds of the file; fail on anything else."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        books, new, events, journalled, runs = conn.execute(
            "SELECT (SELECT count(*) FROM items WHERE barcode LIKE 'X%'), "
            "(SELECT count(*) FROM items WHERE barcode LIKE 'X%' AND title LIKE '书名%'), "
            "(SELECT count(*) FROM events WHERE type = 'import' AND data LIKE '%books.%'), "
            "(SELECT count(*) FROM import_journal), (SELECT count(*) FROM import_runs)"
        ).fetchone()
    finally:
        conn.close()
    assert (journalled, runs) == (0, 0), "a journal was left behind"
    if (books, new, events) == (OLD, 0, 0):
        return "none"
    assert (books, new, events) == (ROWS, ROWS, 1), f"part of the file: {books}, {new}, {events}"
    return "all"


def written(db: Path) -> int:
    """Return how many rows the running import has written so far (its journal)."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        # Rows are journalled in seq order and none is deleted while it writes: this counts them
        # from the two ends of the table's index, without reading the rows between.
        found = conn.execute("SELECT max(seq) - min(seq) + 1 FROM import_journal").fetchone()[0]
        return int(found or 0)
    except sqlite3.OperationalError:
        return 0  # not migrated yet, or busy for a moment
    finally:
        conn.close()


def kill_at(
    rng: random.Random, db: Path, alive: Callable[[], bool], kill: Callable[[], None]
) -> str:
    """Kill an import at a random moment; return where it was."""
    chance = rng.random()
    if chance < 0.2:
        time.sleep(rng.uniform(0.0, 2.0))  # while it checks the file: nothing written yet
        where = "checking"
    else:
        # Anywhere in the writing, or (one in four) at its end: the last batches, the commit
        # of the `import` event, the deletion of the journal, or just after.
        near_end = chance > 0.8
        target = ROWS - rng.randrange(300) if near_end else rng.randrange(ROWS)
        while alive() and written(db) < target:
            time.sleep(0.03)
        time.sleep(rng.uniform(0.0, 1.5 if near_end else 0.2))
        where = f"after {target:,} rows" + (" and a moment" if near_end else "")
    if not alive():
        return "finished"
    kill()
    return where


def round_folder(base: Path, school: Path, name: str) -> tuple[Path, Path]:
    folder = base / name
    folder.mkdir()
    cfg = write_config(folder)
    shutil.copy(school, folder / "kiosk.db")
    (folder / "tmp").mkdir()
    return folder, cfg


def cli_round(base: Path, school: Path, files: dict[str, Path], n: int, seed: int) -> str:
    """Kill `kiosk import`, then let `kiosk import --dry-run` or `kiosk run` put it right."""
    rng = random.Random(seed)
    fmt = "xlsx" if n % 6 == 2 else "csv"
    folder, cfg = round_folder(base, school, f"cli{n}")
    env = {**os.environ, "KIOSK_LANG": "en", "TMPDIR": str(folder / "tmp")}
    cmd = [sys.executable, "-m", "kiosk", "--config", str(cfg), "import", "items"]
    proc = subprocess.Popen(
        [*cmd, str(files[fmt])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    db = folder / "kiosk.db"
    where = kill_at(rng, db, lambda: proc.poll() is None, lambda: proc.send_signal(signal.SIGKILL))
    proc.communicate(timeout=120)
    if n % 2 == 0:
        done = subprocess.run(
            [*cmd, str(files["tiny"]), "--dry-run"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        if written(db) == 0 and "stopped before it finished" in done.stderr:
            where += " (undone by kiosk import)"
    else:
        k = KioskProcess(cfg)
        k.wait_ready()
        deadline = time.monotonic() + 60
        while sqlite3.connect(db).execute("SELECT count(*) FROM import_runs").fetchone()[0]:
            assert time.monotonic() < deadline, "kiosk run did not finish the import's undo"
            time.sleep(0.1)
        assert k.stop() == 0
        where += " (undone by kiosk run)"
    assert list((folder / "tmp").iterdir()) == []
    return f"kiosk import {fmt}: killed {where}: {outcome(db)}"


def web_round(base: Path, school: Path, files: dict[str, Path], n: int, seed: int) -> str:
    """Kill the dashboard's import worker; the dashboard puts back what it wrote at once."""
    rng = random.Random(seed)
    fmt = "xlsx" if n % 4 == 1 else "csv"
    folder, cfg = round_folder(base, school, f"web{n}")
    settings = config.load(cfg)
    daemon = Daemon(settings)
    try:
        client = create_app(
            store=daemon.store, settings=settings, daemon=daemon, networks=LOOPBACK
        ).test_client()
        set_up_and_login(client)
        r = client.post(
            "/admin/import",
            data={
                "csrf_token": token(client, "/admin/import"),
                "kind": "items",
                "file": (files[fmt].open("rb"), files[fmt].name),
            },
            content_type="multipart/form-data",
        )
        assert r.status_code == 302
        job_url = r.location + ".json"
        db = folder / "kiosk.db"
        proc = find_worker(folder)
        where = kill_at(
            rng,
            db,
            lambda: not client.get(job_url).json["finished"] and alive(proc),
            lambda: os.kill(proc, signal.SIGKILL),
        )
        deadline = time.monotonic() + 120
        while not (job := client.get(job_url).json)["finished"]:
            assert time.monotonic() < deadline, "the dashboard's import never finished"
            time.sleep(0.05)
        if not job["ok"]:
            stopped = {translate(worker.STOPPED, lang) for lang in ("en", "zh_CN")}
            assert any(job["summary"].startswith(s) for s in stopped), job
        # The upload is gone with the job.
        uploads = journal.uploads(daemon.store)
        assert not uploads.exists() or list(uploads.iterdir()) == []
    finally:
        daemon.store.close()
    return f"dashboard import {fmt}: killed {where}: {outcome(db)}"


def find_worker(folder: Path) -> int:
    """Return the pid of the import worker running on the store in `folder`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "importers.worker" in cmdline and str(folder) in cmdline:
                return int(entry.name)
        time.sleep(0.02)
    raise AssertionError("no import worker started")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.timeout(1200)  # 20 imports of 100,000 rows on a busy machine
def test_an_import_killed_at_twenty_random_moments_leaves_all_or_nothing(
    tmp_path: Path, files: dict[str, Path], school: Path
) -> None:
    rng = random.Random(20261205)
    rounds: list[tuple[Callable[..., str], int]] = [(cli_round, n) for n in range(12)]
    rounds += [(web_round, n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(fn, tmp_path, school, files, n, rng.randrange(1 << 30)) for fn, n in rounds
        ]
        results = [f.result() for f in futures]
    print("\n".join(results))
    # The test means something only if most kills landed while rows were being written.
    mid_write = [r for r in results if "rows" in r and "moment" not in r and r.endswith("none")]
    assert len(mid_write) >= 8, results
    assert any("xlsx" in r and "killed after" in r for r in results), results


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill_the_daemon_while_its_worker_imports_and_the_next_start_undoes_it(
    tmp_path: Path, files: dict[str, Path], school: Path
) -> None:
    import re

    import requests

    port = free_port()
    folder = tmp_path / "kiosk"
    folder.mkdir()
    cfg = write_config(folder)
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace(
            "[web]\nenabled = false", f'[web]\nenabled = true\nlisten = "127.0.0.1:{port}"'
        ),
        encoding="utf-8",
    )
    shutil.copy(school, folder / "kiosk.db")
    db = folder / "kiosk.db"
    k = KioskProcess(cfg)
    k.wait_ready()
    url = f"http://127.0.0.1:{port}"
    web = requests.Session()

    def csrf(path: str) -> str:
        html = web.get(url + path, timeout=10).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found, path
        return found.group(1)

    password = "correct horse battery"
    form = {"user": "librarian", "password": password, "again": password}
    web.post(url + "/admin/setup", data={"csrf_token": csrf("/admin/setup"), **form}, timeout=10)
    form = {"user": "librarian", "password": password}
    web.post(url + "/admin/login", data={"csrf_token": csrf("/admin/login"), **form}, timeout=10)
    with files["csv"].open("rb") as f:
        r = web.post(
            url + "/admin/import",
            data={"csrf_token": csrf("/admin/import"), "kind": "items"},
            files={"file": ("图书.csv", f)},
            timeout=60,
            allow_redirects=False,
        )
    assert r.status_code == 302, r.text[:500]
    pid = find_worker(folder)
    target = random.Random(7).randrange(5_000, 60_000)
    deadline = time.monotonic() + 300
    while written(db) < target:
        assert time.monotonic() < deadline and alive(pid), "the import did not get going"
        time.sleep(0.02)
    k.proc.send_signal(signal.SIGKILL)  # the daemon; its worker dies with it
    k.proc.wait(10)
    deadline = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < deadline, "the import worker outlived the daemon"
        time.sleep(0.02)
    uploads = folder / "kiosk.db.uploads"
    assert [p.name for p in uploads.rglob("*") if p.is_file()] == ["upload.csv"]
    assert written(db) >= target  # half an import is in the store until the next start

    k = KioskProcess(cfg)
    k.wait_ready()
    assert not uploads.exists()  # removed as the daemon starts
    deadline = time.monotonic() + 120
    while sqlite3.connect(db).execute("SELECT count(*) FROM import_runs").fetchone()[0]:
        assert time.monotonic() < deadline, "kiosk run did not undo the import"
        time.sleep(0.1)
    assert k.stop() == 0
    assert outcome(db) == "none"
