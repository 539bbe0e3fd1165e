"""The daemon: wiring and main loop (`app`), scan queue (`scans`), HTTP server (`httpserver`).

The modules sit in two layers (docs/architecture.md, Layout): `kiosk.web` and the hub serve
through `httpserver`, below them, while `app` wires them all from above. So this file imports
nothing: loading the server must not load the whole daemon. `Daemon` and `open_store` are in
`kiosk.daemon.app`.
"""
