"""The hub's pages: the conflict list and the kiosks, behind the dashboard's login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.circulation.records import seed_rules
from kiosk.config import RulesSettings, from_dict
from kiosk.daemon.app import hub_pages
from kiosk.sync import hubstore
from kiosk.sync.reconcile import receive
from kiosk.web.security import Passwords

from .conftest import BOOK, add_school
from .test_reconcile import DUE, ev


def test_the_librarian_sees_conflicts_and_kiosks_after_logging_in(tmp_path: Path) -> None:
    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=tmp_path)
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    seed_rules(store, RulesSettings())
    add_school(store)
    hubstore.register_kiosk(store, "A")
    hubstore.register_kiosk(store, "B")
    receive(store, "A", store.now(), [ev("A", 5, "checkout", "S001", BOOK[0], **DUE)])
    receive(store, "B", store.now(), [ev("B", 9, "checkout", "S002", BOOK[0], **DUE)])
    app: Any = hub_pages(store, settings)
    client = app.test_client()
    assert client.get("/admin/hub/conflicts").status_code == 302  # set up a password first
    Passwords(settings.resolve(settings.web.password_file)).set("librarian", "a long secret")
    resp = client.get("/admin/hub/conflicts")
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]
    with client.session_transaction() as session:
        session["user"] = "librarian"  # a forged name is not a login
    assert client.get("/admin/hub/conflicts").status_code == 302
    html = client.get("/admin/login").get_data(as_text=True)
    csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "user": "librarian", "password": "a long secret"}
    assert client.post("/admin/login", data=form).status_code == 302
    page = client.get("/admin/hub/conflicts")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "又借给了另一位学生：以后一次借阅为准" in text  # Chinese first, like every page
    assert BOOK[0] in text and "S002" in text and "S001" in text
    kiosks = client.get("/admin/hub/kiosks").get_data(as_text=True)
    assert "<td>A</td>" in kiosks and "<td>B</td>" in kiosks
    store.close()


def test_the_conflict_list_is_paged_over_http(tmp_path: Path, monkeypatch: Any) -> None:
    from web.clients import Browser

    from kiosk.circulation.stats import search
    from kiosk.web.server import WebServer

    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=tmp_path)
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    seed_rules(store, RulesSettings())
    add_school(store)
    hubstore.register_kiosk(store, "A")
    hubstore.register_kiosk(store, "B")
    # Each kiosk lends books, offline, to its own student: a conflict per book, and more.
    for n, book in enumerate(BOOK[:3]):
        receive(store, "A", store.now(), [ev("A", 10 + n, "checkout", "S001", book, **DUE)])
        receive(store, "B", store.now(), [ev("B", 20 + n, "checkout", "S002", book, **DUE)])
    total = len(hubstore.conflicts(store))
    assert 3 < total <= 6
    Passwords(settings.resolve(settings.web.password_file)).set("librarian", "a long secret")
    server = WebServer(hub_pages(store, settings), "127.0.0.1:0", threads=2)
    server.start()
    try:
        monkeypatch.setattr(search, "PER_PAGE", 3)
        browser = Browser(server.port)
        assert browser.login("librarian", "a long secret")[0] == 302
        _, _, first, _ = browser.get("/admin/hub/conflicts?lang=en")
        assert first.count("<tr><td>") == 3 and f"1–3 of {total}" in first
        link = first.split('<a rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
        assert "lang=en" in link and "page=2" in link
        _, _, second, _ = browser.get("/admin/hub/conflicts" + link)
        assert second.count("<tr><td>") == total - 3 and f"4–{total} of {total}" in second
        # The second page shows the older conflicts: none of the first page's rows again.
        rows = [r.split("</tr>")[0] for r in first.split("<tr><td>")[1:]]
        assert not any(r in second for r in rows)
    finally:
        server.stop()
        store.close()
