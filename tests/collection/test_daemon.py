"""The collection at a running kiosk (`kiosk run`, scans through a FIFO) and on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from daemon.test_daemon import KioskProcess, kiosk_cmd, make_school, write_config

from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.collection import cards, holds, lost, stocktake, weeding
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import open_store

pytestmark = pytest.mark.slow  # `kiosk run` processes

RED, PRINCE, WEB, GRASS = "9787020002207", "9787535449450", "9787544270878", "9787530215982"
CARD, OTHER_CARD, TOM_CARD = "0F00A1B2C3", "0F00A1B2C4", "0F00A1B2C5"


def run_on_store(config_path: Path, action: object) -> None:
    """Do something to the kiosk's store from this process, as the dashboard would."""
    store = open_store(config.load(config_path), SystemClock())
    try:
        action(store)  # type: ignore[operator]
    finally:
        store.close()


def test_stocktake_from_the_command_line_puts_the_running_kiosk_in_stocktake_mode(
    tmp_path: Path,
) -> None:
    cfg = write_config(tmp_path)
    make_school(cfg)
    run_on_store(cfg, lambda s: Circulation(s).checkout("S003", WEB))
    k = KioskProcess(cfg)
    try:
        k.wait_ready()
        # A child's session is open when the stocktake starts: it ends at once, so the
        # first shelf scan is counted, not lent.
        assert k.ask(CARD).startswith("[session_started] ")
        started = kiosk_cmd(cfg, "stocktake", "start", "--location", "library")
        assert started.returncode == 0, started.stderr
        assert started.stdout == "stocktake running: library; scan the books on the shelves\n"
        assert k.read_console().startswith("[session_ended] counting_started | 正在盘点，暂停借书")
        line = k.ask(RED)
        assert line.startswith(f"[ok] stocktake {RED} | 已清点：红楼梦。 / Counted"), line
        line = k.ask(WEB)
        assert line.startswith(f"[warning] stocktake {WEB} | "), line
        assert "It was on loan: give it to the librarian." in line
        line = k.ask("NOT-OURS")
        assert line.startswith("[warning] stocktake NOT-OURS | 已清点，但这个条码不在馆藏中"), line
        # A child's card: come back later; the book is counted, not lent.
        assert k.ask(CARD).startswith("[warning] counting_card | 现在正在盘点图书，暂停借书")
        assert k.ask(PRINCE).startswith(f"[ok] stocktake {PRINCE} | ")

        status = kiosk_cmd(cfg, "stocktake", "status")
        assert status.stdout.splitlines() == [
            "stocktake library: open",
            "  missing: 2",
            "  misplaced: 0",
            "  on loan but found: 1",
            "  drifting (belongs to no shelf): 0",
            "  unknown barcode: 1",
            "  found: 2",
        ]
        report = kiosk_cmd(cfg, "stocktake", "report", "--format", "csv", "--codes")
        rows = list(csv.DictReader(io.StringIO(report.stdout)))
        assert {r["barcode"]: r["status"] for r in rows} == {
            "9787020024759": "missing",
            GRASS: "missing",
            WEB: "on_loan_found",
            "NOT-OURS": "unknown",
            RED: "found",
            PRINCE: "found",
        }
        assert rows[0].keys() >= {"barcode", "status", "title", "call_number", "scanned_at"}
        # Without --codes: Chinese column titles and statuses, as the dashboard's download.
        chinese = kiosk_cmd(cfg, "stocktake", "report", "--format", "csv").stdout
        shown = {r["条码"]: r["状态"] for r in csv.DictReader(io.StringIO(chinese))}
        assert (shown[WEB], shown[GRASS]) == ("借出却在架", "缺失")
        english = kiosk_cmd(cfg, "stocktake", "report", "--format", "csv", "--lang", "en").stdout
        shown = {r["Barcode"]: r["Status"] for r in csv.DictReader(io.StringIO(english))}
        assert shown[WEB] == "on loan but found"
        assert kiosk_cmd(cfg, "stocktake", "pause").returncode == 0
        assert k.read_console().startswith("[session_ended] counting_ended | ")
        assert k.ask(OTHER_CARD).startswith("[session_started] ")
        assert k.ask(GRASS).startswith(f"[ok] checkout {GRASS} | ")  # lending again
        assert kiosk_cmd(cfg, "stocktake", "finish").returncode == 0
        again = kiosk_cmd(cfg, "stocktake", "finish")
        assert (again.returncode, again.stderr) == (1, "error: No stocktake is running.\n")
        assert k.stop() == 0
    finally:
        if k.proc.poll() is None:
            k.kill()
    loans = kiosk_cmd(cfg, "export", "loans").stdout
    assert PRINCE not in loans and RED not in loans


def test_withdrawn_lost_found_holds_and_a_replaced_card_at_the_kiosk(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    make_school(cfg)

    def prepare(store: object) -> None:
        c = Circulation(store)  # type: ignore[arg-type]
        assert weeding.withdraw(store, GRASS, "worn", "librarian:admin").ok  # type: ignore[arg-type]
        assert c.checkout("S003", RED).ok
        assert lost.mark(store, "lost", RED, "librarian:admin").ok  # type: ignore[arg-type]
        assert c.checkout("S003", PRINCE).ok
        assert holds.place(store, PRINCE, "S001", "H001").ok  # type: ignore[arg-type]
        replaced = cards.replace(store, "S002", OTHER_CARD, "0F00C0FFEE", "librarian:admin")  # type: ignore[arg-type]
        assert replaced.ok

    run_on_store(cfg, prepare)
    k = KioskProcess(cfg)
    try:
        k.wait_ready()
        line = k.ask(GRASS)
        assert line.startswith(f"[error] item_withdrawn {GRASS} | 这本书已经下架剔除"), line
        line = k.ask(RED)  # the lost book turns up, scanned without a card
        assert line.startswith(f"[ok] found {RED} | 这本丢失的书找到了"), line
        line = k.ask(PRINCE)  # returned; S001 is waiting for it
        assert line.startswith(
            f"[warning] checkin {PRINCE} | 还书成功。请把这本书放到预约书架上"
        ), line
        assert "王小明" in line and "三(2)班" in line
        line = k.ask(CARD)
        assert line.startswith("[session_started] hold_waiting "), line
        assert "小王子" in line
        k.ask(TOM_CARD)  # Tom may not take the held book
        assert k.ask(PRINCE).startswith(f"[error] held_for_other {PRINCE} | ")
        k.ask(CARD)
        assert k.ask(PRINCE).startswith(f"[ok] checkout {PRINCE} | ")
        assert k.ask(OTHER_CARD).startswith("[error] card_lost ")
        assert k.ask("0F00C0FFEE").startswith("[session_started] ")
        assert k.stop() == 0
    finally:
        if k.proc.poll() is None:
            k.kill()
    events = kiosk_cmd(cfg, "export", "events", "--codes").stdout
    for kind in (
        "item_withdrawn",
        "item_lost",
        "item_found",
        "hold_ready",
        "hold_fulfilled",
        "card_replaced",
    ):
        assert kind in events


def test_lists_and_marking_missing_books_lost_from_the_command_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    make_school(cfg)
    run_on_store(cfg, lambda s: Circulation(s).checkout("S003", WEB))
    assert kiosk_cmd(cfg, "stocktake", "start", "--location", "library").returncode == 0
    run_on_store(cfg, lambda s: [stocktake.scan(s, code, "H001") for code in (RED, PRINCE)])
    status = json.loads(kiosk_cmd(cfg, "stocktake", "status", "--json").stdout)
    assert (status["scope"], status["status"], status["counts"]["missing"]) == (
        "library",
        "open",
        2,
    )
    report = kiosk_cmd(cfg, "stocktake", "report").stdout.splitlines()
    assert [line.split()[:2] for line in report] == [
        ["9787020024759", "missing"],  # by call number: I242.4/5
        [GRASS, "missing"],  # I287.45/4
        [RED, "found"],
        [PRINCE, "found"],
    ]
    asked = kiosk_cmd(cfg, "stocktake", "mark-lost")  # no terminal to say yes: nothing happens
    assert asked.returncode == 1 and "mark the missing books lost (2)?" in asked.stdout
    assert kiosk_cmd(cfg, "list", "lost").stdout == ""
    done = kiosk_cmd(cfg, "stocktake", "mark-lost", "--yes")
    assert done.stdout == "Books marked lost: 2\n", done.stderr
    rows = list(csv.DictReader(io.StringIO(kiosk_cmd(cfg, "list", "lost", "--codes").stdout)))
    assert sorted(r["item_barcode"] for r in rows) == sorted([GRASS, "9787020024759"])
    assert {r["note"] for r in rows} == {"stocktake library"}
    chinese = csv.DictReader(io.StringIO(kiosk_cmd(cfg, "list", "lost").stdout))
    assert {(r["条码"], r["类型"], r["备注"]) for r in chinese} == {
        (GRASS, "丢失", "stocktake library"),
        ("9787020024759", "丢失", "stocktake library"),
    }
