"""The hub's HTTP server: the sync API of `openapi.yaml`, a Flask app served by waitress."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from kiosk.circulation.store import Store
from kiosk.daemon.httpserver import CONNECTIONS, IDLE_S, STALL_S, guarded_server, split_listen
from kiosk.sync import hubstore
from kiosk.sync.protocol import (
    CHANGES,
    CONFLICTS,
    EVENTS,
    KIOSKS,
    MAX_SEQ,
    PREFIX,
    SNAPSHOT,
    SNAPSHOT_PARTS,
    VERSION,
    BadRequest,
    check_batch,
    is_utc_stamp,
    shown,
)
from kiosk.sync.reconcile import receive, touch_contact

log = logging.getLogger("kiosk.hub")

# Roughly 1 KB per event on the wire is generous; the body limit follows the batch limit.
BYTES_PER_EVENT = 2048
MAX_PAGE = 10_000


def create_hub_app(store: Store, max_batch: int = 1000) -> Flask:
    """Return the hub's Flask app on an open hub store."""
    app = Flask("kiosk.sync.hub")
    app.config["MAX_CONTENT_LENGTH"] = max_batch * BYTES_PER_EVENT + 65536
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.errorhandler(BadRequest)
    def refused(e: BadRequest) -> tuple[Response, int]:
        log.warning("refused %s %s: %s", request.method, request.path, e.message)
        return jsonify(e.body()), e.status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int]:
        code = e.code or 500
        name = "batch_too_large" if code == 413 else (e.name or "error").lower().replace(" ", "_")
        message = (
            f"the body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes; send fewer events"
            if code == 413
            else str(e.description)
        )
        resp = jsonify({"error": name, "message": message})
        # werkzeug's own headers of the error (a 405's Allow), not its HTML content type.
        resp.headers.extend((k, v) for k, v in e.get_headers() if k.lower() != "content-type")
        return resp, code

    @app.before_request
    def authenticate() -> None:
        if not request.path.startswith(PREFIX):
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BadRequest(401, "no_token", "send Authorization: Bearer <this kiosk's token>")
        kiosk_id, why = hubstore.kiosk_of_token(store, token.strip())
        if kiosk_id is None:
            message = (
                "this kiosk's token was revoked; ask for a new one (kiosk hub register)"
                if why == "revoked"
                else "unknown token; check [hub] token (kiosk hub register prints one)"
            )
            raise BadRequest(401, f"{why}_token", message)
        g.kiosk_id = kiosk_id

    @app.after_request
    def challenge(resp: Response) -> Response:
        if resp.status_code == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="kiosk hub"'
        return resp

    @app.post(EVENTS)
    def post_events() -> tuple[Response, int]:
        try:
            body = json.loads(request.get_data(cache=False))
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(400, "bad_json", f"the body is not JSON: {e}") from None
        except RecursionError:
            raise BadRequest(400, "bad_json", "the body nests too deeply") from None
        sent_at, events = check_batch(body, g.kiosk_id, max_batch)
        receipt = receive(store, g.kiosk_id, sent_at, events)
        log.info(
            "kiosk %s: %d new events, %d already had, clock offset %.1f s",
            g.kiosk_id,
            receipt.stored,
            receipt.duplicates,
            receipt.clock_offset_s,
        )
        return jsonify(receipt.body()), 200

    @app.get(CHANGES)
    def get_changes() -> tuple[Response, int]:
        for name in ("cursor", "epoch"):  # a new kiosk sends cursor=0 and an empty epoch
            if name not in request.args:
                raise BadRequest(400, "bad_argument", f"{name}: missing")
        cursor = _int_arg("cursor", 0)
        limit = _int_arg("limit", 1000, most=MAX_PAGE)
        epoch = hubstore.meta(store, "epoch")
        floor = int(hubstore.meta(store, "feed_floor"))
        newest = hubstore.feed_cursor(store)
        clock = request.args.get("clock")
        if clock is not None and not is_utc_stamp(clock):
            raise BadRequest(400, "bad_argument", f"clock: {shown(clock)} is not a UTC time")
        touch_contact(store, g.kiosk_id, clock)
        if request.args.get("epoch") != epoch or cursor < floor or cursor > newest:
            # A new kiosk, another hub database, or a cursor older than the feed keeps.
            return jsonify({"error": "snapshot_needed", "epoch": epoch, "cursor": newest}), 410
        page = hubstore.changes(store, cursor, limit)
        return jsonify({"epoch": epoch, **page}), 200

    @app.get(SNAPSHOT)
    def get_snapshot() -> tuple[Response, int]:
        part = request.args.get("part", "")
        if part not in SNAPSHOT_PARTS:
            raise BadRequest(400, "bad_part", f"part: {shown(part)} is not one of {SNAPSHOT_PARTS}")
        limit = _int_arg("limit", 5000, most=MAX_PAGE)
        page = hubstore.snapshot_page(store, part, request.args.get("after", ""), limit)
        return jsonify(page), 200

    @app.get(CONFLICTS)
    def get_conflicts() -> tuple[Response, int]:
        return jsonify({"conflicts": hubstore.conflicts(store)}), 200

    @app.get(KIOSKS)
    def get_kiosks() -> tuple[Response, int]:
        return jsonify({"kiosks": hubstore.kiosks(store), "version": VERSION}), 200

    return app


def _int_arg(name: str, default: int, most: int = MAX_SEQ) -> int:
    """Return a whole-number query argument, or refuse one out of its range (never cut down)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        if not raw.isascii():  # int() also reads other scripts' digits
            raise ValueError
        value = int(raw)
    except ValueError:
        raise BadRequest(
            400, "bad_argument", f"{name}: {shown(raw)} is not a whole number"
        ) from None
    if value < (1 if name == "limit" else 0):
        raise BadRequest(400, "bad_argument", f"{name}: {shown(raw)} is too small")
    if value > most:
        raise BadRequest(400, "bad_argument", f"{name}: {shown(raw)} is more than {most}")
    return value


def combine(sync_app: Any, pages: Any) -> Any:
    """Serve the sync API under its prefix and the librarian's pages (if any) everywhere else."""
    if pages is None:
        return sync_app

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        target = sync_app if environ.get("PATH_INFO", "").startswith(PREFIX) else pages
        return target(environ, start_response)

    return dispatch


def serve(
    app: Any,
    listen: str,
    threads: int = 4,
    trusted_proxy: str = "",
    per_address: int = 20,
    stall_s: float = STALL_S,
    idle_s: float = IDLE_S,
    connections: int = CONNECTIONS,
) -> None:
    """Serve the app until interrupted, with the kiosk's limits against floods (behind
    `trusted_proxy`, if given: its client address and scheme, for Secure cookies)."""
    host, port = split_listen(listen)
    server = guarded_server(
        app,
        host,
        port,
        threads=threads,
        ident="kiosk-hub",
        per_address=per_address,
        stall_s=stall_s,
        idle_s=idle_s,
        trusted_proxy=trusted_proxy,
        connections=connections,
    )
    log.info("hub serving on http://%s:%s with %d threads", host, server.effective_port, threads)
    server.run()
