"""Real MARC files nobody here wrote (pymarc's and marc4j's test data): every readable record in.

Counts are checked against pymarc's own reading of the same file; titles, authors and ISBNs on
spot checks. The files and their sources are listed in tests/data/real/README.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pymarc
import pytest
from click.testing import CliRunner

from kiosk.circulation.importers import import_file
from kiosk.circulation.store import Store
from kiosk.cli import main

REAL = Path(__file__).parent.parent / "data" / "real"
MARC_FILES = sorted(p.name for p in REAL.iterdir() if p.suffix in (".mrc", ".dat", ".xml"))
NOT_MARC = {"marc4j-modsoutput.xml"}
PYMARC_REFUSES = {"pymarc-bad_tag.xml"}  # a leader of 17 characters: see its own test
MOJIBAKE = ("\ufffd", "Ð", "Ñ", "Ã", "â€")


def pymarc_reading(path: Path) -> tuple[list[pymarc.Record], int]:
    """Return the records pymarc reads in a file and how many it cannot read."""
    if path.suffix == ".xml":
        return pymarc.parse_xml_to_array(str(path)), 0
    good: list[pymarc.Record] = []
    bad = 0
    with path.open("rb") as f:
        reader = pymarc.MARCReader(f, permissive=True, hide_utf8_warnings=True)
        for record in reader:
            if record is not None:
                good.append(record)
            elif (reader.current_chunk or b"").strip():  # not the line break after the last
                bad += 1
    return good, bad


def stored_calls(db: Path, source: str) -> dict[str, str]:
    store = Store.open(db, kiosk_id="t")
    try:
        rows = store.reader.execute(
            "SELECT isbn, call_number FROM marc_records WHERE source = ?", [source]
        )
        return {r[0]: r[1] for r in rows}
    finally:
        store.close()


def stored(store: Store, source: str) -> dict[str, tuple[str, str]]:
    rows = store.reader.execute(
        "SELECT isbn, title, author FROM marc_records WHERE source = ?", [source]
    )
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.mark.parametrize("name", sorted(set(MARC_FILES) - NOT_MARC - PYMARC_REFUSES))
def test_every_readable_record_comes_in_and_every_unreadable_one_is_named(
    store: Store, tmp_path: Path, name: str
) -> None:
    path = REAL / name
    good, bad = pymarc_reading(path)
    books = [r for r in good if r.leader[6] not in "uvxy"]  # holdings records are not books
    report = import_file(store, "records", path, rejects=tmp_path / ("rejects-" + name))
    # Each record pymarc reads comes in; each it cannot read is named, and nothing else is.
    assert report.records == len(good) + bad
    assert len(report.errors) == bad, [e.text("en") for e in report.errors]
    holdings = [w for w in report.warnings if w.text("en").startswith("a holdings record")]
    assert len(holdings) == unattached_holdings(good)
    # Every book gives at least one row (one per ISBN), and every row is written.
    assert report.rows >= len(books)
    assert report.inserted + report.updated + report.unchanged == report.rows
    for title, author in stored(store, name).values():
        assert title and not any(m in title + author for m in MOJIBAKE), (title, author)
    rejects = report.rejects_file
    assert (report.rejected, bool(rejects) and Path(rejects).exists()) == (bad, bad > 0)


def unattached_holdings(records: list[pymarc.Record]) -> int:
    """Return how many holdings records do not follow their book (by 004 = the book's 001)."""
    book, alone = "", 0
    for record in records:
        if record.leader[6] in "uvxy":
            alone += record.get("004") is None or record["004"].data.strip() != book
        else:
            book = record["001"].data.strip() if record.get("001") else ""
    return alone


def test_spot_checks_titles_authors_and_isbns(store: Store) -> None:
    for name in ("pymarc-marc.dat", "pymarc-multi_isbn.dat", "pymarc-testunimarc.dat"):
        assert import_file(store, "records", REAL / name, name=name).ok
    marc = stored(store, "pymarc-marc.dat")
    assert marc["9780201616224"] == (
        "The pragmatic programmer : from journeyman to master",
        "Hunt, Andrew",
    )
    assert marc["9780596000851"] == ("Programming Python", "Lutz, Mark")
    # Several ISBNs: the desk finds the book by each of them.
    assert stored(store, "pymarc-multi_isbn.dat") == {
        isbn: ("The town scold", "Johnson, Judith Emlyn")
        for isbn in ("9780914378280", "9780914378297", "9780914378266")
    }
    # UNIMARC: 200$a with NSB/NSE around "L'" (taken out, the words kept), 010$a as ISBN-13.
    assert stored(store, "pymarc-testunimarc.dat") == {
        "9788804406822": ("L'altra faccia della spirale", "Isaac Asimov")
    }


def test_unimarc_author_from_7xx_a_and_b(store: Store, tmp_path: Path) -> None:
    with (REAL / "pymarc-testunimarc.dat").open("rb") as f:
        record = next(iter(pymarc.MARCReader(f, hide_utf8_warnings=True, force_utf8=True)))
    record["200"].delete_subfield("f")  # no statement of responsibility: the 700 is the author
    path = tmp_path / "asimov.mrc"
    path.write_bytes(record.as_marc())
    assert import_file(store, "records", path).ok
    assert stored(store, "asimov.mrc")["9788804406822"] == (
        "L'altra faccia della spirale",
        "Asimov, Isaac",
    )


def test_windows_1251_with_a_blank_leader_is_not_stored_as_mojibake(store: Store) -> None:
    path = REAL / "pymarc-1251.dat"
    report = import_file(store, "records", path)
    assert report.ok and report.encoding == "MARC: CP1251"
    assert [(w.row, w.text("en")) for w in report.warnings] == [
        (
            1,
            "the records' text read wrongly as MARC-8; they read cleanly as CP1251 and were "
            "read so (from this record on); if that is wrong, name the encoding with --encoding",
        )
    ]
    with path.open("rb") as f:
        theirs = list(pymarc.MARCReader(f, file_encoding="cp1251"))
    ours = stored(store, "pymarc-1251.dat")
    assert len(ours) == len(theirs) == 6
    first = theirs[0]
    isbn = "9785930933420"
    assert ours[isbn][1] == "Ильина, Татьяна Николаевна"
    assert ours[isbn][0].startswith(first["245"]["a"].rstrip(" /:"))


def cli_on_copy(tmp_path: Path, real: str, name: str) -> tuple[CliRunner, Path, Path]:
    """Return an English CLI, a config with a store in tmp_path, and a copy of a real file."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
    path = tmp_path / name
    shutil.copy(REAL / real, path)
    return CliRunner(env={"KIOSK_LANG": "en"}), config, path


def test_a_record_that_reads_in_no_encoding_is_named_with_encoding_option(
    store: Store, tmp_path: Path
) -> None:
    # marc4j's sample1.mrc: record 7 says UTF-8 (leader/09 a) but holds broken bytes.
    runner, config, path = cli_on_copy(tmp_path, "marc4j-sample1.mrc", "sample1.mrc")
    result = runner.invoke(main, ["--config", str(config), "import", "records", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}: record 7: the record's text does not read as UTF-8 (its declared or usual "
        "encoding) nor as UTF-8, GB18030, CP1251 or Latin-1; name the file's encoding with "
        "--encoding"
    ) in result.output
    assert "1 bad row, nothing imported" in result.output and "bad rows" not in result.output
    # Its holdings records are not books without a title: three give their book a call number,
    # one (of the unreadable record 7) is named.
    assert result.output.count("a holdings record (of record 370") == 1
    assert f"{path}: record 8: a holdings record (of record 370636)" in result.output
    rejects = tmp_path / "fix.mrc"
    args = ["--config", str(config), "import", "records", str(path), "--rejects", str(rejects)]
    result = runner.invoke(main, args)
    assert result.exit_code == 3
    assert result.output.strip().splitlines()[-1] == (
        "MARC records: 4 rows read (MARC: UTF-8): 4 new, 0 updated, 0 unchanged; from 8 MARC "
        "records; 1 record without copies, or holdings record, left out (listed above); 1 bad "
        f"row or record left out, written to {rejects} to fix and import again"
    )
    # The holdings record's 852 $h $i is the call number of a book that has none of its own.
    assert stored_calls(config.parent / "kiosk.db", "sample1.mrc")["9780198162063"] == (
        "MT130.M25 Z93 2000"
    )


def test_unreadable_records_go_to_a_rejects_file_byte_for_byte(
    store: Store, tmp_path: Path
) -> None:
    runner, config, path = cli_on_copy(tmp_path, "pymarc-bad_records.mrc", "bad_records.mrc")
    base = ["--config", str(config), "import", "records", str(path)]
    result = runner.invoke(main, base)
    assert result.exit_code == 1 and "6 bad rows, nothing imported" in result.output
    assert [f"record {n}:" in result.output for n in range(2, 8)] == [True] * 6
    rejects = tmp_path / "bad.mrc"
    result = runner.invoke(main, [*base, "--rejects", str(rejects)])
    assert result.exit_code == 3, result.output
    assert result.output.strip().splitlines()[-1] == (
        "MARC records: 2 rows read (MARC: UTF-8): 1 new, 0 updated, 1 unchanged; from 8 MARC "
        f"records; 6 bad rows or records left out, written to {rejects} to fix and import again"
    )
    # The rejects file holds the six records byte for byte, in the file's order.
    chunks = path.read_bytes().split(b"\x1d")
    assert rejects.read_bytes() == b"\x1d".join(chunks[1:7]) + b"\x1d"
    good, bad = pymarc_reading(rejects)
    assert (len(good), bad) == (0, 6)


def test_a_mods_file_is_not_marc_and_says_so(tmp_path: Path) -> None:
    runner, config, path = cli_on_copy(tmp_path, "marc4j-modsoutput.xml", "mods.xml")
    for kind in ("items", "records"):
        result = runner.invoke(main, ["--config", str(config), "import", kind, str(path)])
        assert result.exit_code == 1
        assert (
            f"{path}: row 1: the file is XML but not MARCXML "
            "(its first element is <modsCollection>)"
        ) in result.output


def test_a_marcxml_record_without_a_title_goes_to_a_marcxml_rejects_file(
    store: Store, tmp_path: Path
) -> None:
    # marc4j's chabon.xml with the first record's 245 taken out: a record with no title at all.
    text = (REAL / "marc4j-chabon.xml").read_text(encoding="utf-8")
    start = text.index('<datafield tag="245"')
    end = text.index("</datafield>", start) + len("</datafield>")
    path = tmp_path / "chabon.xml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    rejects = tmp_path / "rejects.xml"
    report = import_file(store, "records", path, rejects=rejects)
    assert [(e.row, e.text("en")) for e in report.errors] == [
        (1, "the record has no title (245$a and the other title fields are empty)")
    ]
    assert report.inserted == 2 and report.rejected == 1  # the second record's two ISBNs
    back = pymarc.parse_xml_to_array(str(rejects))
    assert [r["001"].data for r in back] == [pymarc.parse_xml_to_array(str(path))[0]["001"].data]
    assert back[0].get("245") is None and back[0]["100"]["a"] == "Chabon, Michael."


def test_a_marcxml_record_with_a_short_leader_and_odd_tags_comes_in(store: Store) -> None:
    path = REAL / "pymarc-bad_tag.xml"
    with pytest.raises(pymarc.exceptions.RecordLeaderInvalid):
        pymarc.parse_xml_to_array(str(path))  # pymarc refuses the whole file
    report = import_file(store, "records", path)
    assert report.ok and (report.records, report.inserted) == (1, 1)
    assert list(stored(store, "pymarc-bad_tag.xml").values()) == [("The Untamed", "Brand, Max")]


def test_an_empty_marc_file_says_so(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "empty.mrc"
    path.write_bytes(b"")
    report = import_file(store, "items", path)
    assert [(e.row, e.text("en")) for e in report.errors] == [
        (1, "the file holds no MARC records (it is empty)")
    ]
