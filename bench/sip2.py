"""Scan to answer through SIP2, beside a raw 11/12 round trip to the same server; offline drain.

    .venv/bin/python -m bench.sip2 [--dir FOLDER] [--rounds 3] [--quick]

1. Starts the test ACS (pysip2 with an in-memory library, tests/sip2/acs.py) as its own process
   on loopback, with enough books.
2. Builds the kiosk's SIP2 session in-process on a store in the work folder, as the daemon does
   (session, service, link, client; the link logged in), and in each round: a card (63), then
   books, each timed from `Kiosk.scan` to the answer given to the session's listeners (the
   screen, lights and buzzer: 11 sent, 12 read, the copy kept as a journal line; its
   write comes after, before the next scan, docs/sip2.md); then each book with no card (09).
3. Right after each timed scan, the baseline: the same message (11, or 09) on its own TCP
   connection to the same server, sent and its answer read, nothing else.
4. Offline drain: the link is taken down, returns are scanned (each committed to the queue),
   the link comes back and the queue is sent; transactions per second from the first send to
   an empty queue. Its baseline: the same number of raw 09/10 round trips, one after another.

The folder defaults to a new one under the current directory (fsync on a real disk).

`--acs-own-cpu`: the ACS runs on one CPU and this process (the kiosk and the raw client) on the
others, as a library system runs on its own machine. Without it the scheduler often wakes the
ACS on the kiosk's own CPU, so work the kiosk does while the ACS answers only delays the answer
(docs/performance.md, "Overlapping the copy with the wire").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import harness
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.daemon.app import open_store
from kiosk.sip2.protocol import body, encode, when
from kiosk.sip2.wiring import sip2_kiosk

ACS = Path(__file__).resolve().parents[1] / "tests" / "sip2" / "acs.py"
WARM_UP = 5
# A library system commits the loan in its own database before it answers; the test ACS keeps
# its books in memory and answers at once. The second series gives it that commit's time.
SYSTEM_COMMIT_MS = 5
SLOW = " (5 ms system)"


class RawClient:
    """A bare SIP2 round trip on its own connection: send one frame, read to the CR."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.seq = 0
        assert self.round_trip(body("93", "00", ("CN", "kiosk"), ("CO", "secret"))).startswith(
            b"941"
        )

    def round_trip(self, message: str) -> bytes:
        """Send a message with AY/AZ; return the answer's bytes."""
        self.seq = (self.seq + 1) % 10
        self.sock.sendall(encode(message, self.seq, "utf-8", "\r"))
        answer = b""
        while not answer.endswith(b"\r"):
            chunk = self.sock.recv(4096)
            assert chunk, "the ACS closed the connection"
            answer += chunk
        return answer

    def checkout(self, patron: str, barcode: str) -> float:
        """Time one 11/12."""
        stamp = when(_local(time.time()))
        message = body(
            "11",
            "NN" + stamp + stamp,
            ("AO", "SCHOOL"),
            ("AA", patron),
            ("AB", barcode),
            ("AC", ""),
        )
        start = time.perf_counter()
        answer = self.round_trip(message)
        seconds = time.perf_counter() - start
        assert answer.startswith(b"12"), answer
        return seconds

    def checkin(self, barcode: str) -> float:
        """Time one 09/10."""
        stamp = when(_local(time.time()))
        message = body(
            "09",
            "N" + stamp + stamp,
            ("AP", "Library"),
            ("AO", "SCHOOL"),
            ("AB", barcode),
            ("AC", ""),
        )
        start = time.perf_counter()
        answer = self.round_trip(message)
        seconds = time.perf_counter() - start
        assert answer.startswith(b"10"), answer
        return seconds

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


def _local(epoch: float) -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch).astimezone()


CPUS = sorted(os.sched_getaffinity(0))  # this process's CPUs before it pins itself


def own_cpu(pid: int) -> str:
    """Put the process `pid` on the last CPU and this process on the others; say which."""
    cpus = CPUS
    if len(cpus) < 2:
        return "one CPU only: the ACS shares it"
    os.sched_setaffinity(pid, {cpus[-1]})
    os.sched_setaffinity(0, set(cpus[:-1]))
    return f"the ACS on CPU {cpus[-1]}, the kiosk and the raw client on {cpus[:-1]}"


def start_acs(books: int, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start the ACS; return the process and its address."""
    proc = subprocess.Popen(
        [sys.executable, str(ACS), "--books", str(books), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("port "), line
    return proc, f"127.0.0.1:{line.split()[1]}"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    ap = harness.parser(__doc__)
    ap.add_argument(
        "--acs-own-cpu", action="store_true", help="run the ACS on a CPU of its own (see above)"
    )
    args = ap.parse_args(argv)
    pinned = ""
    per_round = harness.size(args, 60, 8)
    drain_n = harness.size(args, 200, 20)
    bench = harness.Bench("sip2", args)
    books = (per_round + WARM_UP) * bench.n_rounds * 2 + drain_n * bench.n_rounds + 10
    slow = f"{SYSTEM_COMMIT_MS / 1000:.3f}"
    for suffix, extra in (("", ()), (SLOW, ("--slow-checkout", slow, "--slow-checkin", slow))):
        with harness.workdir(args, "sip2") as folder:
            proc, address = start_acs(books, *extra)
            if args.acs_own_cpu:
                pinned = own_cpu(proc.pid)
            try:
                run(folder, address, bench, per_round, drain_n if not suffix else 0, suffix)
            finally:
                proc.kill()
                proc.wait()
    for suffix, words in (("", ""), (SLOW, f", a system that commits in {SYSTEM_COMMIT_MS} ms")):
        for label, measure, raw in (
            ("checkout, scan to answer", "checkout", "raw 11/12"),
            ("return, scan to answer", "return", "raw 09/10"),
        ):
            bench.compare(
                label + words, measure + suffix, raw + suffix, "p50", harness.ratio_at_most(1.5)
            )
        bench.compare("checkout p99" + words, "checkout" + suffix, "raw 11/12" + suffix, "p99")
    bench.compare("offline drain", "drain", "raw 09/10 rate", "p50", harness.at_least(20, "/s"))
    bench.note(f"{per_round} checkouts and returns a round after {WARM_UP} warm-up; ACS: pysip2")
    bench.note(
        f"'{SLOW.strip()}': the same ACS taking {SYSTEM_COMMIT_MS} ms to answer 11 and 09, as a "
        "library system that commits the loan to its own database does"
    )
    bench.note(f"offline drain: {drain_n} returns queued offline, then sent")
    if pinned:
        bench.note(f"--acs-own-cpu: {pinned}")
    bench.report()


def run(
    folder: Path,
    address: str,
    bench: harness.Bench,
    per_round: int,
    drain_n: int,
    suffix: str = "",
) -> None:
    """Time the rounds; measures are named with `suffix`; no drain when drain_n is 0."""
    settings = config.from_dict(
        {
            "store": {"path": str(folder / "kiosk.db")},
            "scanner": {"source": "none:"},
            "sip2": {
                "address": address,
                "user": "kiosk",
                "password": "secret",
                "institution": "SCHOOL",
                "location": "Library",
                "patron_pattern": r"P\d+",
                "item_pattern": r"BK\d+",
                "heartbeat_s": 600.0,
            },
        },
        base_dir=folder,
    )
    clock = SystemClock()
    store = open_store(settings, clock)
    store.start_checkpointer(settings.store.checkpoint_delay_s)
    _circulation, kiosk, link = sip2_kiosk(store, settings, clock, {})
    link.start()
    harness.wait_for(lambda: link.online, "the SIP2 link to log in", 20)
    raw = RawClient(address)
    answered: list[float] = []  # when the listeners (screen, lights, buzzer) got each answer
    kiosk.subscribe(lambda fb: answered.append(time.perf_counter()))
    fresh = (f"BK{n:05d}" for n in range(1, 10**5))  # each book once: none is still lent
    try:
        for _ in bench.rounds():
            out: list[float] = []
            back: list[float] = []
            raw_out: list[float] = []
            raw_back: list[float] = []
            assert kiosk.scan("P002").kind == "session_started"
            lent = []
            for i in range(per_round + WARM_UP):
                barcode, spare = next(fresh), next(fresh)
                start = time.perf_counter()
                fb = kiosk.scan(barcode)
                seconds = answered[-1] - start
                assert fb.kind == "ok" and fb.result and fb.result.action == "checkout", fb
                base = raw.checkout("P001", spare)
                lent.append((barcode, spare))
                if i >= WARM_UP:
                    out.append(seconds * 1000)
                    raw_out.append(base * 1000)
            kiosk.done()
            for i, (barcode, spare) in enumerate(lent):
                start = time.perf_counter()
                fb = kiosk.scan(barcode)
                seconds = answered[-1] - start
                assert fb.kind == "ok" and fb.result and fb.result.action == "checkin", fb
                base = raw.checkin(spare)
                if i >= WARM_UP:
                    back.append(seconds * 1000)
                    raw_back.append(base * 1000)
            bench.record("checkout" + suffix, out)
            bench.record("raw 11/12" + suffix, raw_out)
            bench.record("return" + suffix, back)
            bench.record("raw 09/10" + suffix, raw_back)
            if not drain_n:
                continue
            rate, raw_rate = drain(kiosk, link, raw, [next(fresh) for _ in range(drain_n)])
            bench.record("drain", rate, "/s")
            bench.record("raw 09/10 rate", raw_rate, "/s")
    finally:
        raw.close()
        link.stop()
        store.close()


def drain(kiosk: Any, link: Any, raw: RawClient, codes: list[str]) -> tuple[float, float]:
    """Queue returns offline, bring the link back, time the drain; and the raw rate."""
    count = len(codes)
    link.stop()  # offline: the worker stops and the connection closes
    link.online = False
    link._stop.clear()
    for code in codes:
        fb = kiosk.scan(code)
        assert fb.kind == "ok" and fb.result and fb.result.action == "checkin", fb
    assert link.queue_open()
    start = time.perf_counter()
    link.start()
    harness.wait_for(lambda: link.online and not link.queue_open(), "the queue to drain", 120)
    seconds = time.perf_counter() - start
    raw_start = time.perf_counter()
    for code in codes:
        raw.checkin(code)
    raw_seconds = time.perf_counter() - raw_start
    return count / seconds, count / raw_seconds


if __name__ == "__main__":
    main()
