"""The command-line help speaks the terminal's language (KIOSK_LANG or LANG)."""

from __future__ import annotations

import os
import subprocess
import sys


def kiosk_help(*args: str, lang: str) -> str:
    env = {**os.environ, "KIOSK_LANG": lang}
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout


def test_help_in_chinese_for_a_chinese_terminal() -> None:
    text = kiosk_help(lang="zh_CN")
    assert "学校图书馆自助借还机。" in text
    assert "运行自助借还机守护进程，直到收到 SIGTERM 或 SIGINT。" in text
    assert "列出输入设备和串口" in text  # an area command, loaded on demand
    text = kiosk_help("import", lang="zh_CN")
    assert "只检查每一行，不做任何更改。" in text


def test_help_in_english_otherwise() -> None:
    text = kiosk_help(lang="en_GB.UTF-8")
    assert "Self-service circulation kiosk for school libraries." in text
    assert "Run the kiosk daemon until SIGTERM or SIGINT." in text
    assert "Check every row, change nothing." in kiosk_help("import", lang="C")
