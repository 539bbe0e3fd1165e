"""The [sip2] section: defaults, clear errors, and no hub beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon.test_daemon import kiosk_cmd

from kiosk import config


def test_defaults_leave_sip2_off() -> None:
    s = config.Settings().sip2
    assert s.address == "" and s.encoding == "utf-8" and s.terminator == "\r"
    assert s.error_detection is True and s.offline_card_days == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sip2]\naddress = "ils.school"\n', "[sip2] address: must be HOST:PORT"),
        ('[sip2]\nencoding = "latin1"\n', "[sip2] encoding: must be one of utf-8, cp850, gb18030"),
        ('[sip2]\nterminator = "\\n"\n', "[sip2] terminator: must be"),
        ('[sip2]\nadress = "a:1"\n', "[sip2] adress: unknown key"),
        ("[sip2]\ntimeout_s = 0\n", "[sip2] timeout_s: must be greater than 0"),
        ('[sip2]\npatron_pattern = "P("\n', "[sip2] patron_pattern: is not a valid regular"),
        ('[sip2]\nerror_detection = "yes"\n', "[sip2] error_detection: must be true or false"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config.load(path)


def test_hub_and_sip2_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[hub]\nurl = "https://hub.school"\n[sip2]\naddress = "10.0.0.5:6001"\n', encoding="utf-8"
    )
    with pytest.raises(config.ConfigError, match="both set"):
        config.load(path)
    done = kiosk_cmd(path, "status")
    assert done.returncode == 2
    assert "[hub] url and [sip2] address are both set" in done.stderr
