"""The touchscreen page, its live stream, the done button and the monitoring API."""

from __future__ import annotations

import dataclasses
import json
import time

from flask.testing import FlaskClient

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.daemon.app import Daemon
from kiosk.devices.base import Scan
from kiosk.web import create_app, web
from web.helpers import LOOPBACK, set_up_and_login, text, token
from web.openapi_check import problems, response_schema

CARD, BOOK = "0F00A1B2C3", "9787020002207"


def initial_state(client: FlaskClient) -> dict:
    html = text(client.get("/"))
    start = html.index('<script id="initial-state" type="application/json">') + 51
    return json.loads(html[start : html.index("</script>", start)])


def test_idle_screen_asks_for_a_card_in_both_languages(client: FlaskClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = text(r)
    assert (
        '<span lang="zh-CN">请刷卡借书</span><span lang="en">Tap your card to borrow books</span>'
        in html
    )
    assert 'class="show-zh"' in html
    state = initial_state(client)
    assert state["mode"] == "idle"
    assert state["idle"]["new_books"][0] == "西游记"


def test_session_shows_given_name_class_and_own_loans_only(
    client: FlaskClient, daemon: Daemon
) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    state = initial_state(client)
    assert state["mode"] == "patron"
    assert state["patron"] == {"name": "小明", "class": "三(2)班"}
    assert state["loans"] == [
        {
            "title": "红楼梦",
            "due": "2026-11-16",
            "overdue": False,
            "code": BOOK,
            "renewable": False,  # borrowed today: renewing would move nothing
        }
    ]
    assert state["results"][0]["title"] == "红楼梦"
    assert state["results"][0]["kind"] == "ok"
    assert state["results"][0]["en"] == "Checked out. Due 2026-11-16."
    html = text(client.get("/"))
    assert "王小明" not in html and "S001" not in html


def test_stream_pushes_each_committed_result_and_clears_at_the_end(
    client: FlaskClient, daemon: Daemon, clock: FakeClock
) -> None:
    r = client.get("/events")
    assert r.mimetype == "text/event-stream"
    chunks = (c.decode() for c in r.response)
    assert next(chunks) == "retry: 1000\n"
    assert json.loads(next(chunks).removeprefix("data: "))["mode"] == "idle"
    daemon.kiosk.scan(CARD)
    started = json.loads(next(chunks).removeprefix("data: "))
    assert started["event"] == "session_started"
    assert started["last"]["en"] == "Hello, 小明! Scan your books."
    daemon.kiosk.scan("9787535449450")
    daemon.kiosk.scan("9787544270878")
    daemon.kiosk.scan("9787530215982")  # the third book is over the limit of 2
    states = [json.loads(next(chunks).removeprefix("data: ")) for _ in range(3)]
    refused = states[-1]["last"]
    assert refused["kind"] == "error"
    assert refused["en"] == "You already have 2 books. Return one first."
    assert refused["zh"] == "你已经借了 2 本书，请先还一本再借。"
    assert states[-1]["published_ms"] <= time.time() * 1000
    clock.advance(31)
    daemon.kiosk.tick()
    ended = json.loads(next(chunks).removeprefix("data: "))
    assert ended["mode"] == "idle" and "patron" not in ended and "results" not in ended
    r.close()
    assert web_of(client).broker.count == 0


def web_of(client: FlaskClient):  # type: ignore[no-untyped-def]
    with client.application.app_context():
        return web()


def test_done_button_ends_the_session(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(CARD)
    t = token(client, "/")
    assert client.post("/done").status_code == 400  # no CSRF token
    assert daemon.kiosk.mode == "patron"
    r = client.post("/done", headers={"X-CSRF-Token": t})
    assert r.json == {"ended": True}
    assert daemon.kiosk.mode == "idle"


def test_done_from_another_network_is_forbidden(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(CARD)
    t = token(client, "/")
    r = client.post(
        "/done", headers={"X-CSRF-Token": t}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert r.status_code == 403
    assert daemon.kiosk.mode == "patron"


def test_renew_button_renews_only_the_sessions_own_loan(
    client: FlaskClient, daemon: Daemon, clock: FakeClock
) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    daemon.kiosk.done()
    clock.advance(days=7)
    t = token(client, "/")

    def renew(code: str, **kw: object) -> object:
        return client.post("/renew", json={"code": code}, headers={"X-CSRF-Token": t}, **kw)

    assert renew(BOOK).json == {"renewed": False}  # no session: nothing to renew
    daemon.kiosk.scan("0F00A1B2C5")  # Tom cannot renew 小明's book
    assert renew(BOOK).json == {"renewed": False}
    assert initial_state(client)["results"][0]["en"] == (
        "This book is on loan to someone else. Give it to a library helper."
    )
    daemon.kiosk.scan(CARD)
    assert initial_state(client)["loans"][0]["renewable"] is True
    assert renew(BOOK, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert renew(BOOK).json == {"renewed": True}
    state = initial_state(client)
    assert state["results"][0]["en"] == "Renewed. Now due 2026-11-23."
    assert state["loans"][0]["renewable"] is False  # the one renewal the rules allow is spent
    renewals = daemon.store.value("SELECT renewals FROM loans WHERE item_barcode = ?", [BOOK])
    assert renewals == 1


def test_health_says_why_scanning_does_not_work(client: FlaskClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.json == {
        "ok": False,
        "reasons": ["no scan source configured", "main loop not running"],
    }
    assert problems(r.json, response_schema("/api/v1/health", 503)) == []


def test_status_matches_the_openapi_file(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    assert client.get("/api/v1/status").status_code == 401  # the librarian's, after login
    set_up_and_login(client)
    r = client.get("/api/v1/status")
    assert r.status_code == 200
    body = r.json
    assert problems(body, response_schema("/api/v1/status", 200)) == []
    assert body["counts"]["open_loans"] == 1
    assert body["today"] == {"loans": 1, "returns": 0, "renewals": 0, "undone": 0}
    assert body["session"]["mode"] == "patron"
    assert body["sync"] is None


def test_offline_sign_when_the_hub_is_unreachable(client: FlaskClient, daemon: Daemon) -> None:
    class Sync:
        def state(self) -> dict:
            return {"online": False, "last_success": None, "queue_length": 7, "last_error": "x"}

    daemon.sync = Sync()  # type: ignore[attr-defined]
    assert initial_state(client)["offline"] is True
    set_up_and_login(client)
    assert client.get("/api/v1/status").json["sync"]["queue_length"] == 7


def test_schema_checker_catches_a_wrong_answer() -> None:
    assert problems({"ok": "yes"}, response_schema("/api/v1/health", 200)) == [
        "$.reasons: missing",
        "$.ok: 'yes' is not boolean",
    ]


def test_the_browser_icon_request_gets_an_empty_answer(client: FlaskClient) -> None:
    r = client.get("/favicon.ico")
    assert (r.status_code, r.data) == (204, b"")


def test_too_many_live_pages_are_refused_so_threads_stay_free(
    daemon: Daemon, web_settings: config.Settings
) -> None:
    import dataclasses

    s = dataclasses.replace(web_settings, web=dataclasses.replace(web_settings.web, threads=4))
    app = create_app(store=daemon.store, settings=s, daemon=daemon, networks=LOOPBACK)
    c = app.test_client()
    elsewhere = {"REMOTE_ADDR": "127.0.0.2"}  # not the kiosk's own screen
    other = c.get("/events", environ_base=elsewhere)
    r = c.get("/events", environ_base={"REMOTE_ADDR": "127.0.0.3"})
    assert r.status_code == 503  # two places (threads - 2); the last one is the screen's
    assert "实时页面太多" in text(r)
    screen = c.get("/events")
    assert screen.status_code == 200
    # Every place is taken: the screen's next stream (a reload) pushes out the other page.
    again = c.get("/events")
    assert again.status_code == 200
    # Its stream ends (reading it to the end returns), and its page connects again later.
    assert b"".join(other.response).startswith(b"retry: 1000")
    assert web_of(c).broker.count == 2
    other.close()
    screen.close()
    again.close()


def test_an_idle_answer_is_on_the_page_and_with_a_hub_a_lone_return_is_recorded(
    web_settings: config.Settings, clock: FakeClock, store: object
) -> None:
    hub = dataclasses.replace(web_settings.hub, url="http://127.0.0.1:9", token="t")
    settings = dataclasses.replace(web_settings, hub=hub)
    daemon = Daemon(settings, clock=clock)
    try:
        client = create_app(
            store=daemon.store, settings=settings, daemon=daemon, networks=LOOPBACK
        ).test_client()
        daemon.kiosk.scan("9787535449450")  # on the shelf here; the hub may know its loan
        state = initial_state(client)
        assert state["mode"] == "idle"
        assert (state["last"]["title"], state["last"]["kind"]) == ("小王子", "ok")
        assert state["last"]["zh"] == "还书成功，谢谢你！想借这本书，请先刷卡。"
        assert state["last"]["en"] == "Returned, thank you. To borrow it, tap your card first."
        assert state["show_s"] == 8.0
        kinds = daemon.store.query("SELECT type, item_barcode FROM events WHERE type = 'checkin'")
        assert [(e["type"], e["item_barcode"]) for e in kinds] == [("checkin", "9787535449450")]
        clock.advance(8)  # the answer has had its time: a page opened now shows the idle screen
        assert initial_state(client)["last"] is None
    finally:
        daemon.store.close()


def test_a_kiosk_fault_ends_the_session_and_is_on_the_screen(
    client: FlaskClient, daemon: Daemon
) -> None:
    daemon.kiosk.scan(CARD)
    daemon.integrity = "row 3 missing from index"  # what the background check found
    daemon.handle(Scan("scanner", BOOK))
    state = initial_state(client)
    assert (state["mode"], state["last"]["kind"]) == ("idle", "fault")
    assert state["last"]["zh"] == "出了点问题，请找小图书管理员帮忙。"
    assert daemon.store.value("SELECT count(*) FROM loans") == 0
