"""Cards issued from the dashboard are the cards the reader sends, in any form they are typed."""

from __future__ import annotations

from flask.testing import FlaskClient

from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token

CARD = "0F00A1B2C3"  # S001's card in the small school; printed on it: 0010597059


def test_a_uid_typed_in_lower_case_opens_a_session_at_the_reader(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/patrons/S002")
    r = client.post(
        "/admin/patrons/S002/cards",
        data={"csrf_token": t, "code": "1b00c0ffee"},
        follow_redirects=True,
    )
    assert "已发新卡 1B00C0FFEE。" in text(r)
    # The reader sends upper-case hex: the kiosk greets S002.
    assert daemon.kiosk.scan("1B00C0FFEE").kind == "session_started"
    assert daemon.kiosk.patron is not None and daemon.kiosk.patron.id == "S002"
    assert daemon.store.query(
        "SELECT code, number FROM cards WHERE patron_id = 'S002' AND code LIKE '1B%'"
    ) == [{"code": "1B00C0FFEE", "number": "0012648430"}]


def test_a_card_typed_as_its_printed_number_is_already_taken(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/patrons/S002")
    r = client.post(
        "/admin/patrons/S002/cards",
        data={"csrf_token": t, "code": "0010597059"},
        follow_redirects=True,
    )
    assert f"卡 {CARD} 已经属于王小明。" in text(r)  # the card as stored, and its holder
    assert daemon.store.value("SELECT count(*) FROM cards WHERE code = '0010597059'") == 0
    assert daemon.store.value("SELECT patron_id FROM cards WHERE number = '0010597059'") == "S001"
    assert [e["type"] for e in daemon.store.query("SELECT type FROM events")].count(
        "card_issued"
    ) == 0
