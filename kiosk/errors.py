"""The base of every exception the kiosk raises on purpose.

Each of the kiosk's own exceptions derives from `KioskError` and keeps the built-in it was
(`ReportError` is still a `ValueError`), so `except KioskError` catches what the kiosk means to
raise, apart from a bug, and older `except ValueError` clauses still hold.
"""

from __future__ import annotations

from typing import Any


class KioskError(Exception):
    """Something the kiosk refuses or cannot do, with a message that says why."""


class MessageError(KioskError):
    """An error whose `message` is a catalog id and `params` fill it in, to be shown translated."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params
