"""Wire devices, circulation, web and sync from the config, and run the daemon's main loop.

This is the one place that knows every package: devices deliver `Scan`s into a queue, the main
loop feeds them to the session, and each committed `Feedback` goes to the indicator and any
other listener (the screen). Nothing here waits for the network.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from kiosk.circulation.clock import Clock, SystemClock
from kiosk.circulation.collection.kiosk_hook import CollectionHook
from kiosk.circulation.importers import journal
from kiosk.circulation.reading.badges import Rules as BadgeRules
from kiosk.circulation.reading.kiosk_hook import BadgeHook
from kiosk.circulation.records import seed_rules
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Feedback, Kiosk
from kiosk.circulation.store import Store
from kiosk.config import Settings
from kiosk.daemon.scans import ScanQueue
from kiosk.devices import build
from kiosk.devices.base import FaultWatch, Indicator, Scan, ScanSource
from kiosk.i18n import N_, both
from kiosk.ops.notify import Notifier, Supervision, daemon_summary, store_answers

log = logging.getLogger("kiosk")

CLOSE_WAIT_S = 10.0  # how long a stop waits for the store's chores to end once interrupted
FAULT_MESSAGE = N_("Something went wrong. Please ask a library helper.")


class Service(Protocol):
    def start(self) -> None:
        """Start in the background."""
        ...

    def stop(self) -> None:
        """Stop and release resources."""
        ...


def open_store(settings: Settings, clock: Clock | None = None, check: str = "full") -> Store:
    """Open the configured store, migrating it and seeding default rules on first use."""
    store = Store.open(
        settings.resolve(settings.store.path),
        kiosk_id=settings.kiosk.id,
        clock=clock,
        check=check,
        wal_max_pages=settings.store.wal_max_pages,
    )
    seed_rules(store, settings.rules)
    return store


def freeze_start_up_objects() -> int:
    """Set the objects of start-up aside from the garbage collector; return how many.

    The modules, pages and store loaded at start-up live as long as the daemon. A full
    collection walks all of them (60,000 objects, about 70-100 ms on a 2-core VM, more on a Pi)
    while holding the GIL, so a scan that met one waited that long; frozen, it walks only what
    came later (`gc.freeze`, what the Python docs advise for a long-running process).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def badge_rules(settings: Settings) -> BadgeRules:
    """Return the reading badges' rules of the config's `[reading]` section."""
    r = settings.reading
    return BadgeRules(tuple(r.badge_milestones), r.badge_subjects, r.badge_min_loan_hours)


def kiosk_hook(circulation: Circulation, settings: Settings) -> Any:
    """Return the session's hook: the collection's (stocktake, holds), with reading badges."""
    hook: Any = CollectionHook(
        circulation, settings.collection.hold_days, settings.collection.max_holds
    )
    if settings.reading.badges:
        hook = BadgeHook(hook, circulation, badge_rules(settings))
    return hook


def build_source(settings: Settings, url: str) -> ScanSource | None:
    """Make the scan source a `[scanner] source` URL names."""
    return build.scanner_source(settings, url)


def build_card_reader(settings: Settings) -> ScanSource | None:
    """Make the serial card reader `[card_reader]` names, or None."""
    return build.card_reader(settings)


def build_indicator(settings: Settings) -> Indicator:
    """Make the configured indicator."""
    return build.indicator(settings.indicator)


def feedback_line(fb: Feedback, language: str) -> str:
    """Describe feedback in one console line: what, which code, and the words in both languages."""
    ok = fb.result is not None and fb.result.ok
    what = fb.result.action if ok and fb.result else fb.reason  # "checkout", or why not
    title = f" | {fb.result.item.title}" if fb.result and fb.result.item else ""
    head = " ".join(part for part in (what, fb.code, "(again)" if fb.repeated else "") if part)
    return f"{head} | {both(fb.message, language, **fb.params)}{title}"


@dataclass
class Daemon:
    """The running kiosk: store, session, devices and services."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    indicator: Indicator | None = None
    sources: list[ScanSource] | None = None
    services: list[Service] = field(default_factory=list)
    on_loop: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.settings
        self.started = time.monotonic()
        self.store = open_store(s, self.clock, check="quick")
        self.integrity = "checking"  # the full check runs in the background once started
        self.closed = False
        self.background: list[threading.Thread] = []  # threads of the store's own chores
        session: dict[str, Any] = dict(
            timeout_s=s.kiosk.session_timeout_s,
            after_result_s=s.kiosk.session_after_result_s,
            desk_timeout_s=s.kiosk.desk_timeout_s,
            repeat_window_s=s.kiosk.repeat_scan_window_s,
            answer_s=s.kiosk.answer_display_s,
            search_timeout_s=s.kiosk.search_timeout_s,
            max_code_length=s.scanner.max_code_length,
        )
        self.sip2: Any = None  # the SIP2 link, when the kiosk is a library system's self-check
        self.circulation: Circulation
        self.kiosk: Kiosk
        if s.sip2.address:
            from kiosk.sip2.wiring import sip2_kiosk

            self.circulation, self.kiosk, self.sip2 = sip2_kiosk(self.store, s, self.clock, session)
            self.services.append(self.sip2)
            self.sip2.on_change = self._sip2_connectivity
        else:
            self.circulation = Circulation(
                self.store, s.kiosk.timezone, record_stray_returns=bool(s.hub.url)
            )
            hook = kiosk_hook(self.circulation, s)
            self.kiosk = Kiosk(self.circulation, self.clock, hook=hook, **session)
        if self.indicator is None:
            self.indicator = build_indicator(s)
        if self.sources is None:
            found = [build_source(s, s.scanner.source), build_card_reader(s)]
            self.sources = [src for src in found if src is not None]
        # One bounded queue per source, taken in turn: a flood cannot push out a real scan.
        self.scans = ScanQueue()
        self.kiosk.subscribe(self._indicate)
        # A scanner or card reader that stops working blinks red: students go to a helper.
        self.on_loop.append(FaultWatch(self.sources, self.indicator, s.kiosk.language))
        if self.kiosk.hook is not None:
            self.on_loop.append(self.kiosk.hook.tick)  # holds expire on the hold shelf
        # The hub sync worker, when [hub] url is set; the pages read `sync.state()`.
        self.sync: Any = build_sync(self) if s.hub.url else None
        if self.sync is not None:
            self.services.append(self.sync)
        if s.web.enabled:
            # Imported here so that a kiosk without pages never loads Flask.
            from kiosk.web.server import build_web_server

            self.services.append(build_web_server(self))

    def _sip2_connectivity(self, online: bool) -> None:
        from kiosk.sip2.link import OFFLINE_MESSAGE, ONLINE_MESSAGE

        if self.indicator is not None:
            message = ONLINE_MESSAGE if online else OFFLINE_MESSAGE
            pattern = "online" if online else "offline"
            self.indicator.show(pattern, both(message, self.settings.kiosk.language))

    def _indicate(self, fb: Feedback) -> None:
        assert self.indicator is not None
        # A badge's tune says more than the answer it came with (always a good one).
        pattern = "badge" if fb.badges else "ok" if fb.kind == "ok" else fb.kind
        self.indicator.show(pattern, feedback_line(fb, self.settings.kiosk.language))

    def submit(self, scan: Scan) -> None:
        """Queue a scan from any thread, never blocking a device (kiosk/daemon/scans.py)."""
        self.scans.put_nowait(scan)

    def type_code(self, code: str, source: str = "keypad") -> None:
        """Queue a code typed on a page as if it were scanned."""
        self.submit(Scan(source, code))

    def check_integrity(self) -> None:
        """Run the full integrity check; a damaged store puts the kiosk in fault mode."""
        try:
            result = self.store.integrity()
        except Exception as e:
            if self.closed:
                return  # the store closed under the check at shutdown
            result = f"integrity check could not run: {e}"
        self.integrity = result
        if result != "ok":
            log.error("store integrity check failed: %s; lending stopped", result)
            self._fault()

    def finish_imports(self) -> None:
        """Undo an import that a kill or a power cut stopped while it was writing."""
        try:
            journal.recover_if_free(self.store)
        except Exception:
            if not self.closed:  # the store closed under it at shutdown: the next start goes on
                log.exception("could not undo an unfinished import; the next start tries again")

    def handle(self, scan: Scan) -> None:
        """Feed one scan to the session, keeping the kiosk alive whatever goes wrong."""
        if self.integrity not in ("ok", "checking"):
            # Writing to a damaged database can make it worse: send students to a helper.
            self._fault()
            return
        try:
            scan_from = getattr(self.kiosk, "scan_from", None)
            if scan_from is not None:
                # SIP2: the card reader's codes are cards, the library system need not be asked.
                scan_from(scan.source, scan.code)
            else:
                self.kiosk.scan(scan.code)
        except Exception:
            log.exception("failed to handle a scan from %s", scan.source)
            self._fault()

    def _fault(self) -> None:
        """Tell the child, by light, beep and screen alike, to go to a helper."""
        try:
            self.kiosk.fault(FAULT_MESSAGE)
        except Exception:  # a listener that fails again: the light at least must say it
            log.exception("fault feedback failed")
            assert self.indicator is not None
            self.indicator.show("fault", both(FAULT_MESSAGE, self.settings.kiosk.language))

    def health(self) -> dict[str, Any]:
        """Return the devices' health and the uptime."""
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "store_integrity": self.integrity,
            "devices": [
                *(src.health.as_dict() for src in self.sources or []),
                *([h.as_dict()] if (h := getattr(self.indicator, "health", None)) else []),
            ],
        }

    def sip2_status(self, language: str) -> dict[str, Any] | None:
        """Return the SIP2 link and its replay conflicts in words, or None without SIP2."""
        if self.sip2 is None:
            return None
        from kiosk.sip2.conflicts import describe, local_time, refused

        tz = self.settings.kiosk.timezone
        state = self.sip2.state().as_dict()
        return {
            **state,
            "offline_since": local_time(state["offline_since"], tz),
            "conflicts": [describe(row, language, tz) for row in refused(self.store)],
        }

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set: scans in, feedback out, sessions timed out."""
        journal.clear_uploads(self.store)  # of a daemon stopped in the middle of an import
        for src in self.sources or []:
            src.start(self.submit)
        for svc in self.services:
            svc.start()
        # An import a kill or a power cut left half-written is undone beside lending.
        self.background = [
            threading.Thread(target=self.check_integrity, name="integrity", daemon=True),
            threading.Thread(target=self.finish_imports, name="imports", daemon=True),
        ]
        for thread in self.background:
            thread.start()
        # WAL checkpoints between scans, in a thread of the store, not in a scan's COMMIT.
        self.store.start_checkpointer(self.settings.store.checkpoint_delay_s)
        log.info(
            "ready: kiosk %s, store %s, %d source(s), started in %.2f s",
            self.settings.kiosk.id,
            self.store.path,
            len(self.sources or []),
            time.monotonic() - self.started,
        )
        # systemd: READY once devices and store are up, then pings from this loop only.
        supervision = Supervision(
            Notifier(),
            lambda: daemon_summary(self.settings.kiosk.id, self.health()),
            lambda: store_answers(self.store),
        )
        supervision.ready()
        self.on_loop.append(supervision)
        # After `ready`: the collection before the freeze takes 0.1 s that start-up need not wait.
        frozen = freeze_start_up_objects()
        log.info("%d objects of start-up set aside from the garbage collector", frozen)
        try:
            while not stop.is_set():
                with contextlib.suppress(queue.Empty):
                    self.handle(self.scans.get(timeout=0.1))
                try:
                    self.kiosk.tick()
                except Exception:
                    log.exception("session tick failed")
                for hook in self.on_loop:
                    hook()
        finally:
            supervision.stopping()
            self.close()

    def close(self) -> None:
        """Stop devices and services and close the store."""
        for svc in reversed(self.services):
            svc.stop()
        for src in self.sources or []:
            src.stop()
        if self.indicator is not None:
            self.indicator.close()
        self.closed = True
        # The integrity check and an import's undo read the store in threads of their own: their
        # statements interrupted and the threads ended before the connections close under them
        # (closed under a running statement, a `kiosk run` ended in a segfault at SIGTERM).
        self.store.interrupt()
        for thread in self.background:
            thread.join(CLOSE_WAIT_S)
        self.store.close()
        log.info("stopped")


def build_sync(daemon: Daemon) -> Service:
    """Make the hub sync worker; connectivity changes go to the indicator."""
    from kiosk.sync.client import OFFLINE_MESSAGE, ONLINE_MESSAGE, HubLink, SyncWorker

    s = daemon.settings
    link = HubLink(
        s.hub.url, s.hub.token, s.kiosk.id, s.hub.ca_file, s.hub.allow_http, s.hub.timeout_s
    )

    def connectivity(online: bool) -> None:
        if daemon.indicator is not None:
            message = ONLINE_MESSAGE if online else OFFLINE_MESSAGE
            daemon.indicator.show(
                "online" if online else "offline", both(message, s.kiosk.language)
            )

    worker = SyncWorker(
        daemon.store,
        link,
        interval_s=s.hub.interval_s,
        retry_max_s=s.hub.retry_max_s,
        batch_size=s.hub.batch_size,
        on_change=connectivity,
    )
    # Send a loan soon after it happened; the worker never holds up the scan.
    daemon.kiosk.subscribe(lambda fb: worker.wake() if fb.result and fb.result.event else None)
    return worker


def hub_pages(store: Store, settings: Settings) -> Any:
    """Return the web app (dashboard across all kiosks) on the hub's store, or None."""
    if not settings.web.enabled:
        return None
    from kiosk.web import create_app

    return create_app(store=store, settings=settings, hub=True)


def stop_on_signals() -> threading.Event:
    """Return an event that SIGTERM and SIGINT set, for a clean stop."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


class JournalFormatter(logging.Formatter):
    """Prefix each line with its syslog priority, `<3>` for errors, as journald reads it."""

    PRIORITY: ClassVar[dict[int, int]] = {
        logging.CRITICAL: 2,
        logging.ERROR: 3,
        logging.WARNING: 4,
        logging.INFO: 6,
    }

    def format(self, record: logging.LogRecord) -> str:
        """Format without a timestamp: journald adds its own."""
        return f"<{self.PRIORITY.get(record.levelno, 7)}>{super().format(record)}"


def setup_logging(level: str = "INFO") -> None:
    """Send logs to stderr in the form journald keeps."""
    handler = logging.StreamHandler()
    handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
