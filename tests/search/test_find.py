"""The search behind the screen, the catalogue page and the dashboard: what a child types finds
the book, and each title says where its copies are now (never who has them)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import corners
from kiosk.circulation.migrations import migrations
from kiosk.circulation.records import put_item
from kiosk.circulation.service import Circulation
from kiosk.circulation.stats import find, search
from kiosk.circulation.store import Store

TZ = ZoneInfo("Asia/Shanghai")
BOOKS = [
    ("WOLF1", "狼王梦", "沈石溪", "I287.45/11"),
    ("WOLF2", "狼王梦", "沈石溪", "I287.45/11"),
    ("WOLF3", "狼王梦", "沈石溪", "I287.45/11"),
    ("CHA1", "查理九世 1：墨西哥死亡面具", "雷欧幻像", "I287.45/20"),
    ("CHA2", "查理九世 2：鬼公主的嫁衣", "雷欧幻像", "I287.45/21"),
    ("DINO", "恐龙百科全书", "", "Q915.864/3"),
    ("LONG", "长城的故事", "", "K928.77/1"),
]


def shelve(store: Store) -> None:
    with store.write() as db:
        for barcode, title, author, call in BOOKS:
            row = {"barcode": barcode, "title": title, "author": author, "call_number": call}
            put_item(db, row, store.now())


def titles(store: Store, q: str) -> list[str]:
    return [t.title for t in find.find(store, q, tz=TZ).titles]


def test_what_a_child_types_finds_the_book(store: Store) -> None:
    shelve(store)
    assert titles(store, "lwm") == ["狼王梦"]
    assert titles(store, "LWM") == ["狼王梦"]
    assert titles(store, "langwangmeng") == ["狼王梦"]
    assert titles(store, "lang wang") == ["狼王梦"]
    assert titles(store, "王梦") == ["狼王梦"]
    assert titles(store, "ssx") == ["狼王梦"]  # the author's initials
    assert titles(store, "沈石溪") == ["狼王梦"]
    assert titles(store, "charlotte web") == ["Charlotte's Web"]
    assert titles(store, "white") == ["Charlotte's Web"]  # E. B. White
    assert titles(store, "查理九世") == ["查理九世 1：墨西哥死亡面具", "查理九世 2：鬼公主的嫁衣"]
    assert titles(store, "cljs") == ["查理九世 1：墨西哥死亡面具", "查理九世 2：鬼公主的嫁衣"]
    assert titles(store, "changcheng") == ["长城的故事"]  # 长 read as in 长城, not zhang
    assert titles(store, "konglong") == ["恐龙百科全书"]
    assert titles(store, "zzzz") == []
    assert titles(store, "   ") == []


def test_a_field_that_starts_with_the_word_comes_first(store: Store) -> None:
    shelve(store)
    with store.write() as db:
        put_item(db, {"barcode": "X1", "title": "小狼王梦游记"}, store.now())
    # 狼王梦 starts with lwm; 小狼王梦游记 (xlwmyj) only has it inside.
    assert titles(store, "lwm") == ["狼王梦", "小狼王梦游记"]


def test_each_title_says_where_its_copies_are_and_never_who_has_them(
    store: Store, clock: FakeClock
) -> None:
    shelve(store)
    c = Circulation(store, "Asia/Shanghai")
    assert c.checkout("S001", "WOLF1").ok
    clock.advance(days=2)
    assert c.checkout("S002", "WOLF2").ok
    due = dt.date(2026, 11, 30)
    assert corners.lend(store, "三(2)班", "T001", ["WOLF3"], due, TZ, "librarian").ok
    (wolf,) = find.find(store, "lwm", tz=TZ).titles
    assert (wolf.on_shelf, wolf.on_loan, wolf.corners) == (0, 2, ["三(2)班"])
    # The earliest due date of the two loans: 14 days after the first.
    assert wolf.back_by == "2026-11-16"
    assert wolf.subject == "I" and wolf.call_number == "I287.45/11"
    assert "S001" not in repr(wolf) and "王小明" not in repr(wolf)
    (dino,) = find.find(store, "kl", tz=TZ).titles
    assert (dino.on_shelf, dino.on_loan, dino.subject) == (1, 0, "Q")


def test_lost_copies_are_not_counted_and_a_title_with_only_those_is_left_out(
    store: Store,
) -> None:
    shelve(store)
    with store.write() as db:
        db.execute("UPDATE items SET status = 'withdrawn' WHERE barcode = 'DINO'")
        db.execute("UPDATE items SET status = 'lost' WHERE barcode = 'WOLF1'")
    assert titles(store, "kl") == []
    (wolf,) = find.find(store, "lwm", tz=TZ).titles
    assert wolf.on_shelf == 2 and wolf.barcodes == ["WOLF2", "WOLF3"]


def test_a_new_title_is_found_at_once(store: Store) -> None:
    shelve(store)
    assert titles(store, "xyj") == ["西游记"]
    with store.write() as db:
        put_item(db, {"barcode": "NEW1", "title": "新月集"}, store.now())
    # In the order of a dictionary: xinyueji before xiyouji.
    assert titles(store, "xyj") == ["新月集", "西游记"]


def test_a_search_typed_while_another_spells_the_new_titles_waits_and_finds_them(
    store: Store,
) -> None:
    # The screen sends a search a letter: `l`, `lw`, `lwm`. The first spells the titles the
    # desk just catalogued; the next two used to go on at once and find none of them, so the
    # child read "no such book" (the page shows the answer to the last letter typed).
    shelve(store)
    with store.write() as db:
        put_item(db, {"barcode": "NEW1", "title": "新月集"}, store.now())
    lock = find._spelling.setdefault(str(store.path), threading.Lock())
    reached = threading.Event()

    class Watched:
        """The spelling lock, saying when a second search has come to it."""

        def acquire(self, *args: Any, **kwargs: Any) -> bool:
            reached.set()
            return lock.acquire(*args, **kwargs)

        def release(self) -> None:
            lock.release()

    found: list[list[str]] = []
    lock.acquire()  # another search is spelling the new titles
    find._spelling[str(store.path)] = Watched()  # type: ignore[assignment]
    try:
        second = threading.Thread(target=lambda: found.append(titles(store, "xyj")))
        second.start()
        reached.wait()
        lock.release()  # the first search is done with the lock
        second.join()
    finally:
        find._spelling[str(store.path)] = lock
    assert found == [["新月集", "西游记"]]
    assert store.value("SELECT count(*) FROM title_search WHERE spelled IS NULL") == 0


def test_a_page_of_results_says_when_more_matched(store: Store) -> None:
    with store.write() as db:
        for n in range(30):
            put_item(db, {"barcode": f"B{n:03d}", "title": f"图书{n:03d}"}, store.now())
    found = find.find(store, "ts", limit=20, tz=TZ)
    assert len(found.titles) == 20 and found.more
    assert titles(store, "图书029") == ["图书029"]
    with store.write() as db:
        for n in (2, 10, 1):
            put_item(db, {"barcode": f"S{n}", "title": f"查理九世 {n}"}, store.now())
    # Volumes in their numbers' order, not as text (10 after 2).
    assert titles(store, "查理九世") == ["查理九世 1", "查理九世 2", "查理九世 10"]
    assert not find.find(store, "图书029", tz=TZ).more


def test_the_dashboard_finds_books_by_whole_pinyin_too(store: Store) -> None:
    shelve(store)
    page = search.items(store, "langwangmeng")
    assert [r["barcode"] for r in page.rows] == ["WOLF1", "WOLF2", "WOLF3"]
    assert [r["barcode"] for r in search.items(store, "xwz").rows] == ["9787535449450"]


def test_browse_a_shelf_the_new_books_and_this_months_most_borrowed(
    store: Store, clock: FakeClock
) -> None:
    shelve(store)
    assert find.shelves(store) == [("I", 8), ("K", 1), ("Q", 1)]
    assert [t.title for t in find.browse(store, "Q", TZ).titles] == ["恐龙百科全书"]
    assert [t.title for t in find.browse(store, "K", TZ).titles] == ["长城的故事"]
    new = [t.title for t in find.browse(store, "new", TZ).titles]
    assert new[:2] == ["长城的故事", "恐龙百科全书"]  # added last, first
    c = Circulation(store, "Asia/Shanghai")
    assert c.checkout("S001", "WOLF1").ok
    assert c.checkout("S002", "WOLF2").ok
    assert c.checkout("S003", "DINO").ok
    popular = find.browse(store, "popular", TZ).titles
    assert [(t.title, t.on_loan, t.on_shelf) for t in popular] == [
        ("狼王梦", 2, 1),
        ("恐龙百科全书", 1, 0),
    ]
    assert find.browse(store, "nonsense", TZ).titles == []


def test_a_title_written_by_any_writer_is_spelled_and_a_renamed_one_found_by_its_new_name(
    store: Store,
) -> None:
    shelve(store)
    # Written as the hub's feed or the sqlite3 shell would: no code of ours spells it first.
    store.db.conn.execute(
        "INSERT INTO items (barcode, title, author, updated_at) "
        "VALUES ('RAW1', '细米', '曹文轩', '2026-11-01T00:00:00Z')"
    )
    assert titles(store, "xm") == ["细米"]
    assert titles(store, "cwx") == ["草房子", "细米"]  # the author's initials, then pinyin order
    store.db.conn.execute("UPDATE items SET title = '青铜葵花' WHERE barcode = 'RAW1'")
    assert titles(store, "qtkh") == ["青铜葵花"]
    assert titles(store, "ximi") == []  # the old title has no copy left: never shown
    store.db.conn.execute("DELETE FROM items WHERE barcode = 'RAW1'")
    assert titles(store, "qtkh") == []
    # Saved again as an import or the journal's undo does (an upsert of the same title).
    with store.write() as db:
        wolf1 = {"barcode": "WOLF1", "title": "狼王梦", "author": "沈石溪", "call_number": "I28"}
        put_item(db, wolf1, store.now())
        put_item(db, {**wolf1, "barcode": "NEW2", "call_number": "I29"}, store.now())
    (wolf,) = find.find(store, "lwm", tz=TZ).titles
    assert wolf.barcodes == ["NEW2", "WOLF1", "WOLF2", "WOLF3"] and wolf.call_number == "I28"
    spelled = store.query("SELECT title FROM title_search WHERE spelled IS NULL")
    assert spelled == []


def test_a_search_needs_no_pypinyin_once_the_titles_are_spelled(
    store: Store, settings: Any
) -> None:
    shelve(store)
    assert titles(store, "lwm") == ["狼王梦"]  # this search spelled every title first
    assert find.spell(store) == 0
    # A fresh process, as the daemon after a restart: it finds books without pypinyin.
    script = (
        "import sys\n"
        "from zoneinfo import ZoneInfo\n"
        "from kiosk.circulation.stats import find\n"
        "from kiosk.circulation.store import Store\n"
        f"store = Store.open({str(settings.store.path)!r}, migrate=False)\n"
        "tz = ZoneInfo('Asia/Shanghai')\n"
        "found = [t.title for q in ('lwm', 'changcheng', '查理') "
        "for t in find.find(store, q, tz=tz).titles]\n"
        "print(found, 'pypinyin' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "['狼王梦', '长城的故事', '查理九世 1：墨西哥死亡面具', '查理九世 2：鬼公主的嫁衣'] False"
    )


def test_a_catalogue_upgraded_to_the_stored_spelling_is_found_at_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m035_title_search")  # the schema before m035
    for barcode, title, author, call in BOOKS:
        old.execute(
            "INSERT INTO items (barcode, title, author, call_number, updated_at) "
            "VALUES (?, ?, ?, ?, '2026-09-01T00:00:00.000Z')",
            [barcode, title, author, call],
        )
    old.conn.commit()
    old.close()
    store = Store.open(path)
    try:
        # The upgrade spelled every title already there: nothing is left for a search to do.
        assert store.value("SELECT count(*) FROM title_search WHERE spelled IS NULL") == 0
        assert find.spell(store) == 0
        assert titles(store, "lwm") == ["狼王梦"]
        assert titles(store, "changcheng") == ["长城的故事"]
        assert find.shelves(store) == [("I", 3), ("K", 1), ("Q", 1)]
    finally:
        store.close()


def test_an_import_in_its_own_process_spells_every_title_in_its_helper(
    store: Store, tmp_path: Path
) -> None:
    from kiosk.circulation.importers import import_file

    books = tmp_path / "books.csv"
    books.write_text(
        "barcode,title,author,call_number\n"
        "W1,狼王梦,沈石溪,I287.45/11\n"
        "W2,狼王梦,沈石溪,I287.45/11\n"
        "C1,长城的故事,,K928.77/1\n"
        "E1,Charlotte's Web,E. B. White,I712.85/3\n",
        encoding="utf-8",
    )
    report = import_file(store, "items", books, own_process=True)
    assert (report.inserted, report.errors) == (4, [])
    # Spelled by the import (its helper process, beside the write): none left for a search.
    assert store.value("SELECT count(*) FROM title_search WHERE spelled IS NULL") == 0
    assert find.spell(store) == 0
    assert [titles(store, q) for q in ("lwm", "changcheng", "charl")] == [
        ["狼王梦"],
        ["长城的故事"],
        ["Charlotte's Web"],
    ]
