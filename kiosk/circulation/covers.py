"""A book's cover: a photo the librarian takes with a phone, scaled down and kept on the kiosk.

The picture is master data like the title, but a photo (a few tens of KB once scaled) does not
belong in the event log, which every sync sends on and every replay reads. So the file goes
into the covers folder beside the database, named by the SHA-256 of its bytes (written before
the event, the same bytes always get the same name, so a retry or a second copy of the same
photo writes nothing new), and the `item_cover_set` event records which file is the book's
cover; its projection (projections/master.py) is the only writer of `items.cover`. Nothing
is fetched from outside.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sqlite3
import warnings
from dataclasses import dataclass
from pathlib import Path

from kiosk.circulation.commands import SetCover
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import handle
from kiosk.circulation.store import Event, Store
from kiosk.i18n import N_

MAX_BYTES = 15 * 1024 * 1024  # a phone's photo is 2-8 MB
MAX_PIXELS = 50_000_000  # more than any phone's camera; a bigger "image" is a decompression bomb
SIZE = (360, 480)  # the largest a cover is kept: twice what any page shows
NAME = re.compile(r"^[0-9a-f]{64}\.jpg$")
REFUSALS = {
    "no_file": N_("Choose a photo of the cover first."),
    "too_big": N_("That file is too big for a cover (at most 15 MB)."),
    "not_an_image": N_("That file is not a photo: choose a JPEG or PNG picture."),
    "unknown_item": N_("There is no book with that barcode."),
}


@dataclass(frozen=True)
class Cover:
    """A cover made smaller, ready to keep: its JPEG bytes and size."""

    data: bytes
    width: int
    height: int

    @property
    def name(self) -> str:
        """Return the file's name: the SHA-256 of its bytes."""
        return hashlib.sha256(self.data).hexdigest() + ".jpg"


def folder(store: Store) -> Path:
    """Return the folder the covers are kept in: `covers/` beside the database file."""
    return folder_beside(Path(store.path))


def folder_beside(db: Path) -> Path:
    """Return the covers folder that belongs with a database or backup file."""
    return db.parent / "covers"


def names_in(db: Path) -> set[str]:
    """Return the covers a store or backup file names; raise sqlite3.Error if it is no database."""
    # immutable: a look must not leave -wal/-shm files beside a backup (they never change).
    conn = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(items)")}
        if "cover" not in columns:
            return set()  # a store from before covers
        rows = conn.execute("SELECT DISTINCT cover FROM items WHERE cover IS NOT NULL")
        # Only a cover's own name: a crafted backup must not name a path elsewhere.
        return {r[0] for r in rows if isinstance(r[0], str) and NAME.match(r[0])}
    finally:
        conn.close()


def is_whole(name: str, data: bytes) -> bool:
    """Return whether a cover file's bytes are the ones its name was made from."""
    return hashlib.sha256(data).hexdigest() + ".jpg" == name


def scaled(upload: bytes) -> Cover | Refusal:
    """Check that the upload is a picture and make it a small JPEG, the right way up."""
    if not upload:
        return Refusal("no_file")
    if len(upload) > MAX_BYTES:
        return Refusal("too_big")
    # Pillow is loaded when a photo comes, not in every process that imports this (2.6 MB).
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    return Refusal("not_an_image")
                probe.verify()  # a truncated or broken file stops here
            with Image.open(io.BytesIO(upload)) as image:
                # A phone stores which way up it was held; the cover is shown as it was seen.
                upright = ImageOps.exif_transpose(image).convert("RGB")
        upright.thumbnail(SIZE)
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=80, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return Refusal("not_an_image")
    except Image.DecompressionBombWarning:
        return Refusal("not_an_image")
    return Cover(out.getvalue(), upright.width, upright.height)


def set_cover(store: Store, barcode: str, upload: bytes, actor: str) -> Event | Refusal:
    """Make the upload the book's cover: keep the scaled file, then record the event."""
    if store.value("SELECT count(*) FROM items WHERE barcode = ?", [barcode]) == 0:
        return Refusal("unknown_item")
    cover = scaled(upload)
    if isinstance(cover, Refusal):
        return cover
    where = folder(store)
    where.mkdir(parents=True, exist_ok=True)
    path = where / cover.name
    if not path.exists():
        # Written whole before it is named, so a page never reads half a file.
        part = path.with_suffix(".part")
        part.write_bytes(cover.data)
        os.replace(part, path)
    done = handle(store, SetCover(barcode, cover.name, cover.width, cover.height, actor))
    return done.refusal if done.refusal is not None else done.event


def path_of(store: Store, name: str) -> Path | None:
    """Return the file of a cover by its name, or None for a name that is not a cover's."""
    if not NAME.match(name):
        return None
    path = folder(store) / name
    return path if path.is_file() else None
