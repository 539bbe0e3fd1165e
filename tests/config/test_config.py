"""Config: defaults, the example file, and clear errors that name the file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk import config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_example_config_lists_every_setting_with_its_default() -> None:
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    documented = {s: sorted(t) for s, t in example.items()}
    expected = {s: sorted(keys) for s, keys in config.documented_keys().items()}
    assert documented == expected
    # The values shown are the defaults: loading the example changes nothing.
    assert config.load(EXAMPLE) == config.Settings(base_dir=EXAMPLE.parent)


def test_every_setting_has_a_help_line_and_a_comment_in_the_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for section, cls in config.SECTIONS.items():
        start = text.index(f"[{section}]")
        for f in config.dataclasses.fields(cls):
            assert f.metadata["help"].strip(), f"[{section}] {f.name} has no help"
            line = next(i for i, t in enumerate(text) if i > start and t.startswith(f"{f.name} ="))
            assert text[line - 1].startswith("#"), f"[{section}] {f.name} has no comment above it"


def test_contract_keys_exist() -> None:
    keys = config.documented_keys()
    for section, key in [
        ("kiosk", "id"),
        ("store", "path"),
        ("scanner", "source"),
        ("card_reader", "port"),
        ("card_reader", "protocol"),
        ("web", "listen"),
        ("hub", "url"),
        ("hub", "token"),
    ]:
        assert key in keys[section]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[kiosk]\nidd = 'x'\n", "[kiosk] idd: unknown key"),
        ("[kisok]\nid = 'x'\n", "unknown section [kisok]"),
        ("[kiosk]\nsession_timeout_s = 'long'\n", "[kiosk] session_timeout_s: must be a number"),
        ("[kiosk]\nsession_timeout_s = -3\n", "[kiosk] session_timeout_s: must be greater than 0"),
        ("[card_reader]\nprotocol = 'rfid'\n", "[card_reader] protocol: must be one of rdm6300"),
        ("[web]\nlisten = 'localhost'\n", "[web] listen: must be HOST:PORT"),
        ("[rules]\nblock_when_overdue = 1\n", "[rules] block_when_overdue: must be true or false"),
        ("[rules]\nmax_loans = { pupil = 3 }\n", "[rules] max_loans: unknown role 'pupil'"),
        ("[rules]\nterm_end = '2027-13-01'\n", "[rules] term_end: must be a date"),
        ("[rules]\nclosed_weekdays = [0]\n", "weekdays are 1 (Monday) to 7 (Sunday)"),
        ("[rules]\nclosed_days = ['2026-10-01', '2026-10-01']\n", "2026-10-01 is listed twice"),
        ("kiosk = 3\n", "kiosk must be a [section]"),
        ("[kiosk\n", "not valid TOML"),
        ("[kiosk]\ntimezone = 'Asia/Beijing'\n", "[kiosk] timezone: 'Asia/Beijing' is not a time"),
        ("[kiosk]\ntimezone = ''\n", "[kiosk] timezone: '' is not a time zone name"),
        ("[web]\nlisten = '0.0.0.0:80800'\n", "[web] listen: port 80800 is above 65535"),
        ("[sip2]\naddress = '10.0.0.5:600100'\n", "[sip2] address: must be HOST:PORT"),
        ("id = 'kiosk-2'\n[kiosk]\n", "id: a key before the first [section]"),
        (
            "[scanner]\nsource = 'evdev:usb=0c2e'\n",
            "[scanner] source: evdev:usb=0c2e: the USB id is VID:PID as `kiosk devices` shows it",
        ),
        ("[scanner]\nsource = 'evdev:name=(['\n", "evdev:name=([: the name is not a valid regular"),
        ("[scanner]\nsource = 'evdev:'\n", "[scanner] source: evdev: needs a device"),
        ("[scanner]\nsource = 'fifo:'\n", "[scanner] source: fifo: needs a path"),
        ("[indicator]\nred_pin = 17\n", "[indicator] green_pin and red_pin are both GPIO 17"),
        ("[indicator]\nbuzzer_pin = 22\n", "[indicator] amber_pin and buzzer_pin are both GPIO 22"),
        (
            "[card_reader]\nport = 'evdev:usb=1a86-7523'\n",
            "[card_reader] port: evdev:usb=1a86-7523",
        ),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as e:
        config.load(path)
    assert str(e.value).startswith(f"{path}: ")
    assert message in str(e.value)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")
    bad = tmp_path / "gbk.toml"
    bad.write_bytes("[kiosk]\nid = '图书馆'\n".encode("gbk"))
    with pytest.raises(config.ConfigError, match="not UTF-8"):
        config.load(bad)


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    s = config.load(write(tmp_path, "[store]\npath = 'data/k.db'\n"))
    assert s.resolve(s.store.path) == tmp_path / "data" / "k.db"
    assert s.resolve("/abs/k.db") == Path("/abs/k.db")


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = config.load(write(tmp_path, ""))
    with pytest.raises(AttributeError):
        s.kiosk.id = "other"  # type: ignore[misc]


def test_config_path_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", "/etc/kiosk/config.toml")
    assert config.default_path("x.toml") == Path("x.toml")
    assert config.default_path(None) == Path("/etc/kiosk/config.toml")
    monkeypatch.delenv("KIOSK_CONFIG")
    assert config.default_path(None) == Path("config.toml")
