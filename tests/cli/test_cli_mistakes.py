"""The IT person's slips at the command line: each one a message naming what is wrong and where,
a non-zero exit, no traceback, and nothing changed in the store or on disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import sqlite3
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from cli.shell import CONFIG, ENV, KIOSK, kiosk, kiosk_zh
from kiosk.cli import main


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def refused(result: Result, code: int) -> str:
    """Assert a refusal without a traceback; return what the person read."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.slow  # `kiosk run` processes
@pytest.mark.parametrize(
    ("line", "said"),
    [
        # There is no Asia/Beijing in the time zone database: China's zone is Asia/Shanghai.
        (
            'timezone = "Asia/Beijing"',
            "[kiosk] timezone: 'Asia/Beijing' is not a time zone name like Asia/Shanghai "
            "(`timedatectl list-timezones` lists them)",
        ),
    ],
)
def test_run_names_a_time_zone_that_does_not_exist_instead_of_crashing(
    cfg: Path, line: str, said: str
) -> None:
    cfg.write_text(f"[kiosk]\n{line}\n{CONFIG}", encoding="utf-8")
    before = digest(cfg.parent / "kiosk.db")
    result = subprocess.run(
        [*KIOSK, "--config", str(cfg), "run"], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr == f"error: {cfg}: {said}\n"
    assert result.stdout == ""
    assert digest(cfg.parent / "kiosk.db") == before


def test_doctor_and_reports_name_the_bad_time_zone_too(cfg: Path) -> None:
    cfg.write_text(f'[kiosk]\ntimezone = "Beijing"\n{CONFIG}', encoding="utf-8")
    said = f"{cfg}: [kiosk] timezone: 'Beijing' is not a time zone name like Asia/Shanghai"
    out = refused(kiosk(cfg, "report", "overdue"), 2)
    assert out.startswith(f"error: {said}")
    out = refused(kiosk(cfg, "export", "loans"), 2)
    assert out.startswith(f"error: {said}")
    doctor = kiosk(cfg, "doctor", "--user", "root" if os.geteuid() == 0 else os.environ["USER"])
    assert doctor.exit_code == 1
    assert f"PROBLEM      config: {said}" in doctor.output


def test_a_port_above_65535_is_refused_not_wrapped_to_another_port(cfg: Path) -> None:
    # 99999 would have listened on 34463 (99999 - 65536), where nobody looks for the pages.
    cfg.write_text(f'{CONFIG}[web]\nlisten = "0.0.0.0:99999"\n', encoding="utf-8")
    out = refused(kiosk(cfg, "status"), 2)
    assert out == f"error: {cfg}: [web] listen: port 99999 is above 65535, the highest there is\n"


def test_a_key_above_every_section_is_named_as_such(cfg: Path) -> None:
    cfg.write_text(f'id = "kiosk-2"\n{CONFIG}', encoding="utf-8")
    out = refused(kiosk(cfg, "status"), 2)
    assert out == (
        f"error: {cfg}: id: a key before the first [section]; every setting goes under its "
        "section (config.example.toml shows which)\n"
    )


def test_backup_never_writes_over_the_config_or_the_store(cfg: Path) -> None:
    store = cfg.parent / "kiosk.db"
    config_before, store_before = digest(cfg), digest(store)
    for target in (cfg, store):
        out = refused(kiosk(cfg, "backup", str(target)), 1)
        assert out == (
            f"error: {target} already exists and a backup never writes over a file; name a new "
            "file, or a folder (each backup then gets its own name)\n"
        )
    assert digest(cfg) == config_before
    assert digest(store) == store_before
    assert count(store, "SELECT count(*) FROM patrons") == 5
    assert sorted(p.name for p in cfg.parent.iterdir() if not p.name.startswith("kiosk.db")) == [
        "config.toml"
    ]


def test_backup_into_a_folder_that_does_not_exist_says_which(cfg: Path) -> None:
    target = cfg.parent / "usb" / "kiosk.db"
    out = refused(kiosk(cfg, "backup", str(target)), 1)
    folder = cfg.parent / "usb"
    assert out == (
        f"error: there is no folder {folder}; make it first (mkdir -p {folder}) or name another\n"
    )
    assert not folder.exists()
    # Given a folder that is there, or with --keep (which makes it), the backup is written.
    assert kiosk(cfg, "backup", "--keep", "3", str(folder)).exit_code == 0
    assert len(list(folder.glob("kiosk-*.db"))) == 1


def test_import_with_rejects_in_a_missing_folder_imports_nothing(cfg: Path) -> None:
    store = cfg.parent / "kiosk.db"
    rows = "card_id,name,class\n0F00CCCC01,新同学,三(2)班\n0F00CCCC02,,三(2)班\n"
    (cfg.parent / "new.csv").write_text(rows, encoding="utf-8")
    events = count(store, "SELECT count(*) FROM events")
    rejects = cfg.parent / "fix-me" / "bad.csv"

    out = refused(
        kiosk(cfg, "import", "patrons", str(cfg.parent / "new.csv"), "--rejects", str(rejects)), 2
    )

    folder = cfg.parent / "fix-me"
    assert out.endswith(
        f"Error: Invalid value for '--rejects': there is no folder {folder}; make it first "
        f"(mkdir -p {folder}) or name another\n"
    )
    # Before, the good row came in and then the bad one's file could not be written.
    assert count(store, "SELECT count(*) FROM patrons") == 5
    assert count(store, "SELECT count(*) FROM events") == events
    assert not folder.exists()


def test_cards_print_to_a_missing_folder_issues_no_cards(cfg: Path) -> None:
    store = cfg.parent / "kiosk.db"
    cards = count(store, "SELECT count(*) FROM cards")
    events = count(store, "SELECT count(*) FROM events")
    out = refused(
        kiosk(
            cfg,
            "cards",
            "print",
            "--class",
            "三(2)班",
            "--out",
            str(cfg.parent / "print" / "c.pdf"),
        ),
        2,
    )
    assert f"Invalid value for '--out': there is no folder {cfg.parent / 'print'}" in out
    assert count(store, "SELECT count(*) FROM cards") == cards
    assert count(store, "SELECT count(*) FROM events") == events


def test_report_and_labels_to_a_missing_folder_say_which_folder(cfg: Path) -> None:
    folder = cfg.parent / "reports"
    out = refused(kiosk(cfg, "report", "overdue", "-o", str(folder / "overdue.csv")), 2)
    assert f"Invalid value for '--output' / '-o': there is no folder {folder};" in out
    out = refused(kiosk(cfg, "labels", "9787020002207", "--out", str(folder / "l.html")), 2)
    assert f"Invalid value for '--out': there is no folder {folder};" in out
    assert not folder.exists()


def test_the_folder_message_is_in_chinese_on_a_chinese_terminal(cfg: Path) -> None:
    target = cfg.parent / "usb" / "kiosk.db"
    done = kiosk_zh(cfg, "backup", str(target))
    folder = cfg.parent / "usb"
    assert done.returncode == 1
    assert (
        done.stderr == f"错误：没有文件夹 {folder}；请先建好它（mkdir -p {folder}），或换一个位置\n"
    )


def test_a_write_to_a_store_another_program_holds_is_a_message(cfg: Path) -> None:
    store = cfg.parent / "kiosk.db"
    holder = sqlite3.connect(store, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # an sqlite3 shell left in a transaction, say
        out = refused(kiosk(cfg, "stocktake", "start", "--location", "library"), 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert out == f"error: {store}: locked by another program (database is locked)\n"
    assert count(store, "SELECT count(*) FROM stocktakes") == 0


def test_a_report_range_with_one_end_asks_for_both(cfg: Path) -> None:
    # Before, the missing end was read as the date "-": "error: - is not a date".
    wanted = "error: A range needs both --from and --to, like --from 2026-11-01 --to 2026-11-30.\n"
    assert refused(kiosk(cfg, "report", "overdue", "--from", "2026-11-01"), 1) == wanted
    assert refused(kiosk(cfg, "report", "overdue", "--to", "2026-11-30"), 1) == wanted
    assert refused(kiosk(cfg, "report", "classes", "--period", "range"), 1) == wanted
    both = kiosk(cfg, "report", "classes", "--from", "2026-11-01", "--to", "2026-11-30")
    assert both.exit_code == 0, both.output
    assert both.output.splitlines()[0].startswith("Class ")


def test_the_student_report_without_a_card_asks_for_one(cfg: Path) -> None:
    out = refused(kiosk(cfg, "report", "student"), 1)
    assert out == "error: Name the student (--card, their card or id).\n"
    out = refused(kiosk(cfg, "report", "student", "--card", "0F00FFFFFF"), 1)
    assert out == "error: No patron has the card or id 0F00FFFFFF.\n"
    found = kiosk(cfg, "report", "student", "--card", "S001")
    assert found.exit_code == 0, found.output
    assert found.output.splitlines()[0].startswith("Student ")


def test_labels_since_a_word_that_is_not_a_day_says_so(cfg: Path) -> None:
    # Before: "error: no such books", as if the catalogue were empty.
    out = refused(kiosk(cfg, "labels", "--since", "yesterday"), 2)
    assert out.endswith(
        "Error: Invalid value for '--since': yesterday is not a day like 2026-09-01\n"
    )
    assert not (cfg.parent / "labels.html").exists()
    done = kiosk_zh(cfg, "labels", "--since", "昨天")
    assert done.returncode == 2
    assert "昨天 不是日期，请写成 2026-09-01 这样" in done.stderr


def migration_sets(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT migration_set, count(*) FROM _sqlite_migrations GROUP BY 1")
        return dict(rows.fetchall())
    finally:
        conn.close()


def test_a_hub_command_given_the_kiosks_config_leaves_the_kiosks_store_alone(cfg: Path) -> None:
    # On the Pi, `kiosk hub register kiosk-2` without --config /etc/kiosk/hub.toml: before,
    # the hub's tables and change-feed triggers went into the kiosk's own store.
    store = cfg.parent / "kiosk.db"
    (cfg.parent / "p.csv").write_text(
        "card_id,name,class\n0F00CCCC01,新同学,三(2)班\n", encoding="utf-8"
    )
    imported = kiosk(cfg, "import", "patrons", str(cfg.parent / "p.csv"))
    assert imported.exit_code == 0, imported.output
    sets, before = migration_sets(store), digest(store)
    said = (
        f"error: {store} is a kiosk's own store, not a hub's ({cfg} is this kiosk's config); "
        "give the hub's config: kiosk --config /etc/kiosk/hub.toml hub ...\n"
    )
    for args in (["register", "kiosk-2"], ["kiosks"], ["revoke", "kiosk-2"], []):
        assert refused(kiosk(cfg, "hub", *args), 1) == said
    assert migration_sets(store) == sets == {"kiosk": sets["kiosk"]}
    assert digest(store) == before


def test_a_store_kiosk_init_made_for_the_hub_still_becomes_the_hub(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('[kiosk]\nid = "hub"\n[store]\npath = "hub.db"\n', encoding="utf-8")
    assert kiosk(cfg, "init").exit_code == 0
    registered = kiosk(cfg, "hub", "register", "kiosk-2")
    assert registered.exit_code == 0, registered.output
    assert migration_sets(tmp_path / "hub.db")["hub"] > 0


def test_the_hub_on_a_port_that_is_taken_says_so_before_it_says_ready(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "hub.toml"
        cfg.write_text(f'[store]\npath = "hub.db"\n[web]\nlisten = "127.0.0.1:{port}"\n', "utf-8")
        out = refused(kiosk(cfg, "hub"), 1)
    assert out.startswith(f"error: the hub cannot listen on 127.0.0.1:{port}: ")
    assert out.endswith(f"; set another [web] listen in {cfg}\n")
    assert "hub ready" not in out
    assert not (tmp_path / "hub.db").exists()


def test_a_store_path_that_names_a_folder_is_said_so_by_every_command(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[store]\npath = "data"\n[scanner]\nsource = "none:"\n', encoding="utf-8")
    said = (
        f"{tmp_path / 'data'} is a folder: [store] path in {cfg} names the database file in "
        "it, like /var/lib/kiosk/kiosk.db"
    )
    # Before: "unable to open database file", and doctor's fix was `kiosk init`.
    for args in (["status"], ["init"], ["run"], ["export", "items"], ["hub", "kiosks"]):
        assert refused(kiosk(cfg, *args), 1) == f"error: {said}\n", args
    doctor = kiosk(cfg, "doctor", "--user", "root" if os.geteuid() == 0 else os.environ["USER"])
    assert doctor.exit_code == 1
    assert f"PROBLEM      store: {said}\n" in doctor.output
    assert f"fix: point [store] path in {cfg} at the kiosk's database\n" in doctor.output
    assert "kiosk --config" not in doctor.output  # no `kiosk init`: it cannot help here
    assert list((tmp_path / "data").iterdir()) == []


def test_a_config_saved_by_windows_notepad_with_a_bom_is_read(cfg: Path) -> None:
    # Before: "not valid TOML: Invalid statement (at line 1, column 1)", on a file that looks fine.
    text = f'[kiosk]\r\nid = "图书馆-1"\r\n{CONFIG}'.replace("\n", "\r\n").replace("\r\r", "\r")
    cfg.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = kiosk(cfg, "status")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("kiosk: 图书馆-1\n")


def test_a_config_path_that_is_a_folder_is_said_so(tmp_path: Path) -> None:
    (tmp_path / "kiosk").mkdir()
    out = refused(kiosk(tmp_path / "kiosk", "status"), 2)
    assert out == f"error: {tmp_path / 'kiosk'}: a folder, not a config file\n"


def test_a_mistyped_scanner_id_is_a_config_problem_not_an_unplugged_scanner(cfg: Path) -> None:
    # Before: `kiosk devices test` and doctor said "not plugged in" (and the fix: plug it in).
    cfg.write_text(CONFIG.replace('"none:"', '"evdev:usb=0c2e-0b61"'), encoding="utf-8")
    said = (
        f"{cfg}: [scanner] source: evdev:usb=0c2e-0b61: the USB id is VID:PID as `kiosk devices` "
        "shows it, like 0c2e:0b61"
    )
    out = refused(kiosk(cfg, "devices", "test", "--seconds", "1"), 2)
    assert out == f"error: {said}\n"
    doctor = kiosk(cfg, "doctor", "--user", "root" if os.geteuid() == 0 else os.environ["USER"])
    assert doctor.exit_code == 1
    assert f"PROBLEM      config: {said}\n" in doctor.output
    assert "plug the scanner in" not in doctor.output


def test_cards_of_a_class_with_a_slash_go_to_a_file_in_this_folder(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "card_id,name,class,grade\n0F00CCCC01,Tom Brown,3/2,3\n"
    (cfg.parent / "p.csv").write_text(rows, encoding="utf-8")
    assert kiosk(cfg, "import", "patrons", str(cfg.parent / "p.csv")).exit_code == 0
    monkeypatch.chdir(cfg.parent)
    # Before: the default file cards-3/2.html named a folder "cards-3" that is not there.
    result = kiosk(cfg, "cards", "print", "--class", "3/2")
    assert result.exit_code == 0, result.output
    assert result.output == "0 cards issued; 1 cards of 3/2 written to cards-3-2.html\n"
    assert "Tom Brown" in (cfg.parent / "cards-3-2.html").read_text(encoding="utf-8")


def test_the_demo_never_writes_its_school_into_a_real_kiosks_folder(cfg: Path) -> None:
    # `kiosk demo --dir /var/lib/kiosk`: before, the demo's patrons and books went into the
    # school's own store (and a config.toml was written beside it).
    store = cfg.parent / "kiosk.db"
    before = digest(store)
    cfg.rename(cfg.parent / "kiosk.toml")  # the store alone, as in /var/lib/kiosk
    out = refused(CliRunner().invoke(main, ["demo", "--dir", str(cfg.parent), "--no-run"]), 1)
    assert out == (
        f"error: {cfg.parent} holds a kiosk that is not a demo ({store}); the demo needs a folder "
        "of its own, like --dir demo-data\n"
    )
    assert digest(store) == before
    assert count(store, "SELECT count(*) FROM patrons") == 5
    assert not cfg.exists()
    # A folder with a kiosk's config.toml is refused too; the demo's own folder is reused.
    cfg.parent.joinpath("kiosk.toml").rename(cfg)
    out = refused(CliRunner().invoke(main, ["demo", "--dir", str(cfg.parent), "--no-run"]), 1)
    assert f"holds a kiosk that is not a demo ({cfg})" in out
    demo = cfg.parent / "demo"
    for _ in range(2):
        made = CliRunner().invoke(main, ["demo", "--dir", str(demo), "--no-run"])
        assert made.exit_code == 0, made.output


def test_status_speaks_words_and_the_schools_time_not_keys(cfg: Path) -> None:
    # Before: keys (open_loans, events_waiting_for_hub), event codes and UTC times, in Chinese
    # too; and "events_waiting_for_hub: N" on a kiosk with no hub, which looked like a fault.
    (cfg.parent / "p.csv").write_text("card_id,name,class\n0F00CCCC01,新同学,三(2)班\n", "utf-8")
    assert kiosk(cfg, "import", "patrons", str(cfg.parent / "p.csv")).exit_code == 0
    conn = sqlite3.connect(f"file:{cfg.parent / 'kiosk.db'}?mode=ro", uri=True)
    (stamp,) = conn.execute("SELECT at FROM events WHERE type = 'import'").fetchone()
    conn.close()
    at = dt.datetime.fromisoformat(stamp)
    shown = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    done = kiosk_zh(cfg, "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "自助借还机: kiosk-1"
    assert "读者: 6" in lines and "图书: 5" in lines and "借出中: 0" in lines
    assert not [line for line in lines if "hub" in line or "中心服务器" in line]
    assert lines[lines.index("最近的记录：") + 1].startswith(f"  {shown}  导入")
    english = kiosk(cfg, "status").output.splitlines()
    assert "patrons: 6" in english and "on loan: 0" in english
    cfg.write_text(f'{CONFIG}[hub]\nurl = "https://hub.school.example"\n', encoding="utf-8")
    waiting = kiosk(cfg, "status").output.splitlines()
    assert [line for line in waiting if line.startswith("events waiting for the hub: ")]
    data = kiosk(cfg, "status", "--json")
    assert __import__("json").loads(data.output)["open_loans"] == 0  # keys stay, for scripts


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_is_a_message_naming_the_file(cfg: Path) -> None:
    # /dev/full answers every write with "No space left on device", as a full SD card does.
    out = refused(kiosk(cfg, "labels", "9787020002207", "--out", "/dev/full"), 1)
    assert out == "error: /dev/full: No space left on device\n"
    out = refused(kiosk(cfg, "report", "overdue", "-o", "/dev/full"), 1)
    assert out == "error: /dev/full: No space left on device\n"


def test_two_lights_on_one_pin_are_found_by_doctor_not_first_by_the_service(cfg: Path) -> None:
    cfg.write_text(
        CONFIG.replace('kind = "none"', 'kind = "gpio"\npin_factory = "mock"\nred_pin = 17'),
        encoding="utf-8",
    )
    said = f"{cfg}: [indicator] green_pin and red_pin are both GPIO 17"
    doctor = kiosk(cfg, "doctor", "--user", "root" if os.geteuid() == 0 else os.environ["USER"])
    assert doctor.exit_code == 1
    assert f"PROBLEM      config: {said}\n" in doctor.output
    assert refused(kiosk(cfg, "run"), 2) == f"error: {said}\n"


def test_a_file_that_cannot_be_read_says_why_without_a_line_of_zeros(cfg: Path) -> None:
    (cfg.parent / "scan.csv").write_bytes(b"\x00\x01\x02garbage\xff\xfe")
    out = refused(kiosk(cfg, "import", "patrons", str(cfg.parent / "scan.csv")), 1)
    assert out == (
        f"{cfg.parent / 'scan.csv'}: row 1: the file is not UTF-8 / GB18030 text (unreadable "
        "bytes near row 1)\nerror: 1 bad row, nothing imported\n"
    )
