"""Item types: a reference book is never lent, a magazine has its own days, limit and renewals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.circulation import decide
from kiosk.circulation.commands import Checkout, RemoveItemType, Renew, SaveItemType, SetItemType
from kiosk.circulation.importers import import_file
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.projector import Draft, Refusal
from kiosk.circulation.records import remove_item_type, save_item_type, set_item_type
from kiosk.circulation.rules import ItemType, Limits, Rules, built_in_type, load_rules
from kiosk.circulation.store import Store
from kiosk.i18n import translate

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)  # Monday, 12:00 in Shanghai
TYPES = {k: built_in_type(k) for k in ("book", "reference", "magazine")}
RULES = Rules(
    by_role={"student": Limits(14, 3, 1)}, closed_weekdays=frozenset({6, 7}), item_types=TYPES
)
ANNA = Patron("S1", "王小明", "student", 3, "三(2)班", "active")
BOOK = Item("978-1", "草房子", "曹文轩", "", "", "library", "available")
DICTIONARY = Item("R-1", "新华字典", "", "", "", "library", "available", "reference")
MAGAZINE = Item("M-1", "儿童文学 2026年10月", "", "", "", "library", "available", "magazine")
SOON = "2026-11-20T15:59:59.000Z"


def checkout(item: Item, *held: str) -> object:
    state = decide.LoanState(ANNA, item, None, [SOON] * len(held), list(held))
    return decide.checkout(RULES, TZ, state, Checkout("S1", item.barcode), NOW)


def test_a_reference_book_is_refused_with_its_own_reason() -> None:
    assert checkout(DICTIONARY) == Refusal("reference_only", {"type": "reference"})
    said = translate("This is a reference book: read it here in the library.", "zh_CN")
    assert said == "这是工具书，只能在图书馆里看。"


def test_a_magazine_is_due_in_its_own_days_moved_off_closed_days() -> None:
    (draft,) = checkout(MAGAZINE)  # type: ignore[misc]
    # 7 days from Monday 2 November is Monday 9 November (the book's 14 would be the 16th).
    assert draft == Draft("checkout", "S1", "S1", "M-1", {"due_at": "2026-11-09T15:59:59.000Z"})
    saturday = dt.datetime(2026, 10, 31, 4, 0, tzinfo=dt.UTC)
    state = decide.LoanState(ANNA, MAGAZINE)
    (draft,) = decide.checkout(RULES, TZ, state, Checkout("S1", "M-1"), saturday)  # type: ignore[misc]
    assert draft.data["due_at"] == "2026-11-09T15:59:59.000Z"  # the 7th is a Saturday: Monday
    (draft,) = checkout(BOOK)  # type: ignore[misc]
    assert draft.data["due_at"] == "2026-11-16T15:59:59.000Z"  # a book keeps the role's days


def test_a_type_limit_counts_only_that_type_and_names_it() -> None:
    assert isinstance(checkout(MAGAZINE, "magazine"), list)
    assert checkout(MAGAZINE, "magazine", "magazine") == Refusal(
        "type_limit", {"type": "magazine", "count": 2}
    )
    assert isinstance(checkout(BOOK, "magazine", "magazine"), list)  # books are not magazines
    # The role's own limit still counts every book on loan, magazines too.
    assert checkout(BOOK, "magazine", "book", "book") == Refusal("limit_reached", {"count": 3})
    msg = "{type}: only {count} at a time. Return one first."
    assert (
        translate(msg, "zh_CN", type="magazine", count=2)
        == "报刊杂志一次只能借 2 本，先还一本再借吧。"
    )
    assert translate(msg, "en", type="magazine", count=2) == (
        "Magazine: only 2 at a time. Return one first."
    )
    assert translate(msg, "zh_CN", type="绘本", count=1) == "绘本一次只能借 1 本，先还一本再借吧。"


def test_renewals_and_days_per_type() -> None:
    loan = Loan(1, "u-1", "M-1", "S1", "2026-10-30T04:00:00.000Z", SOON, None, 0)
    got = decide.renew(RULES, TZ, decide.LoanState(ANNA, MAGAZINE, loan), Renew("S1", "M-1"), NOW)
    assert got == Refusal("renew_limit")  # a magazine has no renewal
    book_loan = Loan(
        **{**loan.__dict__, "item_barcode": "978-1", "due_at": "2026-11-03T15:59:59.000Z"}
    )
    (draft,) = decide.renew(  # type: ignore[misc]
        RULES, TZ, decide.LoanState(ANNA, BOOK, book_loan), Renew("S1", "978-1"), NOW
    )
    assert draft.data["due_at"] == "2026-11-16T15:59:59.000Z"
    weekly = {**TYPES, "magazine": ItemType("magazine", None, True, 7, 2, 1)}
    rules = Rules(by_role=RULES.by_role, closed_weekdays=RULES.closed_weekdays, item_types=weekly)
    early = Loan(**{**loan.__dict__, "due_at": "2026-11-03T15:59:59.000Z"})
    (draft,) = decide.renew(  # type: ignore[misc]
        rules, TZ, decide.LoanState(ANNA, MAGAZINE, early), Renew("S1", "M-1"), NOW
    )
    assert draft.data["due_at"] == "2026-11-09T15:59:59.000Z"
    ref_loan = Loan(**{**loan.__dict__, "item_barcode": "R-1"})
    assert decide.renew(
        RULES, TZ, decide.LoanState(ANNA, DICTIONARY, ref_loan), Renew("S1", "R-1"), NOW
    ) == Refusal("reference_only", {"type": "reference"})


def test_an_unknown_type_lends_as_a_book() -> None:
    odd = Item(**{**BOOK.__dict__, "item_type": "gone"})
    (draft,) = checkout(odd)  # type: ignore[misc]
    assert draft.data["due_at"] == "2026-11-16T15:59:59.000Z"


def test_saving_a_type_checks_its_name_and_numbers() -> None:
    def save(**kw: object) -> object:
        fields = {
            "key": "t1",
            "name": "绘本",
            "lendable": True,
            "loan_days": 10,
            "max_loans": 1,
            "renewals": 0,
            **kw,
        }
        return decide.item_type_saved(TYPES, SaveItemType(**fields), {"报刊杂志", "Magazine"})  # type: ignore[arg-type]

    (draft,) = save()  # type: ignore[misc]
    assert draft.type == "item_type_saved"
    assert draft.data == {
        "scope": "type:t1",
        "name": "绘本",
        "lendable": 1,
        "loan_days": 10,
        "max_loans": 1,
        "renewals": 0,
    }
    assert save(name="  ") == Refusal("type_name_missing", {"field": "name"})
    assert save(name="报刊杂志") == Refusal(
        "type_name_taken", {"field": "name", "name": "报刊杂志"}
    )
    assert save(name="Magazine ") == Refusal(
        "type_name_taken", {"field": "name", "name": "Magazine"}
    )
    assert save(loan_days=0) == Refusal(
        "type_number", {"field": "loan_days", "low": 1, "high": 365}
    )
    assert save(max_loans=101) == Refusal(
        "type_number", {"field": "max_loans", "low": 0, "high": 100}
    )
    (draft,) = save(key="magazine", name="whatever", loan_days=5)  # type: ignore[misc]
    assert draft.data["name"] is None  # a built-in type keeps the catalogs' names


def test_an_item_gets_only_a_type_the_library_has() -> None:
    assert decide.item_type_set(BOOK, RULES, SetItemType("978-1", "comic")) == Refusal(
        "unknown_type", {"type": "comic"}
    )
    (draft,) = decide.item_type_set(BOOK, RULES, SetItemType("978-1", "magazine", "L01"))  # type: ignore[misc]
    assert draft == Draft("item_type_set", "L01", None, "978-1", {"item_type": "magazine"})


def test_removing_a_type_is_refused_while_books_have_it_and_for_a_built_in_one() -> None:
    types = {**TYPES, "t1": ItemType("t1", "绘本", True, 10, None, None)}
    remove = RemoveItemType("t1", "librarian:li")
    assert decide.item_type_removed(types, 12, remove) == Refusal(
        "type_in_use", {"type": "绘本", "count": 12}
    )
    for key in ("book", "reference", "magazine"):  # the kiosk knows them without a row
        assert decide.item_type_removed(types, 0, RemoveItemType(key)) == Refusal(
            "type_built_in", {"type": key}
        )
    assert decide.item_type_removed(types, 0, RemoveItemType("gone")) == Refusal(
        "unknown_type", {"type": "gone"}
    )
    assert decide.item_type_removed(types, 0, remove) == [
        Draft("item_type_removed", "librarian:li", None, None, {"scope": "type:t1", "name": "绘本"})
    ]


def test_a_removed_type_leaves_the_rules_and_the_log_says_so(store: Store) -> None:
    from kiosk.circulation.collection.weeding import withdraw

    saved = save_item_type(store, SaveItemType("", "绘本", True, 10, None, None, "L01"))
    assert not isinstance(saved, Refusal)
    key = store.value("SELECT substr(scope, 6) FROM rules WHERE name = '绘本'")
    red, prince = "9787020002207", "9787535449450"
    for barcode in (red, prince):
        assert not isinstance(set_item_type(store, barcode, key, "L01"), Refusal)
    events = store.value("SELECT count(*) FROM events")

    # Two books have it: refused, with how many, and nothing is written.
    done = remove_item_type(store, key, "librarian:li")
    assert done == Refusal("type_in_use", {"type": "绘本", "count": 2})
    assert store.value("SELECT count(*) FROM rules WHERE scope = ?", [f"type:{key}"]) == 1
    assert store.value("SELECT count(*) FROM events") == events
    assert remove_item_type(store, "book", "librarian:li") == Refusal(
        "type_built_in", {"type": "book"}
    )

    # One given another type, the other withdrawn (no longer a book of the collection): removed.
    assert not isinstance(set_item_type(store, red, "book", "L01"), Refusal)
    assert withdraw(store, prince, "worn", "librarian:li").ok
    done = remove_item_type(store, key, "librarian:li")
    assert not isinstance(done, Refusal)
    assert (done.type, done.actor, done.data) == (
        "item_type_removed",
        "librarian:li",
        {"scope": f"type:{key}", "name": "绘本"},
    )
    assert store.value("SELECT count(*) FROM rules WHERE scope = ?", [f"type:{key}"]) == 0
    assert key not in load_rules(store.reader).item_types
    logged = store.query("SELECT type, actor FROM events ORDER BY seq DESC LIMIT 1")
    assert logged == [{"type": "item_type_removed", "actor": "librarian:li"}]
    # No book can be given it any more; the withdrawn one keeps its key and reads as a book.
    assert set_item_type(store, red, key, "L01") == Refusal("unknown_type", {"type": key})
    assert load_rules(store.reader).item_type(key).key == "book"
    # Removed again (a second tab): there is no such type.
    assert remove_item_type(store, key, "librarian:li") == Refusal("unknown_type", {"type": key})


# -- imports and exports ------------------------------------------------------------------------


def _types(store: Store) -> dict[str, str]:
    return dict(store.reader.execute("SELECT barcode, item_type FROM items").fetchall())


def test_a_type_column_gives_books_their_types_and_an_unknown_one_is_named(
    store: Store, tmp_path: Path
) -> None:
    own = save_item_type(store, SaveItemType("", "绘本", True, 10, None, None, "L01"))
    assert not isinstance(own, Refusal)
    path = tmp_path / "books.csv"
    path.write_text(
        "条码号,题名,类型\n"
        "T1,新华字典,工具书\n"
        "T2,儿童文学 2026年10月,报刊杂志\n"
        "T3,我们爱科学,Magazine\n"
        "T4,猜猜我有多爱你,绘本\n"
        "T5,草房子,\n",
        encoding="utf-8",
    )
    report = import_file(store, "items", path)
    assert report.errors == []
    key = store.value("SELECT substr(scope, 6) FROM rules WHERE name = '绘本'")
    assert {k: v for k, v in _types(store).items() if k.startswith("T")} == {
        "T1": "reference",
        "T2": "magazine",
        "T3": "magazine",
        "T4": key,
        "T5": "book",
    }
    # A re-import without the column leaves the types; a type nobody has is named, nothing in.
    path.write_text("barcode,title\nT1,新华字典（第12版）\n", encoding="utf-8")
    assert import_file(store, "items", path).errors == []
    assert _types(store)["T1"] == "reference"
    before = _types(store)
    path.write_text("barcode,title,item type\nT6,漫画书,漫画\nT7,小王子,BK\n", encoding="utf-8")
    report = import_file(store, "items", path)
    assert [(e.row, e.column, e.text("zh_CN")) for e in report.errors] == [
        (
            2,
            "item type",
            "图书类型 漫画 不认识（请用 book/图书、reference/工具书、magazine/报刊杂志，"
            "或先在管理页面的图书类型页添加这个类型）",
        )
    ]
    assert _types(store) == before


def test_koha_952_y_comes_in_and_goes_out_as_the_items_type(store: Store, tmp_path: Path) -> None:
    import pymarc

    from kiosk.circulation.koha_export import marc_records

    record = pymarc.Record(force_utf8=True)
    record.add_field(
        pymarc.Field("245", pymarc.Indicators("0", "0"), [pymarc.Subfield("a", "新华字典")])
    )
    for barcode, itype in (("K1", "REF"), ("K2", "BK"), ("K3", "")):
        subfields = [pymarc.Subfield("p", barcode)]
        subfields += [pymarc.Subfield("y", itype)] if itype else []
        record.add_field(pymarc.Field("952", pymarc.Indicators(" ", " "), subfields))
    record.add_field(
        pymarc.Field("942", pymarc.Indicators(" ", " "), [pymarc.Subfield("c", "MAG")])
    )
    path = tmp_path / "koha.mrc"
    path.write_bytes(record.as_marc())
    report = import_file(store, "items", path)
    assert report.errors == []
    assert {k: v for k, v in _types(store).items() if k.startswith("K")} == {
        "K1": "reference",
        "K2": "book",
        "K3": "magazine",  # no 952$y: the record's 942$c
    }
    out = {
        f["p"]: f["y"] for r in marc_records(store.reader, branch="X") for f in r.get_fields("952")
    }
    assert (out["K1"], out["K2"], out["K3"]) == ("REF", "BK", "MAG")
