"""The event schemas (kiosk/circulation/schemas.py): every applied type has one, and it bites."""

from __future__ import annotations

import pytest

from kiosk.circulation import projector, schemas
from kiosk.circulation.store import Event
from kiosk.sync.reconcile import CHECKED_LATER, MASTER_FROM_KIOSK, REPLAYED
from kiosk.sync.trust import HUB_ONLY

# Types the hub never applies from a kiosk: master-data copies that are never sent, and changes
# stored only for the record (docs/sync.md, "Trust").
RECORD_ONLY = {
    "patron_saved",
    "card_saved",
    "item_saved",
    "marc_record_saved",  # an import's copy of a MARC record (catalogue.record_copy)
    "loan_synced",
    "loans_replayed",
    "patron_edited",
    "item_edited",
    "rules_set",
    "item_type_saved",
    "item_type_set",
    "item_type_removed",
    "notice_printed",
    "notice_text_set",
    "notice_levels_set",
    "item_catalogued",
    # A SIP2 self-check's copy of a book as the library system named it (docs/sip2.md).
    "item_named",
    # The kiosk's own: how its librarian mapped a file's columns; a reading list and a reading
    # stars' rules as the hub has them (state copies from the feed, never sent: docs/sync.md).
    "import_mapping_saved",
    "reading_list_synced",
    "star_rules_synced",
    # The kiosk's own catalogue extras (docs/catalogue.md): a book's cover and the library map.
    "item_cover_set",
    "library_map_set",
    # Donated books and book drifting (docs/reading.md): the kiosk's own, stored at the hub.
    "donation_recorded",
    "item_drifting",
    "drift_taken",
    "drift_ended",
    # A child's reading badge: kept where their loans are (docs/reading.md, "Badges").
    "badge_awarded",
}


def test_every_event_type_the_hub_applies_from_a_kiosk_has_a_schema() -> None:
    applied = {*REPLAYED, "corner_lent", *MASTER_FROM_KIOSK, *CHECKED_LATER} - set(HUB_ONLY)
    assert applied <= set(schemas.SCHEMAS)
    assert set(projector.event_types()) <= set(schemas.SCHEMAS) | RECORD_ONLY | set(HUB_ONLY)
    assert not (applied & RECORD_ONLY)


def event(
    type_: str, patron: str | None = "S001", item: str | None = "B1", **data: object
) -> Event:
    return Event(type_, "2026-12-01T02:00:00.000Z", "k1", "", patron, item, data)


BOX = {"batch": "b", "class_name": "三(2)班"}
STARS = {"rules": "r", "name": "读书节", "first": "2026-04-20", "last": "2026-05-03",
         "min_books": 3, "min_list": 0, "top": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("e", "place", "code"),
    [
        (event("corner_lent", **BOX, due_at="garbage", items=[]), "data.due_at", "not_stamp"),
        (event("corner_lent", **BOX, due_at="2026-12-01T02:00:00Z", items={}), "data.items",
         "not_box"),
        (event("hold_placed", hold={}), "data.hold", "not_text"),
        (event("hold_placed", None, hold="h"), "patron_id", "missing"),
        (event("compensation_recorded", incident=[], kind="money"), "data.incident", "not_text"),
        (event("item_lost", loan_uuid=[]), "data.loan_uuid", "not_text"),
        (event("card_replaced", old="A", new="X\tissue\tS00041\n9"), "data.new", "control"),
        (event("card_replaced", old="A", new="A\x00"), "data.new", "control"),
        (event("card_replaced", old="A", new="  "), "data.new", "blank"),
        (event("hold_ready", hold="h", expires_on="2026-02-30"), "data.expires_on", "not_date"),
        (event("stocktake_started", stocktake="s", location="A" * 201), "data.location",
         "too_long"),
        (event("item_damaged", note="A\x00"), "data.note", "control"),
        (event("reading_list_saved", None, None, list="L", name="x", target="3"), "data.target",
         "not_number"),
        (event("reading_list_saved", None, None, list="L", name="x", target=501), "data.target",
         "not_number"),
        (event("reading_list_saved", None, None, list="L", name="x", target=False),
         "data.target", "not_number"),
        (event("reading_list_saved", None, None, list="L", name="x", target=1, grade=0),
         "data.grade", "not_number"),
        (event("reading_list_saved", None, None, list="L", name="", target=1), "data.name",
         "blank"),
        (event("reading_list_title_added", None, None, list="L", key="k"), "data.title",
         "missing"),
        (event("star_rules_saved", None, None, **{**STARS, "first": "2026-4-1"}), "data.first",
         "not_date"),
        (event("star_rules_saved", None, None, **{**STARS, "top": 101}), "data.top",
         "not_number"),
        (event("star_rules_saved", None, None, **{**STARS, "min_books": "3"}),
         "data.min_books", "not_number"),
    ],
)  # fmt: skip
def test_a_value_that_does_not_fit_is_named_with_its_place(e: Event, place: str, code: str) -> None:
    found = schemas.problem(e)
    assert found is not None and (found.place, found.code) == (place, code)


def test_what_a_desk_writes_fits() -> None:
    assert schemas.problem(event("item_lost", note="书包里找不到\r\n周一再找")) is None
    assert (
        schemas.problem(event("stocktake_started", None, None, stocktake="s", location="")) is None
    )
    assert schemas.problem(event("rules_set", anything=[1, {"x": "\x00"}])) is None  # not applied
    saved = event("reading_list_saved", None, None, list="L", name="三年级", grade=None, target=0)
    assert schemas.problem(saved) is None  # an ad-hoc list: no grade
