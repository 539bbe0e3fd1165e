"""Locations by their names in both languages: `图书馆` and `library` are one place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from daemon.test_daemon import kiosk_cmd, write_config

pytestmark = pytest.mark.slow  # `kiosk` commands in processes

BOOKS = (
    "barcode,title,call_number,location\n"
    "9787020002207,红楼梦,I242.4/1,图书馆\n"
    "9787535449450,小王子,I565.88/1,Library\n"
    "9787544270878,Charlotte's Web,I712.88/1,\n"
    "9787530215982,草房子,I287.45/1,三(2)班\n"
)


@pytest.mark.parametrize("said", ["图书馆", "library", "Library", "总馆"])
def test_a_stocktake_of_the_library_counts_the_books_imported_there(
    tmp_path: Path, said: str
) -> None:
    cfg = write_config(tmp_path)
    assert kiosk_cmd(cfg, "init").returncode == 0
    books = tmp_path / "books.csv"
    books.write_text(BOOKS, encoding="utf-8")
    imported = kiosk_cmd(cfg, "import", "items", str(books))
    assert imported.returncode == 0, imported.stderr
    started = kiosk_cmd(cfg, "stocktake", "start", "--location", said)
    assert started.returncode == 0, started.stderr
    status = kiosk_cmd(cfg, "stocktake", "status", "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    # The three library books (Chinese, English or no location in the file) are expected on
    # the shelf; the class corner's book is not.
    assert (shown["scope"], shown["counts"]["missing"]) == ("library", 3)
