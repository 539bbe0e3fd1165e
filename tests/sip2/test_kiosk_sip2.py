"""The kiosk daemon (`kiosk run`, a real process) as a SIP2 self-check of a real ACS process.

Scans go in through the kiosk's FIFO; what the child sees is the console indicator's line (the
same words the screen shows, both languages); the ACS's journal says what the library system
was asked; the kiosk's store says what it recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from core.test_daemon import KioskProcess, kiosk_cmd, write_config


def sip2_section(address: str, **kw: Any) -> str:
    values = {
        "address": address,
        "user": "kiosk",
        "password": "secret",
        "institution": "SCHOOL",
        "location": "Library",
        "timeout_s": 3.0,
        "retry_max_s": 1.0,
        **kw,
    }

    def toml(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n") + '"'
        return str(v)

    return "\n[sip2]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in values.items())


def rows(db: Path, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class Sip2Kiosk(KioskProcess):
    """The kiosk process, with a way to wait until its link is up (its log says so)."""

    def wait_online(self) -> None:
        if not any("answers" in line for line in self.log):  # it may come before "ready"
            self.wait_log("answers")


@pytest.fixture
def start_kiosk(tmp_path: Path) -> Iterator[Any]:
    started: list[KioskProcess] = []

    def start(address: str, **kw: Any) -> Sip2Kiosk:
        config = tmp_path / "config.toml"
        if not config.exists() or kw.pop("rewrite", False):
            write_config(tmp_path, sip2_section(address, **kw))
            done = kiosk_cmd(config, "init")
            assert done.returncode == 0, done.stderr
        k = Sip2Kiosk(config)
        k.wait_ready()
        k.wait_online()
        started.append(k)
        return k

    yield start
    for k in started:
        if k.proc.poll() is None:
            k.kill()


def test_lunch_card_checkout_renew_done_and_an_idle_return(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    server = acs("--encoding", "gb18030")
    kiosk = start_kiosk(server.address, encoding="gb18030")
    line = kiosk.ask("P001")
    assert line.startswith("[session_started]") and "小明，你好" in line, line
    line = kiosk.ask("B001")
    assert line.startswith("[ok] checkout B001"), line
    assert "Due 2030-01-15" in line and "小王子" in line
    line = kiosk.ask("B001")  # the same book at once: one action, shown again
    assert "checkout B001 (again)" in line, line
    kiosk.stop()
    db = tmp_path / "kiosk.db"
    assert rows(db, "SELECT type, patron_id, item_barcode FROM events WHERE type IN "
                "('visit', 'checkout') ORDER BY seq") == [
        ("visit", "P001", None),
        ("checkout", "P001", "B001"),
    ]
    assert rows(db, "SELECT name FROM patrons WHERE id = 'P001'") == [("王小明",)]
    assert [(r["op"], r.get("item")) for r in server.journal() if r["op"] != "35"] == [
        ("11", "B001")
    ]

    kiosk = start_kiosk(server.address)
    line = kiosk.ask("B001")  # no card: a return
    assert line.startswith("[ok] checkin B001"), line
    assert [r["op"] for r in server.journal()][-1] == "09"
    kiosk.stop()
    assert rows(db, "SELECT count(*) FROM loans WHERE returned_at IS NULL") == [(0,)]


@pytest.mark.parametrize(
    ("card", "reason", "words"),
    [
        ("P003", "patron_blocked", "Blocked: please see the librarian"),
        ("P004", "card_lost", "reported lost"),
        ("P005", "too_many_items", "Return one first"),
        ("P006", "fines", "Fines of 12.50 outstanding"),
        ("NOBODY", "unknown_code", "Not recognised"),
    ],
)
def test_refused_cards_get_the_kiosks_answers(
    acs: Any, start_kiosk: Any, card: str, reason: str, words: str
) -> None:
    server = acs()
    kiosk = start_kiosk(server.address)
    line = kiosk.ask(card)
    assert line.startswith("[error]"), line
    assert words in line, line
    line = kiosk.ask("B002")  # no session was opened: a book now is a return
    assert "checkin B002" in line, line


def test_refused_item_shows_the_systems_words(acs: Any, start_kiosk: Any) -> None:
    server = acs("--terminator", "crlf")
    kiosk = start_kiosk(server.address, terminator="\r\n", error_detection=False)
    kiosk.ask("P002")
    line = kiosk.ask("B666")
    assert line.startswith("[error] checkout_refused B666"), line
    assert "Reference only: not for loan" in line and "不能" in line, line


def test_a_corrupt_answer_is_asked_again_and_lends_once(acs: Any, start_kiosk: Any) -> None:
    server = acs("--corrupt", "B004", "--error-detection", "required")
    kiosk = start_kiosk(server.address)
    kiosk.ask("P002")
    line = kiosk.ask("B004")
    assert line.startswith("[ok] checkout B004"), line
    assert len(server.journal("11")) == 1
    kiosk.wait_log("asking again (97)")


def test_a_malformed_answer_is_a_clear_refusal_and_a_log_line(acs: Any, start_kiosk: Any) -> None:
    server = acs("--malformed", "B005")
    kiosk = start_kiosk(server.address)
    kiosk.ask("P002")
    line = kiosk.ask("B005")
    assert line.startswith("[error] unreadable B005"), line
    kiosk.wait_log("malformed answer to 11")
    assert kiosk.ask("B006").startswith("[ok] checkout B006")  # the kiosk goes on


def test_done_sends_end_session_and_renew(acs: Any, start_kiosk: Any, tmp_path: Path) -> None:
    server = acs("--due-format", "iso")
    kiosk = start_kiosk(server.address)
    kiosk.ask("P002")
    assert "Due 2030-01-15" in kiosk.ask("B008")
    kiosk.stop()  # a stopped kiosk ends no session; the web's Done button is kiosk.done()
    assert kiosk_cmd(tmp_path / "config.toml", "sip2", "test", "P002").returncode == 0
