"""Projections by area; each module registers its event types with `@projection`."""
