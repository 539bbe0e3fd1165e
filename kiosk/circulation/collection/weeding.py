"""Weeding: withdraw worn, outdated and surplus copies; list titles with more copies than loans."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection.commands import Withdraw
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

REASONS = {
    "worn": N_("worn"),
    "outdated": N_("outdated"),
    "surplus": N_("surplus copy"),
    "lost": N_("lost"),
    "damaged": N_("damaged beyond repair"),
}
MESSAGES = {
    "no_such_item": N_("There is no book with barcode {barcode}."),
    "bad_reason": N_("Choose a reason: worn, outdated, surplus copy, lost or damaged."),
    "on_loan": N_("This book is on loan; it can be withdrawn once it is returned."),
    "already_withdrawn": N_("This book is already withdrawn."),
    "item_withdrawn": N_(
        "This book has been withdrawn from the library. Please give it to the librarian."
    ),
}


def decide_withdraw(
    item: dict[str, Any] | None, on_loan: bool, reason: str, note: str
) -> list[Draft] | Refusal:
    """Withdraw a book with a reason, unless it is out."""
    if item is None:
        return Refusal("no_such_item")
    if reason not in REASONS:
        return Refusal("bad_reason")
    if item["status"] == "withdrawn":
        return Refusal("already_withdrawn")
    if on_loan:
        return Refusal("on_loan")
    data = {"reason": reason, **({"note": note} if note else {})}
    return [Draft("item_withdrawn", item_barcode=item["barcode"], data=data)]


def withdraw(store: Store, barcode: str, reason: str, actor: str, note: str = "") -> Outcome:
    """Withdraw a book from the collection."""
    return handle(store, Withdraw(barcode, reason, note), actor=actor)


def withdrawals(db: Database, since: str = "") -> list[dict[str, Any]]:
    """Return the withdrawn books for the asset register, newest first.

    A book given the withdrawn status without a withdrawal (the book page's status buttons) is
    listed too, without a reason.
    """
    return fetch(
        db,
        "SELECT * FROM (SELECT w.item_barcode AS barcode, i.title, i.author, i.isbn, "
        "i.call_number, w.reason, w.at, w.actor, w.note FROM withdrawals w "
        "LEFT JOIN items i ON i.barcode = w.item_barcode WHERE w.at >= ? "
        "UNION ALL SELECT i.barcode, i.title, i.author, i.isbn, i.call_number, NULL, "
        "i.updated_at, '', '' FROM items i WHERE i.status = 'withdrawn' AND i.updated_at >= ? "
        "AND NOT EXISTS (SELECT 1 FROM withdrawals x WHERE x.item_barcode = i.barcode)) "
        "ORDER BY at DESC",
        [since, since],
    )


def surplus(db: Database, since: str, loans_per_copy: int = 1) -> list[dict[str, Any]]:
    """Return titles (by ISBN, else title) with more copies than their loans since `since` need.

    A title needs one copy per `loans_per_copy` loans in the period, and always one.
    """
    return fetch(
        db,
        "WITH copies AS (SELECT coalesce(nullif(isbn, ''), title) AS key, "
        "min(title) AS title, count(*) AS copies, group_concat(barcode, ' ') AS barcodes "
        "FROM items WHERE status NOT IN ('withdrawn', 'lost') GROUP BY key), "
        "used AS (SELECT coalesce(nullif(i.isbn, ''), i.title) AS key, count(*) AS loans "
        "FROM loans l JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.checked_out_at >= ? GROUP BY key) "
        "SELECT c.title, c.copies, coalesce(u.loans, 0) AS loans, c.barcodes, "
        "c.copies - max(1, (coalesce(u.loans, 0) + ? - 1) / ?) AS surplus "
        "FROM copies c LEFT JOIN used u ON u.key = c.key "
        "WHERE c.copies > max(1, (coalesce(u.loans, 0) + ? - 1) / ?) "
        "ORDER BY surplus DESC, c.title",
        [since, loans_per_copy, loans_per_copy, loans_per_copy, loans_per_copy],
    )


def pick_surplus(copies: list[dict[str, Any]], surplus: int) -> list[dict[str, Any]]:
    """Choose which copies of a title to withdraw: on the shelf, the least lent first."""
    shelf = [c for c in copies if c["status"] == "available" and not c["out"]]
    return sorted(shelf, key=lambda c: (c["loans"], c["barcode"]))[: max(0, surplus)]


def surplus_copies(db: Database, since: str, loans_per_copy: int = 1) -> list[dict[str, Any]]:
    """Return the copies the surplus list would withdraw, title by title (none that is out)."""
    chosen: list[dict[str, Any]] = []
    for title in surplus(db, since, loans_per_copy):
        copies = fetch(
            db,
            "SELECT i.barcode, i.title, i.call_number, i.status, "
            "(SELECT count(*) FROM loans l WHERE l.item_barcode = i.barcode "
            "AND l.checked_out_at >= ?) AS loans, EXISTS (SELECT 1 FROM loans l "
            "WHERE l.item_barcode = i.barcode AND l.returned_at IS NULL) AS out "
            "FROM items i WHERE i.barcode IN (SELECT value FROM json_each(?))",
            [since, json.dumps(str(title["barcodes"]).split())],
        )
        chosen += pick_surplus(copies, int(title["surplus"]))
    return chosen


def withdraw_many(
    store: Store, barcodes: list[str], reason: str, actor: str, note: str = ""
) -> list[Outcome]:
    """Withdraw several books with one reason in one transaction (the surplus list's weeding)."""
    with store.write():
        return [handle(store, Withdraw(b, reason, note), actor=actor) for b in barcodes]
