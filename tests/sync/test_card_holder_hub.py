"""At the hub, a kiosk cannot give patron B patron A's card in any of its forms.

A card found in any form (hex UID in either case, the printed decimal, the printed barcode)
belongs to its holder: a kiosk's card_issued or card_replaced giving it to another patron is
listed with the holder's name and changes no card (docs/sync.md, "Trust").
"""

from __future__ import annotations

import pytest

from kiosk.circulation.records import issue_card

from .conftest import Hub
from .test_forged_events import forged, login
from .test_hub_input import batch, post

FORMS = {
    "hex UID": "0F00A1B2C3",
    "hex UID in lower case": "0f00a1b2c3",
    "printed decimal": "0010597059",
    "printed barcode": "CARD-S001",
}


@pytest.mark.parametrize("form", FORMS)
def test_a_kiosk_giving_anothers_card_in_any_form_is_listed_with_the_holders_name(
    hub: Hub, form: str
) -> None:
    s = hub.store()
    try:
        issue_card(s, "S001", "0F00A1B2C3", actor="librarian")  # 王小明's RFID card
    finally:
        s.close()
    token = hub.register("B")
    before = hub.query("SELECT code, patron_id, status FROM cards ORDER BY code")
    code = FORMS[form]
    events = [
        forged("card_issued", "S002", card=code),
        forged("card_replaced", "S002", old="CARD-S002", new=code),
    ]
    for e in events:
        assert post(hub, token, batch("B", e)).status_code == 200
    assert hub.query("SELECT code, patron_id, status FROM cards ORDER BY code") == before
    listed = hub.query("SELECT kind, patron_id, other_patron_id FROM conflicts ORDER BY id")
    assert listed == [{"kind": "card_moved", "patron_id": "S002", "other_patron_id": "S001"}] * 2
    page = login(hub).get(hub.url + "/admin/hub/conflicts?lang=en", timeout=10).text
    assert page.count("王小明 S001") == 2  # the card's holder, by name
