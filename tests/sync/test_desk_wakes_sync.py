"""A librarian's lending at the desk page wakes the sync, like a scan does."""

from __future__ import annotations

from pathlib import Path

import pytest
from web.helpers import LOOPBACK, set_up_and_login, token

from kiosk.web import create_app

from .conftest import BOOK, Hub, wait_until
from .test_wiring import daemon_for, run_in_thread

pytestmark = pytest.mark.timeout(60)


def test_desk_page_lending_reaches_the_hub_before_the_next_timed_sync(
    hub: Hub, tmp_path: Path
) -> None:
    daemon = daemon_for(tmp_path, hub.url, hub.register("k1"))
    # After the first sync the worker would wait a minute; only a wake sends the loan sooner.
    daemon.sync.interval_s = 60.0
    stop, thread = run_in_thread(daemon)
    try:
        wait_until(lambda: daemon.sync.state()["last_success"], what="the first sync")
        wait_until(lambda: daemon.sync.state()["queue_length"] == 0, what="the first drain")
        app = create_app(
            store=daemon.store, settings=daemon.settings, daemon=daemon, networks=LOOPBACK
        )
        client = app.test_client()
        set_up_and_login(client)
        t = token(client, "/desk/")
        client.post("/desk/lend", data={"csrf_token": t, "patron_id": "S002"})
        r = client.post("/desk/type", data={"csrf_token": t, "code": BOOK[3]})
        assert r.json["result"]["kind"] == "ok"
        wait_until(
            lambda: (
                hub.query(
                    "SELECT patron_id FROM loans WHERE item_barcode = ? AND returned_at IS NULL",
                    [BOOK[3]],
                )
                == [{"patron_id": "S002"}]
            ),
            timeout=20,
            what="the loan at the hub",
        )
    finally:
        stop.set()
        thread.join(10)
        daemon.store.close()
