"""Translate user-facing text through the gettext catalogs in kiosk/locale (zh_CN and en).

Message ids are English source text with `{name}` placeholders. The catalogs are `.po` files, one
per area (core, devices, web, sync), read with Babel when first needed, so there is no compile step
to forget on an install. `make catalogs` adds new message ids; translate them in both languages.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parents[1] / "locale"
LANGUAGES = ("zh_CN", "en")


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it yet."""
    return message


# Stored locations shown in words: the main library is `library` in the store (imports map
# 图书馆 to it); a class corner's location is its own words already.
PLACES = {"library": N_("Library")}


def place(location: str, lang: str) -> str:
    """Return a stored location in the reader's words: library -> 图书馆."""
    return translate(PLACES[location], lang) if location in PLACES else location


# The built-in item types (config/rule_defaults.py ITEM_TYPES) by their names in both languages;
# a type the librarian made is named as she typed it.
ITEM_TYPE_NAMES = {
    "book": N_("Ordinary book"),
    "reference": N_("Reference book"),
    "magazine": N_("Magazine"),
}


def item_type_name(label: str, lang: str) -> str:
    """Return an item type's name in the reader's words: magazine -> 报刊杂志."""
    return translate(ITEM_TYPE_NAMES[label], lang) if label in ITEM_TYPE_NAMES else label


# Singular message id -> plural id. Both are ids in the catalogs (extracted like ngettext's two
# arguments); `translate` picks one by the `count` parameter and the language's plural rule.
PLURALS: dict[str, str] = {}


def N_plural(singular: str, plural: str) -> str:
    """Mark a message that has a plural form; return the singular id, which stands for both."""
    PLURALS[singular] = plural
    return singular


@functools.cache
def _plural_rule(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang).plural_form


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Return msgid -> msgstr for one language (empty translations left out)."""
    from babel.messages.pofile import read_po  # only when a message is first shown

    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            po = read_po(f, locale=lang)
        merged.update({str(m.id): str(m.string) for m in po if m.id and m.string})
    return merged


def translate(message: str, lang: str, /, **params: Any) -> str:
    """Translate a message id into `lang` and fill in its placeholders."""
    count = params.get("count")
    if message in PLURALS and isinstance(count, int) and _plural_rule(lang)(count) != "one":
        message = PLURALS[message]
    text = catalog(lang).get(message, message)
    if params.get("location") in PLACES:  # "应在：图书馆", not "应在：library"
        params = {**params, "location": place(params["location"], lang)}
    if params.get("type") in ITEM_TYPE_NAMES:  # "报刊杂志一次只能借 2 本", not "magazine…"
        params = {**params, "type": item_type_name(params["type"], lang)}
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def both(message: str, first: str = "zh_CN", /, **params: Any) -> str:
    """Return the message in the first language, then the other: '借书成功 / Checked out'."""
    other = "en" if first == "zh_CN" else "zh_CN"
    a, b = translate(message, first, **params), translate(message, other, **params)
    return a if a == b else f"{a} / {b}"


def cli_language() -> str:
    """Return the language for command-line messages, from KIOSK_LANG or LANG."""
    value = os.environ.get("KIOSK_LANG") or os.environ.get("LANG") or ""
    return "zh_CN" if value.lower().startswith("zh") else "en"


def _(message: str, /, **params: Any) -> str:
    """Translate a command-line message into the terminal's language."""
    return translate(message, cli_language(), **params)
