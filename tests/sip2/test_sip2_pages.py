"""The SIP2 kiosk's pages over real HTTP: Done sends 35, Renew sends 29, the dashboard shows the
link and, in words, what the library system refused when the offline queue was sent."""

from __future__ import annotations

import http.client
import json
import re
import socket
from pathlib import Path
from typing import Any

from daemon.test_daemon import kiosk_cmd, write_config
from web.clients import Browser

from kiosk.web.security import Passwords

from .test_kiosk_sip2 import Sip2Kiosk, open_queue, sip2_section, wait_until

PASSWORD = "a long librarian password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post_json(port: int, path: str, body: dict[str, Any], browser: Browser) -> Any:
    t = browser.token("/")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", "X-CSRF-Token": t}
    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b"null")


def test_done_renew_and_the_dashboard(acs: Any, tmp_path: Path) -> None:
    server = acs()
    port = free_port()
    section = sip2_section(server.address, patron_pattern=r"P\d+", item_pattern=r"B\d+")
    config = write_config(tmp_path, section)
    text = config.read_text(encoding="utf-8").replace(
        "[web]\nenabled = false", f'[web]\nenabled = true\nlisten = "127.0.0.1:{port}"'
    )
    config.write_text(text, encoding="utf-8")
    assert kiosk_cmd(config, "init").returncode == 0
    Passwords(tmp_path / "web-passwords.json").set("librarian", PASSWORD)
    kiosk = Sip2Kiosk(config)
    try:
        kiosk.wait_ready()
        if not any("answers" in line for line in kiosk.log):
            kiosk.wait_log("answers")
        browser = Browser(port)
        kiosk.ask("P002")
        assert kiosk.ask("B009").startswith("[ok] checkout B009")
        # The child's list on the kiosk's own screen, with its Renew button.
        _, _, page, _ = browser.get("/")
        found = re.search(
            r'<script id="initial-state" type="application/json">(.*?)</script>', page
        )
        assert found is not None
        loans = json.loads(found.group(1))["loans"]
        assert [(x["code"], x["due"], x["renewable"]) for x in loans] == [
            ("B009", "2030-01-15", True)
        ]
        status, answer = post_json(port, "/renew", {"code": "B009"}, browser)
        assert (status, answer) == (200, {"renewed": True})
        line = kiosk.read_console()
        assert line.startswith("[ok] renew B009") and "Renewed. Now due 2030-01-15" in line, line
        status, answer = post_json(port, "/done", {}, browser)
        assert answer == {"ended": True}
        assert kiosk.read_console().startswith("[session_ended]")
        wait_until(lambda: server.journal("35"), "35 End Patron Session")
        ops = [r["op"] for r in server.journal() if r["op"] not in ("17", "63")]
        assert ops == ["11", "29", "35"]

        server.kill()
        assert kiosk.ask("B777").startswith("[ok] checkin B777")  # offline: taken
        db = tmp_path / "kiosk.db"
        assert open_queue(db) == 1
        server.start()
        wait_until(lambda: open_queue(db) == 0, "the queue drained")

        assert browser.login("librarian", PASSWORD)[0] == 302
        # The kiosk's own statistics count the SIP2 transactions (its event log).
        _, _, body, _ = browser.get("/api/v1/status")
        status_json = json.loads(body)
        assert status_json["today"]["loans"] == 1 and status_json["today"]["renewals"] == 1
        assert status_json["sip2"]["online"] is True and status_json["sip2"]["waiting"] == 0
        # The desk cannot undo a loan that is the library system's.
        status, answer = post_json(port, "/desk/undo", {}, browser)
        assert status == 200 and answer["ok"] is False, answer
        assert "undo it there" in json.dumps(answer, ensure_ascii=False), answer
        _, _, html, _ = browser.get("/admin/")
        assert "Library system (SIP2)" in html or "图书馆系统" in html
        conflicts = re.search(r'id="sip2-conflicts">(.*?)</section>', html, re.S)
        assert conflicts is not None, html
        words = conflicts.group(1)
        assert "B777" in words and "Item not found" in words, words
    finally:
        if kiosk.proc.poll() is None:
            kiosk.kill()
