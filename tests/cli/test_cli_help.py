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


def command_lines(text: str) -> dict[str, str]:
    """Return each command's line of a --help's Commands list: name -> its short help."""
    listed = text.split("Commands:\n", 1)[1]
    return dict(line.strip().split(None, 1) for line in listed.splitlines() if line.strip())


def test_every_command_has_words_beside_it_in_a_chinese_list() -> None:
    # click shortens at spaces: a long Chinese sentence (no spaces) came out as "..." alone.
    groups = ["", "stocktake", "hub", "sip2", "cards", "devices"]
    for group in groups:
        lines = command_lines(kiosk_help(*group.split(), lang="zh_CN"))
        for name, short in lines.items():
            assert short not in ("", "...", "…"), f"kiosk {group} --help: {name} has no words"
    lines = command_lines(kiosk_help(lang="zh_CN"))
    assert lines["report"].startswith("输出报表：classes、overdue、top-books")
    assert lines["report"].endswith("…")
    assert lines["init"] == "创建数据库（或就地升级），并载入默认借阅规则。"
    assert command_lines(kiosk_help("stocktake", lang="zh_CN"))["report"].startswith(
        "列出每个条码及其状态："
    )


def test_one_process_asking_in_chinese_then_english_gets_english_and_the_ids_stay() -> None:
    # The help is translated in place; before, a Chinese run left the commands Chinese for the
    # rest of the process (test_i18n then read Chinese texts as message ids and failed).
    from click.testing import CliRunner

    from kiosk.cli import main
    from kiosk.cli.help import help_texts

    zh = CliRunner().invoke(main, ["report", "--help"], env={"KIOSK_LANG": "zh_CN"})
    assert "写入文件，而不是标准输出。" in zh.output
    en = CliRunner().invoke(main, ["report", "--help"], env={"KIOSK_LANG": "en"})
    assert "Write to a file, not stdout." in en.output
    assert "写入文件" not in en.output
    texts = set(help_texts(main))
    assert "Write to a file, not stdout." in texts
    assert not [t for t in texts if "写入" in t]
