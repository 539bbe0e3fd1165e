"""The dashboard's CSV export is streamed as rows are read, and recorded once it is complete."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from kiosk.circulation.records import put_item
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login


def test_a_large_export_streams_in_chunks_and_is_recorded_at_the_end(
    client: FlaskClient, daemon: Daemon
) -> None:
    with daemon.store.write() as db:
        for n in range(1200):
            put_item(db, {"barcode": f"X{n:05d}", "title": f"书 {n}"}, daemon.store.now())
    set_up_and_login(client)
    r = client.get("/admin/export/items.csv", buffered=False)
    assert r.status_code == 200 and r.is_streamed
    chunks = list(r.response)
    assert len(chunks) >= 3  # 500 rows a chunk
    body = b"".join(chunks).decode("utf-8-sig")
    assert body.count("\n") == 1 + 1205 and "X01199,书 1199" in body
    (event,) = daemon.store.query("SELECT data FROM events WHERE type = 'export'")
    assert json.loads(event["data"]) == {"kind": "items", "rows": 1205}
