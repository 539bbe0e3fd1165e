"""JSON for monitoring (`/api/v1`): health for a watchdog, status for the dashboard and tools.

`health` is public and says only ok or not, and why in a few plain words (no paths, device
names or errors); `status` holds the details and is for the logged-in librarian only.
Described in kiosk/web/api/openapi.yaml; the tests check every answer against it.
"""

from __future__ import annotations

import shutil
import time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, jsonify, request

from kiosk.circulation import dashboard, queries
from kiosk.circulation.queries import outbox
from kiosk.i18n import N_
from kiosk.web import Web, current_lang, web
from kiosk.web.auth import FORBIDDEN, user_name
from kiosk.web.security import allowed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
LOOP_STALL_S = 5.0
LOW_DISK_BYTES = 50 * 1024 * 1024
LOG_IN = N_("Log in to the dashboard first: the status is for the librarian.")


def loop_heartbeat(ctx: Web) -> Any:
    """Return a main-loop hook that records the loop is turning."""

    def beat() -> None:
        ctx.jobs["loop_at"] = time.monotonic()

    return beat


def disk(ctx: Web) -> dict[str, int]:
    """Return the free and total bytes of the store's disk."""
    usage = shutil.disk_usage(ctx.store.path.parent)
    return {"free_bytes": usage.free, "total_bytes": usage.total}


def health_of(ctx: Web) -> tuple[bool, list[str], dict[str, Any]]:
    """Say whether scanning works now, with the reasons when it does not.

    Each reason is a short public phrase, then after ": " the details (for `status` only).
    """
    reasons: list[str] = []
    try:
        ctx.store.value("SELECT count(*) FROM rules")
    except Exception as e:
        reasons.append(f"store not readable: {e}")
    space = disk(ctx)
    if space["free_bytes"] < LOW_DISK_BYTES:
        reasons.append(f"disk almost full: {space['free_bytes'] // 1048576} MB free")
    devices: list[dict[str, Any]] = []
    if ctx.daemon is None:
        reasons.append("no kiosk daemon here: nothing scans")
    else:
        info = ctx.daemon.health()
        devices = info.get("devices", [])
        if not getattr(ctx.daemon, "sources", None):
            reasons.append("no scan source configured")
        for dev in devices:
            if not dev.get("connected"):
                why = f", {dev['last_error']}" if dev.get("last_error") else ""
                reasons.append(f"a device is not connected: {dev.get('name')}{why}")
        beat = ctx.jobs.get("loop_at")
        if beat is None or time.monotonic() - beat > LOOP_STALL_S:
            reasons.append("main loop not running")
    return not reasons, reasons, {"devices": devices, "disk": space}


@bp.get("/health")
def health() -> tuple[Response, int]:
    """Answer 200 when scanning works, 503 with the reasons when it does not."""
    ok, reasons, _extra = health_of(web())
    public = list(dict.fromkeys(r.split(":", 1)[0] for r in reasons))
    return jsonify({"ok": ok, "reasons": public}), 200 if ok else 503


def status_of(ctx: Web) -> dict[str, Any]:
    """Return the kiosk's live status: devices, store, disk, uptime, sync, today's numbers."""
    ok, reasons, extra = health_of(ctx)
    store = ctx.store
    now = store.now()
    tz = ZoneInfo(ctx.settings.kiosk.timezone)
    day = dashboard.today(store, tz, recent=0)
    info = ctx.daemon.health() if ctx.daemon is not None else {}
    return {
        "kiosk_id": store.kiosk_id,
        "ok": ok,
        "reasons": reasons,
        "uptime_s": info.get("uptime_s"),
        "devices": extra["devices"],
        "disk": extra["disk"],
        "store": {
            "path": str(store.path),
            "schema": store.schema[-1] if store.schema else None,
            "size_bytes": store.path.stat().st_size if store.path.exists() else 0,
        },
        "session": {
            "mode": ctx.kiosk.mode if ctx.kiosk is not None else None,
            "seconds_left": ctx.kiosk.seconds_left() if ctx.kiosk is not None else None,
        },
        "sync": ctx.sync_state(),
        "sip2": sip2(current_lang())
        if (sip2 := getattr(ctx.daemon, "sip2_status", None))
        else None,
        "counts": {
            **queries.counts(store.reader, now),
            "events_waiting_for_hub": outbox.events_waiting(store.reader),
        },
        "today": {k: day[k] for k in ("loans", "returns", "renewals", "undone")},
    }


@bp.get("/status")
def status() -> Response:
    """Return the kiosk's live status, to the logged-in librarian on an admin network."""
    if not allowed(request.remote_addr, web().networks):
        abort(403, description=FORBIDDEN)
    if user_name() is None:
        abort(401, description=LOG_IN)
    return jsonify(status_of(web()))
