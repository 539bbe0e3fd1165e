"""The desk: opened by a helper card or the librarian; keypad, lending, undo."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from kiosk.circulation.clock import FakeClock
from kiosk.daemon.app import Daemon
from kiosk.i18n import translate
from kiosk.web.screen import state_of
from web.helpers import set_up_and_login, text, token

HELPER_CARD, CARD, BOOK = "0F00AAAA01", "0F00A1B2C3", "9787020002207"


def loan_count(daemon: Daemon) -> int:
    return int(daemon.store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL"))


def test_desk_is_closed_without_a_helper_card_or_login(client: FlaskClient) -> None:
    r = client.get("/desk/")
    assert r.status_code == 200
    assert "请在自助借还机上刷小图书管理员的卡" in text(r)
    t = token(client, "/")
    assert client.post("/desk/type", data={"csrf_token": t, "code": BOOK}).status_code == 403
    assert client.post("/desk/undo", data={"csrf_token": t}).status_code == 403


def test_a_helper_card_opens_the_desk_and_keypad_codes_go_through_the_session(
    client: FlaskClient, daemon: Daemon
) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    daemon.kiosk.done()
    daemon.kiosk.scan(HELPER_CARD)
    html = text(client.get("/desk/"))
    assert "操作人：晨" in html
    t = token(client, "/desk/")
    r = client.post("/desk/type", data={"csrf_token": t, "code": BOOK})
    assert r.json == {"queued": True}
    scan = daemon.scans.get_nowait()
    assert (scan.source, scan.code) == ("keypad", BOOK)
    daemon.handle(scan)
    assert loan_count(daemon) == 0
    last = daemon.store.query("SELECT type, actor FROM events ORDER BY seq DESC LIMIT 1")[0]
    assert last == {"type": "checkin", "actor": "H001"}
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["ok"] is True and r.json["result"]["en"] == "Undone: 红楼梦."
    assert loan_count(daemon) == 1
    assert daemon.store.value("SELECT status FROM items WHERE barcode = ?", [BOOK]) == "on_loan"


def test_helper_desk_only_on_the_kiosks_own_screen(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(HELPER_CARD)
    r = client.get("/desk/", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert r.status_code == 200 and "操作人" not in text(r)


def test_librarian_lends_returns_and_undoes(
    client: FlaskClient, daemon: Daemon, clock: FakeClock
) -> None:
    set_up_and_login(client)
    t = token(client, "/desk/")
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S002"})
    assert "正在借给 李雨涵（一(1)班）" in text(client.get("/desk/"))
    r = client.post("/desk/type", data={"csrf_token": t, "code": BOOK})
    assert r.json["result"]["kind"] == "ok" and r.json["result"]["title"] == "红楼梦"
    r = client.post("/desk/type", data={"csrf_token": t, "code": "9787535449450"})
    # The desk speaks to the person at the desk, not to the child.
    assert r.json["result"]["en"] == "This student already has 1 book: one must come back first."
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["result"]["en"] == "Undone: 红楼梦."
    assert loan_count(daemon) == 0
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert (r.json["ok"], r.json["result"]["en"]) == (False, "Nothing to undo.")
    events = daemon.store.query("SELECT type, actor, data FROM events WHERE type = 'undo'")
    assert [(e["type"], e["actor"]) for e in events] == [("undo", "librarian:librarian")]
    assert json.loads(events[0]["data"])["undone_type"] == "checkout"
    # Back to returns: a book on loan comes back; an old action is too late to undo.
    client.post("/desk/type", data={"csrf_token": t, "code": BOOK})
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": ""})
    r = client.post("/desk/type", data={"csrf_token": t, "code": BOOK})
    assert r.json["result"]["en"] == "Returned. Thank you!"
    clock.advance(121)
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["result"]["en"] == "Too late to undo; ask the librarian."


def test_desk_search_finds_students_and_books(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    daemon.kiosk.done()
    daemon.kiosk.scan(HELPER_CARD)
    html = text(client.get("/desk/?q=王小明"))
    # What a helper needs to pick the child: given name, class, loans; no card, no full name.
    assert "<td>小明</td>" in html and "借着 1 本" in html and 'data-patron="S001"' in html
    assert "王小明" not in html.replace('value="王小明"', "") and "0F00A1B2C3" not in html
    html = text(client.get("/desk/?q=hlm"))
    # Books are found by the kiosk's search: where they are, never who (or which class) has them.
    found = html.split('<div class="found-box"', 1)[1].split("</div>", 1)[0]
    assert "红楼梦" in found and "借出：1 本，" in found and "三(2)班" not in found


def test_librarian_lending_at_the_desk_page_reaches_the_touchscreen_and_the_sync(
    app: Flask, client: FlaskClient, daemon: Daemon
) -> None:
    ctx = app.extensions["kiosk"]
    screen = ctx.broker.connect()
    woken: list[
        str
    ] = []  # what the sync worker's listener is given (see kiosk.daemon.app.build_sync)
    daemon.kiosk.subscribe(
        lambda fb: woken.append(fb.result.event.type) if fb.result and fb.result.event else None
    )
    set_up_and_login(client)
    t = token(client, "/desk/")
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S002"})
    client.post("/desk/type", data={"csrf_token": t, "code": BOOK})
    client.post("/desk/undo", data={"csrf_token": t})
    shown = [screen.get(1), screen.get(1)]
    assert [state_of(ctx, u)["last"]["zh"] for u in shown] == [
        translate("Checked out. Due {due_date}.", "zh_CN", **shown[0].feedback.params),
        "已撤销：红楼梦。",
    ]
    assert shown[0].feedback.result.patron.id == "S002"
    assert woken == ["checkout", "undo"]


def test_undo_at_the_desk_puts_a_drifting_books_hand_back(
    client: FlaskClient, daemon: Daemon
) -> None:
    drifter = "9787544270878"  # Charlotte's Web, drifting (图书漂流)
    assert daemon.circulation.set_drifting(drifter, True, "librarian:librarian").ok

    def hands() -> list[tuple[str, bool]]:
        rows = daemon.store.query(
            "SELECT patron_id, ended_at IS NULL AS open FROM drift_hands ORDER BY taken_at, rowid"
        )
        return [(r["patron_id"], bool(r["open"])) for r in rows]

    set_up_and_login(client)
    t = token(client, "/desk/")
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S001"})
    r = client.post("/desk/type", data={"csrf_token": t, "code": drifter})
    assert r.json["result"]["kind"] == "ok"
    # Given to 李雨涵 by mistake (taken over from 王小明): undone, 王小明 has it again.
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S002"})
    client.post("/desk/type", data={"csrf_token": t, "code": drifter})
    assert hands() == [("S001", False), ("S002", True)]
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["ok"] is True and r.json["result"]["en"] == "Undone: Charlotte's Web."
    assert hands() == [("S001", True)]  # the mistaken hand is not counted
    # Handed in by mistake (a scan with no one to lend to): undone, 王小明 has it again.
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": ""})
    r = client.post("/desk/type", data={"csrf_token": t, "code": drifter})
    assert r.json["result"]["en"] == "Drifting book handed in. Thank you!"
    assert hands() == [("S001", False)]
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["ok"] is True and hands() == [("S001", True)]
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert (r.json["ok"], r.json["result"]["en"]) == (False, "Nothing to undo.")
    # Taken over since at the kiosk: the desk's hand-in cannot be undone any more.
    client.post("/desk/type", data={"csrf_token": t, "code": drifter})
    daemon.kiosk.scan(CARD)  # 王小明 at the kiosk takes it again
    daemon.kiosk.scan(drifter)
    daemon.kiosk.done()
    before = hands()
    r = client.post("/desk/undo", data={"csrf_token": t})
    assert r.json["result"]["en"] == "That book has changed since; it cannot be undone here."
    assert hands() == before
    undone = daemon.store.query("SELECT data FROM events WHERE type = 'undo' ORDER BY seq")
    assert [json.loads(u["data"])["undone_type"] for u in undone] == ["drift_taken", "drift_ended"]
