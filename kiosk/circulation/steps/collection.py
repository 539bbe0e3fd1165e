"""Steps of the collection's chores: stocktake, lost books, weeding, holds, cards, corners, year.

Each reads through the chore's named queries (in the chore's module, or the shared ones of
`collection/__init__.py`) and calls the chore's pure decision.
"""

from __future__ import annotations

import uuid as uuidlib

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation import collection
from kiosk.circulation.clock import stamp
from kiosk.circulation.collection import (
    cards,
    corners,
    holds,
    holidays,
    lost,
    promotion,
    stocktake,
    weeding,
)
from kiosk.circulation.collection.commands import (
    CloseHold,
    CloseLeavers,
    CountForStocktake,
    ExpireHolds,
    LendToCorner,
    MarkBook,
    MarkFound,
    PlaceHold,
    PlaceTitleHold,
    PromoteYear,
    ReadyHold,
    RecordCompensation,
    Repair,
    ReplaceCard,
    SetHolidayLoans,
    SetStocktakeStatus,
    StartStocktake,
    Withdraw,
)
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import Context, Decided, step
from kiosk.circulation.rules import end_of_day, load_rules

# -- stocktake ---------------------------------------------------------------------------------


@step(StartStocktake)
def start_stocktake(db: Database, cmd: StartStocktake, _: Context) -> Decided:
    """Read the unfinished stocktake; decide."""
    new_id = str(uuidlib.uuid4())
    return Decided(stocktake.decide_start(cmd.scope, stocktake.unfinished(db), new_id))


@step(SetStocktakeStatus)
def stocktake_status(db: Database, cmd: SetStocktakeStatus, _: Context) -> Decided:
    """Read the stocktake named (else the unfinished one); decide."""
    st = stocktake.get(db, cmd.stocktake_id) if cmd.stocktake_id else stocktake.unfinished(db)
    return Decided(stocktake.decide_status(st, cmd.to))


@step(CountForStocktake)
def count_for_stocktake(db: Database, cmd: CountForStocktake, _: Context) -> Decided:
    """Read the running stocktake; decide; a counted code's state is its report status and book."""
    st = stocktake.running(db)
    decision = stocktake.decide_scan(st, cmd.code)
    if isinstance(decision, Refusal) or st is None:
        return Decided(decision)
    # Counting changes neither the book nor its loan: read them here, in the same write.
    book, loaned = stocktake.book(db, cmd.code)
    return Decided(decision, (stocktake.classify(stocktake.Scope.of(st), book, loaned), book))


# -- cards, holiday loans ----------------------------------------------------------------------


@step(ReplaceCard)
def replace_card(db: Database, cmd: ReplaceCard, _: Context) -> Decided:
    """Find both cards in any of their forms, with their holders; decide."""
    new = card_forms.canonical(cmd.new) if cmd.new else ""
    old_card = card_forms.holder(db, cmd.old) if cmd.old else None
    new_card = card_forms.holder(db, new) if new else None
    return Decided(cards.decide_replace(cmd.patron_id, old_card, new, new_card))


@step(SetHolidayLoans)
def holiday_loans(db: Database, cmd: SetHolidayLoans, _: Context) -> Decided:
    """Read the end of term; decide."""
    term_end = load_rules(db).term_end
    return Decided(holidays.decide_set(dict(cmd.wanted), term_end, cmd.last_grade))


# -- lost and damaged books, weeding -----------------------------------------------------------


@step(MarkBook)
def mark_book(db: Database, cmd: MarkBook, _: Context) -> Decided:
    """Read the book and its open loan; decide."""
    book, loan = collection.item(db, cmd.barcode), collection.open_loan(db, cmd.barcode)
    return Decided(lost.decide_incident(cmd.kind, book, loan, cmd.note))


@step(MarkFound)
def mark_found(db: Database, cmd: MarkFound, _: Context) -> Decided:
    """Read the book; decide."""
    return Decided(lost.decide_found(collection.item(db, cmd.barcode), cmd.how))


@step(RecordCompensation)
def compensation(db: Database, cmd: RecordCompensation, _: Context) -> Decided:
    """Read the incident; decide."""
    found = lost.incident(db, cmd.incident_id)
    return Decided(lost.decide_compensation(found, cmd.kind, cmd.amount))


@step(Repair)
def repair(db: Database, cmd: Repair, _: Context) -> Decided:
    """Read the incident; decide."""
    return Decided(lost.decide_repair(lost.incident(db, cmd.incident_id), cmd.step))


@step(Withdraw)
def withdraw(db: Database, cmd: Withdraw, _: Context) -> Decided:
    """Read the book and whether it is out; decide."""
    book, out = collection.item(db, cmd.barcode), collection.on_loan(db, cmd.barcode)
    return Decided(weeding.decide_withdraw(book, out, cmd.reason, cmd.note))


# -- holds -------------------------------------------------------------------------------------


@step(PlaceHold)
def place_hold(db: Database, cmd: PlaceHold, _: Context) -> Decided:
    """Read the book, the student, the book's loan and its holders; decide."""
    holders = [h["patron_id"] for h in holds.active(db, cmd.barcode)]
    decision = holds.decide_place(
        collection.item(db, cmd.barcode),
        collection.patron(db, cmd.patron_id),
        collection.open_loan(db, cmd.barcode),
        holders,
        str(uuidlib.uuid4()),
    )
    return Decided(decision)


@step(PlaceTitleHold)
def place_title_hold(db: Database, cmd: PlaceTitleHold, _: Context) -> Decided:
    """Read the title's copies, the student and their holds; decide; the state is the title
    and the student's place in the queue."""
    copies = holds.title_copies(db, cmd.barcode)
    held = holds.open_count(db, cmd.patron_id)
    patron = collection.patron(db, cmd.patron_id)
    decision, position = holds.decide_title(
        copies, patron, held, cmd.max_holds, str(uuidlib.uuid4())
    )
    if not copies:
        decision = Refusal("no_such_item", {"barcode": cmd.barcode})
    return Decided(decision, (copies[0]["title"] if copies else "", position))


@step(ReadyHold)
def ready_hold(db: Database, cmd: ReadyHold, _: Context) -> Decided:
    """Read the book's first waiting hold (the state); decide."""
    waiting = holds.first_waiting(db, cmd.barcode)
    return Decided(holds.decide_return(waiting, cmd.expires_on), waiting)


@step(CloseHold)
def close_hold(db: Database, cmd: CloseHold, _: Context) -> Decided:
    """Read the hold; decide."""
    return Decided(holds.decide_close(holds.get(db, cmd.hold_id), cmd.how))


@step(ExpireHolds)
def expire_holds(db: Database, cmd: ExpireHolds, _: Context) -> Decided:
    """Read the holds on the hold shelf; decide."""
    return Decided(holds.decide_expiry(holds.ready(db), cmd.today))


# -- class corners, the new school year --------------------------------------------------------


@step(LendToCorner)
def lend_to_corner(db: Database, cmd: LendToCorner, context: Context) -> Decided:
    """Read the responsible person and each book (out or not); decide on today's date."""
    books = {code: corners.shelf_item(db, code) for code in cmd.barcodes}
    today = context.now.astimezone(cmd.tz).date()
    latest = corners.latest_due(today)
    # A day past the limit is refused below; its end of day may not even be a time (year 9999).
    due_at = stamp(end_of_day(cmd.due, cmd.tz)) if cmd.due <= latest else ""
    decision = corners.decide_lend(
        cmd.class_name,
        collection.patron(db, cmd.responsible),
        books,
        cmd.due.isoformat(),
        due_at,
        today.isoformat(),
        str(uuidlib.uuid4()),
        latest.isoformat(),
    )
    return Decided(decision)


@step(PromoteYear)
def promote_year(db: Database, cmd: PromoteYear, _: Context) -> Decided:
    """Read the day of the last promotion; decide."""
    last = promotion.last_promoted(db)
    return Decided(promotion.decide_promote(cmd.plan, last, cmd.today))


@step(CloseLeavers)
def close_leavers(db: Database, cmd: CloseLeavers, _: Context) -> Decided:
    """Read the kept leavers with their loans; decide."""
    kept = [s for s in promotion.students(db, cmd.last_grade) if s["grade"] > cmd.last_grade]
    return Decided(promotion.decide_close(kept))
