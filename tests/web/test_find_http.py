"""The search over HTTP: /find.json answers the screen and the school's network, never says who
has a book, and only the kiosk's own screen may ask for a hold or count a touch."""

from __future__ import annotations

from flask.testing import FlaskClient

from kiosk.circulation import covers
from kiosk.circulation.records import put_item
from kiosk.daemon.app import Daemon
from web.helpers import token

OUTSIDE = {"REMOTE_ADDR": "198.51.100.7"}


def test_a_search_says_where_the_copies_are_and_never_who_has_them(
    client: FlaskClient, daemon: Daemon
) -> None:
    assert daemon.circulation.checkout("S001", "9787535449450").ok
    body = client.get("/find.json?q=xwz").get_json()
    assert body["more"] is False
    (prince,) = body["titles"]
    assert prince["title"] == "小王子" and prince["author"] == "圣埃克苏佩里"
    assert (prince["on_shelf"], prince["on_loan"], prince["corners"]) == (0, 1, [])
    assert prince["back_by"] == "2026-11-16" and prince["can_want"] is True
    assert prince["shelf"] == {
        "letter": "I",
        "words": "stories and poems",
        "zh": "文学",
        "en": "stories and poems",
    }
    assert "S001" not in str(body) and "王小明" not in str(body)
    assert client.get("/find.json?q=").get_json()["titles"] == []
    assert len(client.get("/find.json?q=" + "a" * 500).get_json()["q"]) == 40


def test_a_grade_list_asked_for_with_odd_digits_finds_nothing(client: FlaskClient) -> None:
    # Typed into the address bar: a grade too big for SQLite, a digit that is not 0-9.
    for grade in ["9" * 30, "\u00b2", "\u0663", "3x", ""]:
        r = client.get("/find.json", query_string={"browse": "grade:" + grade})
        assert r.status_code == 200 and r.get_json()["titles"] == [], grade
        page = client.get("/catalogue", query_string={"browse": "grade:" + grade})
        assert page.status_code == 200, grade


def test_outside_the_school_nothing_is_found(client: FlaskClient) -> None:
    assert client.get("/find.json?q=xwz", environ_base=OUTSIDE).status_code == 403
    assert client.get("/catalogue", environ_base=OUTSIDE).status_code == 403


def test_only_the_kiosks_screen_asks_for_a_hold(client: FlaskClient, daemon: Daemon) -> None:
    t = token(client, "/")
    r = client.post(
        "/find/want",
        json={"key": "9787535449450"},
        headers={"X-CSRF-Token": t},
        environ_base={"REMOTE_ADDR": "127.0.0.2"},
    )
    assert r.status_code == 403
    r = client.post("/find/want", json={}, headers={"X-CSRF-Token": t})
    assert r.status_code == 400
    # Idle: the hold waits for the next card.
    r = client.post("/find/want", json={"key": "9787535449450"}, headers={"X-CSRF-Token": t})
    assert r.get_json() == {"tap_card": True}
    assert daemon.store.value("SELECT count(*) FROM holds") == 0


def test_in_a_session_the_hold_is_placed_and_the_answer_given(
    client: FlaskClient, daemon: Daemon
) -> None:
    with daemon.store.write() as db:
        put_item(db, {"barcode": "OUT1", "title": "借出的书"}, daemon.store.now())
    assert daemon.circulation.checkout("S003", "OUT1").ok
    daemon.kiosk.scan("0F00A1B2C3")
    t = token(client, "/")
    r = client.post("/find/want", json={"key": "OUT1"}, headers={"X-CSRF-Token": t})
    assert r.get_json() == {
        "tap_card": False,
        "kind": "ok",
        "zh": "你是《借出的书》预约队伍里的第 1 位。",
        "en": "You are number 1 in the queue for 借出的书.",
    }
    held = daemon.store.query("SELECT patron_id, item_barcode, status FROM holds")
    assert held == [{"patron_id": "S001", "item_barcode": "OUT1", "status": "waiting"}]


def test_a_cover_is_sent_by_its_name_only_to_the_school(
    client: FlaskClient, daemon: Daemon
) -> None:
    folder = covers.folder(daemon.store)
    folder.mkdir()
    name = "0" * 64 + ".jpg"
    (folder / name).write_bytes(b"\xff\xd8 a cover")
    (folder.parent / "secret.jpg").write_bytes(b"not a cover")
    r = client.get(f"/covers/{name}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data == b"\xff\xd8 a cover"
    assert client.get(f"/covers/{name}", environ_base=OUTSIDE).status_code == 403
    assert client.get("/covers/secret.jpg").status_code == 404
    assert client.get("/covers/..%2Fsecret.jpg").status_code == 404
    assert client.get("/covers/" + "1" * 64 + ".jpg").status_code == 404
