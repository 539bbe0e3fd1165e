"""Run one import in a process of its own, for the daemon: `python -m ...importers.worker JOB`.

The dashboard's import used to run in a thread of the daemon: a large file then took the CPU and
Python's one interpreter lock from the scans beside it, and its memory stayed with the daemon. In a
process of its own (at a lower priority) it competes with lending only for the SQLite write lock,
which it takes in short transactions, on the store's own WAL bound. JOB is JSON (store, kiosk_id,
wal_max_pages, kind, file, name, sheet, encoding, dry_run, actor, lang; rejects: where to write
the bad rows when the good ones are imported; columns: a mapping of the file's columns); progress
goes to stdout as `{"done": n, "total": m}` lines, then one line with the report in the
librarian's language.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from kiosk.circulation.importers import import_file, journal
from kiosk.circulation.store import WAL_MAX_PAGES, Store
from kiosk.i18n import N_, translate

NICE = 10  # below the daemon, so a scan gets the CPU first
LISTED = 1000  # problems sent to the page; a file bad on every row would fill the daemon's memory
MORE = N_("only the first {shown} of {count} problems are listed")
STOPPED = N_(
    "the import stopped before it finished (was it killed?): nothing of the file was imported"
)
PR_SET_PDEATHSIG = 1  # prctl(2)


def start(job: dict[str, Any]) -> subprocess.Popen[str]:
    """Start an import process; read its lines with `follow`."""
    job = {**job, "parent": os.getpid()}
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.circulation.importers.worker", json.dumps(job)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def follow(proc: subprocess.Popen[str], progress: Callable[[int, int], None]) -> dict[str, Any]:
    """Pass on an import process's progress and return its report (or what went wrong)."""
    assert proc.stdout is not None and proc.stderr is not None
    result: dict[str, Any] = {}
    for line in _lines(proc.stdout):
        message = json.loads(line)
        if "done" in message:
            progress(message["done"], message["total"])
        else:
            result = message
    problem = proc.stderr.read()
    if proc.wait() != 0 or not result:
        lines = problem.strip().splitlines()
        summary = lines[-1] if lines else ""
        return {"ok": False, "errors": [], "warnings": [], "summary": summary, "stopped": True}
    return result


def run_job(
    store: Store, job: dict[str, Any], progress: Callable[[int, int], None]
) -> dict[str, Any]:
    """Run an import in its own process; if it dies before its end, undo what it wrote."""
    result = follow(start(job), progress)
    if result.pop("stopped", False):
        # Killed (by the system short of memory, or by hand) or failed in the middle: what it
        # wrote is put back now, not at the next start.
        journal.recover_if_free(store)
        stopped = translate(STOPPED, job.get("lang", "zh_CN"))
        result["summary"] = f"{stopped} ({result['summary']})" if result["summary"] else stopped
    return result


def _lines(stream: Any) -> Iterator[str]:
    for line in stream:
        if line.strip():
            yield line


def main(job: dict[str, Any]) -> None:
    """Run the import the job describes and print its report as JSON."""
    _die_with(job.get("parent"))
    with contextlib.suppress(OSError):  # if not allowed, short transactions still keep lending
        os.nice(NICE)

    def progress(done: int, total: int) -> None:
        print(json.dumps({"done": done, "total": total}), flush=True)

    store = Store.open(
        job["store"],
        kiosk_id=job["kiosk_id"],
        check="quick",
        wal_max_pages=job.get("wal_max_pages", WAL_MAX_PAGES),
    )
    try:
        report = import_file(
            store,
            job["kind"],
            job["file"],
            sheet=job.get("sheet"),
            encoding=job.get("encoding"),
            dry_run=job.get("dry_run", False),
            actor=job["actor"],
            progress=progress,
            name=job.get("name"),
            own_process=True,
            rejects=job.get("rejects"),
            columns=job.get("columns"),
        )
    finally:
        store.close()
    lang = job.get("lang", "zh_CN")

    def listed(found: list[Any]) -> list[dict[str, Any]]:
        return [{"row": e.row, "column": e.column, "reason": e.text(lang)} for e in found[:LISTED]]

    summary = report.summary(lang)
    for found in (report.errors, report.warnings):
        if len(found) > LISTED:
            summary += " " + translate(MORE, lang, shown=LISTED, count=len(found))
    result = {
        "ok": report.ok,
        "errors": listed(report.errors),
        "warnings": listed(report.warnings),
        "records": bool(report.records),
        "summary": summary,
        "rejected": report.rejected if report.rejects_file else 0,
        # The librarian may import the good rows and get the bad ones back as a file.
        "can_keep_going": bool(report.errors)
        and not report.file_problem
        and not report.rejects_file,
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)


def _die_with(parent: int | None) -> None:
    """Be killed when the daemon dies: the import's journal then undoes it at the next start.

    Otherwise an orphaned import would go on writing beside the next daemon, into a store that
    daemon is starting on, from an upload that daemon removes.
    """
    if parent is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the daemon died before the line above
        os._exit(1)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
