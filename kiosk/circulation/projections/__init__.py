"""Projections by area; each module registers its event types with `@projection`."""

from kiosk.circulation.projections import (
    catalogue,  # noqa: F401
    collection,  # noqa: F401
    donations,  # noqa: F401
    imports,  # noqa: F401
    loans,  # noqa: F401
    master,  # noqa: F401
    notices,  # noqa: F401
    reading,  # noqa: F401
    stars,  # noqa: F401
)
