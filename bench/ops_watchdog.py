"""What supervising the main loop costs each turn: the watchdog hook against a do-nothing hook.

    .venv/bin/python -m bench.ops_watchdog [--turns 20000] [--store PATH]

The daemon's main loop calls `Supervision` on every turn (about ten a second). Three cases, each
timed per call with perf_counter_ns, interleaved so all see the same machine at the same moment:

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
import os
import shutil
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk import config
from kiosk.app import open_store
from kiosk.ops.notify import Notifier, Supervision, store_answers


def percentile(values: list[int], q: float) -> float:
    """Return the q-quantile (0..1) of nanosecond timings, in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20000)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="kb", dir="/tmp"))
    db = args.store or folder / "kiosk.db"
    store = open_store(config.from_dict({"store": {"path": str(db)}}, base_dir=folder))
    address = str(folder / "notify")
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

    timings: dict[str, list[int]] = {"baseline": [], "idle": [], "ping": [], "bare": []}
    cases: list[tuple[str, Callable[[], None]]] = [
        ("baseline", nothing),
        ("idle", idle),
        ("bare", bare_ping),
        ("ping", pinging),
    ]
    for turn in range(args.turns):
        now[0] = turn * 1e-3  # pinging is due every call; idle never in this range
        for name, hook in cases:
            t0 = time.perf_counter_ns()
            hook()
            timings[name].append(time.perf_counter_ns() - t0)
    time.sleep(0.2)
    print(f"turns: {args.turns}, datagrams received: {received[0]}, store: {db}")
    print("| main-loop hook | n | p50 µs | p99 µs | p99 / its baseline's p99 |")
    print("|---|---|---|---|---|")
    for name, label, base in [
        ("baseline", "baseline: a hook that does nothing", "baseline"),
        ("idle", "supervision, no ping due", "baseline"),
        ("bare", "baseline: bare PRAGMA read + sendto", "bare"),
        ("ping", "supervision, store read + WATCHDOG=1 datagram", "bare"),
    ]:
        values = timings[name]
        p50 = statistics.median(values) / 1000
        p99 = percentile(values, 0.99)
        ratio = p99 / percentile(timings[base], 0.99)
        print(f"| {label} | {len(values)} | {p50:.2f} | {p99:.2f} | {ratio:.1f}x |")
    bare_db.close()
    bare_sock.close()
    store.close()
    receiver.close()
    os.unlink(address)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
