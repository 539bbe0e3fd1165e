"""The sync protocol between kiosks and the hub: paths, the wire form of events, their checks.

Version 1, described for people and tools in `openapi.yaml` beside this file. Everything the hub
accepts is checked here before anything is stored, so a bad batch changes nothing.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from kiosk.circulation.events import Event

# The text and time checks live with the event schemas; named here for the hub's callers.
from kiosk.circulation.schemas import has_control as has_control
from kiosk.circulation.schemas import is_utc_stamp as is_utc_stamp
from kiosk.errors import KioskError

VERSION = 1
PREFIX = "/api/v1/sync"
EVENTS = f"{PREFIX}/events"
CHANGES = f"{PREFIX}/changes"
SNAPSHOT = f"{PREFIX}/snapshot"
CONFLICTS = f"{PREFIX}/conflicts"
KIOSKS = f"{PREFIX}/kiosks"

# Master data parts of a snapshot, in the order a kiosk applies them (foreign keys).
SNAPSHOT_PARTS = ("rules", "patrons", "cards", "items", "reading_lists", "star_rules", "loans")
# Event types whose loans the hub keeps; other well-formed types are stored, never applied to loans.
LOAN_TYPES = ("checkout", "checkin", "renew")

TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A UUID as `str(uuid.UUID(...))` writes it (hex digits in either case: stored lower case).
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEXT_FIELDS = ("actor", "patron_id", "item_barcode")
MAX_TEXT = 200
MAX_SEQ = 2**63 - 1  # SQLite's largest integer
MAX_DEPTH = 16  # nesting of an event's data


def shown(value: Any) -> str:
    """Return a value for an error message: its repr, cut short (a message is not an echo)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _depth(value: Any, limit: int) -> bool:
    """Return whether JSON `value` nests no deeper than `limit`."""
    if limit < 0:
        return False
    if isinstance(value, str | int | float | bool) or value is None:  # most values: not nested
        return True
    if isinstance(value, Mapping):
        return all(_depth(v, limit - 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth(v, limit - 1) for v in value)
    return True


class BadRequest(KioskError):
    """A request the hub refuses: an HTTP status, a stable code and a message naming the problem."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return {"error": self.code, "message": self.message}


def event_to_wire(event: Event) -> dict[str, Any]:
    """Return an event as the JSON object a kiosk sends."""
    return {
        "uuid": event.uuid,
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "kiosk_id": event.kiosk_id,
        "actor": event.actor,
        "patron_id": event.patron_id,
        "item_barcode": event.item_barcode,
        "data": dict(event.data),
    }


def _fail(index: int, field: str, problem: str) -> BadRequest:
    return BadRequest(422, "bad_event", f"events[{index}].{field}: {problem}")


# Values that nest nothing: the data of nearly every event holds only these.
_FLAT = frozenset({str, int, float, bool, type(None)})


def check_event(index: int, raw: Any, kiosk_id: str) -> Event:
    """Check one wire event of kiosk `kiosk_id`; return it as an Event or raise BadRequest."""
    # `type(x) is dict` first: what JSON gives, without the ABC's slower isinstance (a drain
    # checks 10,000 events a backlog); any other Mapping is still checked the same way.
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise BadRequest(422, "bad_event", f"events[{index}]: must be an object")
    get = raw.get
    uuid = get("uuid")
    if not isinstance(uuid, str) or not UUID_RE.fullmatch(uuid):
        raise _fail(index, "uuid", f"{shown(uuid)} is not a UUID")
    type_ = get("type")
    if not isinstance(type_, str) or not TYPE_RE.match(type_):
        raise _fail(index, "type", f"{shown(type_)} is not an event type (a-z, 0-9, _)")
    at = get("at")
    if not is_utc_stamp(at):
        example = "2026-11-02T01:00:00.000Z"
        raise _fail(index, "at", f"{shown(at)} is not a UTC time like {example}")
    if get("kiosk_id") != kiosk_id:
        raise BadRequest(
            403,
            "wrong_kiosk",
            f"events[{index}].kiosk_id: {shown(get('kiosk_id'))} is not this token's kiosk "
            f"{kiosk_id!r}; a kiosk sends only its own events",
        )
    actor, patron, item = get("actor"), get("patron_id"), get("item_barcode")
    for name, value in zip(TEXT_FIELDS, (actor, patron, item), strict=True):
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _fail(index, name, f"must be text of at most {MAX_TEXT} characters or null")
        if has_control(value):
            raise _fail(index, name, "contains a control character (a NUL, TAB or line break)")
    data = get("data", {})
    if type(data) is not dict and not isinstance(data, Mapping):
        raise _fail(index, "data", "must be an object")
    nested = any(type(v) not in _FLAT for v in data.values())
    if nested and not _depth(data, MAX_DEPTH):
        raise _fail(index, "data", f"nests deeper than {MAX_DEPTH} levels")
    seq = get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
        raise _fail(index, "seq", "must be a whole number or null")
    if seq is not None and not 0 <= seq <= MAX_SEQ:
        raise _fail(index, "seq", f"must be between 0 and {MAX_SEQ}")
    if type_ in ("checkout", "renew") and not (patron and item):
        raise _fail(index, "patron_id", f"a {type_} needs patron_id and item_barcode")
    if type_ == "checkin" and not item:
        raise _fail(index, "item_barcode", "a checkin needs item_barcode")
    if type_ in ("checkout", "renew") and not is_utc_stamp(data.get("due_at")):
        raise _fail(index, "data.due_at", f"a {type_} needs due_at, a UTC time")
    return Event(
        type=type_,
        at=str(at),
        kiosk_id=kiosk_id,
        actor=actor or "",
        patron_id=patron,
        item_barcode=item,
        data=dict(data),
        uuid=uuid.lower(),
        seq=seq,
    )


def check_batch(body: Any, kiosk_id: str, max_events: int) -> tuple[str, list[Event]]:
    """Check a whole batch; return the kiosk's clock when it sent it and the events."""
    if not isinstance(body, Mapping):
        raise BadRequest(400, "bad_json", "the body must be a JSON object")
    try:
        # Strings come from JSON: a lone surrogate (\\ud800) is valid JSON but not text.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise BadRequest(400, "bad_json", "the body nests too deeply") from None
    except UnicodeEncodeError as e:
        raise BadRequest(400, "bad_text", f"the body holds text that is not Unicode: {e}") from None
    sent_at = body.get("sent_at")
    if not is_utc_stamp(sent_at):
        raise BadRequest(400, "bad_batch", f"sent_at: {shown(sent_at)} is not a UTC time")
    if body.get("kiosk_id") != kiosk_id:
        raise BadRequest(
            403,
            "wrong_kiosk",
            f"kiosk_id: {shown(body.get('kiosk_id'))} is not this token's kiosk {kiosk_id!r}",
        )
    events = body.get("events")
    if not isinstance(events, list):
        raise BadRequest(400, "bad_batch", "events: must be a list")
    if len(events) > max_events:
        raise BadRequest(
            413,
            "batch_too_large",
            f"events: {len(events)} events, at most {max_events} per batch",
        )
    checked = [check_event(i, raw, kiosk_id) for i, raw in enumerate(events)]
    uuids = [e.uuid for e in checked]
    if len(set(uuids)) != len(uuids):
        raise BadRequest(422, "bad_batch", "events: the same uuid appears twice in one batch")
    return str(sent_at), checked


LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback(host: str) -> bool:
    """Return whether a host name or address is this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_hub_url(url: str, allow_http: bool) -> str:
    """Return the hub URL without a trailing slash, or raise ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"[hub] url: {url!r} must be https://HOST[:PORT]")
    if parts.scheme == "http" and not (allow_http or is_loopback(parts.hostname)):
        raise ValueError(
            f"[hub] url: {url!r} is plain HTTP to another machine; use https:// "
            "or set [hub] allow_http = true on a network you trust"
        )
    return url.rstrip("/")
