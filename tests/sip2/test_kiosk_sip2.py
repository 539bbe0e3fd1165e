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
from daemon.test_daemon import KioskProcess, kiosk_cmd, write_config


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
    """The kiosk process; the link's own lights (online, offline) are kept apart from answers."""

    link_lights: list[str]

    def wait_online(self) -> None:
        if not any("answers" in line for line in self.log):  # it may come before "ready"
            self.wait_log("answers")

    def read_console(self, timeout: float = 10.0) -> str:
        """Return the next answer line; the link's lights go to `link_lights`."""
        if not hasattr(self, "link_lights"):
            self.link_lights = []
        while True:
            line = super().read_console(timeout)
            if not line.startswith(("[online]", "[offline]")):
                return line
            self.link_lights.append(line)


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
    assert rows(
        db,
        "SELECT type, patron_id, item_barcode FROM events WHERE type IN "
        "('visit', 'checkout') ORDER BY seq",
    ) == [
        ("visit", "P001", None),
        ("checkout", "P001", "B001"),
    ]
    assert rows(db, "SELECT name FROM patrons WHERE id = 'P001'") == [("王小明",)]
    # The row is the system's answer, and the log says so (a copy, as any row decided elsewhere).
    assert rows(
        db, "SELECT actor, json_extract(data, '$.row.name') FROM events WHERE type = 'patron_saved'"
    ) == [("library system", "王小明")]
    # Neither pattern set: the card was told apart by asking (17: no such book; 63: a patron).
    assert [(r["op"], r.get("item") or r.get("patron")) for r in server.journal()] == [
        ("17", "P001"),
        ("63", "P001"),
        ("17", "B001"),
        ("11", "B001"),
    ]

    kiosk = start_kiosk(server.address)
    line = kiosk.ask("B001")  # no card: a return
    assert line.startswith("[ok] checkin B001"), line
    assert [r["op"] for r in server.journal()][-1] == "09"
    line = kiosk.ask("P001")  # remembered as a card: only 63 now
    assert line.startswith("[session_started]"), line
    assert [r["op"] for r in server.journal()][-2:] == ["09", "63"]
    kiosk.stop()
    assert rows(db, "SELECT count(*) FROM loans WHERE returned_at IS NULL") == [(0,)]


@pytest.mark.parametrize(
    ("card", "reason", "words"),
    [
        ("P003", "patron_blocked", "Blocked: please see the librarian"),
        ("P004", "card_lost", "reported lost"),
        ("P005", "too_many_items", "You already have 2 books. Return one first."),
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


def test_a_card_the_system_does_not_know(acs: Any, start_kiosk: Any) -> None:
    server = acs()
    kiosk = start_kiosk(server.address, patron_pattern=r"P\d+")
    line = kiosk.ask("P999")
    assert line.startswith("[error] card_not_valid P999"), line
    assert "This card is not known to the library" in line and "图书馆不认识这张卡" in line


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
    assert kiosk.ask("P002").startswith("[session_started]")
    line = kiosk.ask("B005")
    assert line.startswith("[error] unreadable B005"), (line, kiosk.log, kiosk.console)
    kiosk.wait_log("malformed answer to 11")
    assert kiosk.ask("B006").startswith("[ok] checkout B006")  # the kiosk goes on


def test_done_sends_end_session_and_renew(acs: Any, start_kiosk: Any, tmp_path: Path) -> None:
    server = acs("--due-format", "iso")
    kiosk = start_kiosk(server.address)
    kiosk.ask("P002")
    assert "Due 2030-01-15" in kiosk.ask("B008")
    kiosk.stop()  # a stopped kiosk ends no session; the web's Done button is kiosk.done()
    assert kiosk_cmd(tmp_path / "config.toml", "sip2", "test", "P002").returncode == 0


# -- offline --------------------------------------------------------------------------------


def open_queue(db: Path) -> int:
    return int(
        rows(db, "SELECT count(*) FROM sip2_queue WHERE state IN ('waiting', 'sending')")[0][0]
    )


def wait_until(condition: Any, what: str, timeout: float = 30.0) -> None:
    """Wait for a condition (never a fixed sleep); fail saying what did not happen."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def local_sip2_date(at: str, tz: str = "Asia/Shanghai") -> str:
    import datetime as dt

    t = dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone()
    return t.strftime("%Y%m%d") + "    " + t.strftime("%H%M%S")


def test_server_killed_mid_lunch_then_back_the_queue_drains_once(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    server = acs()
    # Offline, only the patterns tell a card from a book (the library system cannot be asked).
    kiosk = start_kiosk(
        server.address, offline_max_loans=2, patron_pattern=r"P\d+", item_pattern=r"B\d+"
    )
    db = tmp_path / "kiosk.db"
    assert kiosk.ask("P001").startswith("[session_started]")
    assert kiosk.ask("B001").startswith("[ok] checkout B001")
    server.kill()  # the library system goes away in the middle of the lunch queue

    line = kiosk.ask("B002")
    assert line.startswith("[ok] checkout B002"), line  # committed, then the beep
    assert kiosk.ask("B003").startswith("[ok] checkout B003")
    line = kiosk.ask("B004")  # the offline limit
    assert line.startswith("[error] offline_limit B004"), line
    assert "desk" in line and "服务台" in line, line
    kiosk.wait_log("SIP2: offline")
    assert any(light.startswith("[offline] 图书馆系统暂时没有响应") for light in kiosk.link_lights)
    status = kiosk_cmd(tmp_path / "config.toml", "status", "--json")
    report = __import__("json").loads(status.stdout)["sip2"]
    assert report["online"] is False and report["offline_since"] and report["waiting"] == 2
    text = kiosk_cmd(tmp_path / "config.toml", "status").stdout
    assert f"library system (SIP2) {server.address}: offline since " in text, text
    assert "2 waiting, 0 refused" in text and "last error: " in text, text

    line = kiosk.ask("P002")  # a card this kiosk never saw accepted: returns only
    assert line.startswith("[error] offline_card_unknown"), line
    assert kiosk.ask("B001").startswith("[ok] checkin B001")  # returns are always taken
    assert open_queue(db) == 3
    before = len(server.journal())

    # Back, with B003 lent at the desk meanwhile: its offline loan is refused on replay.
    server.start("--lent-at-desk", "B003=P002")
    wait_until(lambda: open_queue(db) == 0, "the queue drained")
    replayed = server.journal()[before:]
    sent = [
        (r["op"], r["item"], r["no_block"], r["ok"]) for r in replayed if r["op"] in ("11", "09")
    ]
    assert sent == [
        ("11", "B002", "Y", True),
        ("11", "B003", "Y", False),
        ("09", "B001", "Y", True),
    ]
    # Each went with its own date, the time it happened at the kiosk.
    queued = rows(db, "SELECT item_barcode, at FROM sip2_queue ORDER BY seq")
    for (barcode, at), r in zip(
        queued, [r for r in replayed if r["op"] in ("11", "09")], strict=True
    ):
        assert r["item"] == barcode and r["date"] == local_sip2_date(at)

    # The kiosk's copy follows the library system: the refused loan is undone, the others stay.
    open_loans = "SELECT item_barcode FROM loans WHERE returned_at IS NULL ORDER BY item_barcode"
    assert rows(db, open_loans) == [("B002",)]
    out = kiosk_cmd(tmp_path / "config.toml", "sip2", "conflicts").stdout
    assert "B003" in out and "Item checked out to another patron" in out and "王小明" in out, out
    assert "B002" not in out
    line = kiosk.ask("P002")  # online again: the card is checked with the library system
    assert line.startswith("[session_started]"), line


def test_kiosk_killed_while_draining_sends_each_transaction_once(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    books = [f"B00{i}" for i in range(1, 10)]
    lent = [arg for b in books for arg in ("--lent-at-desk", f"{b}=P002")]
    server = acs(*lent)
    kiosk = start_kiosk(server.address)
    db = tmp_path / "kiosk.db"
    server.kill()
    for b in books:  # returns while the library system is away
        line = kiosk.ask(b)
        assert line.startswith(f"[ok] checkin {b}"), line
    assert open_queue(db) == len(books)

    server.start(*lent, "--slow-checkin", "0.3")
    wait_until(lambda: len(server.journal("09")) >= 2, "the drain started")
    kiosk.kill()  # mid-drain: one return taken by the library system, its answer not yet read
    assert 0 < open_queue(db) < len(books)

    start_kiosk(server.address)
    wait_until(lambda: open_queue(db) == 0, "the queue drained after the restart")
    taken = [r["item"] for r in server.journal("09")]
    assert sorted(taken) == books  # every return once: none lost, none twice
    assert rows(db, "SELECT count(*) FROM sip2_queue WHERE state = 'sent'") == [(len(books),)]


def test_a_card_readers_code_is_a_card_and_a_book_lent_is_already_yours(
    acs: Any, tmp_path: Path
) -> None:
    from kiosk import config
    from kiosk.circulation.clock import SystemClock
    from kiosk.daemon.app import open_store
    from kiosk.sip2.wiring import sip2_kiosk

    server = acs()
    s = config.from_dict(
        {
            "store": {"path": str(tmp_path / "k.db")},
            "sip2": {"address": server.address, "user": "kiosk", "password": "secret"},
        },
        base_dir=tmp_path,
    )
    store = open_store(s)
    _, kiosk, link = sip2_kiosk(store, s, SystemClock(), {"repeat_window_s": 0.0})
    link.client.connect()
    link._up()
    try:
        fb = kiosk.scan_from("card", "P002")
        assert fb.kind == "session_started" and fb.params["name"] == "Lily"
        assert [r["op"] for r in server.journal()] == ["63"]  # no 17 first
        assert kiosk.scan_from("scanner", "B008").reason == "ok"
        again = kiosk.scan_from("scanner", "B008")  # later, not a repeat: still one loan
        assert again.reason == "already_yours" and again.params["due_date"] == "2030-01-15"
        assert [r["op"] for r in server.journal()] == ["63", "17", "11"]
    finally:
        link.client.close()
        store.close()


def test_an_answer_lost_after_the_server_took_it_is_not_sent_twice(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    # The server takes the return, then answers too late: the kiosk cannot know whether it
    # was done, so it takes the return offline, in doubt, and asks (17) before sending it again.
    server = acs("--lent-at-desk", "B004=P002", "--slow-checkin", "3")
    kiosk = start_kiosk(server.address, timeout_s=1.0, item_pattern=r"B\d+")
    line = kiosk.ask("B004")
    assert line.startswith("[ok] checkin B004"), line
    db = tmp_path / "kiosk.db"
    assert rows(db, "SELECT state FROM sip2_queue") == [("sending",)]
    wait_until(lambda: open_queue(db) == 0, "the return in doubt settled")
    assert rows(db, "SELECT state FROM sip2_queue") == [("sent",)]
    assert [r["item"] for r in server.journal("09")] == ["B004"]  # once
    assert [r["item"] for r in server.journal("17")] == ["B004"]  # asked, not sent again


def test_a_loan_whose_answer_was_lost_is_found_at_the_system_not_lent_twice(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    server = acs("--slow-checkout", "3")
    kiosk = start_kiosk(server.address, timeout_s=1.0, patron_pattern=r"P\d+", item_pattern=r"B\d+")
    assert kiosk.ask("P001").startswith("[session_started]")
    line = kiosk.ask("B006")  # the server lends it, its answer comes too late
    assert line.startswith("[ok] checkout B006"), line  # taken offline, in doubt
    db = tmp_path / "kiosk.db"
    wait_until(lambda: open_queue(db) == 0, "the loan in doubt settled")
    assert rows(db, "SELECT state FROM sip2_queue") == [("sent",)]
    assert [r["item"] for r in server.journal("11")] == ["B006"]  # lent once
    asked = [r["patron"] for r in server.journal("63")]
    assert asked == ["P001", "P001"]  # the card, then: "which books has P001?"


def test_a_card_on_the_card_reader_is_checked_with_63_only(acs: Any, tmp_path: Path) -> None:
    import os
    import re

    from kiosk.devices import frames

    server = acs()
    config = write_config(tmp_path, '[card_reader]\nport = "pty:"\n' + sip2_section(server.address))
    assert kiosk_cmd(config, "init").returncode == 0
    kiosk = Sip2Kiosk(config)
    try:
        line = kiosk.wait_log("pseudo-terminal")
        path = re.search(r"pseudo-terminal (\S+);", line)
        assert path is not None, line
        kiosk.wait_ready()
        kiosk.wait_online()
        fd = os.open(path.group(1), os.O_WRONLY | os.O_NOCTTY)
        os.write(fd, frames.rdm6300_frame("0F00A1B2C3"))
        os.close(fd)
        answer = kiosk.read_console()
        assert answer.startswith("[session_started]") and "小红" in answer, answer
    finally:
        kiosk.kill()
    # A card reader's code is a card: no 17 first.
    assert [(r["op"], r.get("patron")) for r in server.journal()] == [("63", "0F00A1B2C3")]


def test_a_server_without_63_is_asked_23(acs: Any, start_kiosk: Any) -> None:
    server = acs("--no-63")
    kiosk = start_kiosk(server.address, patron_pattern=r"P\d+")
    line = kiosk.ask("P001")
    assert line.startswith("[session_started]") and "小明" in line, line
    line = kiosk.ask("P006")
    assert line.startswith("[error] fines") and "Fines of 12.50 outstanding" in line, line
    assert [r["op"] for r in server.journal()] == ["23", "23"]


def test_an_online_loan_answered_on_screen_survives_a_kill_of_the_daemon(
    acs: Any, start_kiosk: Any, tmp_path: Path
) -> None:
    server = acs()
    kiosk = start_kiosk(server.address, patron_pattern=r"P\d+", item_pattern=r"B\d+")
    assert kiosk.ask("P001").startswith("[session_started]")
    assert kiosk.ask("B001").startswith("[ok] checkout B001")
    # kill -9 right after the answer: its copy is written, or a line in the journal beside the
    # store, which the next start writes (never twice).
    kiosk.kill()
    db = tmp_path / "kiosk.db"
    kiosk = start_kiosk(server.address)
    assert rows(db, "SELECT patron_id FROM loans WHERE item_barcode = 'B001'") == [("P001",)]
    assert rows(db, "SELECT count(*) FROM events WHERE type = 'checkout'") == [(1,)]
    assert (tmp_path / "kiosk.db-answered").read_bytes() == b""
    assert [r["item"] for r in server.journal("11")] == ["B001"]
    kiosk.stop()
