"""A card tap while another scan source floods the daemon with junk.

    .venv/bin/python -m bench.flood [--quick] [--rounds 3] [--dir FOLDER]

A real daemon in this process: its main loop, a FIFO scan source and a card reader (RDM6300
frames on a pyserial `loop://` port, the hardware edge). Each round taps N cards (a different
student each time) and times each from `present()` to the session's feedback naming that
student (a lookup: a tap commits nothing); then ends the session. Baseline, in the same round:
the same taps with the FIFO quiet. Ours: the same taps while a writer pours junk lines into the
FIFO as fast as the daemon reads them (one bounded queue per source, taken in turn:
kiosk/daemon/scans.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

from bench import harness
from kiosk import config
from kiosk.circulation.records import put_patron
from kiosk.daemon.app import Daemon, open_store
from kiosk.devices.fakes import FakeCardReader


def card(n: int) -> str:
    return f"0F{n:08X}"


def make_daemon(folder: Path, students: int) -> tuple[Daemon, FakeCardReader]:
    """Return a daemon on a store of `students` students, with a FIFO and a card reader."""
    os.mkfifo(folder / "scans")
    settings = config.from_dict(
        {
            "store": {"path": "kiosk.db"},
            "scanner": {"source": f"fifo:{folder / 'scans'}"},
            "indicator": {"kind": "none"},
            "web": {"enabled": False},
        },
        base_dir=folder,
    )
    store = open_store(settings)
    with store.write() as db:
        for n in range(students):
            row = {"id": f"S{n}", "name": f"学生{n}", "role": "student", "class_name": "三(2)班"}
            put_patron(db, row, [card(n)], store.now())
    store.close()
    reader = FakeCardReader(repeat_window_s=0.0)
    daemon = Daemon(settings)
    assert daemon.sources is not None
    daemon.sources.append(reader)
    return daemon, reader


def taps(daemon: Daemon, reader: FakeCardReader, first: int, count: int) -> list[float]:
    """Tap `count` cards one after the other; return each one's ms to the student's feedback."""
    seen: dict[str, float] = {}
    daemon.kiosk.subscribe(
        lambda fb: (
            seen.setdefault(daemon.kiosk.patron.id, time.perf_counter())
            if daemon.kiosk.patron is not None
            else None
        )
    )
    times = []
    for n in range(first, first + count):
        started = time.perf_counter()
        reader.present(card(n))
        at = harness.wait_for(lambda n=n: seen.get(f"S{n}"), f"the session of S{n}", 30)
        times.append((at - started) * 1000)
        daemon.kiosk.done()
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the figures."""
    args = harness.parser(__doc__).parse_args(argv)
    count = harness.size(args, 60, 5)
    rounds = max(harness.MIN_ROUNDS, args.rounds)
    with harness.workdir(args, "flood") as folder:
        daemon, reader = make_daemon(folder, 2 * count * rounds + 1)
        stop = threading.Event()
        thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
        thread.start()
        fifo = harness.open_fifo_writer(folder / "scans", "the daemon")
        bench = harness.Bench("flood", args)
        flooding = threading.Event()
        junk = "".join(f"JUNK{n:07d}\n" for n in range(10_000))

        def pour() -> None:
            with contextlib.suppress(BrokenPipeError):  # the daemon stopped reading: done
                while not stop.is_set():
                    if flooding.wait(0.1):
                        fifo.write(junk)
                        fifo.flush()

        threading.Thread(target=pour, daemon=True).start()
        tapped = 0
        try:
            for _ in bench.rounds():
                bench.record("card, FIFO quiet", taps(daemon, reader, tapped, count))
                tapped += count
                flooding.set()
                harness.wait_for(lambda: daemon.scans.qsize() > 50, "the flood to fill its queue")
                bench.record("card, FIFO flooding", taps(daemon, reader, tapped, count))
                tapped += count
                flooding.clear()
                harness.wait_for(lambda: daemon.scans.qsize() == 0, "the queue to drain", 60)
        finally:
            stop.set()
            thread.join(10)
        bench.note(f"{count} card taps per round and side; junk dropped: {daemon.scans.dropped}")
        bench.compare(
            "card tap while junk floods",
            "card, FIFO flooding",
            "card, FIFO quiet",
            "p99",
            harness.at_most(1000, "ms"),
        )
        bench.compare(
            "card tap while junk floods (p50)", "card, FIFO flooding", "card, FIFO quiet", "p50"
        )
        bench.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
