"""More of the IT person's slips: a backup folder named with a trailing slash, a stocktake range
given backwards, MARC sent to a terminal. Each is a clear message (in both languages) that
changes nothing, or does what the person meant."""

from __future__ import annotations

import errno
import os
import pty
import subprocess
from pathlib import Path

import pytest
from click.testing import Result

from cli.shell import CONFIG, KIOSK, kiosk, kiosk_zh


def refused(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.output


def stocktakes(cfg: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{cfg.parent / 'kiosk.db'}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM stocktakes").fetchone()[0])
    finally:
        conn.close()


# -- kiosk backup newfolder/ ---------------------------------------------------------------------


def test_a_backup_to_a_new_folder_with_a_slash_goes_inside_it(cfg: Path) -> None:
    # Before: a FILE named `usb-backups` (the slash dropped), not a folder with the backup in it.
    folder = cfg.parent / "usb-backups"
    done = kiosk(cfg, "backup", f"{folder}/")
    assert done.exit_code == 0, done.output
    assert folder.is_dir()
    (written,) = folder.glob("kiosk-*.db")
    assert done.output.splitlines()[0] == f"backup written: {written}"
    assert [p.name for p in folder.iterdir() if p.is_file()] == [written.name]


def test_a_backup_folder_with_a_slash_under_a_missing_folder_is_refused(cfg: Path) -> None:
    # /media/usb/backups/ with no stick mounted: nothing is made on the SD card.
    folder = cfg.parent / "media" / "usb" / "backups"
    out = refused(kiosk(cfg, "backup", f"{folder}/"), 1)
    parent = cfg.parent / "media" / "usb"
    assert out == (
        f"error: there is no folder {parent}; make it first (mkdir -p {parent}) or name another\n"
    )
    assert not (cfg.parent / "media").exists()


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's sysfs")
def test_a_backup_folder_that_cannot_be_made_says_why_in_both_languages(cfg: Path) -> None:
    # Nobody, root neither, may make a folder at the top of /sys.
    folder = Path("/sys/kiosk-backups")
    out = refused(kiosk(cfg, "backup", f"{folder}/"), 1)
    assert out.startswith(f"error: cannot make the folder {folder}: ")
    assert out.endswith("; name a folder you may write in\n")
    done = kiosk_zh(cfg, "backup", f"{folder}/")
    assert done.returncode == 1
    assert done.stderr.startswith(f"错误：无法建立文件夹 {folder}：")
    assert done.stderr.endswith("；请换一个有写入权限的文件夹\n")
    assert not folder.exists()
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml", "kiosk.db"]


# -- kiosk stocktake start --from B --to A -------------------------------------------------------


def test_a_stocktake_range_given_backwards_is_refused_naming_which_is_which(cfg: Path) -> None:
    out = refused(kiosk(cfg, "stocktake", "start", "--from", "I299", "--to", "I200"), 1)
    assert out == (
        "error: The range's start I299 comes after its end I200: give the first call number "
        "first, like from I200 to I299.\n"
    )
    assert stocktakes(cfg) == 0
    done = kiosk_zh(cfg, "stocktake", "start", "--from", "I299", "--to", "I200")
    assert done.returncode == 1
    assert done.stderr == (
        "错误：范围的起点 I299 在终点 I200 之后：请先写小的索书号，例如从 I200 到 I299。\n"
    )
    assert stocktakes(cfg) == 0
    # The right way round, or a start within its end's shelf (I287.4 to I287), starts one.
    started = kiosk(cfg, "stocktake", "start", "--from", "I287.4", "--to", "I287")
    assert started.exit_code == 0, started.output
    assert started.output.startswith("stocktake running: I287.4-I287")
    assert stocktakes(cfg) == 1


# -- kiosk export marc ---------------------------------------------------------------------------


def test_marc_is_not_written_to_a_terminal(cfg: Path) -> None:
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [*KIOSK, "--config", str(cfg), "export", "marc"],
            stdout=slave,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "KIOSK_LANG": "en"},
            timeout=60,
        )
        os.close(slave)
        slave = -1
        assert done.returncode == 1
        assert done.stderr == (
            "error: MARC records are binary and are not written to a terminal; give a file: "
            "kiosk export marc -o books.mrc (or kiosk export marc > books.mrc)\n"
        )
        # Nothing reached the terminal: with its writer gone, an empty pty reads as EIO.
        with pytest.raises(OSError) as e:
            os.read(master, 1024)
        assert e.value.errno == errno.EIO
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)


def test_marc_to_a_pipe_or_a_file_is_written(cfg: Path) -> None:
    env = {**os.environ, "KIOSK_LANG": "en"}
    piped = subprocess.run(
        [*KIOSK, "--config", str(cfg), "export", "marc"], capture_output=True, env=env, timeout=60
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count(b"\x1d") == 5  # one record terminator a book of the small school
    out = cfg.parent / "books.mrc"
    to_file = kiosk(cfg, "export", "marc", "-o", str(out))
    assert to_file.exit_code == 0, to_file.output
    assert out.read_bytes() == piped.stdout
    loans = kiosk(cfg, "export", "items", "--codes", "-o", str(cfg.parent / "items.csv"))
    assert loans.exit_code == 0, loans.output
    assert (cfg.parent / "items.csv").read_text("utf-8").startswith("barcode,")


def test_marc_on_a_chinese_terminal_is_refused_in_chinese(cfg: Path) -> None:
    master, slave = pty.openpty()
    try:
        env = {**os.environ, "KIOSK_LANG": "zh_CN"}
        run = [*KIOSK, "--config", str(cfg), "export", "marc"]
        done = subprocess.run(
            run, stdout=slave, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    finally:
        os.close(slave)
        os.close(master)
    assert done.returncode == 1
    assert done.stderr.startswith("错误：MARC 记录是二进制数据，不会写到终端上；")


# -- config errors in both languages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "zh", "en"),
    [
        (
            "[kiosk]\nlanguag = 'en'\n",
            "[kiosk] languag: 没有这个设置项（可用的有：id, ",
            "[kiosk] languag: unknown key (known: id, ",
        ),
        (
            "[kiosk]\nsession_timeout_s = 'long'\n",
            "[kiosk] session_timeout_s: 必须是数字，不能是 'long'\n",
            "[kiosk] session_timeout_s: must be a number, not 'long'\n",
        ),
        (
            "[rules]\nrenewals = 99\n",
            "[rules] renewals: 99 不在 0 到 10 之间\n",
            "[rules] renewals: 99 is not between 0 and 10\n",
        ),
    ],
)
def test_a_config_error_is_said_in_the_terminals_language(
    cfg: Path, line: str, zh: str, en: str
) -> None:
    # Before: English after 错误：, on a Chinese terminal.
    cfg.write_text(f"{CONFIG}{line}", encoding="utf-8")
    done = kiosk_zh(cfg, "stocktake", "start", "--location", "library")
    assert done.returncode == 2
    assert done.stderr.startswith(f"错误：{cfg}: {zh}")
    assert done.stdout == ""
    assert stocktakes(cfg) == 0
    out = refused(kiosk(cfg, "stocktake", "start", "--location", "library"), 2)
    assert out.startswith(f"error: {cfg}: {en}")
    assert stocktakes(cfg) == 0
