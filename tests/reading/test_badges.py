"""Reading badges (kiosk/circulation/reading/badges.py): the pure decision, and on a real store
with the fake clock: a loan counts once it lasted a day (out and back the same day counts
nothing, a book still out counts after a day), five subjects, the grade list's target, each
badge once a term, and bad settings say which key and why."""

from __future__ import annotations

import pytest

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.reading import badges, lists
from kiosk.circulation.records import put_item
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store
from kiosk.daemon.app import badge_rules

TERM = "2026-09-01"
RULES = badges.Rules()
# Books of five 中图法 classes besides the school's I (literature) books.
SUBJECTS = [
    ("B1", "昆虫记", "Q96/1"),
    ("B2", "上下五千年", "K209/2"),
    ("B3", "美术启蒙", "J110/3"),
    ("B4", "趣味数学", "O1/4"),
]


def test_the_decision_gives_each_milestone_reached_once() -> None:
    nothing = badges.Reading(books=0, subjects=0)
    assert badges.decide("S001", TERM, nothing, set(), RULES) == []
    first = badges.decide("S001", TERM, badges.Reading(1, 1), set(), RULES)
    assert [(d.type, d.patron_id, dict(d.data)) for d in first] == [
        ("badge_awarded", "S001", {"badge": "first_book", "term": TERM, "count": 1})
    ]
    assert badges.decide("S001", TERM, badges.Reading(3, 2), {"first_book"}, RULES) == []
    many = badges.Reading(books=6, subjects=5, list_done=4, list_target=4)
    assert [d.data["badge"] for d in badges.decide("S001", TERM, many, set(), RULES)] == [
        "first_book", "list_target", "subjects"
    ]  # fmt: skip
    # Four subjects of five, three of a list of four, or a grade without a list: not yet.
    short = badges.Reading(books=6, subjects=4, list_done=3, list_target=4)
    assert badges.decide("S001", TERM, short, {"first_book"}, RULES) == []
    no_list = badges.Reading(books=6, subjects=1, list_done=0, list_target=0)
    assert badges.decide("S001", TERM, no_list, {"first_book"}, RULES) == []
    # The school's rules choose the milestones and the number of subjects.
    only = badges.Rules(milestones=("subjects",), subjects=3)
    assert [d.data for d in badges.decide("S001", TERM, badges.Reading(6, 3), set(), only)] == [
        {"badge": "subjects", "term": TERM, "count": 3}
    ]


def held(store: Store, pid: str = "S001") -> list[tuple[str, str, int]]:
    rows = store.query("SELECT badge, term, count FROM badges WHERE patron_id = ?", [pid])
    return [(r["badge"], r["term"], r["count"]) for r in rows]


def award(store: Store, pid: str = "S001", grade: int | None = 3) -> list[str]:
    return [e.data["badge"] for e in badges.award(store, pid, grade, TERM, RULES)]


def test_a_loan_counts_once_it_lasted_a_day(
    store: Store, circulation: Circulation, clock: FakeClock
) -> None:
    # Out and back in five minutes, and again the same afternoon: nothing, today or later.
    assert circulation.checkout("S001", "9787020002207").ok
    clock.advance(300)
    assert circulation.checkin("9787020002207").ok
    assert circulation.checkout("S001", "9787535449450").ok
    clock.advance(6 * 3600)
    assert circulation.checkin("9787535449450").ok
    clock.advance(days=3)
    assert award(store) == [] and held(store) == []
    assert store.value("SELECT count(*) FROM events WHERE type = 'badge_awarded'") == 0
    # A book still out: nothing in its first day, the first book once it has been out a day.
    assert circulation.checkout("S001", "9787544270878").ok
    clock.advance(23 * 3600)
    assert award(store) == []
    clock.advance(3600)
    assert award(store) == ["first_book"]
    assert held(store) == [("first_book", TERM, 1)]
    # Never given again this term, whatever the child reads next.
    assert circulation.checkin("9787544270878").ok
    assert award(store) == [] and held(store) == [("first_book", TERM, 1)]
    (event,) = store.query("SELECT * FROM events WHERE type = 'badge_awarded'")
    assert event["patron_id"] == "S001" and event["actor"] == "S001"
    # The next term is a new term: its first book is a new badge.
    assert [e.data["badge"] for e in badges.award(store, "S001", 3, "2027-03-01", RULES)] == []
    assert badges.of_patron(store.reader, "S001")[0]["badge"] == "first_book"


def test_five_subjects_and_the_grade_list_target(
    store: Store, circulation: Circulation, clock: FakeClock
) -> None:
    with store.write() as db:
        for barcode, title, call in SUBJECTS:
            put_item(db, {"barcode": barcode, "title": title, "call_number": call}, store.now())
    made = lists.save_list(store, lists.ListForm("三年级推荐书目", 3, "", 2), 6, "t")
    list_id = made.events[0].data["list"]
    for code in ("9787020002207", "9787535449450", "9787020024759"):
        assert lists.add_title(store, list_id, code, "t").ok
    # 红楼梦 (I), then 昆虫记 (Q), 上下五千年 (K), 美术启蒙 (J): four subjects, one list title.
    for pair in (("9787020002207", "B1"), ("B2", "B3")):  # a grade 3 child borrows two at once
        for code in pair:
            assert circulation.checkout("S001", code).ok
        clock.advance(days=2)
        for code in pair:
            assert circulation.checkin(code).ok
    assert award(store) == ["first_book"]
    # 小王子 (I, on the list) kept two days: the list's target of 2 reached, still four subjects.
    assert circulation.checkout("S001", "9787535449450").ok
    clock.advance(days=2)
    assert award(store) == ["list_target"]
    # 趣味数学 (O) returned within the hour counts nothing; kept a day, it is the fifth subject.
    assert circulation.checkout("S001", "B4").ok
    clock.advance(1800)
    assert circulation.checkin("B4").ok
    clock.advance(days=1)
    assert award(store) == []
    assert circulation.checkout("S001", "B4").ok
    clock.advance(days=1, seconds=60)
    assert award(store) == ["subjects"]
    assert sorted(held(store)) == [
        ("first_book", TERM, 1), ("list_target", TERM, 2), ("subjects", TERM, 5)
    ]  # fmt: skip
    # Another child of the grade holds none of them.
    assert held(store, "S002") == []


def badge_kiosk(circulation: Circulation, clock: FakeClock, settings: config.Settings) -> Kiosk:
    """Return a kiosk session with the daemon's hooks: the collection's, with reading badges."""
    from kiosk.circulation.collection.kiosk_hook import CollectionHook
    from kiosk.circulation.reading.kiosk_hook import BadgeHook

    hook = BadgeHook(CollectionHook(circulation), circulation, badge_rules(settings))
    return Kiosk(circulation, clock, hook=hook)


def test_the_session_carries_the_badge_with_the_answer_that_earned_it(
    store: Store, circulation: Circulation, clock: FakeClock, settings: config.Settings
) -> None:
    kiosk = badge_kiosk(circulation, clock, settings)
    assert circulation.checkout("S001", "9787020002207").ok
    clock.advance(days=2)
    # A teacher's or a helper's card earns nothing; the student's own card tap does, once.
    assert kiosk.scan("0F00BBBB01").badges == ()
    kiosk.done()
    opened = kiosk.scan("0F00A1B2C3")
    assert opened.kind == "session_started" and opened.badges == (
        {"badge": "first_book", "count": 1},
    )
    assert kiosk.scan("9787020002207").badges == ()  # the return: nothing new
    kiosk.done()
    assert kiosk.scan("0F00A1B2C3").badges == ()


def test_bad_badge_settings_say_which_key_and_why() -> None:
    cases = [
        ({"badge_milestones": ["first_book", "fastest"]}, "[reading] badge_milestones: 'fastest'"),
        ({"badge_milestones": ["subjects", "subjects"]}, "'subjects' is listed twice"),
        ({"badge_subjects": 0}, "[reading] badge_subjects: must be greater than 0"),
        ({"badge_min_loan_hours": -1}, "[reading] badge_min_loan_hours: must be greater"),
        ({"badges": "yes"}, "[reading] badges: must be true or false"),
        ({"badge": True}, "[reading] badge: unknown key"),
    ]
    for raw, said in cases:
        with pytest.raises(config.ConfigError) as e:
            config.from_dict({"reading": raw})
        assert said in str(e.value), (raw, str(e.value))
    s = config.from_dict({"reading": {"badge_milestones": ["subjects"], "badge_subjects": 3}})
    assert badge_rules(s) == badges.Rules(("subjects",), 3, 24.0)


def test_a_loan_that_comes_of_age_during_a_session_shows_its_badge_at_the_next_tap(
    store: Store, circulation: Circulation, clock: FakeClock, settings: config.Settings
) -> None:
    kiosk = badge_kiosk(circulation, clock, settings)
    assert circulation.checkout("S001", "9787020002207").ok
    clock.advance(23 * 3600 + 59 * 60)
    assert kiosk.scan("0F00A1B2C3").badges == ()  # a day not lasted yet
    clock.advance(120)
    # The book's answer does not look again (a day-long loan counts neither when it starts
    # nor when it ends); the loan lasted its day, so the next tap shows the badge.
    returned = kiosk.scan("9787020002207")
    assert returned.result is not None and returned.result.action == "checkin"
    assert returned.badges == ()
    kiosk.done()
    assert kiosk.scan("0F00A1B2C3").badges == ({"badge": "first_book", "count": 1},)
