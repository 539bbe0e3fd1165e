"""Privacy by where you stand, over real HTTP: the kiosk's own screen (127.0.0.1) sees the
student's loans; another client on the network (127.0.0.2) sees only that a session runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kiosk.daemon.app import Daemon
from web.clients import Browser, next_state, open_stream
from web.helpers import wait_for

STUDENT = ["0F00A1B2C3", "9787020002207"]  # 王小明 borrows 红楼梦


def start_session(daemon: Daemon, tmp_path: Path) -> int:
    wait_for(lambda: daemon.web._server)
    with open(tmp_path / "scans", "w") as fifo:
        fifo.write("\n".join(STUDENT) + "\n")
    wait_for(lambda: daemon.store.value("SELECT count(*) FROM loans") == 1)
    return daemon.web.port


def initial_state(html: str) -> dict:
    found = re.search(r'<script id="initial-state" type="application/json">(.*?)</script>', html)
    assert found
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_only_the_kiosks_own_screen_gets_the_students_loans(live: Daemon, tmp_path: Path) -> None:
    port = start_session(live, tmp_path)
    screen = next_state(open_stream(port, source="127.0.0.1"))
    assert screen["patron"] == {"name": "小明", "class": "三(2)班"}
    assert [loan["title"] for loan in screen["loans"]] == ["红楼梦"]
    other = next_state(open_stream(port, source="127.0.0.2"))
    assert other["mode"] == "patron"
    assert (other["patron"], other["loans"], other["results"], other["last"]) == (
        None,
        [],
        [],
        None,
    )
    _, _, html, _ = Browser(port, source="127.0.0.2").get("/")
    assert "红楼梦" not in html and "小明" not in html
    assert initial_state(html)["loans"] == []
    _, _, html, _ = Browser(port).get("/")
    assert [loan["title"] for loan in initial_state(html)["loans"]] == ["红楼梦"]


def test_a_teacher_is_shown_by_the_name_children_call_them(live: Daemon, tmp_path: Path) -> None:
    wait_for(lambda: live.web._server)
    with open(tmp_path / "scans", "w") as fifo:
        fifo.write("0F00BBBB01\n")  # 陈老师's card, as seeded
    stream = open_stream(live.web.port, source="127.0.0.1")
    screen = next_state(stream)
    while not screen.get("patron"):  # the stream may open before the card is read
        screen = next_state(stream)
    assert screen["patron"] == {"name": "陈老师", "class": "三(2)班"}  # not "老师"
    _, _, html, _ = Browser(live.web.port).get("/")
    assert initial_state(html)["patron"]["name"] == "陈老师"


def test_status_is_for_the_librarian_and_health_says_only_why(live: Daemon, tmp_path: Path) -> None:
    port = start_session(live, tmp_path)
    status, _, body, _ = Browser(port, source="127.0.0.2").get("/api/v1/status")
    assert status == 401
    assert "kiosk.db" not in body
    status, _, body, _ = Browser(port, source="127.0.0.2").get("/api/v1/health")
    assert (status, json.loads(body)) == (200, {"ok": True, "reasons": []})
    live.sources[0].health.connected = False
    live.sources[0].health.last_error = f"cannot open {tmp_path}/scans"
    status, _, body, _ = Browser(port, source="127.0.0.2").get("/api/v1/health")
    assert (status, json.loads(body)) == (
        503,
        {"ok": False, "reasons": ["a device is not connected"]},
    )
    assert str(tmp_path) not in body


def test_the_helpers_search_holds_no_card_codes_or_full_names(live: Daemon, tmp_path: Path) -> None:
    port = start_session(live, tmp_path)
    live.kiosk.done()
    with open(tmp_path / "scans", "w") as fifo:
        fifo.write("0F00AAAA01\n")  # the helper's card: desk mode on the kiosk's own screen
    wait_for(lambda: live.kiosk.mode == "desk")
    status, _, html, _ = Browser(port).get("/desk/?q=%E7%8E%8B")  # 王
    assert status == 200
    assert "小明" in html and "三(2)班" in html
    assert "王小明" not in html and "0F00A1B2C3" not in html


def test_the_helper_lends_to_a_child_found_by_search_without_seeing_the_card(
    live: Daemon,
    tmp_path: Path,
) -> None:
    port = start_session(live, tmp_path)
    live.kiosk.done()
    with open(tmp_path / "scans", "w") as fifo:
        fifo.write("0F00AAAA01\n")
    wait_for(lambda: live.kiosk.mode == "desk")
    helper = Browser(port)
    token = helper.token("/desk/?q=%E7%8E%8B")
    status, _, body, _ = helper.request(
        "POST", "/desk/lend", form={"patron_id": "S001"}, headers={"X-CSRF-Token": token}
    )
    assert (status, json.loads(body)) == (200, {"queued": True})
    wait_for(lambda: live.kiosk.mode == "lend_for" and live.kiosk.patron.id == "S001")
