"""Steps of reading's commands: reading lists, reading stars, badges, donations.

Each reads through the area's named queries and calls its pure decision.
"""

from __future__ import annotations

import uuid

from sqlite_utils import Database

from kiosk.circulation.clock import stamp
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import Context, Decided, step
from kiosk.circulation.reading import badges, donations, lists, stars
from kiosk.circulation.reading.commands import (
    AddListRow,
    AddListTitle,
    AwardBadges,
    RecordDonation,
    RemoveListTitle,
    SaveList,
    SaveStarRules,
)


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@step(SaveStarRules)
def save_star_rules(db: Database, cmd: SaveStarRules, _: Context) -> Decided:
    """Read the rules to change, if any (unknown ones are refused); decide."""
    if cmd.rules_id and stars.get_rules(db, cmd.rules_id) is None:
        return Decided(Refusal("unknown"))
    return Decided(stars.decide_save(cmd.rules_id or _new_id(), cmd.form))


@step(AwardBadges)
def award_badges(db: Database, cmd: AwardBadges, context: Context) -> Decided:
    """Read the child's reading of the term and the badges they hold; decide."""
    now = stamp(context.now)
    return Decided(badges.earned(db, cmd.patron_id, cmd.grade, cmd.term, now, cmd.rules))


@step(SaveList)
def save_list(db: Database, cmd: SaveList, _: Context) -> Decided:
    """Read the list to change, if any (an unknown one is refused); decide."""
    if cmd.list_id and lists.get_list(db, cmd.list_id) is None:
        return Decided(Refusal("unknown_list"))
    return Decided(lists.decide_save(cmd.list_id or _new_id(), cmd.form, cmd.last_grade))


@step(AddListTitle)
def add_list_title(db: Database, cmd: AddListTitle, _: Context) -> Decided:
    """Find the book by barcode, ISBN or title, and whether its title is listed; decide."""
    book = lists.find_book(db, cmd.code) if cmd.code else None
    return _add(db, cmd.list_id, book, cmd.code)


@step(AddListRow)
def add_list_row(db: Database, cmd: AddListRow, _: Context) -> Decided:
    """Find a file row's book the first way that finds one, and whether it is listed; decide."""
    return _add(db, cmd.list_id, lists.find_first(db, cmd.ways), cmd.named)


def _add(db: Database, list_id: str, book: dict[str, object] | None, code: str) -> Decided:
    listed = book is not None and lists.is_listed(db, list_id, lists.title_key(book))
    return Decided(lists.decide_add(lists.get_list(db, list_id), book, listed, code))


@step(RemoveListTitle)
def remove_list_title(db: Database, cmd: RemoveListTitle, _: Context) -> Decided:
    """Read the list and whether the title is on it; decide."""
    listed = lists.is_listed(db, cmd.list_id, cmd.key)
    return Decided(lists.decide_remove(lists.get_list(db, cmd.list_id), cmd.key, listed))


@step(RecordDonation)
def record_donation(db: Database, cmd: RecordDonation, _: Context) -> Decided:
    """Read the child, the classes, the copies and the labels in use; decide."""
    state = donations.state_of(db, cmd.form)
    return Decided(donations.decide_donation(_new_id(), cmd.form, state, cmd.today))
