"""The dashboard's import of workbooks: a lying sheet is read whole, a bomb is a message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from importers import workbooks
from importers.test_workbook_fuzz import build, patch_directory

from kiosk.circulation.importers import journal, xlsxfile
from kiosk.daemon.app import Daemon
from kiosk.i18n import translate
from web.helpers import set_up_and_login, token

HEADER: list[str | int] = ["条码号", "题名", "责任者"]


def upload(client: FlaskClient, name: str, data: bytes) -> dict[str, Any]:
    import io

    r = client.post(
        "/admin/import",
        data={
            "csrf_token": token(client, "/admin/import"),
            "kind": "items",
            "file": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    deadline = time.monotonic() + 60
    while not (job := client.get(r.location + ".json").json)["finished"]:
        assert time.monotonic() < deadline, "the import never finished"
        time.sleep(0.05)
    return job  # type: ignore[no-any-return]


def test_a_sheet_that_says_a1_c5_imports_all_31_rows_and_a_bomb_is_a_message(
    client: FlaskClient, daemon: Daemon, tmp_path: Path
) -> None:
    set_up_and_login(client)
    rows = [HEADER, *([f"D{i:03d}", f"书{i}", "某"] for i in range(31))]
    path = workbooks.write(tmp_path / "books.xlsx", rows, dimension="A1:C5")
    job = upload(client, "书目.xlsx", path.read_bytes())
    assert job["ok"] and job["errors"] == [], job
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode LIKE 'D%'") == 31

    bomb = patch_directory(build([HEADER]), b"xl/worksheets/sheet1.xml", size=4_000_000_000)
    job = upload(client, "炸弹.xlsx", bomb)
    said = {
        translate(xlsxfile.TOO_BIG, lang, limit=512, part="xl/worksheets/sheet1.xml")
        for lang in ("zh_CN", "en")
    }
    assert job["ok"] is False and job["errors"][0]["reason"] in said, job
    assert "Traceback" not in job["summary"]
    assert not any(journal.uploads(daemon.store).iterdir())  # both uploads removed
