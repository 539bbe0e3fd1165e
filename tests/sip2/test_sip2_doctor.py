"""`kiosk doctor` and `kiosk sip2 test` against a real ACS process: what is wrong, and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon.test_daemon import kiosk_cmd, write_config

from .test_kiosk_sip2 import sip2_section


def sip2_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if " SIP2: " in line)
    return lines[start : start + 3]


def doctor(tmp_path: Path, address: str, **kw: Any) -> str:
    config = write_config(tmp_path, sip2_section(address, **kw))
    kiosk_cmd(config, "init")
    done = kiosk_cmd(config, "doctor", "--user", "root")
    return "\n".join(sip2_lines(done.stdout))


def test_doctor_logs_in_and_runs_99(acs: Any, tmp_path: Path) -> None:
    server = acs()
    out = doctor(tmp_path, server.address)
    assert "logged in as kiosk; 99 answered: online Y" in out, out
    assert "checksums on" in out


@pytest.mark.parametrize(
    ("server_args", "kiosk", "says", "fix"),
    [
        ((), {"password": "wrong"}, "refused the login of user kiosk", "check [sip2] user"),
        (
            ("--error-detection", "required"),
            {"error_detection": False},
            "could not read the kiosk's messages",
            "set error_detection = true",
        ),
        (
            ("--encoding", "gb18030"),
            {"encoding": "utf-8"},
            "answers in another encoding",
            "set [sip2] encoding to the server's",
        ),
    ],
)
def test_doctor_says_what_is_wrong_and_the_fix(
    acs: Any,
    tmp_path: Path,
    server_args: tuple[str, ...],
    kiosk: dict[str, Any],
    says: str,
    fix: str,
) -> None:
    server = acs(*server_args)
    out = doctor(tmp_path, server.address, **kiosk)
    assert says in out and fix in out, out


def test_doctor_with_the_server_down(acs: Any, tmp_path: Path) -> None:
    server = acs()
    server.kill()
    out = doctor(tmp_path, server.address)
    assert f"cannot reach the SIP2 server at {server.address}" in out, out
    assert "check the network, [sip2] address" in out


def test_sip2_test_prints_the_answers_in_words(acs: Any, tmp_path: Path) -> None:
    server = acs("--lent-at-desk", "B003=P006")
    config = write_config(tmp_path, sip2_section(server.address))
    kiosk_cmd(config, "init")
    done = kiosk_cmd(config, "sip2", "test", "P006", "B003")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "card P006: 陈静, valid patron: Y" in out
    assert "charge privileges denied, excessive outstanding fines" in out
    assert "the kiosk would: fines" in out and "fines: 12.50 CNY" in out
    assert "the library says: Fines of 12.50 outstanding" in out
    assert "book B003: 西游记, charged" in out and "due 2030-01-15 23:59" in out
    down = kiosk_cmd(config, "sip2", "test", "P001")
    assert down.returncode == 0
    server.kill()
    down = kiosk_cmd(config, "sip2", "test", "P001")
    assert down.returncode == 1 and "try `kiosk doctor`" in down.stderr
