"""A real SIP2 server process (pysip2 with a small library, tests/sip2/acs.py) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ACS = Path(__file__).with_name("acs.py")


@dataclass
class Acs:
    """One running ACS process; `restart` keeps its port, `journal` says what it took."""

    tmp: Path
    args: list[str]
    port: int = 0
    proc: subprocess.Popen[str] | None = None
    journal_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.journal_path = self.tmp / f"journal-{id(self)}.jsonl"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *extra: str) -> Acs:
        cmd = [
            sys.executable,
            str(ACS),
            "--port",
            str(self.port),
            "--journal",
            str(self.journal_path),
        ]
        self.proc = subprocess.Popen([*cmd, *self.args, *extra], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until it listens
        assert line.startswith("port "), line
        self.port = int(line.split()[1])
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def journal(self, op: str | None = None) -> list[dict[str, Any]]:
        if not self.journal_path.exists():
            return []
        rows = [json.loads(line) for line in self.journal_path.read_text("utf-8").splitlines()]
        return [r for r in rows if op is None or r["op"] == op]


@pytest.fixture
def acs(tmp_path: Path) -> Iterator[Any]:
    """Start ACS processes with the given arguments; all are killed at the end."""
    started: list[Acs] = []

    def start(*args: str) -> Acs:
        server = Acs(tmp_path, list(args)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
