"""The base of every exception the kiosk raises on purpose.

Each of the kiosk's own exceptions derives from `KioskError` and keeps the built-in it was
(`ReportError` is still a `ValueError`), so `except KioskError` catches what the kiosk means to
raise, apart from a bug, and older `except ValueError` clauses still hold.
"""

from __future__ import annotations


class KioskError(Exception):
    """Something the kiosk refuses or cannot do, with a message that says why."""
