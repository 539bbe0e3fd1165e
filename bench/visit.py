"""A student's card tap, which now records a visit, beside a helper's tap, which writes nothing.

    .venv/bin/python -m bench.visit [--quick] [--rounds 3] [--dir FOLDER]

A store of 400 students (40 with --quick) with a card each and a helper. Each round taps every
student's card through `Kiosk.scan`, as the daemon does, each tap opening a session (and so a
`visit` event: one small INSERT and its COMMIT) and ending it. Beside every student's tap, in
the same round: the helper's card, whose desk mode writes nothing (the same path without the
visit), and a bare `sqlite3` INSERT plus COMMIT with the store's pragmas in the same folder.
The question is whether the visit delays the child's "Hello" in a way that matters: it costs
about one durable commit, the same as the bare INSERT.
"""

from __future__ import annotations

import time

from bench import harness
from bench.latency import Baseline
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.records import put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.daemon.app import open_store

STUDENT, HELPER, BARE = (
    "student card tap (visit recorded)",
    "baseline: helper card tap (no write)",
    "baseline: sqlite3 INSERT + COMMIT",
)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    args = harness.parser(__doc__).parse_args(argv)
    students = harness.size(args, 400, 40)
    with harness.workdir(args, "visit") as folder:
        settings = config.from_dict(
            {
                "store": {"path": str(folder / "kiosk.db")},
                "scanner": {"source": "none:"},
                "indicator": {"kind": "none"},
                "web": {"enabled": False},
            },
            base_dir=folder,
        )
        store = open_store(settings, SystemClock())
        with store.write() as db:
            for n in range(students):
                row = {"id": f"S{n:04d}", "name": f"学生{n}", "role": "student", "grade": 3,
                       "class_name": f"三({n % 8 + 1})班"}  # fmt: skip
                put_patron(db, row, [f"0F{n:08X}"], store.now())
            row = {"id": "H1", "name": "小管理员", "role": "helper", "grade": 5,
                   "class_name": "五(1)班"}  # fmt: skip
            put_patron(db, row, ["0FHELPER01"], store.now())
        kiosk = Kiosk(Circulation(store, "Asia/Shanghai"), SystemClock())
        bare = Baseline(folder / "baseline.db")
        bench = harness.Bench("visit", args)

        def tap(code: str, kind: str) -> float:
            start = time.perf_counter()
            fb = kiosk.scan(code)
            took = time.perf_counter() - start
            assert fb.kind == "session_started", (code, fb)
            assert kind in fb.reason
            kiosk.done()
            return took * 1000

        for _ in bench.rounds():
            ours, helper, base = [], [], []
            for n in range(students):
                ours.append(tap(f"0F{n:08X}", "session"))
                helper.append(tap("0FHELPER01", "desk"))
                base.append(bare.once() * 1000)
            bench.record(STUDENT, ours)
            bench.record(HELPER, helper)
            bench.record(BARE, base)
        visits = store.value("SELECT count(*) FROM events WHERE type = 'visit'")
        assert visits == students * bench.n_rounds, visits
        bench.note(f"{students} student taps and as many helper taps a round; {visits} visits")
        bench.compare("card tap p50 vs helper tap", STUDENT, HELPER, "p50")
        bench.compare("card tap p99 vs bare commit", STUDENT, BARE, "p99", harness.ratio_at_most(3))
        bench.report()
        bare.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
