"""An import is all or nothing through a kill: SIGKILL `kiosk import` and the dashboard's worker.

A school's store holds 1,000 books X0000000..X0000999 with old titles; the file (CSV, and .xlsx
whose stored size says A1:C5) holds 20,000 books X0000000..X0019999 with new titles, so a whole
import both updates and adds (about a hundred write batches). Each round copies the store, starts
the import and kills it with SIGKILL as it reaches one of five phases, read from the store as the
import goes: checking the file (it holds the import lock, nothing written yet), its first batch,
half the rows written, the last rows, and deleting its journal after the `import` event. Every
phase is played on each of three paths, fifteen rounds: `kiosk import` put right by the next
`kiosk import --dry-run`, the same put right by `kiosk run`, and the dashboard's worker (the
dashboard undoes a dead worker's rows at once); three of them import the .xlsx. The store must
then hold all of the file or none of it (every title old, or all 20,000 new with one `import`
event), pass `PRAGMA integrity_check`, have no journal left, and no uploaded or temporary file
behind. They run four at a time, each on its own store.
"""

from __future__ import annotations

import fcntl
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
from daemon.test_daemon import KioskProcess, make_school, write_config
from web.helpers import LOOPBACK, set_up_and_login, token

from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.importers import journal, worker
from kiosk.circulation.records import put_item
from kiosk.daemon.app import Daemon, open_store
from kiosk.i18n import translate
from kiosk.web import create_app

from . import workbooks

pytestmark = pytest.mark.slow  # fifteen imports killed

ROWS = 20_000
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


# Where a round kills the import: a condition on the store, read as the import goes.
PHASES = ("checking", "first batch", "half written", "last rows", "forgetting")


def holds_lock(db: Path) -> bool:
    """Return True while an import holds the store's import lock (it checks or writes)."""
    fd = os.open(db.with_name(db.name + ".import-lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets go of the lock, had we taken it
    return False


def state(db: Path) -> str:
    """Return where the import is by its run row: 'none', 'writing' or 'done' (journal going)."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        row = conn.execute("SELECT state FROM import_runs").fetchone()
    except sqlite3.OperationalError:
        return "none"  # not migrated yet, or busy for a moment
    finally:
        conn.close()
    return "none" if row is None else ("done" if row[0] == "done" else "writing")


def reached(phase: str, db: Path) -> bool:
    """Return True once the import has got to `phase`."""
    if phase == "checking":
        return holds_lock(db)  # the lock is taken before the file is read
    if phase == "forgetting":
        return state(db) == "done"  # the `import` event is in; its journal is being deleted
    target = {"first batch": 1, "half written": ROWS // 2, "last rows": ROWS - 50}[phase]
    return written(db) >= target


def kill_at(phase: str, db: Path, alive: Callable[[], bool], kill: Callable[[], None]) -> str:
    """Kill an import as soon as it reaches `phase`; return where it really was then."""
    while alive() and not reached(phase, db):
        time.sleep(0.01)
    if not alive():
        return "finished"
    kill()
    found, rows = state(db), written(db)
    if found == "none":
        return "before writing"  # the file was still being checked
    return "while forgetting its journal" if found == "done" else f"after {rows:,} rows"


def round_folder(base: Path, school: Path, name: str) -> tuple[Path, Path]:
    folder = base / name
    folder.mkdir()
    cfg = write_config(folder)
    shutil.copy(school, folder / "kiosk.db")
    (folder / "tmp").mkdir()
    return folder, cfg


def cli_round(
    base: Path, school: Path, files: dict[str, Path], n: int, phase: str, fmt: str
) -> str:
    """Kill `kiosk import`, then let `kiosk import --dry-run` or `kiosk run` put it right."""
    folder, cfg = round_folder(base, school, f"cli{n}")
    env = {**os.environ, "KIOSK_LANG": "en", "TMPDIR": str(folder / "tmp")}
    cmd = [sys.executable, "-m", "kiosk", "--config", str(cfg), "import", "items"]
    proc = subprocess.Popen(
        [*cmd, str(files[fmt])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    db = folder / "kiosk.db"
    where = kill_at(
        phase, db, lambda: proc.poll() is None, lambda: proc.send_signal(signal.SIGKILL)
    )
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


def web_round(
    base: Path, school: Path, files: dict[str, Path], n: int, phase: str, fmt: str
) -> str:
    """Kill the dashboard's import worker; the dashboard puts back what it wrote at once."""
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
            phase,
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


@pytest.mark.timeout(900)  # 15 imports of 20,000 rows on a busy machine
def test_an_import_killed_in_every_phase_leaves_all_or_nothing(
    tmp_path: Path, files: dict[str, Path], school: Path
) -> None:
    # Each phase on each path: `kiosk import` put right by `--dry-run` (even n) and by
    # `kiosk run` (odd n), and the dashboard's worker. Three of them import the .xlsx.
    xlsx = {("cli", 4), ("cli", 7), ("web", 1)}
    rounds: list[tuple[Callable[..., str], str, int, str]] = []
    for i, phase in enumerate(PHASES):
        for fn, name, n in (
            (cli_round, "cli", 2 * i),
            (cli_round, "cli", 2 * i + 1),
            (web_round, "web", i),
        ):
            rounds.append((fn, name, n, phase))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(
                fn, tmp_path, school, files, n, phase, "xlsx" if (name, n) in xlsx else "csv"
            )
            for fn, name, n, phase in rounds
        ]
        results = {
            (name, n, phase): f.result()
            for (_, name, n, phase), f in zip(rounds, futures, strict=True)
        }
    print("\n".join(f"{phase}: {r}" for (_, _, phase), r in results.items()))
    by_phase = {p: [r for (_, _, phase), r in results.items() if phase == p] for p in PHASES}
    # The kills landed where they were meant to: nothing written, or part of the file (undone).
    assert all("killed before writing" in r and r.endswith("none") for r in by_phase["checking"])
    for phase in ("first batch", "half written"):
        assert all("killed after" in r and r.endswith("none") for r in by_phase[phase]), results
    assert any("xlsx: killed after" in r for r in results.values()), results
    # At the end it may be done or not, but it is one or the other (outcome() checked that).
    assert any("forgetting" in r and r.endswith("all") for r in by_phase["forgetting"]), results


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
    target = random.Random(7).randrange(ROWS // 20, ROWS * 3 // 5)
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
