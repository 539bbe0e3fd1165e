"""A kiosk's import is logged as events; the hub keeps them for the record and applies none.

With a hub, the hub's librarian imports the school's data (docs/sync.md); a kiosk that imports
anyway sends its `patron_saved` / `item_saved` events up like any other, and the hub stores
them without changing its own patrons or books.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.circulation.importers import import_csv
from kiosk.sync import replica

from .conftest import OWN_EVENTS, Hub


def test_a_kiosks_import_reaches_the_hub_for_the_record_only(
    hub: Hub, kiosk_factory: Any, tmp_path: Path
) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()  # the hub's school first: its copies are logged, never sent back
    assert replica.queue_length(k.store) == 0
    path = tmp_path / "books.csv"
    path.write_text("barcode,title\nK-NEW-1,本地导入的书\n", encoding="utf-8")
    assert import_csv(k.store, "items", path).inserted == 1
    sent = k.store.query("SELECT uuid, type FROM events WHERE actor IS NOT 'hub' ORDER BY seq")
    assert [e["type"] for e in sent][-2:] == ["item_saved", "import"]
    hub_items = hub.query("SELECT * FROM items ORDER BY barcode")
    k.worker.sync_once()
    assert replica.queue_length(k.store) == 0
    held = {r["uuid"]: r["type"] for r in hub.query("SELECT uuid, type FROM events")}
    assert all(held.get(r["uuid"]) for r in k.store.query(OWN_EVENTS))
    assert held[sent[-2]["uuid"]] == "item_saved"
    assert hub.query("SELECT * FROM items ORDER BY barcode") == hub_items  # applied nowhere
    assert hub.query("SELECT * FROM conflicts") == []
