"""Projections of the reading events: the lists and their titles (master data), and a child's
badges.

A list edited at this dashboard is one of the three recorded events; a list as the hub has it
arrives whole (`reading_list_synced`, a copy of the hub's feed: logged, never sent back, like the
other `*_saved` copies) and replaces this kiosk's copy.
"""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projector import projection


@projection("reading_list_saved")
def reading_list_saved(db: Database, e: Event) -> None:
    """Create a list or change its name, grade, term and target."""
    d = e.data
    db.execute(
        "INSERT INTO reading_lists (id, name, grade, term, target, saved_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "grade = excluded.grade, term = excluded.term, target = excluded.target, "
        "saved_at = excluded.saved_at",
        [
            d["list"],
            d["name"],
            d.get("grade"),
            d.get("term") or "",
            int(d.get("target") or 0),
            e.at,
        ],
    )


@projection("reading_list_title_added")
def reading_list_title_added(db: Database, e: Event) -> None:
    """Put a title on a list (once)."""
    d = e.data
    db.execute(
        "INSERT OR IGNORE INTO reading_list_titles "
        "(list_id, title_key, title, author, isbn, added_at) VALUES (?, ?, ?, ?, ?, ?)",
        [d["list"], d["key"], d["title"], d.get("author") or "", d.get("isbn") or "", e.at],
    )


@projection("reading_list_title_removed")
def reading_list_title_removed(db: Database, e: Event) -> None:
    """Take a title off a list."""
    db.execute(
        "DELETE FROM reading_list_titles WHERE list_id = ? AND title_key = ?",
        [e.data["list"], e.data["key"]],
    )


@projection("reading_list_synced")
def reading_list_synced(db: Database, e: Event) -> None:
    """Make a list the hub's: its fields and exactly its titles, with the hub's times.

    `data`: {"key": list id, "row": {id, name, grade, term, target, saved_at, titles: [...]}
    or None (the hub has no such list: it goes, with its titles)}.
    """
    key, row = e.data["key"], e.data.get("row")
    db.execute("DELETE FROM reading_list_titles WHERE list_id = ?", [key])
    if row is None:
        db.execute("DELETE FROM reading_lists WHERE id = ?", [key])
        return
    db.execute(
        "INSERT INTO reading_lists (id, name, grade, term, target, saved_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "grade = excluded.grade, term = excluded.term, target = excluded.target, "
        "saved_at = excluded.saved_at",
        [key, row["name"], row["grade"], row["term"], row["target"], row["saved_at"]],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO reading_list_titles "
        "(list_id, title_key, title, author, isbn, added_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (key, t["title_key"], t["title"], t["author"], t["isbn"], t["added_at"])
            for t in row["titles"]
        ],
    )


@projection("badge_awarded")
def badge_awarded(db: Database, e: Event) -> None:
    """Keep a child's badge for a milestone of a term (once)."""
    d = e.data
    db.execute(
        "INSERT OR IGNORE INTO badges (patron_id, badge, term, count, awarded_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [e.patron_id, d["badge"], d["term"], int(d.get("count", 0)), e.at],
    )
