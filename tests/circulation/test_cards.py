"""Card numbers: a hex UID and the decimal printed on the card find the same patron."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from kiosk.circulation import cards
from kiosk.circulation.cards import SQL_IS_UID, SQL_NUMBER
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.migrations import KNOWN, migrations
from kiosk.circulation.records import issue_card, put_item, put_patron, report_card_lost
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store


def test_the_printed_decimal_is_the_last_four_bytes_of_the_uid() -> None:
    # 0x00A1B2C3 = 10*16**5 + 1*16**4 + 11*16**3 + 2*16**2 + 12*16 + 3 = 10597059
    assert 10 * 16**5 + 16**4 + 11 * 16**3 + 2 * 16**2 + 12 * 16 + 3 == 10597059
    assert cards.number("0F00A1B2C3") == "0010597059"
    assert cards.number("0f00a1b2c3") == "0010597059"
    assert cards.number("A1B2C3D4") == f"{0xA1B2C3D4:010d}"
    assert cards.number("FFFFFFFFFF") == "4294967295"
    assert cards.number("S001") is None
    assert cards.number("9787020002207") is None  # a book barcode is no UID
    assert cards.canonical("0f00a1b2c3") == "0F00A1B2C3"
    assert cards.canonical("stu-0042") == "stu-0042"  # printed barcodes are kept as they are
    assert cards.decimal("0010597059") == "0010597059"
    assert cards.decimal("9999999999") is None  # more than four bytes can hold


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=8, max_size=10))
def test_sql_and_python_compute_the_same_number(code: str) -> None:
    conn = Database(memory=True)
    sql = f"SELECT CASE WHEN {SQL_IS_UID} THEN {SQL_NUMBER} END".format(c="?")
    # Each `?` in the expression is the code again.
    got = conn.execute(sql, [code] * sql.count("?")).fetchone()[0]
    assert got == cards.number(code)


def test_identify_finds_a_card_by_hex_uid_or_printed_decimal(
    circulation: Circulation, store: Store
) -> None:
    # S001 has the card 0F00A1B2C3 (and the barcode S001) in the test school.
    for code in ("0F00A1B2C3", "0f00a1b2c3", "0010597059", "S001"):
        found = circulation.identify(code)
        assert (found.kind, found.patron.id if found.patron else None) == ("patron", "S001"), code
    assert circulation.identify("0010597070").kind == "unknown"  # 0xA1B2CE: no such card
    assert circulation.identify("s001").kind == "unknown"  # printed barcodes match exactly


def test_a_card_registered_by_its_decimal_matches_the_reader_uid(
    circulation: Circulation, store: Store
) -> None:
    with store.write() as db:
        put_patron(db, {"id": "S777", "name": "周小雨", "role": "student"}, ["0012345678"], "t")
    # 12345678 = 0x00BC614E, so any UID ending in 00BC614E is that card.
    found = circulation.identify("3A00BC614E")
    assert found.kind == "patron" and found.patron and found.patron.id == "S777"


def test_a_replacement_card_gets_its_number_and_a_lost_card_stays_refused(
    circulation: Circulation, store: Store
) -> None:
    report_card_lost(store, "0F00A1B2C3", actor="librarian")
    assert circulation.identify("0010597059").kind == "lost_card"
    issue_card(store, "S001", "1B00C0FFEE", actor="librarian")  # written without a number
    assert store.value("SELECT number FROM cards WHERE code = '1B00C0FFEE'") == f"{0xC0FFEE:010d}"
    found = circulation.identify(f"{0xC0FFEE:010d}")
    assert found.kind == "patron" and found.patron and found.patron.id == "S001"


def test_an_exact_book_barcode_wins_over_a_card_decimal(
    circulation: Circulation, store: Store
) -> None:
    with store.write() as db:
        put_item(db, {"barcode": "0010597059", "title": "撞号的书"}, "t")
    assert circulation.identify("0010597059").kind == "item"
    assert circulation.identify("0F00A1B2C3").kind == "patron"


def test_a_store_made_before_card_numbers_upgrades_and_keeps_its_cards(tmp_path: Path) -> None:
    path = tmp_path / "before-m004.db"
    old = Database(path)
    migrations.apply(old, stop_before="m004_card_numbers")
    old.execute(
        "INSERT INTO patrons (id, name, role, grade, class_name, updated_at) "
        "VALUES ('S1', '王小明', 'student', 3, '三(2)班', '2026-09-01T00:00:00.000Z')"
    )
    for code in ("0F00A1B2C3", "S-0001", "a1b2c3d4"):
        old.execute("INSERT INTO cards VALUES (?, 'S1', 'active', '2026-09-01')", [code])
    old.conn.commit()
    old.close()

    store = Store.open(path, clock=FakeClock())
    assert store.schema == KNOWN
    assert store.query("SELECT code, patron_id, status, number FROM cards ORDER BY code") == [
        {"code": "0F00A1B2C3", "patron_id": "S1", "status": "active", "number": "0010597059"},
        {"code": "A1B2C3D4", "patron_id": "S1", "status": "active", "number": f"{0xA1B2C3D4:010d}"},
        {"code": "S-0001", "patron_id": "S1", "status": "active", "number": None},
    ]
    circulation = Circulation(store)
    for code in ("0010597059", "S-0001", f"{0xA1B2C3D4:010d}", "A1B2C3D4", "a1b2c3d4"):
        found = circulation.identify(code)
        assert found.patron is not None and found.patron.id == "S1", code
    assert store.integrity() == "ok"
    store.close()
