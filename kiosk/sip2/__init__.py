"""The kiosk as a SIP2 self-check of an existing library system (docs/sip2.md).

`protocol` frames and parses messages, `client` keeps one logged-in connection, `link` keeps it
up and sends the offline queue, `service` and `session` are the lunch flow over it. Nothing here
imports devices, web or sync; `kiosk/daemon/app.py` chooses this package when `[sip2] address`
is set.
"""
