"""Decisions: rules + current state + command -> the events to record, or a refusal.

Pure functions: no SQL, no clock reads, no I/O. The caller reads the state (`LoanState`), passes
the time it read once, and hands the returned drafts to the projector (`projector.commit`), which
stamps, applies and records them in the caller's transaction. The hub applies the same events
through the same projections, so a kiosk and the hub cannot disagree on what an event means.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import codes
from kiosk.circulation import schemas
from kiosk.circulation.clock import parse_stamp, stamp
from kiosk.circulation.commands import (
    CatalogueBook,
    Checkin,
    Checkout,
    CopyRows,
    EditItem,
    EditPatron,
    EndDrift,
    IssueCard,
    RecordAdminAction,
    RecordImport,
    RecordNoticesPrinted,
    RemoveItemType,
    Renew,
    ReportCardLost,
    SaveImportMapping,
    SaveItemType,
    SetCover,
    SetDrifting,
    SetItemStatus,
    SetItemType,
    SetLibraryMap,
    SetNoticeLevels,
    SetNoticeText,
    SetPatronStatus,
    SetRules,
    TakeDrifting,
    UndoLast,
    Visit,
)
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.models import ITEM_FIELDS, PATRON_FIELDS, Item, Loan, Patron, StoredRows
from kiosk.circulation.rules import ItemType, Rules, end_of_day, item_type_row
from kiosk.config import rule_defaults
from kiosk.i18n import N_

LOAN_UNDOABLE = ("checkout", "checkin", "renew")
# A drifting book taken or handed in by mistake at the desk: its hand is put back as it was.
DRIFT_UNDOABLE = ("drift_taken", "drift_ended")
UNDOABLE = LOAN_UNDOABLE + DRIFT_UNDOABLE


@dataclass(frozen=True)
class LoanState:
    """What a loan decision reads: the patron, the item, its open loan, the patron's loans."""

    patron: Patron | None
    item: Item | None
    loan: Loan | None = None  # the item's open loan
    patron_due: Sequence[str] = ()  # due_at of each of the patron's open loans
    patron_types: Sequence[str] = ()  # the item type of each of them, in the same order


Decision = list[Draft] | Refusal


def checkout(
    rules: Rules, tz: ZoneInfo, state: LoanState, cmd: Checkout, now: dt.datetime
) -> Decision:
    """Lend the item if the patron may borrow it and it is on the shelf."""
    patron, item = state.patron, state.item
    if patron is None or item is None:
        return Refusal("unknown_code")
    if patron.status != "active":
        return Refusal("patron_blocked")
    kind = rules.item_type(item.item_type)
    if not kind.lendable:
        return Refusal("reference_only", {"type": kind.label})
    if state.loan is not None:
        return Refusal("on_loan_to_other")
    if item.status != "available":
        return Refusal("item_unavailable")
    at = stamp(now)
    if rules.block_when_overdue and any(due < at for due in state.patron_due):
        return Refusal("has_overdue")
    if len(state.patron_due) >= rules.limits(patron).max_loans:
        return Refusal("limit_reached", {"count": len(state.patron_due)})
    held = sum(1 for t in state.patron_types if rules.item_type(t).key == kind.key)
    if kind.max_loans is not None and held >= kind.max_loans:
        return Refusal("type_limit", {"type": kind.label, "count": kind.max_loans})
    due = end_of_day(rules.due_date(patron, now.astimezone(tz).date(), item.item_type), tz)
    return [
        Draft(
            "checkout",
            cmd.actor or patron.id,
            patron.id,
            item.barcode,
            {"due_at": stamp(due)},
        )
    ]


def checkin(state: LoanState, cmd: Checkin, now: dt.datetime, record_stray: bool) -> Decision:
    """End the item's open loan; a book not on loan is a stray return, recorded only with a hub."""
    item, loan = state.item, state.loan
    if item is None:
        return Refusal("unknown_code")
    if loan is None:
        if not record_stray:
            return Refusal("not_on_loan")
        data: dict[str, Any] = {"loan_uuid": None, "not_on_loan": True}
        return [Draft("checkin", cmd.actor or "self-service", None, item.barcode, data)]
    data = {"loan_uuid": loan.uuid, "overdue": loan.due_at < stamp(now)}
    return [Draft("checkin", cmd.actor or loan.patron_id, loan.patron_id, item.barcode, data)]


def renew(rules: Rules, tz: ZoneInfo, state: LoanState, cmd: Renew, now: dt.datetime) -> Decision:
    """Extend the patron's own loan if it is not overdue and has renewals left."""
    patron, item, loan = state.patron, state.item, state.loan
    if patron is None or item is None:
        return Refusal("unknown_code")
    if loan is None:
        return Refusal("not_on_loan")
    if loan.patron_id != patron.id:
        return Refusal("on_loan_to_other")
    if patron.status != "active":
        return Refusal("patron_blocked")
    if loan.due_at < stamp(now):
        return Refusal("renew_overdue")
    kind = rules.item_type(item.item_type)
    if not kind.lendable:  # lent before it became a reference book: it stays in the library now
        return Refusal("reference_only", {"type": kind.label})
    if loan.renewals >= rules.limits(patron, item.item_type).renewals:
        return Refusal("renew_limit")
    today = now.astimezone(tz).date()
    due = stamp(end_of_day(rules.due_date(patron, today, item.item_type), tz))
    due = max(due, loan.due_at)
    data = {"loan_uuid": loan.uuid, "due_at": due, "previous_due_at": loan.due_at}
    return [Draft("renew", cmd.actor or patron.id, patron.id, item.barcode, data)]


@dataclass(frozen=True)
class UndoState:
    """What an undo decision reads: the actor's last event and the loan it touched, as now."""

    last: Mapping[str, Any] | None  # the events row (data decoded), or None
    loan: Loan | None = None  # the loan the last event made, ended or renewed
    item_open: bool = False  # whether the item has an open loan now
    drifting: bool = False  # whether the book drifts now
    hand: Mapping[str, Any] | None = None  # a drifting book's open hand now (uuid, patron_id)


def undo(state: UndoState, cmd: UndoLast, now: dt.datetime) -> Decision:
    """Reverse the last action if it is recent and nothing changed the loan (or hand) since."""
    last = state.last
    if last is None or last["type"] not in UNDOABLE:
        return Refusal("nothing_to_undo")
    if now - parse_stamp(last["at"]) > dt.timedelta(seconds=cmd.window_s):
        return Refusal("too_late")
    loan, data = state.loan, last["data"]
    if last["type"] == "drift_taken":
        # The child who took it still has it, and nobody took it over since.
        still = state.drifting and state.hand is not None and state.hand["uuid"] == last["uuid"]
    elif last["type"] == "drift_ended":
        still = state.drifting and state.hand is None  # nobody took it since
    elif last["type"] == "checkout":
        still = loan is not None and loan.returned_at is None
    elif last["type"] == "checkin":
        still = loan is not None and loan.returned_at is not None and not state.item_open
    else:
        still = (
            loan is not None
            and loan.returned_at is None
            and loan.due_at == data.get("due_at")
            and loan.renewals > 0
        )
    if not still:
        return Refusal("changed_since")
    undone = {"undone": last["uuid"], "undone_type": last["type"]}
    return [Draft("undo", cmd.actor, last["patron_id"], last["item_barcode"], undone)]


def issue_card(
    patron: Patron | None, code: str, taken: Mapping[str, Any] | None, cmd: IssueCard
) -> Decision:
    """Give a patron a card, unless its code (in any of its forms) is already someone's card."""
    if patron is None:
        return Refusal("unknown_code")
    if not code or schemas.card_problem(code):  # empty, too long, a TAB or NUL in it
        return Refusal("card_code_missing")
    if taken is not None:  # kiosk/circulation/cards.py `holder`: the card in any form
        return Refusal("card_taken", dict(taken))
    card = codes.canonical_card(code)
    return [Draft("card_issued", cmd.actor, patron.id, None, {"card": card})]


def report_card_lost(card: Sequence[Any] | None, cmd: ReportCardLost) -> Decision:
    """Refuse a card from now on; `card` is (code, patron_id, status) as found in any form."""
    if card is None or (cmd.patron_id is not None and card[1] != cmd.patron_id):
        return Refusal("unknown_code")
    return [Draft("card_lost", cmd.actor, card[1], None, {"card": card[0]})]


def visit(patron: Patron | None, cmd: Visit) -> Decision:
    """Count a session an active patron's card opened; it changes no table, only the log."""
    if patron is None:
        return Refusal("unknown_code")
    if patron.status != "active":
        return Refusal("patron_blocked")
    return [Draft("visit", cmd.actor, patron.id)]


PATRON_STATUSES = ("active", "blocked", "left")
SETTABLE_ITEM_STATUSES = ("available", "lost", "damaged", "withdrawn")


def item_status(item: Item | None, cmd: SetItemStatus) -> Decision:
    """Mark an item lost, damaged, withdrawn or available; a book on loan is returned first."""
    if item is None:
        return Refusal("unknown_code")
    if cmd.status not in SETTABLE_ITEM_STATUSES:
        return Refusal("bad_status", {"status": cmd.status})
    if item.status == "on_loan":
        return Refusal("item_on_loan")
    return [Draft("item_status", cmd.actor, None, item.barcode, {"status": cmd.status})]


def patron_status(patron: Patron | None, cmd: SetPatronStatus) -> Decision:
    """Block, unblock or retire a patron."""
    if patron is None:
        return Refusal("unknown_code")
    if cmd.status not in PATRON_STATUSES:
        return Refusal("bad_status", {"status": cmd.status})
    return [Draft("patron_status", cmd.actor, patron.id, None, {"status": cmd.status})]


def rules_set(cmd: SetRules) -> Decision:
    """Take new rules when every scope is a role or a grade and every number is not negative."""
    for row in cmd.rules:
        kind, _, name = str(row.get("scope", "")).partition(":")
        if kind not in ("role", "grade") or not name:
            return Refusal("bad_rules", {"scope": row.get("scope")})
        numbers = [row.get(k) for k in ("loan_days", "max_loans", "renewals")]
        if any(n is not None and (not isinstance(n, int) or n < 0) for n in numbers):
            return Refusal("bad_rules", {"scope": row["scope"]})
    data = {
        "rules": list(cmd.rules),
        "policy": dict(cmd.policy),
        "closed_days": list(cmd.closed_days),
    }
    return [Draft("rules_set", cmd.actor, None, None, data)]


@dataclass(frozen=True)
class DriftState:
    """What a drifting book's decision reads: the child, the book, who has it now."""

    patron: Patron | None
    item: Item | None
    drifting: bool = False
    holder: str | None = None  # the patron who has the book now, if anyone
    on_loan: bool = False  # an ordinary open loan of the book


def set_drifting(state: DriftState, cmd: SetDrifting) -> Decision:
    """Let a book on the shelf drift, or bring a drifting book nobody has back to its shelf."""
    item = state.item
    if item is None:
        return Refusal("unknown_code")
    if cmd.drifting == state.drifting:
        return Refusal("drift_already" if cmd.drifting else "drift_not")
    if cmd.drifting and (state.on_loan or item.status != "available"):
        return Refusal("item_unavailable")
    if not cmd.drifting and state.holder is not None:
        return Refusal("drift_held")
    data = {"drifting": cmd.drifting}
    return [Draft("item_drifting", cmd.actor, None, item.barcode, data)]


def take_drifting(state: DriftState, cmd: TakeDrifting) -> Decision:
    """A child takes a drifting book: no due date, no loan limit, and the hands go up by one.

    From another child it is a handover: that child's hand ends in the same event.
    """
    patron, item = state.patron, state.item
    if patron is None or item is None:
        return Refusal("unknown_code")
    if not state.drifting:
        return Refusal("drift_not")
    if patron.status != "active":
        return Refusal("patron_blocked")
    if state.holder == patron.id:
        return Refusal("drift_yours")
    data = {"from": state.holder}
    return [Draft("drift_taken", cmd.actor or patron.id, patron.id, item.barcode, data)]


def end_drift(state: DriftState, cmd: EndDrift) -> Decision:
    """End the hand of whoever has a drifting book (handed in at the kiosk or the desk)."""
    item = state.item
    if item is None:
        return Refusal("unknown_code")
    if not state.drifting:
        return Refusal("drift_not")
    if state.holder is None:
        return Refusal("drift_free")
    return [Draft("drift_ended", cmd.actor or state.holder, state.holder, item.barcode)]


TYPE_NUMBERS = {"loan_days": "loan_days", "max_loans": "type_max_loans", "renewals": "renewals"}
TYPE_NAME_LENGTH = 40  # a name the dashboard's table and a child's message still show whole


def item_type_saved(
    types: Mapping[str, ItemType], cmd: SaveItemType, built_in_names: Collection[str] = ()
) -> Decision:
    """Add or change an item type, if its name is its own and its numbers are within bounds.

    A built-in type keeps the name the catalogs give it in both languages (`built_in_names`,
    which no type of the librarian's may take); hers needs a name no other type has.
    """
    built_in = cmd.key in rule_defaults.ITEM_TYPES
    name = None if built_in else (cmd.name or "").strip()
    if not built_in:
        if not name:
            return Refusal("type_name_missing", {"field": "name"})
        if len(name) > TYPE_NAME_LENGTH or schemas.has_control(name):
            return Refusal("type_name_bad", {"field": "name", "count": TYPE_NAME_LENGTH})
        others = {t.label.casefold() for k, t in types.items() if k != cmd.key}
        others |= {n.casefold() for n in built_in_names}
        if name.casefold() in others:
            return Refusal("type_name_taken", {"field": "name", "name": name})
    for field_name, bound_name in TYPE_NUMBERS.items():
        value = getattr(cmd, field_name)
        bound = rule_defaults.BOUNDS[bound_name]
        if value is not None and bound.problem(value):
            return Refusal(
                "type_number", {"field": field_name, "low": bound.low, "high": bound.high}
            )
    kind = ItemType(cmd.key, name, cmd.lendable, cmd.loan_days, cmd.max_loans, cmd.renewals)
    return [Draft("item_type_saved", cmd.actor, None, None, item_type_row(kind))]


def item_type_removed(types: Mapping[str, ItemType], books: int, cmd: RemoveItemType) -> Decision:
    """Remove one of the librarian's item types, if no book has it.

    `books` counts the books of the type that are still in the collection (withdrawn ones left
    out, as on the page). A built-in type is never removed: the kiosk knows it without a row,
    and every book with no type of its own is an ordinary book.
    """
    kind = types.get(cmd.key)
    if kind is None:
        return Refusal("unknown_type", {"type": cmd.key})
    if kind.built_in:
        return Refusal("type_built_in", {"type": kind.label})
    if books:
        return Refusal("type_in_use", {"type": kind.label, "count": books})
    data = {"scope": item_type_row(kind)["scope"], "name": kind.name}
    return [Draft("item_type_removed", cmd.actor, None, None, data)]


def item_type_set(item: Item | None, rules: Rules, cmd: SetItemType) -> Decision:
    """Give an item a type the library has."""
    if item is None:
        return Refusal("unknown_code")
    if cmd.item_type not in rules.item_types:
        return Refusal("unknown_type", {"type": cmd.item_type})
    data = {"item_type": cmd.item_type}
    return [Draft("item_type_set", cmd.actor, None, item.barcode, data)]


def edited(found: bool, cmd: EditPatron | EditItem, allowed: Iterable[str]) -> Decision:
    """Change the allowed fields of a patron or an item that exists; other fields are ignored."""
    if not found:
        return Refusal("unknown_code")
    fields = {k: v for k, v in cmd.changes.items() if k in allowed}
    if not fields:
        return Refusal("nothing_to_change")
    if isinstance(cmd, EditPatron):
        return [Draft("patron_edited", cmd.actor, cmd.patron_id, None, fields)]
    return [Draft("item_edited", cmd.actor, None, cmd.barcode, fields)]


ADMIN_ACTIONS = ("admin_password_set", "admin_password_changed", "export")


def admin_action(cmd: RecordAdminAction) -> Decision:
    """Record an admin action that changes no table; only the kinds the log knows."""
    if cmd.type not in ADMIN_ACTIONS:
        return Refusal("unknown_action", {"type": cmd.type})
    return [Draft(cmd.type, cmd.actor, None, None, dict(cmd.data))]


def cover_set(item: Item | None, cmd: SetCover) -> Decision:
    """Make a kept photo the cover of a book the library has."""
    if item is None:
        return Refusal("unknown_item")
    data = {"cover": cmd.cover, "width": cmd.width, "height": cmd.height}
    return [Draft("item_cover_set", cmd.actor, None, item.barcode, data)]


MAP_NAME_LENGTH = 20


def map_letters(text: str) -> list[str]:
    """Return the class letters written in a map's cell ("I, J" or "i j" or "IJ")."""
    return list(re.sub(r"[\s,，、;；]+", "", text.upper()))


def library_map(cmd: SetLibraryMap, classes: Collection[str]) -> Decision:
    """Take the drawn boxes as the map: a name each, no name twice, classes that exist."""
    boxes, names = [], set()
    for c in cmd.cells:
        name, letters = c.name.strip(), map_letters(c.classes)
        where = {"row": c.row + 1, "col": c.col + 1}
        if not name and not letters:
            continue
        if not name:
            return Refusal("no_name", where)
        if len(name) > MAP_NAME_LENGTH:
            return Refusal("long_name", where)
        if name in names:
            return Refusal("same_name", {"name": name})
        for letter in letters:
            if letter not in classes:
                return Refusal("unknown_class", {"letter": letter})
        names.add(name)
        boxes.append({"name": name, "row": c.row, "col": c.col, "classes": "".join(letters)})
    return [Draft("library_map_set", cmd.actor, data={"boxes": boxes})]


NOTICE_MOST_DAYS = 365
NOTICE_PLACEHOLDERS = ("name", "class_name", "count", "date")
NOTICE_LENGTH = 4000


def levels_problems(teacher: str, parents: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return what is wrong with the days typed for levels 2 and 3, by field."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, text in (("teacher", teacher), ("parents", parents)):
        text = text.strip()
        if not text.isdigit() or not 2 <= int(text) <= NOTICE_MOST_DAYS:
            problems[name] = (
                N_("Write a number from {low} to {high}."),
                {"low": 2, "high": NOTICE_MOST_DAYS},
            )
    if not problems and int(parents) <= int(teacher):
        problems["parents"] = (
            N_("The parents are told after the teacher: more than {days} days."),
            {"days": int(teacher)},
        )
    return problems


def notice_levels(cmd: SetNoticeLevels) -> Decision:
    """Take the days overdue from which the teacher, then the parents, are told."""
    problems = levels_problems(str(cmd.teacher), str(cmd.parents))
    if problems:
        return Refusal("bad_levels", {"fields": sorted(problems)})
    data = {"levels": [1, cmd.teacher, cmd.parents]}
    return [Draft("notice_levels_set", cmd.actor, None, None, data)]


def template_problem(body: str) -> tuple[str, dict[str, Any]] | None:
    """Return what is wrong with a notice text (a catalog id and its values), or None."""
    if not body.strip():
        return N_("The notice needs a text."), {}
    if len(body) > NOTICE_LENGTH:
        return N_("The notice is too long: at most 4000 characters."), {}
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
    except ValueError:
        return N_("A brace is not closed: write a placeholder like {name} with both braces."), {}
    unknown = [f for f in fields if f not in NOTICE_PLACEHOLDERS]
    if unknown:
        return N_("{{{field}}} is not known here. Use {known}."), {
            "field": unknown[0],
            "known": ", ".join("{" + p + "}" for p in NOTICE_PLACEHOLDERS),
        }
    return None


def notice_text(cmd: SetNoticeText) -> Decision:
    """Take the parents' notice text if it says something and every placeholder is known."""
    problem = template_problem(cmd.body)
    if problem:
        return Refusal("bad_notice_text", {"message": problem[0], "params": problem[1]})
    return [Draft("notice_text_set", cmd.actor, None, None, {"body": cmd.body})]


def notices_printed(cmd: RecordNoticesPrinted) -> Decision:
    """Record one `notice_printed` event for each student whose parents' notice was printed."""
    return [
        Draft(
            "notice_printed",
            cmd.actor,
            n.patron_id,
            None,
            {"level": n.level, "loans": list(n.loans), "class_name": n.class_name},
        )
        for n in cmd.notices
    ]


def import_mapping_saved(cmd: SaveImportMapping) -> Decision:
    """Remember a mapping of columns for files of this kind with this header."""
    data = {"kind": cmd.kind, "header": cmd.header, "columns": dict(cmd.columns)}
    return [Draft("import_mapping_saved", cmd.actor, None, None, data)]


def import_recorded(cmd: RecordImport) -> Decision:
    """Record that an import finished (its rows were written as it went, journalled)."""
    return [Draft("import", cmd.actor, None, None, dict(cmd.data))]


# What a copy compares with the stored row to find it unchanged (the columns its projection
# writes from the row; a patron's or an item's are those of its row that the models name).
COPY_COMPARED = {
    "card_saved": ("patron_id", "status"),
    "marc_record_saved": ("title", "author", "call_number"),
    "loan_synced": ("uuid", "patron_id", "due_at", "renewals"),
}


def rows_copied(cmd: CopyRows, stored: StoredRows) -> tuple[Decision, list[str]]:
    """Draft an event for each copy that changes its row; say of each what it does to its row.

    A copy is one of the types below; what each says is 'inserted', 'updated' or 'same' (no
    event: the row is already so). Copies are judged in order, each against the rows as the
    copies before it leave them, so a key copied twice in one batch is judged right.
    """
    rows = dict(stored.rows)  # a row judged is replaced, never changed in place
    cards = {k: set(v) for k, v in stored.cards.items()}
    drafts: list[Draft] = []
    said: list[str] = []
    for copy in cmd.copies:
        kind = copy.type
        if kind not in (
            "patron_saved",
            "item_saved",
            "card_saved",
            "marc_record_saved",
            "loan_synced",
            "reading_list_synced",
            "star_rules_synced",
            "rules_set",
        ):
            return Refusal("not_a_copy", {"type": kind}), []
        key = codes.canonical_card(copy.key) if kind == "card_saved" else copy.key
        row = _copied_row(kind, copy.row)
        mine = tuple(codes.canonical_card(c) for c in copy.cards or ())
        old = rows.get((kind, key))
        if _unchanged(kind, row, old, set(mine) <= cards.get(key, set())):
            said.append("same")
            continue
        said.append("updated" if old is not None else "inserted")
        data = _copy_data(kind, key, row, mine if copy.cards is not None else None)
        drafts.append(Draft(kind, cmd.actor, None, None, data, copy.at))
        if row is None:
            rows.pop((kind, key), None)
        else:  # an item's open loan, once the hub's, is its only one
            rows[(kind, key)] = {
                **(old or {}),
                **row,
                **({"open": 1} if kind == "loan_synced" else {}),
            }
        for code in mine:  # an import's card moves to this patron
            card = rows.get(("card_saved", code))
            if card is not None:
                cards.get(card["patron_id"], set()).discard(code)
            rows[("card_saved", code)] = {"status": "active", **(card or {}), "patron_id": key}
            cards.setdefault(key, set()).add(code)
    return drafts, said


def _copied_row(kind: str, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return the columns of a copied row its projection writes (a patron's, an item's)."""
    if row is None:
        return None
    fields = {"patron_saved": PATRON_FIELDS, "item_saved": ITEM_FIELDS}.get(kind)
    return {k: row[k] for k in fields if k in row} if fields else dict(row)


def _unchanged(
    kind: str, row: dict[str, Any] | None, old: dict[str, Any] | None, has_cards: bool
) -> bool:
    """Return whether a copy would leave its row as it is."""
    if kind in ("reading_list_synced", "star_rules_synced", "rules_set"):
        return False  # whole records, rarely sent: always copied
    if row is None or old is None:
        return row is None and old is None
    compared = COPY_COMPARED.get(kind) or tuple(row)
    same = all(old.get(k) == row.get(k) for k in compared)
    if kind == "loan_synced":
        return same and old.get("open") == 1  # the item's one open loan is the hub's
    return same and (kind != "patron_saved" or has_cards)


def _copy_data(
    kind: str, key: str, row: dict[str, Any] | None, cards: tuple[str, ...] | None
) -> dict[str, Any]:
    """Return a copy's event's data (the rules: the rules row itself).

    The row is named by `data.key` alone, never by the event's item or patron: an event with
    an item waits in the outbox as the kiosk's own view of that book (`outbox.items_waiting`),
    and the hub's later change of an imported book must not be held back by it.
    """
    if kind == "rules_set":  # as the dashboard's rules_set carries them
        return dict(row or {})
    data: dict[str, Any] = {"key": key, "row": row}
    if cards is not None:
        data["cards"] = list(cards)
    return data


NEW_BOOK_FIELDS = ("barcode", "title", "author", "isbn", "call_number")
# As an import takes them (importers.checks): a MARC record's long title is kept whole.
NEW_BOOK_LONGEST = {"barcode": 64, "title": 4000, "author": 1000, "isbn": 32, "call_number": 64}


def new_book(fields: Mapping[str, Any], shelved_title: str | None) -> dict[str, str] | Refusal:
    """Return the new book's data, or why it cannot be catalogued."""
    book = {k: " ".join(str(fields.get(k, "")).split()) for k in NEW_BOOK_FIELDS}
    if not book["barcode"]:
        return Refusal("barcode_needed")
    if (
        book["barcode"] != str(fields.get("barcode", "")).strip()
        or not book["barcode"].isprintable()
    ):
        return Refusal("bad_barcode", {"barcode": book["barcode"]})
    if shelved_title is not None:
        return Refusal("barcode_taken", {"barcode": book["barcode"], "title": shelved_title})
    if not book["title"]:
        return Refusal("title_needed")
    for key, limit in NEW_BOOK_LONGEST.items():
        if len(book[key]) > limit:
            return Refusal("too_long", {"field": key, "limit": limit})
    if book["isbn"]:
        book["isbn"] = codes.normal_isbn(book["isbn"]) or book["isbn"]
    return book


def catalogue_book(cmd: CatalogueBook, shelved_title: str | None) -> Decision:
    """Put a new book on the shelf (an `item_catalogued` event), unless its barcode is taken."""
    book = new_book(cmd.fields, shelved_title)
    if isinstance(book, Refusal):
        return book
    data = {k: v for k, v in book.items() if k != "barcode"}
    return [Draft("item_catalogued", cmd.actor, None, book["barcode"], data)]
