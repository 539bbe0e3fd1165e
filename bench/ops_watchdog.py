"""What supervising the main loop costs each turn: the watchdog hook against a do-nothing hook.

    .venv/bin/python -m bench.ops_watchdog [--turns 20000] [--store PATH] [--quick] [--rounds 3]

The daemon's main loop calls `Supervision` on every turn (about ten a second). Three cases, each
timed per call with perf_counter_ns, interleaved so all see the same machine at the same moment,
in rounds (bench.harness: median of the rounds' p50 and p99, with their spread):

- baseline: a hook that does nothing (the cost of calling any hook at all);
- idle turn: the hook when no ping is due (most turns);
- ping turn: a ping due on every call: the store health read (`PRAGMA schema_version` on the
  store's file) plus one datagram to a real unix socket, as systemd's notify socket receives it;
- bare ping: its baseline, the least that can do the same: the same PRAGMA on an open sqlite3
  connection and `sendto` on an already open socket.

In the daemon a ping is due every WATCHDOG_USEC / 2 (15 s with `WatchdogSec=30`), so nearly every
turn is an idle one. A receiver that falls behind makes `sendto` fail at once (the socket does not
block), which is why fewer datagrams arrive than are sent here.

The store defaults to a fresh one; `--store` points it at a grown one (bench.grow).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench import harness
from kiosk import config
from kiosk.daemon.app import open_store
from kiosk.ops.notify import Notifier, Supervision, store_answers


def measure(args: argparse.Namespace, folder: Path, sock_dir: Path) -> harness.Bench:
    """Time the hooks, interleaved call by call, in rounds; return the bench with its samples."""
    turns = harness.size(args, args.turns or 20000, 300)
    db = args.store.resolve() if args.store else folder / "kiosk.db"
    store = open_store(config.from_dict({"store": {"path": str(db)}}, base_dir=folder))
    address = str(sock_dir / "notify")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    received = [0]

    def drain() -> None:
        while True:
            try:
                receiver.recv(4096)
            except OSError:
                return
            received[0] += 1

    threading.Thread(target=drain, daemon=True).start()
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "10000000"}
    now = [0.0]
    idle = Supervision(Notifier(env), lambda: "ok", lambda: store_answers(store), lambda: now[0])
    pinging = Supervision(
        Notifier({**env, "WATCHDOG_USEC": "1"}),
        lambda: "ok",
        lambda: store_answers(store),
        lambda: now[0],
    )
    idle()  # the first call pings; after that no ping is due for 5 s of this fake clock

    def nothing() -> None:
        return None

    bare_db = sqlite3.connect(db)
    bare_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    bare_sock.setblocking(False)

    def bare_ping() -> None:
        bare_db.execute("PRAGMA schema_version").fetchone()
        with contextlib.suppress(BlockingIOError):
            bare_sock.sendto(b"WATCHDOG=1", address)

    cases: list[tuple[str, Callable[[], None]]] = [
        ("baseline: a hook that does nothing", nothing),
        ("supervision, no ping due", idle),
        ("baseline: bare PRAGMA read + sendto", bare_ping),
        ("supervision, store read + WATCHDOG=1 datagram", pinging),
    ]
    bench = harness.Bench("ops_watchdog", args)
    turn = 0
    for _ in bench.rounds():
        timings: dict[str, list[float]] = {name: [] for name, _ in cases}
        for _ in range(turns):
            turn += 1
            now[0] = turn * 1e-5  # pinging is due every call; idle not within 5 s
            for name, hook in cases:
                t0 = time.perf_counter_ns()
                hook()
                timings[name].append((time.perf_counter_ns() - t0) / 1000)
        for name, values in timings.items():
            bench.record(name, values, "µs")
    time.sleep(0.2)
    bench.note(
        f"{turns} turns per round, datagrams received: {received[0]} (a full socket drops "
        f"them at once, it never blocks), store: {db}"
    )
    bare_db.close()
    bare_sock.close()
    store.close()
    receiver.close()
    return bench


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--turns", type=int, help="main-loop turns per round (default 20000)")
    ap.add_argument("--store", type=Path, help="an existing (grown) store to read")
    args = ap.parse_args(argv)
    # The notify socket's path must stay under 108 bytes: a short folder of its own in /tmp.
    with harness.workdir(args, "ops") as folder, tempfile.TemporaryDirectory(prefix="kb") as s:
        bench = measure(args, folder, Path(s).resolve())
    bench.compare(
        "watchdog hook, no ping due: p99",
        "supervision, no ping due",
        "baseline: a hook that does nothing",
        "p99",
    )
    bench.compare(
        "watchdog hook, ping: p99",
        "supervision, store read + WATCHDOG=1 datagram",
        "baseline: bare PRAGMA read + sendto",
        "p99",
    )
    bench.report()


if __name__ == "__main__":
    main()
