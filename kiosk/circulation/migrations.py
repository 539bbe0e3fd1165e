"""Versioned schema of the kiosk store; each migration upgrades an older database in place."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from kiosk.circulation.cards import SQL_IS_UID, SQL_NUMBER

migrations = Migrations("kiosk")


@migrations(name="m001_circulation")
def m001_circulation(db: Database) -> None:
    """Create patrons, cards, items, loans and the event log."""
    db.executescript(
        """
        CREATE TABLE patrons (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('student','teacher','helper','librarian')),
            grade INTEGER,
            class_name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','blocked','left')),
            updated_at TEXT NOT NULL
        );
        CREATE TABLE cards (
            code TEXT PRIMARY KEY,
            patron_id TEXT NOT NULL REFERENCES patrons(id),
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','lost')),
            created_at TEXT NOT NULL
        );
        CREATE INDEX cards_patron ON cards(patron_id);
        CREATE TABLE items (
            barcode TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            isbn TEXT NOT NULL DEFAULT '',
            call_number TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT 'library',
            status TEXT NOT NULL DEFAULT 'available'
                CHECK (status IN ('available','on_loan','lost','damaged','withdrawn')),
            updated_at TEXT NOT NULL
        );
        CREATE TABLE loans (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            item_barcode TEXT NOT NULL REFERENCES items(barcode),
            patron_id TEXT NOT NULL REFERENCES patrons(id),
            checked_out_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            returned_at TEXT,
            renewals INTEGER NOT NULL DEFAULT 0
        );
        -- The database itself refuses a second open loan of one item.
        CREATE UNIQUE INDEX loans_open_item ON loans(item_barcode) WHERE returned_at IS NULL;
        CREATE INDEX loans_open_patron ON loans(patron_id) WHERE returned_at IS NULL;
        CREATE INDEX loans_checked_out ON loans(checked_out_at);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            at TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            patron_id TEXT,
            item_barcode TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_at ON events(at);
        -- Events are the audit trail: never changed, never deleted.
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
        """
    )


@migrations(name="m002_rules_calendar")
def m002_rules_calendar(db: Database) -> None:
    """Keep loan rules and the term calendar in the store, so librarian and hub can edit them."""
    db.executescript(
        """
        CREATE TABLE rules (
            scope TEXT PRIMARY KEY,  -- 'role:student' or 'grade:1'
            loan_days INTEGER,
            max_loans INTEGER,
            renewals INTEGER
        );
        CREATE TABLE policy (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL       -- JSON
        );
        CREATE TABLE closed_days (
            day TEXT PRIMARY KEY,
            note TEXT NOT NULL DEFAULT ''
        );
        """
    )


@migrations(name="m003_outbox")
def m003_outbox(db: Database) -> None:
    """Track which events the hub has acknowledged, apart from the immutable events."""
    db.executescript(
        """
        CREATE TABLE event_acks (
            seq INTEGER PRIMARY KEY REFERENCES events(seq),
            acked_at TEXT NOT NULL
        );
        """
    )


@migrations(name="m004_card_numbers")
def m004_card_numbers(db: Database) -> None:
    """Keep the decimal printed on an RFID card beside its hex UID, so either form finds it."""
    db.execute("ALTER TABLE cards ADD COLUMN number TEXT")
    # UIDs typed in lower case become the canonical upper case that readers deliver.
    db.execute(
        f"UPDATE OR IGNORE cards SET code = upper(code) "
        f"WHERE {SQL_IS_UID.format(c='code')} AND code != upper(code)"
    )
    db.execute(
        f"UPDATE cards SET number = {SQL_NUMBER.format(c='code')} "
        f"WHERE {SQL_IS_UID.format(c='code')}"
    )
    db.execute("CREATE INDEX cards_number ON cards(number)")
    # Writers that do not know about numbers (a replacement card, a hub update) still get one.
    uid, num = SQL_IS_UID.format(c="NEW.code"), SQL_NUMBER.format(c="NEW.code")
    db.execute(
        "CREATE TRIGGER cards_number_insert AFTER INSERT ON cards "
        f"WHEN NEW.number IS NULL AND {uid} "
        f"BEGIN UPDATE cards SET number = {num} WHERE code = NEW.code; END"
    )
    db.execute(
        "CREATE TRIGGER cards_number_update AFTER UPDATE OF code ON cards "
        "WHEN NEW.code IS NOT OLD.code "
        f"BEGIN UPDATE cards SET number = CASE WHEN {uid} THEN {num} END "
        "WHERE code = NEW.code; END"
    )


@migrations(name="m005_rules_version")
def m005_rules_version(db: Database) -> None:
    """Count changes to rules and calendar, so readers can keep the rules until they change.

    Triggers, not the writers, bump it: the librarian's forms, the hub's feed and a person with
    the sqlite3 shell all change these tables, and every checkout must see the change.
    """
    db.executescript(
        """
        CREATE TABLE rules_version (n INTEGER NOT NULL);
        INSERT INTO rules_version VALUES (0);
        """
    )
    for table in ("rules", "policy", "closed_days"):
        for op in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_{op.lower()}_version AFTER {op} ON {table} "
                "BEGIN UPDATE rules_version SET n = n + 1; END"
            )


@migrations(name="m006_reports")
def m006_reports(db: Database) -> None:
    """Add what the librarian's reports need: when a book came, printed notices, index paths.

    `items.added_at` is filled by a trigger for writers that do not know it (the hub's feed, an
    import, the sqlite3 shell), like `cards.number`. The indexes cover the reports' scans of a
    term's loans (time, patron, item) and a student's whole record, so neither reads the table.
    """
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN added_at TEXT;
        UPDATE items SET added_at = updated_at;
        CREATE TRIGGER items_added_at AFTER INSERT ON items WHEN NEW.added_at IS NULL
            BEGIN UPDATE items SET added_at = NEW.updated_at WHERE barcode = NEW.barcode; END;
        CREATE INDEX items_added ON items(added_at);
        CREATE INDEX loans_period ON loans(checked_out_at, patron_id, item_barcode);
        CREATE INDEX loans_patron_history ON loans(patron_id, checked_out_at);
        CREATE TABLE notices (
            event_uuid TEXT PRIMARY KEY,
            patron_id TEXT NOT NULL,
            printed_at TEXT NOT NULL,
            level INTEGER NOT NULL,
            books INTEGER NOT NULL,
            actor TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX notices_patron ON notices(patron_id, printed_at);
        CREATE TABLE report_texts (
            key TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE catalogue_version (patrons INTEGER NOT NULL, items INTEGER NOT NULL);
        INSERT INTO catalogue_version VALUES (0, 0);
        """
    )
    # Triggers count the changes that reports show (names, classes, cards, titles, call numbers)
    # whoever makes them, so the reports keep the roll and the catalogue in memory until then.
    # A checkout, which changes only an item's status, leaves them alone.
    watched = {
        "patrons": ("patrons", "name, role, grade, class_name, status"),
        "cards": ("patrons", "patron_id, status"),
        "items": ("items", "title, author, call_number"),
    }
    for table, (counter, columns) in watched.items():
        for op in ("INSERT", "DELETE", f"UPDATE OF {columns}"):
            name = f"{table}_{op.split()[0].lower()}_catalogue"
            db.execute(
                f"CREATE TRIGGER {name} AFTER {op} ON {table} "
                f"BEGIN UPDATE catalogue_version SET {counter} = {counter} + 1; END"
            )


@migrations(name="m014_marc_records")
def m014_marc_records(db: Database) -> None:
    """Keep the MARC records a librarian loads, by ISBN, so the desk can catalogue new copies."""
    db.execute(
        """
        CREATE TABLE marc_records (
            isbn TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            call_number TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            loaded_at TEXT NOT NULL
        )
        """
    )


KNOWN = [m.name for m in migrations._migrations]
