"""The kiosk against answers real library systems sent (Gossip, SirsiDynix), replayed byte for
byte by another process (tests/sip2/replay.py, sources in tests/sip2/data/recorded.sip)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.sip2 import protocol

from .test_kiosk_sip2 import Sip2Kiosk, kiosk_cmd, sip2_section, wait_until, write_config

pytestmark = pytest.mark.slow  # `kiosk run` against an ACS process

HERE = Path(__file__).parent
TRANSCRIPT = HERE / "data" / "recorded.sip"


def recorded() -> list[tuple[str, bytes]]:
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    return [
        (code, answer.encode("utf-8"))
        for code, _, answer in (line.partition("\t") for line in lines if not line.startswith("#"))
        if code
    ]


@pytest.mark.parametrize(("code", "answer"), recorded(), ids=lambda v: str(v)[:12])
def test_real_servers_checksums_verify_and_their_answers_parse(code: str, answer: bytes) -> None:
    body, seq = protocol.decode(answer + b"\r", "utf-8", check=True)
    assert seq is not None
    assert protocol.parse(body).code == protocol.ANSWER[code]


def test_their_due_dates_read() -> None:
    tz = ZoneInfo("Europe/Berlin")
    due = protocol.due_date("08.06.2016", tz)  # Gossip
    assert due is not None and due.date().isoformat() == "2016-06-08"
    due = protocol.due_date("5/23/2008,23:59", tz)  # the renewal answer above
    assert due is not None and due.isoformat(" ", "minutes") == "2008-05-23 23:59+02:00"


def start_replay(log: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "replay.py"), str(TRANSCRIPT), "--log", str(log), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("port "), line
    return proc, f"127.0.0.1:{line.split()[1]}"


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "requests.log"
    proc, address = start_replay(log)
    yield address, log
    proc.kill()
    proc.wait()


def test_doctor_finds_the_terminator_the_server_wants(tmp_path: Path) -> None:
    proc, address = start_replay(tmp_path / "requests.log", "--crlf-only")
    try:
        section = sip2_section(address, error_detection=False, timeout_s=1.0)
        config = write_config(tmp_path, section)
        kiosk_cmd(config, "init")
        out = kiosk_cmd(config, "doctor", "--user", "root").stdout
    finally:
        proc.kill()
        proc.wait()
    assert "SIP2: the SIP2 server answers only messages ending in '\\r\\n'" in out, out
    assert 'set terminator = "\\r\\n" in [sip2]' in out, out


def test_lunch_against_recorded_answers(replay: tuple[str, Path], tmp_path: Path) -> None:
    address, log = replay
    # The recorded answers carry their servers' own sequence numbers, not ours: checksums
    # are checked above, frame by frame; here the kiosk runs with error detection off.
    section = sip2_section(
        address,
        error_detection=False,
        patron_pattern=r"0830\d+",
        item_pattern=r"830\$\d+",
    )
    config = write_config(tmp_path, section)
    assert kiosk_cmd(config, "init").returncode == 0
    kiosk = Sip2Kiosk(config)
    try:
        kiosk.wait_ready()
        kiosk.wait_online()
        line = kiosk.ask("08300076190")
        assert line.startswith("[session_started]") and "Hello, Malte!" in line, line
        line = kiosk.ask("830$26482330")
        assert line.startswith("[ok] checkout 830$26482330"), line
        assert "Due 2016-06-08" in line and "Statik" in line, line
    finally:
        kiosk.kill()
    sent = log.read_bytes().split(b"\n")
    assert [frame[:2] for frame in sent if frame] == [b"93", b"99", b"63", b"11"]
    assert sent[0].startswith(b"9300CNkiosk|COsecret|CPLibrary|")


def test_a_server_that_says_it_is_offline(tmp_path: Path) -> None:
    # The same recorded answers, but a 98 with online N (as in the Metro tests' variant).
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    offline = [
        "99\t98NYYYYN60000320130424    1135112.00AOEPLMNA|AMEPLMNA|BXYYYYYYYNYYYNNYYY|AY1AZE80C"
        if line.startswith("99\t")
        else line
        for line in lines
    ]
    transcript = tmp_path / "offline.sip"
    transcript.write_text("\n".join(offline) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "replay.py"), str(transcript)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    address = f"127.0.0.1:{proc.stdout.readline().split()[1]}"
    section = sip2_section(address, error_detection=False, item_pattern=r"830\$\d+")
    config = write_config(tmp_path, section)
    assert kiosk_cmd(config, "init").returncode == 0
    kiosk = Sip2Kiosk(config)
    try:
        kiosk.wait_ready()
        line = kiosk.ask("830$26482330")  # a return while the system says it is offline
        assert line.startswith("[ok] checkin 830$26482330"), line

        def said_offline() -> bool:
            done = kiosk_cmd(config, "status", "--json")
            report = json.loads(done.stdout)["sip2"]
            return "says it is offline" in report["last_error"] and not report["online"]

        wait_until(said_offline, "kiosk status saying the system is offline")
    finally:
        kiosk.kill()
        proc.kill()
        proc.wait()
