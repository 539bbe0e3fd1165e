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


@migrations(name="m015_collection")
def m015_collection(db: Database) -> None:
    """Stocktakes, lost and damaged books, withdrawals and holds: the collection's year.

    Each table is written only by the projections in circulation/projections/collection.py.
    """
    db.executescript(
        """
        ALTER TABLE loans ADD COLUMN closed_as TEXT;  -- NULL: returned; 'lost', 'damaged'
        CREATE TABLE stocktakes (
            id TEXT PRIMARY KEY,
            location TEXT NOT NULL DEFAULT '',
            call_from TEXT NOT NULL DEFAULT '',
            call_to TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','paused','finished')),
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL DEFAULT '',
            finished_at TEXT,
            -- A second start of the same scope elsewhere joins the first (see the projection).
            joined_to TEXT REFERENCES stocktakes(id)
        );
        CREATE TABLE stocktake_scans (
            stocktake_id TEXT NOT NULL REFERENCES stocktakes(id),
            barcode TEXT NOT NULL,
            first_at TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            PRIMARY KEY (stocktake_id, barcode)
        ) WITHOUT ROWID;
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,             -- the uuid of the event that opened it
            kind TEXT NOT NULL CHECK (kind IN ('lost','damaged')),
            item_barcode TEXT NOT NULL,
            patron_id TEXT,
            loan_uuid TEXT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            compensation TEXT CHECK (compensation IN ('money','replacement','waived')),
            amount TEXT NOT NULL DEFAULT '',
            compensation_by TEXT,
            compensation_at TEXT,
            repair_started_at TEXT,
            resolved_as TEXT CHECK (resolved_as IN ('found','repaired','withdrawn')),
            resolved_at TEXT,
            resolved_by TEXT                 -- who, or 'self-service' for a kiosk scan
        );
        CREATE INDEX incidents_item ON incidents(item_barcode);
        CREATE TABLE withdrawals (
            item_barcode TEXT PRIMARY KEY,
            reason TEXT NOT NULL CHECK (reason IN ('worn','outdated','surplus','lost','damaged')),
            at TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE holds (
            id TEXT PRIMARY KEY,
            item_barcode TEXT NOT NULL,
            patron_id TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'waiting'
                CHECK (status IN ('waiting','ready','fulfilled','expired','cancelled')),
            ready_at TEXT,
            expires_on TEXT,
            closed_at TEXT
        );
        CREATE INDEX holds_item ON holds(item_barcode) WHERE status IN ('waiting','ready');
        CREATE INDEX holds_patron ON holds(patron_id) WHERE status = 'ready';
        -- A class book corner's loans: the class borrows, a teacher or helper is responsible
        -- (the loan's patron); returned like any loan, by scanning the books at the desk.
        CREATE TABLE corner_loans (
            loan_uuid TEXT PRIMARY KEY,
            class_name TEXT NOT NULL,
            batch TEXT NOT NULL
        );
        CREATE INDEX corner_loans_class ON corner_loans(class_name);
        -- Holiday loans per grade: a loan that would run past the end of term is due on this
        -- day instead (the first days of the next term), for the grades listed here.
        CREATE TABLE holiday_loans (
            grade INTEGER PRIMARY KEY,
            due_on TEXT NOT NULL
        );
        """
    )
    # They are rules: the service keeps the rules until rules_version moves (m005).
    for op in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER holiday_loans_{op.lower()}_version AFTER {op} ON holiday_loans "
            "BEGIN UPDATE rules_version SET n = n + 1; END"
        )


@migrations(name="m021_import_mapping")
def m021_import_mapping(db: Database) -> None:
    """Remember how the librarian mapped a file's columns, by its set of headers and kind."""
    db.execute(
        """
        CREATE TABLE import_mappings (
            kind TEXT NOT NULL,
            header TEXT NOT NULL,
            columns TEXT NOT NULL,
            saved_at TEXT NOT NULL,
            PRIMARY KEY (kind, header)
        )
        """
    )


@migrations(name="m022_sip2")
def m022_sip2(db: Database) -> None:
    """The SIP2 self-check's own tables: cards the library system accepted, the offline queue.

    Written only by circulation/sip2_queue.py, in the transaction of the event they are about.
    """
    db.executescript(
        """
        CREATE TABLE sip2_cards (
            patron_id TEXT PRIMARY KEY,
            accepted_at TEXT NOT NULL        -- the last time the library system said yes
        );
        -- Transactions taken while the library system did not answer, sent in seq order.
        CREATE TABLE sip2_queue (
            event_uuid TEXT PRIMARY KEY,     -- the checkout or checkin event in `events`
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('checkout','checkin')),
            patron_id TEXT,
            item_barcode TEXT NOT NULL,
            at TEXT NOT NULL,                -- when it happened: sent as the transaction date
            due_at TEXT,
            state TEXT NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting','sending','sent','refused')),
            answer TEXT NOT NULL DEFAULT '', -- the library system's words for a refusal
            done_at TEXT
        );
        CREATE INDEX sip2_queue_open ON sip2_queue(seq) WHERE state IN ('waiting','sending');
        -- The link as the running kiosk last saw it, for `kiosk status` in another process.
        CREATE TABLE sip2_link (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            online INTEGER NOT NULL,
            offline_since TEXT,
            last_error TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        """
    )


@migrations(name="m018_trust")
def m018_trust(db: Database) -> None:
    """Remember which kiosk placed each hold and started each stocktake (the hub's trust)."""
    # A kiosk may name only its own holds and stocktakes at the hub (kiosk/sync/trust.py).
    db.executescript(
        """
        ALTER TABLE holds ADD COLUMN kiosk_id TEXT;
        ALTER TABLE stocktakes ADD COLUMN kiosk_id TEXT;
        UPDATE holds SET kiosk_id = (SELECT e.kiosk_id FROM events e
            WHERE e.type = 'hold_placed' AND json_extract(e.data, '$.hold') = holds.id LIMIT 1);
        UPDATE stocktakes SET kiosk_id = (SELECT e.kiosk_id FROM events e
            WHERE e.type = 'stocktake_started'
            AND json_extract(e.data, '$.stocktake') = stocktakes.id LIMIT 1);
        """
    )


@migrations(name="m019_import_journal")
def m019_import_journal(db: Database) -> None:
    """Journal an import's writes, so a killed import is undone (or finished) at the next start.

    Each batch of an import writes its rows and, in the same transaction, what each row was
    before (`import_journal`); `import_runs` says whether the import reached its end ('done').
    See circulation/importers/journal.py.
    """
    db.executescript(
        """
        CREATE TABLE import_runs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            file TEXT NOT NULL DEFAULT '',
            started_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'writing' CHECK (state IN ('writing','done'))
        );
        CREATE TABLE import_journal (
            seq INTEGER PRIMARY KEY,
            import_id TEXT NOT NULL,
            entry TEXT NOT NULL
        );
        """
    )


@migrations(name="m025_reading")
def m025_reading(db: Database) -> None:
    """Recommended reading lists (per grade and term, or ad hoc) and their titles."""
    db.executescript(
        """
        CREATE TABLE reading_lists (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            grade INTEGER,
            term TEXT NOT NULL DEFAULT '',
            target INTEGER NOT NULL DEFAULT 0,
            saved_at TEXT NOT NULL
        );
        CREATE INDEX reading_lists_grade ON reading_lists(grade, saved_at);
        -- A title is its ISBN when it has one, else its title as written (title_key).
        CREATE TABLE reading_list_titles (
            list_id TEXT NOT NULL REFERENCES reading_lists(id) ON DELETE CASCADE,
            title_key TEXT NOT NULL,
            title TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            isbn TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL,
            PRIMARY KEY (list_id, title_key)
        );
        -- A list title's copies, looked up by its ISBN or, without one, by its title.
        CREATE INDEX reading_items_isbn ON items(isbn);
        CREATE INDEX reading_items_title ON items(title);
        """
    )


@migrations(name="m027_covers")
def m027_covers(db: Database) -> None:
    """A book's cover photo and the library map that the kiosk's search shows.

    `items.cover`: the file's name in the covers folder (kiosk/circulation/covers.py).
    `shelf_boxes`: the shelves the librarian drew on a grid, each with the 中图法 classes it
    holds (kiosk/circulation/shelfmap.py); written only by the `library_map_set` projection.
    """
    db.execute("ALTER TABLE items ADD COLUMN cover TEXT")
    db.execute(
        "CREATE TABLE shelf_boxes (name TEXT PRIMARY KEY, row INTEGER NOT NULL, "
        "col INTEGER NOT NULL, classes TEXT NOT NULL, UNIQUE (row, col))"
    )


@migrations(name="m030_stars")
def m030_stars(db: Database) -> None:
    """The reading stars' rules the librarian saved: a period (a month or a festival's dates)
    and what makes a star (books read, titles of the grade's list, the top of each class)."""
    db.execute(
        "CREATE TABLE star_rules (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "first_day TEXT NOT NULL, last_day TEXT NOT NULL, min_books INTEGER NOT NULL, "
        "min_list INTEGER NOT NULL, top INTEGER NOT NULL, saved_at TEXT NOT NULL)"
    )


@migrations(name="m031_donations")
def m031_donations(db: Database) -> None:
    """Donated books with their donors, and book drifting (图书漂流): who has a drifting book.

    `items.donor`: the donor's name as the catalogue shows it ("捐赠：王小明"); `items.drifting`:
    1 while the book drifts (it belongs to no shelf and has no due date). `drift_hands`: one row
    per child who took a drifting book, open (`ended_at` NULL) while they have it. Written only
    by the projections of circulation/projections/donations.py.
    """
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN donor TEXT NOT NULL DEFAULT '';
        ALTER TABLE items ADD COLUMN drifting INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE donations (
            id TEXT PRIMARY KEY,
            donor_kind TEXT NOT NULL
                CHECK (donor_kind IN ('child','class','parent','organisation')),
            donor_name TEXT NOT NULL,
            patron_id TEXT,
            class_name TEXT NOT NULL DEFAULT '',
            donated_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX donations_on ON donations(donated_on);
        CREATE TABLE donation_books (
            donation_id TEXT NOT NULL REFERENCES donations(id),
            item_barcode TEXT NOT NULL,
            title TEXT NOT NULL,
            PRIMARY KEY (donation_id, item_barcode)
        );
        CREATE TABLE drift_hands (
            uuid TEXT PRIMARY KEY,
            item_barcode TEXT NOT NULL,
            patron_id TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX drift_hands_item ON drift_hands(item_barcode, ended_at);
        CREATE INDEX drift_hands_patron ON drift_hands(patron_id, ended_at);
        """
    )


@migrations(name="m028_item_types")
def m028_item_types(db: Database) -> None:
    """Item types with their own loan rules, and each item's type.

    A type is a rules row `type:<key>` (so it bumps rules_version and reaches the kiosks with
    the rules): `name` is the librarian's name for a type she made (the built-in ones are named
    by the catalogs), `lendable` 0 for reference books read in the library only. A type's empty
    loan days or renewals mean the role's; an empty most-at-once means no limit of its own.
    """
    db.execute("ALTER TABLE rules ADD COLUMN name TEXT")
    db.execute("ALTER TABLE rules ADD COLUMN lendable INTEGER")
    db.execute("ALTER TABLE items ADD COLUMN item_type TEXT NOT NULL DEFAULT 'book'")


@migrations(name="m029_badges")
def m029_badges(db: Database) -> None:
    """A child's reading badges, one per milestone and term (docs/reading.md, "Badges").

    Written only by the `badge_awarded` projection (circulation/projections/reading.py).
    """
    db.execute(
        "CREATE TABLE badges (patron_id TEXT NOT NULL REFERENCES patrons(id), "
        "badge TEXT NOT NULL, term TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0, "
        "awarded_at TEXT NOT NULL, PRIMARY KEY (patron_id, badge, term))"
    )


@migrations(name="m035_title_search")
def m035_title_search(db: Database) -> None:
    """Each title's spelling for the search, worked out once when it is catalogued.

    One row per title and author (stats/find.py): the entry searched (title and author in lower
    case, their pinyin and initials), the same with letters only, and the title's pinyin as its
    place in a dictionary's order. Triggers add a row, unspelled (NULL), for every new title
    and author whoever writes the item; `find.spell` fills it in (the only writer of the
    spelling, a read model of `items` like `catalogue_version`). The titles already catalogued
    are spelled here, once (pypinyin, a few seconds for 50,000 titles).
    """
    db.executescript(
        """
        CREATE TABLE title_search (
            title TEXT NOT NULL,
            author TEXT NOT NULL,
            sort_key TEXT,
            spelled TEXT,
            letters TEXT,
            PRIMARY KEY (title, author)
        ) WITHOUT ROWID;
        -- A search walks one of these in a dictionary's order and stops at a page's titles.
        CREATE INDEX title_search_letters ON title_search(sort_key, title, author, letters);
        CREATE INDEX title_search_spelled ON title_search(sort_key, title, author, spelled);
        CREATE INDEX title_search_unspelled ON title_search(title, author)
            WHERE spelled IS NULL;
        INSERT OR IGNORE INTO title_search (title, author) SELECT title, author FROM items;
        -- A title's copies, and its lowest call number (its shelf), without a sort.
        CREATE INDEX items_title_author ON items(title, author, call_number);
        -- Not INSERT OR IGNORE: an outer upsert (`item_saved`) would override the IGNORE.
        CREATE TRIGGER items_insert_title_search AFTER INSERT ON items BEGIN
            INSERT INTO title_search (title, author) SELECT NEW.title, NEW.author
            WHERE NOT EXISTS (SELECT 1 FROM title_search
                              WHERE title = NEW.title AND author = NEW.author);
        END;
        CREATE TRIGGER items_update_title_search AFTER UPDATE OF title, author ON items BEGIN
            INSERT INTO title_search (title, author) SELECT NEW.title, NEW.author
            WHERE NOT EXISTS (SELECT 1 FROM title_search
                              WHERE title = NEW.title AND author = NEW.author);
        END;
        """
    )
    rows = db.execute("SELECT title, author FROM title_search").fetchall()
    if rows:
        from kiosk.circulation import spelling  # pypinyin only for a catalogue to upgrade

        known: dict[str, tuple[str, str]] = {}
        db.conn.executemany(
            "UPDATE title_search SET sort_key = ?, spelled = ?, letters = ? "
            "WHERE title = ? AND author = ?",
            [(*spelling.entry(title, author, known), title, author) for title, author in rows],
        )


@migrations(name="m036_redundant_indexes")
def m036_redundant_indexes(db: Database) -> None:
    """Drop two indexes that another index's first column already serves.

    `loans_checked_out (checked_out_at)` is the start of `loans_period`, and `reading_items_title
    (title)` the start of `items_title_author`: every query that used them uses those as well,
    and each checkout or new book no longer writes a page for them.
    """
    db.executescript(
        """
        DROP INDEX IF EXISTS loans_checked_out;
        DROP INDEX IF EXISTS reading_items_title;
        """
    )


KNOWN = [m.name for m in migrations._migrations]
