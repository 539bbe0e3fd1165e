"""Both languages: the gettext catalogs (`catalogs`) and the tool that keeps them in step (`tools`).

`from kiosk.i18n import _` names what `catalogs` holds. `tools` reads the command line's help
texts, so it sits at the top of the layers and this file does not load it.
"""

from kiosk.i18n.catalogs import (
    ITEM_TYPE_NAMES,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    PLACES,
    PLURALS,
    N_plural,
    _,
    both,
    catalog,
    cli_language,
    item_type_name,
    place,
    translate,
)

__all__ = [
    "ITEM_TYPE_NAMES",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "PLACES",
    "PLURALS",
    "N_plural",
    "_",
    "both",
    "catalog",
    "cli_language",
    "item_type_name",
    "place",
    "translate",
]
