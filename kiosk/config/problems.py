"""What is wrong with a config value, as a catalog message: translated only when it is shown.

A check returns a `Problem` (a message id and its values, which may be problems themselves);
`ConfigError` puts the file and key in front. The key names and values stay as written; the
sentence around them is in the reader's language (`said`), in English by `str()` (logs, tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.i18n.catalogs import translate


@dataclass(frozen=True)
class Problem:
    """A message id of the catalogs and the values of its placeholders."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def said(self, lang: str) -> str:
        """Return the problem in `lang`, the problems inside it too."""
        values = {k: v.said(lang) if isinstance(v, Problem) else v for k, v in self.params.items()}
        return translate(self.message, lang, **values)

    def __str__(self) -> str:
        return self.said("en")


def problem(message: str, /, **params: Any) -> Problem:
    """Return a problem of this message id with these values."""
    return Problem(message, params)
