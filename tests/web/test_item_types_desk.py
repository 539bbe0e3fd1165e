"""The desk page says the same as the kiosk about a reference book and a type over its limit."""

from __future__ import annotations

from flask.testing import FlaskClient

from kiosk.circulation.commands import SaveItemType
from kiosk.circulation.projector import Refusal
from kiosk.circulation.records import save_item_type, set_item_type
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, token

DICTIONARY, MAGAZINE, OTHER_MAGAZINE = "9787020002207", "9787535449450", "9787020024759"


def test_the_desk_refuses_a_reference_book_and_a_second_magazine(
    client: FlaskClient, daemon: Daemon
) -> None:
    store = daemon.store
    saved = save_item_type(store, SaveItemType("magazine", None, True, 7, 1, 0, "L01"))
    assert not isinstance(saved, Refusal)
    for barcode, kind in (
        (DICTIONARY, "reference"),
        (MAGAZINE, "magazine"),
        (OTHER_MAGAZINE, "magazine"),
    ):
        assert not isinstance(set_item_type(store, barcode, kind, "L01"), Refusal)
    set_up_and_login(client)
    t = token(client, "/desk/")
    client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S001"})
    r = client.post("/desk/type", data={"csrf_token": t, "code": DICTIONARY})
    said = r.json["result"]
    assert (said["kind"], said["zh"], said["en"]) == (
        "error",
        "这是工具书，只能在图书馆里看。",
        "This is a reference book: read it here in the library.",
    )
    r = client.post("/desk/type", data={"csrf_token": t, "code": MAGAZINE})
    assert r.json["result"]["kind"] == "ok"
    r = client.post("/desk/type", data={"csrf_token": t, "code": OTHER_MAGAZINE})
    assert r.json["result"]["zh"] == "报刊杂志一次只能借 1 本，先还一本再借吧。"
    assert store.query(
        "SELECT item_barcode FROM loans WHERE returned_at IS NULL AND patron_id = 'S001'"
    ) == [{"item_barcode": MAGAZINE}]
