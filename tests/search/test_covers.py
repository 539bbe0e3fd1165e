"""A cover upload on a real store: scaled and kept as a file, recorded as an event; a file that
is not a picture (or far too big) is refused and changes nothing."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image

from kiosk.circulation import covers
from kiosk.circulation.projector import Refusal
from kiosk.circulation.store import Store


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 10)).save(out, "JPEG")
    return out.getvalue()


def nothing_changed(store: Store) -> bool:
    events = store.value("SELECT count(*) FROM events WHERE type = 'item_cover_set'")
    kept = store.value("SELECT count(*) FROM items WHERE cover IS NOT NULL")
    return events == 0 and kept == 0 and not covers.folder(store).exists()


def test_a_photo_is_kept_small_and_the_same_photo_twice_is_one_file(store: Store) -> None:
    barcode = store.value("SELECT barcode FROM items ORDER BY barcode LIMIT 1")
    first = covers.set_cover(store, barcode, jpeg(1200, 1600), "librarian:x")
    again = covers.set_cover(store, barcode, jpeg(1200, 1600), "librarian:x")
    assert not isinstance(first, Refusal) and not isinstance(again, Refusal)
    assert first.data == again.data == {"cover": first.data["cover"], "width": 360, "height": 480}
    assert [p.name for p in covers.folder(store).iterdir()] == [first.data["cover"]]
    assert (
        store.value("SELECT cover FROM items WHERE barcode = ?", [barcode]) == first.data["cover"]
    )
    assert covers.path_of(store, first.data["cover"]) == covers.folder(store) / first.data["cover"]
    assert covers.path_of(store, "../kiosk.db") is None


def test_a_wide_png_keeps_its_shape(store: Store) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (1000, 500), (0, 0, 0, 0)).save(out, "PNG")
    cover = covers.scaled(out.getvalue())
    assert not isinstance(cover, Refusal) and (cover.width, cover.height) == (360, 180)


def test_what_is_not_a_photo_is_refused_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    barcode = store.value("SELECT barcode FROM items ORDER BY barcode LIMIT 1")
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")  # small as a file, 81 million pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's own bomb warning must not escape either
        cases = {
            b"": "no_file",
            b"GIF89a but not really": "not_an_image",
            jpeg(800, 600)[:2000]: "not_an_image",
            bomb.getvalue(): "not_an_image",
            b"\xff" * (covers.MAX_BYTES + 1): "too_big",
        }
        for upload, reason in cases.items():
            assert covers.set_cover(store, barcode, upload, "librarian:x") == Refusal(reason)
    assert covers.set_cover(store, "NO-SUCH-BOOK", jpeg(10, 10), "x") == Refusal("unknown_item")
    assert nothing_changed(store)
