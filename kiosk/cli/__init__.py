"""The `kiosk` command line: one module per command group, each imported here.

`main.py` holds the group and the store-wide commands (init, run, demo, status, backup, import,
export...); `context.py` what every command shares (the config, the store, failing); `help.py`
the translated help. Each other module is one group or command of an area, a thin layer over
its area's code: `kiosk devices`, `hub`, `doctor`, `restore`, `password`, `stocktake`,
`promote`, `list`, `report`, `cards`, `labels`, `sip2`.
"""

from __future__ import annotations

from kiosk.cli import catalogue, collection, devices, doctor, hub, password, reports, restore, sip2
from kiosk.cli.context import Context, fail, pass_ctx
from kiosk.cli.main import KioskGroup, main

__all__ = ["AREA_COMMANDS", "Context", "KioskGroup", "fail", "main", "pass_ctx"]

# The commands of the areas, by the name they have on the command line.
AREA_COMMANDS = {
    "devices": devices.devices,
    "hub": hub.hub,
    "doctor": doctor.doctor,
    "restore": restore.restore,
    "password": password.password,
    "stocktake": collection.stocktake_cmd,
    "promote": collection.promote,
    "list": collection.list_cmd,
    "report": reports.report,
    "cards": catalogue.cards,
    "labels": catalogue.labels,
    "sip2": sip2.sip2,
}
for _name, _command in AREA_COMMANDS.items():
    main.add_command(_command, _name)
