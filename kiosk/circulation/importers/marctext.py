"""Find the text encoding of an ISO 2709 MARC record: check the declared one, never assume it.

A record says little about its encoding: leader/09 `a` means UTF-8 and blank means MARC-8 (MARC
21), UNIMARC says it in 100$a/26-27 (`50` is UTF-8), and Chinese suppliers send GBK whatever
either says. So the declared (or usual) encoding is tried first and its text is checked: bytes it
cannot decode, bytes MARC-8 does not define, diacritics with no letter after them (Windows-1251
read as MARC-8), private-use or rare characters (Cyrillic read as GB18030). When it reads wrongly,
UTF-8, GB18030, Windows-1251 and Latin-1 are tried, and charset-normalizer (already installed
with requests; it judges text by how "messy" it reads, which works on a record's few hundred
bytes, where a byte-frequency detector such as chardet guesses) picks the one that reads
cleanly; the report says so. When none does, the record is refused with the encoding named,
and `--encoding` reads the whole file in the one the librarian names.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass, field

from pymarc.marc8_mapping import CODESETS

from kiosk.errors import KioskError

ANSEL = 0x45  # MARC-8's default G1 set: Latin letters and combining diacritics
FALLBACKS = ("utf-8", "gb18030", "cp1251", "latin-1")
SHOWN = {
    "utf-8": "UTF-8",
    "gb18030": "GB18030",
    "cp1251": "CP1251",
    "latin-1": "Latin-1",
    "iso8859-1": "Latin-1",
}
# NSB/NSE (non-sorting begin/end), as UNIMARC and MARC write them: C1 controls, or ESC H / ESC I.
NON_SORTING = re.compile("[\x88\x89\x98\x9c]|\x1b[HI]")
_MARC8_BYTES = bytes(b for b in range(0x80, 0x100) if b in CODESETS[ANSEL]) + b"\x88\x89\x8d\x8e"
_NOT_MARC8 = re.compile(rb"[^\x00-\x7f" + re.escape(_MARC8_BYTES) + rb"]")
# A MARC-8 diacritic comes before its letter; before a blank or a stop it is another encoding.
_LONE_DIACRITIC = re.compile(rb"[\xe0-\xfe](?=[\x00-\x40\x5b-\x60\x7b-\x7f]|$)")
_HIGH = re.compile(rb"[\x80-\xff]")
_UNIMARC_TITLE = re.compile(rb"(?:.{12})*?200", re.S)  # a 200 tag in the directory
# Private use, CJK extension A, C1 controls and anything past the BMP: what other bytes become.
_NOT_CHINESE = re.compile("[\x80-\x9f\u3400-\u4dbf\ue000-\uf8ff\U00010000-\U0010ffff]")


def _skip_non_sorting(error: UnicodeError) -> tuple[str, int]:
    """Drop a raw NSB/NSE byte (0x88/0x89) that a UTF-8 record carries in ISO 5426's form."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    if bad and all(b in (0x88, 0x89) for b in bad):
        return "", error.end
    raise error


codecs.register_error("marc_non_sorting", _skip_non_sorting)
UTF8_HANDLING = "marc_non_sorting"


class EncodingProblem(KioskError, ValueError):
    """The record's text reads wrongly in its declared encoding and in every likely other one."""

    def __init__(self, declared: str) -> None:
        super().__init__(declared)
        self.declared = declared


@dataclass
class Guess:
    """What one file's records were read in: remembered, so its next records try it first."""

    found: str = ""  # the encoding found when the declared one read wrongly
    declared: str = ""
    switched_at: int = 0  # the first record read in `found`
    seen: dict[str, None] = field(default_factory=dict)


def record_encoding(chunk: bytes, guess: Guess, number: int) -> str:
    """Return the codec to read a record in ("marc-8", "utf-8", ...); raise EncodingProblem."""
    base = int(chunk[12:17]) if chunk[12:17].isdigit() else 24
    data = chunk[base:]
    if not _HIGH.search(data):
        # Plain ASCII reads the same in all of them; MARC-8 only if it switches character sets.
        return "marc-8" if b"\x1b" in data and not _unimarc(chunk, base) else "utf-8"
    if _reads(data, "utf-8"):
        return "utf-8"
    declared = _declared(chunk, data, chunk[9:10] != b"a" and _unimarc(chunk, base))
    if declared != "utf-8" and _plausible(data, declared):
        return declared
    if guess.found and _plausible(data, guess.found):
        return guess.found
    found = None if _broken_utf8(data) else _detect(data)
    if found is None:
        raise EncodingProblem(SHOWN.get(declared, declared.upper()))
    if not guess.found:
        guess.found, guess.declared, guess.switched_at = found, declared, number
    return found


def shown(codec: str) -> str:
    """Return an encoding's name as a librarian reads it."""
    return SHOWN.get(codec, "MARC-8" if codec == "marc-8" else codec.upper())


def strip_non_sorting(text: str) -> str:
    """Return text without NSB/NSE markers: the title is kept whole, as it is shown."""
    return NON_SORTING.sub("", text)


def _declared(chunk: bytes, data: bytes, unimarc: bool) -> str:
    """Return the encoding the record declares, or the usual one for its kind."""
    if chunk[9:10] == b"a":
        return "utf-8"
    if unimarc:
        # 100$a/26-27: 50 is UTF-8 (ISO 10646); Chinese suppliers' GBK records say 0120 or nothing.
        general = _field(chunk, b"100").split(b"\x1fa", 1)[-1]
        return "utf-8" if general[26:28] == b"50" else "gb18030"
    return "marc-8"


def _field(chunk: bytes, tag: bytes) -> bytes:
    """Return the bytes of the first field with this tag (b"" if there is none)."""
    base = int(chunk[12:17]) if chunk[12:17].isdigit() else 0
    found = _entry(tag).match(chunk[24 : base - 1])
    if found is None:
        return b""
    length, start = int(found[1]), int(found[2])
    return chunk[base + start : base + start + length]


@functools.lru_cache
def _entry(tag: bytes) -> re.Pattern[bytes]:
    """Return a pattern finding a tag's entry (tag, length, start) in a record's directory."""
    # Its 12-byte entries searched in C, not a Python loop per entry.
    return re.compile(rb"(?:.{12})*?" + re.escape(tag) + rb"(\d{4})(\d{5})", re.S)


def _unimarc(chunk: bytes, base: int) -> bool:
    """Return whether the record has a 200 field (title in UNIMARC)."""
    return _UNIMARC_TITLE.match(chunk, 24, max(base - 1, 24)) is not None


def _reads(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
        return True
    except UnicodeDecodeError as e:
        if codec != "utf-8" or data[e.start] not in (0x88, 0x89):
            return False  # the usual answer for another encoding, without the handler's cost
    try:
        data.decode(codec, UTF8_HANDLING)  # NSB/NSE as raw bytes, as ISO 5426 writes them
    except UnicodeDecodeError:
        return False
    return True


def _plausible(data: bytes, codec: str) -> bool:
    """Return whether the record's bytes read as sensible text in this encoding."""
    if codec == "marc-8":
        if b"\x1b" in data:
            return True  # it switches character sets, as only MARC-8 does (CJK, Cyrillic, Greek)
        return not _NOT_MARC8.search(data) and not _LONE_DIACRITIC.search(data)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return False
    if codec == "gb18030":
        return not _NOT_CHINESE.search(text)
    return True


def _broken_utf8(data: bytes) -> bool:
    """Return whether the bytes are UTF-8 with a few bad ones, not another encoding."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    return sum(ch > "\x7f" for ch in text) - bad > bad  # more good characters than bad bytes


def _detect(data: bytes) -> str | None:
    """Return the likely encoding that reads the record cleanly, or None."""
    # Separators and subfield codes are no text: glued to words ("aВойна") they read as mess.
    return likely_encoding(re.sub(rb"\x1f.|[\x1d\x1e]", b"\n", data))


def reads_as_chinese(text: str) -> bool:
    """Return whether text decoded as GB18030 holds none of what other bytes become."""
    return not _NOT_CHINESE.search(text)


def likely_encoding(text: bytes) -> str | None:
    """Return which of UTF-8, GB18030, CP1251 and Latin-1 reads these bytes cleanly, or None."""
    from charset_normalizer import from_bytes  # only text that reads wrongly pays for it

    for codec in FALLBACKS[:2]:
        if _plausible(text, codec):
            return codec
    best = from_bytes(text, cp_isolation=["cp1251", "latin_1"]).best()
    if best is None or best.chaos > 0.2:
        return None
    codec = "cp1251" if best.encoding == "cp1251" else "latin-1"
    return codec if _letters(text.decode(codec), codec) else None


def _letters(text: str, codec: str) -> bool:
    """Return whether nearly all non-ASCII characters are common letters of the script."""
    high = [ch for ch in text if ch > "\x7f"]
    if codec == "cp1251":  # Russian and Ukrainian letters, not the rarer ones 0x80-0xBF give
        letters = sum("\u0410" <= ch <= "\u044f" or ch in "ЁёІіЇїЄєҐґ" for ch in high)
    else:
        letters = sum("\u00c0" <= ch <= "\u00ff" and ch not in "×÷" for ch in high)
    return bool(high) and letters >= 0.9 * len(high)
