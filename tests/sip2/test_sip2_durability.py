"""What the beep promises through SIP2: online the system's commit, offline the kiosk's own.

Online, the library system has committed the loan before it answers, so the kiosk's copy is
written (it survives a crash of the daemon) without waiting for its own sync to disk. Offline,
the queue row is the only record of the loan: it is synced to disk before the beep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import harness
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.daemon.app import open_store
from kiosk.sip2.wiring import sip2_kiosk
from sip2.test_kiosk_sip2 import rows


def traced_kiosk(tmp_path: Path, address: str) -> tuple[Any, Any, Any, list[str]]:
    """Build the daemon's SIP2 kiosk in-process, tracing the statements of its writer."""
    settings = config.from_dict(
        {
            "store": {"path": str(tmp_path / "kiosk.db")},
            "scanner": {"source": "none:"},
            "sip2": {
                "address": address,
                "user": "kiosk",
                "password": "secret",
                "institution": "SCHOOL",
                "location": "Library",
                "patron_pattern": r"P\d+",
                "item_pattern": r"B\d+",
                "timeout_s": 3.0,
                "retry_max_s": 1.0,
            },
        },
        base_dir=tmp_path,
    )
    store = open_store(settings, SystemClock())
    _circulation, kiosk, link = sip2_kiosk(store, settings, SystemClock(), {})
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    return store, kiosk, link, statements


def commits(statements: list[str], sync: str = "NORMAL") -> list[tuple[str, str]]:
    """Return (synchronous setting, what was written) for each transaction, in order.

    `sync`: the writer's setting before the first statement (after a card, a copy: NORMAL).
    """
    out, wrote = [], ""
    for s in statements:
        if s.startswith("PRAGMA synchronous="):
            sync = s.split("=")[1]
        elif s.startswith("INSERT INTO events"):
            wrote = s.split("VALUES")[1].split(",")[1].strip(" '")
        elif s == "COMMIT":
            out.append((sync, wrote))
            wrote = ""
    return out


def test_online_the_copy_is_not_synced_alone_offline_the_queue_is(acs: Any, tmp_path: Path) -> None:
    server = acs()
    store, kiosk, link, statements = traced_kiosk(tmp_path, server.address)
    link.start()
    try:
        harness.wait_for(lambda: link.online, "the SIP2 link to log in", 20)
        assert kiosk.scan("P001").kind == "session_started"
        statements.clear()
        fb = kiosk.scan("B001")
        assert fb.kind == "ok" and fb.result.action == "checkout", fb
        online = commits(statements)
        assert online and all(sync == "NORMAL" for sync, _ in online), online
        assert ("NORMAL", "checkout") in online
        # The next copy needs no setting: the writer stays NORMAL between copies.
        statements.clear()
        fb = kiosk.scan("B002")
        assert fb.kind == "ok" and fb.result.action == "checkout", fb
        assert not any(s.startswith("PRAGMA synchronous") for s in statements), statements
        assert commits(statements) == [("NORMAL", "checkout")], statements
        assert store.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL

        kiosk.done()
        server.kill()
        statements.clear()
        fb = kiosk.scan("B001")  # the return, while the library system is away: queued
        assert fb.kind == "ok" and fb.result.action == "checkin", fb
        offline = commits(statements, sync="NORMAL")  # as the copies left the writer
        assert ("FULL", "checkin") in offline and all(s == "FULL" for s, _ in offline), offline
    finally:
        link.stop()
        store.close()
    assert rows(tmp_path / "kiosk.db", "SELECT count(*) FROM sip2_queue") == [(1,)]
