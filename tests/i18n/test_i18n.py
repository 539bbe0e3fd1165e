"""Both languages complete: every message id in the code has zh_CN and en text."""

from __future__ import annotations

import string

from kiosk import i18n
from kiosk.i18n import tools as i18n_tools


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_is_translated_in_both_languages() -> None:
    assert i18n_tools.missing() == []


def test_a_message_in_two_catalogs_has_one_translation() -> None:
    # The catalogs of a language are one table: of two translations only one would show.
    assert i18n_tools.disagreeing() == []


def test_translations_keep_the_placeholders_of_their_message() -> None:
    wrong = []
    for lang in i18n.LANGUAGES:
        for msgid, text in i18n.catalog(lang).items():
            if placeholders(text) != placeholders(msgid):
                wrong.append(f"{lang}: {msgid!r} -> {text!r}")
    assert wrong == []


def test_no_catalog_entry_is_left_over_from_deleted_code() -> None:
    used = {m for msgs in i18n_tools.extract().values() for m in msgs}
    for lang in i18n.LANGUAGES:
        assert set(i18n.catalog(lang)) - used == set(), lang


def test_chinese_first_then_english() -> None:
    text = i18n.both("You already have {count} books. Return one first.", "zh_CN", count=2)
    assert (
        text == "你已经借了 2 本书，请先还一本再借。 / You already have 2 books. Return one first."
    )
    assert i18n.translate("Returned. Thank you!", "en") == "Returned. Thank you!"


def test_every_event_type_role_and_status_has_words_in_both_languages() -> None:
    """The event log, its exports and the record pages show these codes through the catalogs."""
    import importlib
    import pkgutil

    from kiosk.circulation import decide, projections
    from kiosk.circulation.models import ITEM_STATUSES, ROLES
    from kiosk.circulation.projector import _PROJECTIONS

    for module in pkgutil.iter_modules(projections.__path__):
        importlib.import_module(f"{projections.__name__}.{module.name}")
    codes = {*_PROJECTIONS, *ITEM_STATUSES, *ROLES, *decide.PATRON_STATUSES}
    zh, en = i18n.catalog("zh_CN"), i18n.catalog("en")
    assert sorted(c for c in codes if not zh.get(c) or zh[c] == c) == []
    assert sorted(c for c in codes if not en.get(c)) == []
