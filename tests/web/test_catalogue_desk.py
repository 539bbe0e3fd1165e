"""A new book at the desk: scan the ISBN, a loaded MARC record fills in, scan a new label."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from importers.test_marc_xlsx_import import cnmarc, write_iso

from kiosk.circulation.importers import import_file
from kiosk.cli import main
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token

HELPER_CARD = "0F00AAAA01"


def load_records(daemon: Daemon, tmp_path: Path) -> None:
    """Load the supplier's records (no copies yet) for the desk."""
    path = write_iso(
        tmp_path / "records.iso",
        cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", [], gbk=True),
        cnmarc("草房子", "曹文轩著", "9787534624490", [], ("I287.45", "C123"), gbk=True),
    )
    report = import_file(daemon.store, "records", path)
    assert report.ok and report.inserted == 2, report.errors


def test_a_loaded_marc_record_fills_the_form_and_the_label_puts_it_on_the_shelf(
    client: FlaskClient, daemon: Daemon, tmp_path: Path
) -> None:
    load_records(daemon, tmp_path)
    set_up_and_login(client)
    page = text(client.get("/desk/new-book?isbn=978-7-02-004249-4"))
    assert "已按导入的 MARC 记录填好" in page
    assert 'name="title" value="小王子"' in page and 'value="I287.5/Z123"' in page
    t = token(client, "/desk/new-book?isbn=9787020042494")
    form = {
        "csrf_token": t,
        "isbn": "9787020042494",
        "title": "小王子",
        "author": "圣埃克苏佩里著",
        "call_number": "I287.5/Z123",
        "barcode": "N0001",
    }
    r = client.post("/desk/new-book", data=form)
    assert r.status_code == 302
    assert "已上架：小王子（N0001）" in text(client.get(r.location))
    item = daemon.store.query(
        "SELECT title, author, isbn, call_number, status FROM items WHERE barcode = 'N0001'"
    )
    assert item == [
        {
            "title": "小王子",
            "author": "圣埃克苏佩里著",
            "isbn": "9787020042494",
            "call_number": "I287.5/Z123",
            "status": "available",
        }
    ]
    event = daemon.store.query("SELECT actor, data FROM events WHERE type = 'item_catalogued'")
    assert event[0]["actor"] == "librarian:librarian"
    assert json.loads(event[0]["data"])["title"] == "小王子"
    # The same label again is refused, and the form keeps what was typed.
    r = client.post("/desk/new-book", data=form)
    assert r.status_code == 400
    assert "条码 N0001 已经贴在《小王子》上了" in text(r) and 'value="N0001"' in text(r)
    # A second copy of a book on the shelf fills in from that copy.
    assert "图书馆已有这本书" in text(client.get("/desk/new-book?isbn=9787020042494"))


def test_an_unknown_isbn_asks_for_the_title(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    page = text(client.get("/desk/new-book?isbn=9787101003048"))
    assert "导入的 MARC 记录里没有这个 ISBN：请输入书名" in page
    t = token(client, "/desk/new-book?isbn=9787101003048")
    form = {"csrf_token": t, "isbn": "9787101003048", "title": " ", "barcode": "N0002"}
    r = client.post("/desk/new-book", data=form)
    assert r.status_code == 400 and "请输入书名" in text(r)
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode = 'N0002'") == 0
    form["title"] = "史记"
    assert client.post("/desk/new-book", data=form).status_code == 302
    assert daemon.store.value("SELECT title FROM items WHERE barcode = 'N0002'") == "史记"


def test_a_helper_at_the_kiosk_catalogues_a_book(
    client: FlaskClient, daemon: Daemon, tmp_path: Path
) -> None:
    load_records(daemon, tmp_path)
    assert "请在自助借还机上刷小图书管理员的卡" in text(client.get("/desk/new-book"))
    daemon.kiosk.scan(HELPER_CARD)
    assert 'href="/desk/new-book">新书编目</a>' in text(client.get("/desk/"))
    page = text(client.get("/desk/new-book?isbn=9787534624490"))
    assert 'value="草房子"' in page
    t = token(client, "/desk/new-book?isbn=9787534624490")
    form = {"csrf_token": t, "isbn": "9787534624490", "title": "草房子", "barcode": "N0003"}
    assert client.post("/desk/new-book", data=form).status_code == 302
    event = daemon.store.query("SELECT actor FROM events WHERE type = 'item_catalogued'")
    assert event == [{"actor": "H001"}]


def test_cli_loads_records_for_the_desk(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
    path = write_iso(tmp_path / "r.iso", cnmarc("西游记", "吴承恩著", "7020008721", []))
    result = CliRunner(env={"KIOSK_LANG": "en"}).invoke(
        main, ["--config", str(config), "import", "records", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "ISBN 7020008721 is not valid" in result.output
    assert result.output.strip().endswith(
        "MARC records: 1 row read (MARC: UTF-8): 1 new, 0 updated, 0 unchanged; "
        "from 1 MARC record; 1 warning (listed above), imported as written"
    )
