"""The kiosk's sync worker: push the outbox to the hub, pull the hub's changes, never block a scan.

One background thread with a `requests` session: short timeouts, exponential back-off with jitter
while the hub is away, and a connectivity state the indicator and the pages show. Events leave
the outbox only when the hub's answer names them, which it sends after its commit.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from kiosk.circulation.store import Store
from kiosk.errors import KioskError
from kiosk.i18n import N_
from kiosk.sync import replica
from kiosk.sync.protocol import (
    CHANGES,
    EVENTS,
    SNAPSHOT,
    SNAPSHOT_PARTS,
    check_hub_url,
)

log = logging.getLogger("kiosk.sync")

ONLINE_MESSAGE = N_("Connected to the library server.")
OFFLINE_MESSAGE = N_("No connection to the library server. Lending goes on.")

SNAPSHOT_PAGE = 5000
FEED_PAGE = 2000
FIRST_RETRY_S = 1.0


class HubError(KioskError):
    """The hub answered with a refusal, or did not answer."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class HubLink:
    """Where the hub is and how to reach it."""

    url: str
    token: str
    kiosk_id: str
    ca_file: str = ""
    allow_http: bool = False
    timeout_s: float = 5.0


class HubClient:
    """Talk to the hub's sync API over one keep-alive session."""

    def __init__(self, link: HubLink) -> None:
        self.link = link
        self.base = check_hub_url(link.url, link.allow_http)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {link.token}"
        self.session.headers["User-Agent"] = f"kiosk-sync/{link.kiosk_id}"
        # Verify certificates always; a school's own CA may be named instead of the system's.
        # Passed with each request: requests lets REQUESTS_CA_BUNDLE override session.verify.
        self.verify: str | bool = link.ca_file or True

    def _call(self, method: str, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        try:
            resp = self.session.request(
                method, self.base + path, timeout=self.link.timeout_s, verify=self.verify, **kw
            )
        except requests.RequestException as e:
            raise HubError(f"hub not reachable: {type(e).__name__}: {e}") from e
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 400 and resp.status_code != 410:
            message = body.get("message") or resp.reason
            raise HubError(
                f"hub answered {resp.status_code}: {message}",
                resp.status_code,
                body.get("error", ""),
            )
        return resp.status_code, body

    def post_events(self, payload: bytes) -> dict[str, Any]:
        """Send a batch (already JSON) and return the receipt."""
        _, body = self._call(
            "POST", EVENTS, data=payload, headers={"Content-Type": "application/json"}
        )
        return body

    def changes(self, cursor: int, epoch: str, clock: str) -> tuple[int, dict[str, Any]]:
        """Return the status (200, or 410 for 'take a snapshot') and body of one feed page."""
        params = {"cursor": cursor, "epoch": epoch, "clock": clock, "limit": FEED_PAGE}
        return self._call("GET", CHANGES, params=params)

    def snapshot(self, part: str, after: str) -> dict[str, Any]:
        """Return one page of a snapshot part."""
        params = {"part": part, "after": after, "limit": SNAPSHOT_PAGE}
        return self._call("GET", SNAPSHOT, params=params)[1]

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


class SyncWorker:
    """Keep a kiosk's store in step with the hub from a background thread."""

    def __init__(
        self,
        store: Store,
        link: HubLink,
        *,
        interval_s: float = 15.0,
        retry_max_s: float = 300.0,
        batch_size: int = 2000,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.store = store
        self.client = HubClient(link)
        self.interval_s = interval_s
        self.retry_max_s = retry_max_s
        self.batch_size = batch_size
        self.max_batch_size = batch_size  # the size to go back to once the outbox is empty
        self.on_change = on_change
        replica.prepare(store)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._last_success: str | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._held_reason: str | None = None

    # -- the service -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread."""
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (an answer in flight is waited for at most one timeout)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.client.link.timeout_s + 1)
        self.client.close()

    def wake(self) -> None:
        """Sync soon, for example right after a loan."""
        self._wake.set()

    def state(self) -> dict[str, Any]:
        """Return what the pages show: online, last success, events waiting, last error."""
        with self._lock:
            online, last_success, last_error = self._online, self._last_success, self._last_error
        return {
            "online": bool(online),
            "last_success": last_success,
            "queue_length": replica.queue_length(self.store),
            "last_error": last_error,
            "cursor": int(replica.get_state(self.store, "cursor", "0")),
            "held_back": len(replica.held(self.store)),
            "held_reason": self._held_reason,
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
                delay = self.interval_s
            except Exception as e:  # whatever fails, the kiosk goes on lending
                self._failed(e)
                delay = self.backoff()
            self._wake.wait(delay)
            self._wake.clear()

    def backoff(self) -> float:
        """Return the next wait: doubling from one second up to the cap, with jitter."""
        base = min(
            self.retry_max_s, min(FIRST_RETRY_S, self.interval_s) * 2 ** (self._failures - 1)
        )
        return random.uniform(base / 2, base)

    def _set_online(self, online: bool, error: str | None = None) -> None:
        with self._lock:
            changed = self._online != online
            self._online = online
            if online:
                self._last_success, self._last_error, self._failures = self.store.now(), None, 0
            else:
                self._last_error = error
                self._failures += 1
        if changed:
            log.info("hub %s", "reachable" if online else f"not reachable: {error}")
            if self.on_change is not None:
                try:
                    self.on_change(online)
                except Exception:
                    log.exception("connectivity listener failed")

    def _failed(self, e: Exception) -> None:
        if not isinstance(e, HubError):
            log.exception("sync failed")
        self._set_online(False, str(e))

    # -- one round -------------------------------------------------------------------------

    def sync_once(self) -> dict[str, int]:
        """Push everything waiting, then pull the hub's changes; raise HubError on failure."""
        sent = self.push()
        pulled = self.pull()
        self._set_online(True)
        return {"sent": sent, "pulled": pulled}

    def push(self) -> int:
        """Send waiting events in batches until none wait; return how many the hub took."""
        sent = 0
        while not self._stop.is_set():
            events = replica.pending_wire(self.store, self.batch_size)
            if not events:
                # Halving after a refusal was for that backlog; the next one starts full size.
                self.batch_size = self.max_batch_size
                break
            payload = _batch_json(self.client.link.kiosk_id, self.store.now(), events)
            try:
                receipt = self.client.post_events(payload)
            except HubError as e:
                if e.status == 413 and self.batch_size > 1:
                    self.batch_size = max(1, self.batch_size // 2)
                    log.warning("hub refused a batch as too large; now %d", self.batch_size)
                    continue
                bad = 0 if e.status == 413 else _refused_index(e, len(events))
                if bad is None:
                    raise
                self._hold(events[bad], e)
                continue
            acked = set(receipt.get("acked", []))
            replica.acknowledge(self.store, [e.seq for e in events if e.uuid in acked and e.seq])
            if not acked:
                raise HubError("hub acknowledged nothing of a batch")
            sent += len(acked)
        return sent

    def _hold(self, event: Any, error: HubError) -> None:
        """Keep an event the hub will never take, so it does not hold back all the others."""
        assert event.seq is not None
        replica.hold(self.store, event.seq)
        with self._lock:
            self._held_reason = f"event {event.uuid} ({event.type}): {error}"
        log.error("hub refuses event %s, kept here and not sent again: %s", event.uuid, error)

    def pull(self) -> int:
        """Apply the hub's changes since our cursor, taking a snapshot when the hub asks."""
        applied = 0
        snapshots = 0
        while not self._stop.is_set():
            cursor = int(replica.get_state(self.store, "cursor", "0"))
            epoch = replica.get_state(self.store, "epoch")
            status, body = self.client.changes(cursor, epoch, self.store.now())
            if status == 410:
                snapshots += 1
                if snapshots > 2:
                    raise HubError("hub keeps asking for a snapshot; giving up until next time")
                applied += self.take_snapshot(str(body["epoch"]), int(body["cursor"]))
                continue
            applied += replica.apply_changes(
                self.store, body["changes"], cursor=body["cursor"], epoch=body["epoch"]
            )
            if not body.get("more"):
                break
        return applied

    def take_snapshot(self, epoch: str, cursor: int) -> int:
        """Copy the hub's master data and open loans; then follow the feed from `cursor`."""
        log.info("taking a snapshot from the hub (feed position %d)", cursor)
        count = 0
        loans: list[dict[str, Any]] = []
        for part in SNAPSHOT_PARTS:
            after = ""
            while True:
                page = self.client.snapshot(part, after)
                if part == "loans":
                    loans += page["rows"]
                else:
                    replica.apply_snapshot_rows(self.store, part, page["rows"])
                count += len(page["rows"])
                if not page.get("next"):
                    break
                after = str(page["next"])
        replica.apply_snapshot_loans(self.store, loans, cursor=cursor, epoch=epoch)
        return count


def _refused_index(e: HubError, count: int) -> int | None:
    """Return which event of a batch the hub refused for good (422 or 403 naming events[i])."""
    if e.status not in (403, 422):
        return None
    found = re.search(r"events\[(\d+)\]", str(e))
    index = int(found.group(1)) if found else None
    return index if index is not None and index < count else None


def _batch_json(kiosk_id: str, now: str, events: list[replica.Waiting]) -> bytes:
    """Return a batch's body: each event's JSON object as the outbox wrote it, in a list."""
    head = json.dumps({"kiosk_id": kiosk_id, "sent_at": now}, ensure_ascii=False)[:-1]
    return f'{head},"events":[{",".join(e.wire for e in events)}]}}'.encode()
