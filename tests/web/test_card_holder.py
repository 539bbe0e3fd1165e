"""Patron A's card, in any of its forms, cannot be given to patron B by any path of the kiosk.

Each path that assigns cards (the dashboard's card form, the card replacement, an import)
refuses it with the name of the card's holder, and no card changes hands. The hub's path is in
tests/sync/test_card_holder_hub.py.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kiosk.circulation.importers import import_csv
from kiosk.circulation.records import issue_card
from kiosk.codes import canonical_card
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token

# 王小明 (S001) holds the EM4100 card 0F00A1B2C3 and a printed library card LIB00000007.
FORMS = {
    "hex UID": "0F00A1B2C3",
    "hex UID in lower case": "0f00a1b2c3",
    "printed decimal": "0010597059",  # 0x00A1B2C3, the number printed on the card
    "printed barcode": "LIB00000007",
}


def cards(daemon: Daemon) -> list[dict[str, str]]:
    return daemon.store.query("SELECT code, patron_id, status FROM cards ORDER BY code")


@pytest.fixture
def holder(daemon: Daemon) -> list[dict[str, str]]:
    """Give S001 a printed barcode card besides the RFID one; return the cards."""
    issue_card(daemon.store, "S001", "LIB00000007", actor="librarian")
    return cards(daemon)


@pytest.mark.parametrize("form", FORMS)
def test_the_dashboard_refuses_anothers_card_with_the_holders_name(
    client: FlaskClient, daemon: Daemon, holder: list[dict[str, str]], form: str
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/patrons/S002")
    r = client.post(
        "/admin/patrons/S002/cards",
        data={"csrf_token": t, "code": FORMS[form]},
        follow_redirects=True,
    )
    stored = "LIB00000007" if form == "printed barcode" else "0F00A1B2C3"  # the card, as kept
    assert f"卡 {stored} 已经属于王小明。" in html.unescape(text(r))
    assert cards(daemon) == holder


@pytest.mark.parametrize("form", FORMS)
def test_the_card_replacement_refuses_anothers_card_with_the_holders_name(
    client: FlaskClient, daemon: Daemon, holder: list[dict[str, str]], form: str
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/collection/year")
    form_data = {"csrf_token": t, "patron_id": "S002", "old": "0F00A1B2C4", "new": FORMS[form]}
    r = client.post("/admin/collection/card/replace", data=form_data, follow_redirects=True)
    shown = html.unescape(text(r))
    assert "已经属于王小明" in shown, shown[-2000:]
    assert cards(daemon) == holder
    # The patron's own old card, given in another form, is still found as hers.
    ok = {**form_data, "csrf_token": token(client, "/admin/collection/year"), "old": "0f00a1b2c4"}
    ok["new"] = "0F00BEEF99"
    client.post("/admin/collection/card/replace", data=ok, follow_redirects=True)
    assert {(c["code"], c["status"]) for c in cards(daemon) if c["patron_id"] == "S002"} == {
        ("0F00A1B2C4", "lost"),
        ("0F00BEEF99", "active"),
    }


@pytest.mark.parametrize("form", FORMS)
def test_an_import_refuses_anothers_card_with_the_holders_name(
    daemon: Daemon, holder: list[dict[str, str]], form: str, tmp_path: Path
) -> None:
    path = tmp_path / "patrons.csv"
    path.write_text(
        f"学号,卡号,姓名,年级,班级\nS002,{FORMS[form]},李雨涵,4,四(1)班\n", encoding="utf-8"
    )
    report = import_csv(daemon.store, "patrons", path)
    problems = [(e.row, e.text("en")) for e in report.errors]
    said = canonical_card(FORMS[form])  # a UID is quoted as the reader sends it
    assert problems == [(2, f"card {said} already belongs to 王小明 (S001)")]
    assert cards(daemon) == holder


@pytest.mark.parametrize("form", FORMS)
def test_the_patron_search_finds_the_holder_by_any_form_of_the_card(
    client: FlaskClient, holder: list[dict[str, str]], form: str
) -> None:
    set_up_and_login(client)
    page = html.unescape(text(client.get("/admin/patrons", query_string={"q": FORMS[form]})))
    assert "王小明" in page and "李雨涵" not in page


@pytest.mark.parametrize("code", ["X\tissue\tS00041\n9", "A\x00", "C" * 65])
def test_a_card_code_the_hub_would_refuse_is_refused_at_the_kiosk_too(
    client: FlaskClient, daemon: Daemon, holder: list[dict[str, str]], code: str
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/patrons/S002")
    r = client.post(
        "/admin/patrons/S002/cards", data={"csrf_token": t, "code": code}, follow_redirects=True
    )
    assert "请输入或扫描新卡的卡号。" in text(r)
    t = token(client, "/admin/collection/year")
    form = {"csrf_token": t, "patron_id": "S002", "old": "0F00A1B2C4", "new": code}
    r = client.post("/admin/collection/card/replace", data=form, follow_redirects=True)
    assert "请刷新卡或输入新卡号。" in text(r)
    assert cards(daemon) == holder
