"""The `kiosk` command as an installer and systemd see it: real subprocesses, a real FIFO.

`KioskProcess` runs `kiosk run` with scans written to a FIFO and the console indicator on stdout;
the crash test uses it too.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import add_school

from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.daemon.app import open_store

pytestmark = pytest.mark.slow  # `kiosk run` processes

RED, PRINCE = "9787020002207", "9787535449450"
CARD = "0F00A1B2C3"  # 王小明, a grade-3 student

CONFIG = """\
[kiosk]
id = "kiosk-test"
language = "zh_CN"

[store]
path = "kiosk.db"

[scanner]
source = "fifo:scan.fifo"

[indicator]
kind = "console"

[web]
enabled = false
{extra}
"""


def write_config(folder: Path, extra: str = "") -> Path:
    """Write a config for a kiosk in `folder`, scanning from the FIFO `scan.fifo`."""
    path = folder / "config.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return path


def kiosk_cmd(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `kiosk` command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KIOSK_LANG": "en"},
    )


def make_school(config_path: Path) -> Path:
    """Create the store of a config with the small test school in it; return the store path."""
    settings = config.load(config_path)
    store = open_store(settings, SystemClock())
    add_school(store)
    store.close()
    return settings.resolve(settings.store.path)


class KioskProcess:
    """`kiosk run` in a subprocess: write scans to its FIFO, read its console and its log."""

    def __init__(self, config_path: Path) -> None:
        self.fifo = config_path.parent / "scan.fifo"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--config", str(config_path), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "KIOSK_LANG": "en"},
        )
        self.stdout: queue.Queue[str] = queue.Queue()
        self.stderr: queue.Queue[str] = queue.Queue()
        self.console: list[str] = []
        self.log: list[str] = []
        assert self.proc.stdout and self.proc.stderr
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, q), daemon=True)
            for stream, q in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr))
        ]
        for pump in self._pumps:
            pump.start()
        self._fd: int | None = None

    @staticmethod
    def _pump(stream: IO[bytes], q: queue.Queue[str]) -> None:
        for raw in stream:
            q.put(raw.decode("utf-8", errors="replace").rstrip("\n"))

    def _next(self, q: queue.Queue[str], seen: list[str], deadline: float) -> str | None:
        try:
            line = q.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        seen.append(line)
        return line

    def wait_log(self, text: str, timeout: float = 20.0) -> str:
        """Return the first new log line containing `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._next(self.stderr, self.log, deadline)
            if line is not None and text in line:
                return line
        raise AssertionError(f"no log line with {text!r} in {timeout} s; log: {self.log[-10:]}")

    def wait_ready(self) -> float:
        """Wait for the "ready" log line; return seconds since the process started."""
        self.wait_log("ready")
        return time.monotonic() - self.started

    def scan(self, data: bytes | str) -> None:
        """Write one line (or raw bytes) to the scan FIFO."""
        if isinstance(data, str):
            data = data.encode() + b"\n"
        if self._fd is None:
            # Read-write, so that writing never waits for the kiosk to open its end.
            self._fd = os.open(self.fifo, os.O_RDWR)
        os.write(self._fd, data)

    def read_console(self, timeout: float = 10.0) -> str:
        """Return the next console (indicator) line."""
        line = self._next(self.stdout, self.console, time.monotonic() + timeout)
        if line is None:
            raise AssertionError(f"no feedback in {timeout} s; console: {self.console[-5:]}")
        return line

    def ask(self, code: bytes | str, timeout: float = 10.0) -> str:
        """Scan a code and return the feedback line it gives."""
        self.scan(code)
        return self.read_console(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send a signal and wait for the process to end; return its exit code."""
        self.close_fifo()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._drain()
        return code

    def _drain(self) -> None:
        # Everything the process wrote before it ended, up to the end of its pipes.
        for pump in self._pumps:
            pump.join(10)
        while not self.stderr.empty():
            self.log.append(self.stderr.get())
        while not self.stdout.empty():
            self.console.append(self.stdout.get())

    def close_fifo(self) -> None:
        """Close our end of the FIFO."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def kill(self) -> None:
        """End the process without a chance to clean up, as a power cut would."""
        self.close_fifo()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._drain()


@pytest.fixture
def kiosk_config(tmp_path: Path) -> Path:
    """A config whose store has the small test school in it."""
    path = write_config(tmp_path)
    make_school(path)
    return path


@pytest.fixture
def daemon(kiosk_config: Path) -> Iterator[KioskProcess]:
    """A running `kiosk run`, stopped (or killed) at the end of the test."""
    k = KioskProcess(kiosk_config)
    k.wait_ready()
    yield k
    if k.proc.poll() is None:
        k.kill()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def count(path: Path, sql: str) -> Any:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


# -- running and stopping ------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_daemon_cleanly_and_keeps_the_loans(
    daemon: KioskProcess, kiosk_config: Path, sig: int
) -> None:
    assert daemon.ask(CARD).startswith("[session_started] ")
    line = daemon.ask(RED)
    assert line.startswith(f"[ok] checkout {RED} | 借书成功！"), line
    assert "Checked out. Due " in line and "红楼梦" in line

    assert daemon.stop(sig) == 0
    name = signal.Signals(sig).name
    assert any(f"received {name}, stopping" in entry for entry in daemon.log), daemon.log
    assert daemon.log[-1] == "<6>kiosk: stopped"
    store = kiosk_config.parent / "kiosk.db"
    assert integrity(store) == "ok"
    assert count(store, "SELECT count(*) FROM loans WHERE returned_at IS NULL") == 1


def test_logs_go_to_stderr_with_journald_priorities(daemon: KioskProcess) -> None:
    daemon.stop()
    assert daemon.log, "nothing logged"
    # Every line starts with <N>, the priority journald reads from stderr; INFO is <6>.
    assert all(entry[:1] == "<" and entry[2:3] == ">" for entry in daemon.log), daemon.log
    ready = [entry for entry in daemon.log if "ready" in entry]
    assert len(ready) == 1 and ready[0].startswith("<6>kiosk: ready: kiosk kiosk-test")
    # Start-up's objects are frozen, so a full collection during a scan walks only newer ones.
    frozen = [m for e in daemon.log if (m := re.search(r"(\d+) objects of start-up set aside", e))]
    assert len(frozen) == 1 and int(frozen[0].group(1)) > 10_000, daemon.log
    # The console indicator's feedback never ends up in the log, nor the log on stdout.
    assert not any(line.startswith("<") for line in daemon.console)


def run_with_a_file_where_the_fifo_should_be(kiosk_config: Path) -> KioskProcess:
    """Start the kiosk with a regular file at the FIFO's path, wait for ready, stop it."""
    (kiosk_config.parent / "scan.fifo").write_text("not a pipe\n", encoding="utf-8")
    k = KioskProcess(kiosk_config)
    try:
        k.wait_log("cannot open")
        if not any("ready" in entry for entry in k.log):  # the two lines come in either order
            k.wait_ready()
        assert k.proc.poll() is None, "the kiosk must stay up without its scanner"
        assert k.stop() == 0
    finally:
        k.kill()
    return k


def test_a_scan_source_that_cannot_open_is_an_error_in_the_log_and_the_kiosk_stays_up(
    kiosk_config: Path,
) -> None:
    k = run_with_a_file_where_the_fifo_should_be(kiosk_config)
    (line,) = [entry for entry in k.log if "cannot open" in entry]
    assert line.startswith("<3>kiosk.devices.console: fifo:"), line  # journald: error
    assert line.endswith("scan.fifo exists and is not a FIFO")


def test_a_file_where_the_fifo_should_be_is_left_alone(kiosk_config: Path) -> None:
    run_with_a_file_where_the_fifo_should_be(kiosk_config)
    assert (kiosk_config.parent / "scan.fifo").read_text(encoding="utf-8") == "not a pipe\n"


# -- bad input on the scan source ----------------------------------------------------------

UNCLEAR = "没有扫清楚，请再扫一次。 / That scan was not clear. Please scan again."
BAD_SCANS = {
    "control characters": b"9787\x1b[A020002207\n",
    "a NUL and a bell": b"\x00\x07\n",
    "over-long": b"9" * 300 + b"\n",
    "not UTF-8": b"\xff\xfe9787020002207\n",
    "GBK bytes": "王小明".encode("gbk") + b"\n",
}


@pytest.mark.parametrize("bad", list(BAD_SCANS.values()), ids=list(BAD_SCANS))
def test_bad_bytes_on_the_fifo_are_refused_and_the_kiosk_carries_on(
    daemon: KioskProcess, kiosk_config: Path, bad: bytes
) -> None:
    assert daemon.ask(CARD).startswith("[session_started] ")
    head, words = daemon.ask(bad).split(" | ", 1)
    assert head.split() == ["[warning]", "invalid_scan"]
    assert words == UNCLEAR
    # Still in the student's session: the next good scan is a checkout.
    assert daemon.ask(RED).startswith(f"[ok] checkout {RED} | ")
    store = kiosk_config.parent / "kiosk.db"
    assert count(store, "SELECT count(*) FROM loans") == 1
    assert daemon.stop() == 0


def test_an_unknown_code_says_not_recognised_and_changes_nothing(
    daemon: KioskProcess, kiosk_config: Path
) -> None:
    store = kiosk_config.parent / "kiosk.db"
    events = count(store, "SELECT count(*) FROM events")
    head, words = daemon.ask("NOPE-1234").split(" | ", 1)
    assert (head.split()[0], head.split()[-1]) == ("[error]", "NOPE-1234")
    assert words == "无法识别，请找小图书管理员帮忙。 / Not recognised. Ask a library helper."
    head, words = daemon.ask(PRINCE).split(" | ", 1)
    assert (head.split()[0], head.split()[-1]) == ("[warning]", PRINCE)
    assert words == "请先刷卡，再扫描图书。 / Tap your card first, then scan the book. | 小王子"
    assert count(store, "SELECT count(*) FROM events") == events
    assert daemon.stop() == 0


# -- the other commands --------------------------------------------------------------------


def test_init_creates_the_store_and_a_second_init_keeps_it(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    first = kiosk_cmd(cfg, "init")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"store ready: {tmp_path / 'kiosk.db'} (schema m0")
    assert integrity(tmp_path / "kiosk.db") == "ok"
    rules = count(tmp_path / "kiosk.db", "SELECT count(*) FROM rules")
    assert rules > 0
    again = kiosk_cmd(cfg, "init")
    assert (again.returncode, again.stdout) == (0, first.stdout)
    assert count(tmp_path / "kiosk.db", "SELECT count(*) FROM rules") == rules


def test_status_json_reports_counts_loans_events_and_health(
    daemon: KioskProcess, kiosk_config: Path
) -> None:
    daemon.ask(CARD)
    daemon.ask(RED)
    result = kiosk_cmd(kiosk_config, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("kiosk_id", "integrity", "patrons", "items", "open_loans")} == {
        "kiosk_id": "kiosk-test",
        "integrity": "ok",
        "patrons": 5,
        "items": 5,
        "open_loans": 1,
    }
    assert report["overdue_loans"] == 0
    assert report["store"] == str(kiosk_config.parent / "kiosk.db")
    assert report["schema"].startswith("m0")
    last = report["last_events"][0]
    assert (last["type"], last["item_barcode"], last["patron_id"]) == ("checkout", RED, "S001")
    assert report["events"] == count(
        kiosk_config.parent / "kiosk.db", "SELECT count(*) FROM events"
    )
    assert [e["type"] for e in report["last_events"]] == ["checkout", "visit", "rules_set"]
    assert daemon.stop() == 0


def test_backup_while_the_daemon_runs_has_the_loans(
    daemon: KioskProcess, kiosk_config: Path, tmp_path: Path
) -> None:
    daemon.ask(CARD)
    assert daemon.ask(RED).startswith("[ok] checkout")
    assert daemon.ask(PRINCE).startswith("[ok] checkout")
    dest = tmp_path / "backups"
    dest.mkdir()
    result = kiosk_cmd(kiosk_config, "backup", str(dest))
    assert result.returncode == 0, result.stderr
    (copy,) = dest.glob("*.db")
    assert result.stdout.strip() == f"backup written: {copy}"
    assert integrity(copy) == "ok"
    conn = sqlite3.connect(copy)
    loans = conn.execute(
        "SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL ORDER BY 1"
    ).fetchall()
    conn.close()
    assert loans == [(RED, "S001"), (PRINCE, "S001")]
    # The kiosk did not notice: the next scan still works.
    assert daemon.ask(CARD).startswith("[session_started]")
    assert daemon.stop() == 0


BAD_CONFIG = {
    "unknown key": ('colour = "red"', "[kiosk] colour: unknown key"),
    "wrong type": ('session_timeout_s = "soon"', "[kiosk] session_timeout_s: must be a number"),
    "bad value": ("session_timeout_s = -1", "[kiosk] session_timeout_s: must be greater than 0"),
}


@pytest.mark.parametrize("command", [["run"], ["init"], ["status"]])
@pytest.mark.parametrize("bad", list(BAD_CONFIG.values()), ids=list(BAD_CONFIG))
def test_a_bad_config_names_key_and_file_and_changes_nothing(
    kiosk_config: Path, command: list[str], bad: tuple[str, str]
) -> None:
    line, problem = bad
    store = kiosk_config.parent / "kiosk.db"
    before = store.read_bytes()
    kiosk_config.write_text(
        kiosk_config.read_text(encoding="utf-8").replace(
            'language = "zh_CN"', f'language = "zh_CN"\n{line}'
        ),
        encoding="utf-8",
    )
    result = kiosk_cmd(kiosk_config, *command)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {kiosk_config}: {problem}"), lines[0]
    assert store.read_bytes() == before
    assert not (kiosk_config.parent / "scan.fifo").exists()
