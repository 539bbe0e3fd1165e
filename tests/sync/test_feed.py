"""The hub's master data reaches kiosks: the feed with a cursor, a snapshot when it is too old."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.circulation.records import put_item, put_patron, set_rules
from kiosk.config import RulesSettings
from kiosk.sync import replica

from .conftest import BOOK, Hub, run_cli

pytestmark = pytest.mark.timeout(60)


def test_changes_made_at_the_hub_reach_the_kiosk(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    s = hub.store()
    with s.write() as db:
        put_patron(
            db, {"id": "S900", "name": "新同学", "role": "student", "grade": 2}, ["C900"], s.now()
        )
        put_item(db, {"barcode": BOOK[0], "title": "新书名"}, s.now())
    set_rules(s, RulesSettings(loan_days={"student": 7}, max_loans={"student": 5}), actor="T001")
    s.close()
    result = k.worker.sync_once()
    assert result["pulled"] == 4  # the rules, the patron, the card, the item
    assert k.circulation.identify("C900").patron is not None
    assert k.store.value("SELECT title FROM items WHERE barcode = ?", [BOOK[0]]) == "新书名"
    assert k.circulation.rules().by_role["student"].max_loans == 5
    # The new student borrows under the new rules at once.
    assert k.circulation.checkout("S900", BOOK[0]).ok


def test_an_old_cursor_gets_a_snapshot(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    other = kiosk_factory(hub.url, hub.register("k2"), kiosk_id="k2")
    other.worker.sync_once()
    assert other.circulation.checkout("S003", BOOK[4]).ok
    other.worker.sync_once()
    s = hub.store()
    with s.write() as db:
        put_item(db, {"barcode": "NEW-1", "title": "新到的书"}, s.now())
    s.close()
    out = run_cli("--config", str(hub.config), "hub", "prune", "--keep", "0")
    assert out.returncode == 0 and out.stdout.startswith("dropped "), out.stderr
    before = int(replica.get_state(k.store, "cursor"))
    k.worker.sync_once()
    assert int(replica.get_state(k.store, "cursor")) > before
    assert k.store.value("SELECT title FROM items WHERE barcode = 'NEW-1'") == "新到的书"
    # The loan made at the other kiosk is known here: the book is on loan to someone else.
    assert k.circulation.checkout("S001", BOOK[4]).reason == "on_loan_to_other"


def test_export_koc_writes_a_koha_offline_circulation_file(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    assert k.circulation.checkout("S001", BOOK[0]).ok
    assert k.circulation.renew("S001", BOOK[0]).ok
    assert k.circulation.checkin(BOOK[0]).ok
    k.worker.sync_once()
    out = run_cli("--config", str(hub.config), "export", "koc")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Version=1.0\tGenerator=kiosk\tGeneratorVersion=0.1.0"
    fields = [line.split("\t") for line in lines[1:]]
    assert [f[1:] for f in fields] == [
        ["issue", "CARD-S001", BOOK[0]],
        ["issue", "CARD-S001", BOOK[0]],
        ["return", BOOK[0]],
    ]
    at = k.store.query("SELECT at FROM events WHERE type = 'checkout'")[0]["at"]
    # Local time in the school's time zone (Asia/Shanghai, UTC+8), to the second.
    hour = (int(at[11:13]) + 8) % 24
    assert fields[0][0][11:13] == f"{hour:02d}" and len(fields[0][0]) == 19


def test_books_imported_at_the_hub_reach_a_running_kiosk(
    hub: Hub, kiosk_factory: Any, tmp_path: Any
) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    csv = tmp_path / "books.csv"
    csv.write_text("barcode,title\nIMPORT-1,新书一\nIMPORT-2,新书二\n", encoding="utf-8")
    out = run_cli("--config", str(hub.config), "import", "items", str(csv))
    assert out.returncode == 0, out.stderr
    k.worker.sync_once()
    got = k.store.query("SELECT barcode, title FROM items WHERE barcode LIKE 'IMPORT-%' ORDER BY 1")
    assert got == [
        {"barcode": "IMPORT-1", "title": "新书一"},
        {"barcode": "IMPORT-2", "title": "新书二"},
    ]


def test_item_types_made_at_the_hub_reach_the_kiosk_and_its_checkouts(
    hub: Hub, kiosk_factory: Any
) -> None:
    from kiosk.circulation.commands import SaveItemType
    from kiosk.circulation.records import save_item_type, set_item_type

    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    s = hub.store()
    comics = save_item_type(s, SaveItemType("", "漫画", True, 3, 1, 0, "L01"))
    assert not hasattr(comics, "reason"), comics
    key = s.value("SELECT substr(scope, 6) FROM rules WHERE name = '漫画'")
    assert not hasattr(set_item_type(s, BOOK[0], "reference", "L01"), "reason")
    assert not hasattr(set_item_type(s, BOOK[1], key, "L01"), "reason")
    assert not hasattr(set_item_type(s, BOOK[2], key, "L01"), "reason")
    # The hub's rules form saves roles and grades: the item types stay, at the hub and kiosks.
    set_rules(s, RulesSettings(loan_days={"student": 14}, max_loans={"student": 5}), actor="L01")
    s.close()
    k.worker.sync_once()
    assert k.circulation.rules().item_type(key).name == "漫画"
    assert k.circulation.checkout("S001", BOOK[0]).reason == "reference_only"
    assert k.store.value("SELECT count(*) FROM loans WHERE item_barcode = ?", [BOOK[0]]) == 0
    assert k.circulation.checkout("S001", BOOK[1]).ok
    second = k.circulation.checkout("S001", BOOK[2])
    assert (second.reason, second.params) == ("type_limit", {"type": "漫画", "count": 1})
    # A snapshot (a kiosk far behind) carries them too.
    fresh = kiosk_factory(hub.url, hub.register("k2"), kiosk_id="k2")
    fresh.worker.sync_once()
    assert fresh.circulation.rules().item_type(key).loan_days == 3
    assert (
        fresh.store.value("SELECT item_type FROM items WHERE barcode = ?", [BOOK[0]]) == "reference"
    )


def test_a_type_removed_at_the_hub_leaves_the_kiosks_and_a_kiosks_own_is_only_recorded(
    hub: Hub, kiosk_factory: Any
) -> None:
    from kiosk.circulation.commands import SaveItemType
    from kiosk.circulation.projector import Refusal
    from kiosk.circulation.records import remove_item_type, save_item_type

    s = hub.store()
    for name in ("漫画", "绘本"):
        assert not isinstance(
            save_item_type(s, SaveItemType("", name, True, 3, 1, 0, "L01")), Refusal
        )
    comics, pictures = (
        s.value("SELECT substr(scope, 6) FROM rules WHERE name = ?", [name])
        for name in ("漫画", "绘本")
    )
    s.close()
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    assert {comics, pictures} <= set(k.circulation.rules().item_types)

    # The kiosk's own removal: gone there, sent to the hub and stored for the record only.
    assert not isinstance(remove_item_type(k.store, pictures, "librarian:li"), Refusal)
    assert pictures not in k.circulation.rules().item_types
    k.worker.sync_once()
    s = hub.store()
    assert s.value("SELECT count(*) FROM events WHERE type = 'item_type_removed'") == 1
    assert s.value("SELECT count(*) FROM rules WHERE scope = ?", [f"type:{pictures}"]) == 1
    assert s.value("SELECT count(*) FROM conflicts") == 0

    # The hub's removal reaches the kiosk, and the hub's item types replace the kiosk's.
    assert not isinstance(remove_item_type(s, comics, "L01"), Refusal)
    s.close()
    k.worker.sync_once()
    kinds = k.circulation.rules().item_types
    assert comics not in kinds and kinds[pictures].name == "绘本"
