"""One persistent SIP2 connection: log in (93), status (99), and one request at a time.

A corrupt answer is asked for again with 97, a 96 from the server gets the request again, each
up to `retries` times. No answer within `timeout_s`, or a broken connection, raises `Offline`
and closes the socket; the next request connects and logs in again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config import Sip2Settings
from kiosk.errors import KioskError
from kiosk.sip2.protocol import (
    ANSWER,
    Corrupt,
    Malformed,
    Message,
    body,
    checksum,
    decode,
    encode,
    parse,
    when,
)

log = logging.getLogger("kiosk.sip2")


NB_DUE_DAYS = 14
# The messages a 98's BX field says yes or no to, in its order.
BX_ORDER = (
    "23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65",
)  # fmt: skip


class Offline(KioskError):
    """The SIP2 server did not answer in time, or the connection failed."""

    # True when the request went out and its answer was lost: the server may have done it.
    after_send = False


class LoginRefused(KioskError):
    """The SIP2 server refused the 93 login (user, password or location)."""


@dataclass
class WireStats:
    """What the connection has met, for `kiosk doctor` and the dashboard."""

    sent: int = 0
    corrupt: int = 0
    resent: int = 0
    malformed: int = 0
    last_error: str = ""


class Sip2Client:
    """A logged-in SIP2 connection, shared by the scan path and the link's worker."""

    def __init__(
        self, settings: Sip2Settings, now: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.s = settings
        self.now = now or (lambda: dt.datetime.now().astimezone())
        self.stats = WireStats()
        self.status: Message | None = None  # the last 98
        self._sock: socket.socket | ssl.SSLSocket | None = None
        self._buffer = b""
        self._seq = 0
        self._lock = threading.Lock()

    # -- connection -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Return whether a logged-in connection is open."""
        return self._sock is not None

    def connect(self) -> Message:
        """Connect, log in with 93 and ask 99; return the server's 98."""
        with self._lock:
            self._close()
            return self._open()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._close()

    def _open(self) -> Message:
        host, _, port = self.s.address.rpartition(":")
        try:
            sock: socket.socket | ssl.SSLSocket = socket.create_connection(
                (host, int(port)), timeout=self.s.timeout_s
            )
            if self.s.tls:
                context = ssl.create_default_context(cafile=self.s.ca_file or None)
                sock = context.wrap_socket(sock, server_hostname=host)
        except OSError as e:
            raise self._offline(f"cannot connect to {self.s.address}: {e}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""
        if self.s.user or self.s.password:
            login = body(
                "93",
                "00",
                ("CN", self.s.user),
                ("CO", self.s.password),
                ("CP", self.s.location or None),
            )
            answer = self._exchange("93", login)
            if answer.flag(0) != "1":
                self._close()
                self.stats.last_error = "login refused"
                raise LoginRefused(f"the SIP2 server refused the login of user {self.s.user!r}")
        self.status = self._exchange("99", body("99", "0" + "080" + "2.00"))
        return self.status

    def _close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock, self._buffer = None, b""

    def _offline(self, why: str) -> Offline:
        self._close()
        self.stats.last_error = why
        return Offline(why)

    # -- requests ---------------------------------------------------------------------------

    def request(self, code: str, message: str) -> Message:
        """Send one request body and return its answer; connect and log in first if needed."""
        with self._lock:
            if self._sock is None:
                self._open()
            return self._exchange(code, message)

    def heartbeat(self) -> Message:
        """Ask the server's status (99), connecting first if needed."""
        return self.request("99", body("99", "0" + "080" + "2.00"))

    def _exchange(self, code: str, message: str) -> Message:
        seq = None
        if self.s.error_detection:
            seq, self._seq = self._seq, (self._seq + 1) % 10
        frame = encode(message, seq, self.s.encoding, self.s.terminator)
        self._send(frame)
        self.stats.sent += 1
        tries = 0
        while True:
            try:
                raw = self._read()
            except Offline as e:
                e.after_send = True
                raise
            try:
                text, answer_seq = decode(raw, self.s.encoding, self.s.error_detection)
                if seq is not None and answer_seq is not None and answer_seq != seq:
                    raise Corrupt(f"sequence number {answer_seq}, not {seq}")
            except Corrupt as e:
                self.stats.corrupt += 1
                log.warning("SIP2 answer to %s was corrupt (%s): asking again (97)", code, e)
                tries += 1
                if tries > self.s.retries:
                    self.stats.last_error = f"corrupt answers: {e}"
                    raise Malformed(f"the answer to {code} stayed corrupt: {e}") from None
                self._send(self._resend_request())
                continue
            if text.startswith("96"):
                # The server could not read our message: send it again, as it was.
                self.stats.resent += 1
                tries += 1
                if tries > self.s.retries:
                    raise Malformed(f"the server could not read our {code} ({tries} tries)")
                self._send(frame)
                continue
            try:
                answer = parse(text)
                if answer.code != ANSWER[code]:
                    raise Malformed(f"answer {answer.code} to {code}, not {ANSWER[code]}")
            except Malformed as e:
                self.stats.malformed += 1
                self.stats.last_error = str(e)
                log.error("SIP2: malformed answer to %s: %s: %r", code, e, text[:200])
                raise
            return answer

    def _resend_request(self) -> bytes:
        raw = b"97"
        if self.s.error_detection:
            raw += b"AZ"
            raw += checksum(raw).encode("ascii")
        return raw + self.s.terminator.encode("ascii")

    def _send(self, frame: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(frame)
        except OSError as e:
            raise self._offline(f"sending failed: {e}") from None

    def _read(self) -> bytes:
        """Return one frame, up to its carriage return; a line feed after it is dropped."""
        deadline = time.monotonic() + self.s.timeout_s
        shortened = False
        while True:
            self._buffer = self._buffer.lstrip(b"\n")
            end = self._buffer.find(b"\r")
            if end != -1:
                frame, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
                if shortened and self._sock is not None:
                    self._sock.settimeout(self.s.timeout_s)
                return frame
            if len(self._buffer) > 65536:
                raise self._offline("an answer longer than 64 KiB with no terminator")
            if self._sock is None:
                raise self._offline(f"no answer within {self.s.timeout_s:g} s")
            if self._buffer or shortened:
                # A frame in pieces: the rest within what is left of the time. A whole answer
                # is read with the socket's own timeout (timeout_s), set once when it opened.
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._offline(f"no answer within {self.s.timeout_s:g} s")
                self._sock.settimeout(left)
                shortened = True
            try:
                chunk = self._sock.recv(8192)
            except TimeoutError:
                raise self._offline(f"no answer within {self.s.timeout_s:g} s") from None
            except OSError as e:
                raise self._offline(f"connection failed: {e}") from None
            if not chunk:
                raise self._offline("the server closed the connection")
            self._buffer += chunk

    # -- the messages -----------------------------------------------------------------------

    def _base(self, at: dt.datetime | None = None) -> str:
        return when(at or self.now())

    def _nb_due(self, at: dt.datetime | None, due: dt.datetime | None) -> str:
        # The due date the kiosk gave offline; online, the spec's blanks would do, but strict
        # servers want a date, and every system uses it only with no-block Y.
        if due is None:
            due = (at or self.now()) + dt.timedelta(days=NB_DUE_DAYS)
        return when(due)

    def supports(self, code: str) -> bool:
        """Return whether the server's 98 (BX) lists a message; yes when it did not say."""
        supported = self.status.get("BX") if self.status is not None else ""
        at = BX_ORDER.index(code)
        return len(supported) <= at or supported[at] == "Y"

    def patron_information(self, patron: str, charged_items: bool = False) -> Message:
        """63: the patron's status, name, counts, fines; with their charged items if asked.

        A server whose 98 says it has no 63 is asked 23 Patron Status (no counts, no items).
        """
        if not self.supports("63"):
            return self.request(
                "23",
                body(
                    "23",
                    "001" + self._base(),
                    ("AO", self.s.institution),
                    ("AA", patron),
                    ("AC", self.s.terminal_password),
                    ("AD", ""),
                ),
            )
        # Summary: one position per list (hold, overdue, charged, fine, recall, unavailable).
        summary = ("  Y" if charged_items else "").ljust(10)
        return self.request(
            "63",
            body(
                "63",
                "001" + self._base() + summary,
                ("AO", self.s.institution),
                ("AA", patron),
                ("AC", self.s.terminal_password),
                ("BP", "1" if charged_items else None),
                ("BQ", "99" if charged_items else None),
            ),
        )

    def item_information(self, barcode: str) -> Message:
        """17: the item's circulation status, title and due date."""
        return self.request(
            "17",
            body(
                "17",
                self._base(),
                ("AO", self.s.institution),
                ("AB", barcode),
                ("AC", self.s.terminal_password),
            ),
        )

    def checkout(
        self,
        patron: str,
        barcode: str,
        at: dt.datetime | None = None,
        no_block: bool = False,
        due: dt.datetime | None = None,
    ) -> Message:
        """11: lend; offline transactions go with no-block Y, their own date and due date."""
        at = at or self.now()
        return self.request(
            "11",
            body(
                "11",
                "N" + ("Y" if no_block else "N") + when(at) + self._nb_due(at, due),
                ("AO", self.s.institution),
                ("AA", patron),
                ("AB", barcode),
                ("AC", self.s.terminal_password),
                ("BO", "N"),
                ("BI", "N"),
            ),
        )

    def checkin(
        self, barcode: str, at: dt.datetime | None = None, no_block: bool = False
    ) -> Message:
        """09: return; the return date is the transaction's own."""
        stamp = self._base(at)
        return self.request(
            "09",
            body(
                "09",
                ("Y" if no_block else "N") + stamp + stamp,
                ("AP", self.s.location),
                ("AO", self.s.institution),
                ("AB", barcode),
                ("AC", self.s.terminal_password),
                ("BI", "N"),
            ),
        )

    def renew(self, patron: str, barcode: str) -> Message:
        """29: renew one item for the patron."""
        return self.request(
            "29",
            body(
                "29",
                "NN" + self._base() + self._nb_due(None, None),
                ("AO", self.s.institution),
                ("AA", patron),
                ("AB", barcode),
                ("AC", self.s.terminal_password),
                ("BO", "N"),
            ),
        )

    def end_session(self, patron: str) -> Message:
        """35: the patron is done."""
        return self.request(
            "35",
            body(
                "35",
                self._base(),
                ("AO", self.s.institution),
                ("AA", patron),
                ("AC", self.s.terminal_password),
            ),
        )
