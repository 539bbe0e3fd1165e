"""Projections by area; each module registers its event types with `@projection`."""

from kiosk.circulation.projections import notices  # noqa: F401
