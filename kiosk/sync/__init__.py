"""Sync between kiosks and the central hub: protocol, kiosk worker, hub server (docs/sync.md)."""
