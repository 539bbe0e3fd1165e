"""Load the kiosk's TOML config into typed, frozen settings.

Every setting is a dataclass field with a default and a one-line help (`setting(default, help)`);
`config.example.toml` must list each one, and a test checks that it does. Unknown keys, wrong types
and bad values raise `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import rule_defaults
from kiosk.config.problems import Problem, problem
from kiosk.errors import KioskError
from kiosk.i18n.catalogs import N_

Check = Callable[[Any], Problem | None]


class ConfigError(KioskError):
    """A config file that cannot be used, with the file and key it is about.

    `where` (the file, and the section and key) stays as written; `said(lang)` gives the
    problem in the reader's language, `str()` in English.
    """

    def __init__(self, where: str, what: Problem) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what

    def said(self, lang: str) -> str:
        """Return the message in `lang`: where, then what is wrong there."""
        return f"{self.where}: {self.what.said(lang)}"


def setting(default: Any, help: str, check: Check | None = None) -> Any:
    """Declare one setting: its default, a one-line help and an optional value check."""
    meta = {"help": help, "check": check}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _one_of(*allowed: str) -> Check:
    one_of = problem(N_("must be one of {allowed}"), allowed=", ".join(allowed))
    return lambda v: None if v in allowed else one_of


def _positive(v: float) -> Problem | None:
    return None if v > 0 else problem(N_("must be greater than 0"))


def _not_negative(v: float) -> Problem | None:
    return None if v >= 0 else problem(N_("must be 0 or more"))


def _date_or_empty(v: str) -> Problem | None:
    if v == "":
        return None
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return problem(N_("must be a date like 2026-09-01"))
    return None


def _dates(v: list[str]) -> Problem | None:
    for d in v:
        if _date_or_empty(d) or d == "":
            return problem(N_("{value} is not a date like 2026-10-01"), value=repr(d))
    twice = sorted({d for d in v if v.count(d) > 1})
    return problem(N_("{value} is listed twice"), value=twice[0]) if twice else None


def _weekdays(v: list[int]) -> Problem | None:
    if all(1 <= d <= 7 for d in v):
        return None
    return problem(N_("weekdays are 1 (Monday) to 7 (Sunday)"))


def _listen(v: str) -> Problem | None:
    host, _, port = v.rpartition(":")
    if not host or not port.isdigit():
        return problem(N_("must be HOST:PORT, like 127.0.0.1:8080"))
    # 0 is "any free port" (tests); above 65535 the socket would wrap it to another port.
    if int(port) <= 65535:
        return None
    return problem(N_("port {port} is above 65535, the highest there is"), port=port)


def _timezone(v: str) -> Problem | None:
    # Checked here: a wrong name (there is no "Asia/Beijing") would stop the daemon at start.
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return problem(
            N_(
                "{value} is not a time zone name like Asia/Shanghai "
                "(`timedatectl list-timezones` lists them)"
            ),
            value=repr(v),
        )
    return None


def _scan_source(v: str) -> Problem | None:
    ok = v == "stdin:" or v.startswith(("fifo:", "evdev:", "none:"))
    if not ok:
        return problem(N_("must be stdin:, fifo:/path, evdev:... or none:"))
    if v == "fifo:":
        return problem(N_("fifo: needs a path, like fifo:/run/kiosk/scan"))
    return _evdev(v.removeprefix("evdev:")) if v.startswith("evdev:") else None


def _evdev(spec: str) -> Problem | None:
    # A typo here would only ever show as "not plugged in" (and crash the reader once one is).
    if spec.startswith("name="):
        wrong = _regex(spec.removeprefix("name="))
        if wrong is None:
            return None
        return problem(N_("{value}: the name {problem}"), value=f"evdev:{spec}", problem=wrong)
    if spec.startswith("usb="):
        if re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", spec.removeprefix("usb=")):
            return None
        return problem(
            N_("{value}: the USB id is VID:PID as `kiosk devices` shows it, like 0c2e:0b61"),
            value=f"evdev:{spec}",
        )
    if spec:
        return None
    return problem(N_("evdev: needs a device: a /dev/input path, name=REGEX or usb=VID:PID"))


def _card_port(v: str) -> Problem | None:
    return _evdev(v.removeprefix("evdev:")) if v.startswith("evdev:") else None


def _regex(v: str) -> Problem | None:
    try:
        re.compile(v)
    except re.error as e:
        return problem(N_("is not a valid regular expression: {error}"), error=str(e))
    return None


ROLES = rule_defaults.ROLES


def _per_role(bound: str) -> Check:
    return lambda v: rule_defaults.roles_problem(v, bound)


@dataclass(frozen=True)
class KioskSettings:
    id: str = setting("kiosk-1", "This kiosk's id, unique among the kiosks of one hub.")
    language: str = setting(
        "zh_CN", "First language of the screen and messages.", _one_of("zh_CN", "en")
    )
    timezone: str = setting(
        "Asia/Shanghai", "The school's time zone, for due dates and reports.", _timezone
    )
    school: str = setting("", "The school's name, printed on library cards and book labels.")
    session_timeout_s: float = setting(
        20.0, "Seconds a student's session waits for the first book after the card.", _positive
    )
    session_after_result_s: float = setting(
        10.0, "Seconds a student's session stays open after the answer to a book.", _positive
    )
    desk_timeout_s: float = setting(
        300.0, "Seconds after the last scan before desk mode closes.", _positive
    )
    repeat_scan_window_s: float = setting(
        5.0, "The same book scanned again within this many seconds counts once.", _not_negative
    )
    answer_display_s: float = setting(
        8.0, "Seconds an answer stays on the idle screen (a return with no card).", _positive
    )
    search_timeout_s: float = setting(
        30.0, "Seconds a search on the idle screen stays open without a touch.", _positive
    )
    log_level: str = setting(
        "INFO",
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    )


@dataclass(frozen=True)
class StoreSettings:
    path: str = setting("kiosk.db", "SQLite database file, relative to this config file.")
    checkpoint_delay_s: float = setting(
        1.0,
        "Seconds without writes before the daemon folds the WAL into the database file.",
        _not_negative,
    )
    wal_max_pages: int = setting(
        10_000,
        "WAL pages (4 KB) after which a COMMIT checkpoints by itself (background one behind).",
        _positive,
    )


def _pin(v: int) -> Problem | None:
    if -1 <= v <= 27:
        return None
    return problem(N_("must be a BCM GPIO number 0 to 27, or -1 for none"))


def _regexes(v: list[str]) -> Problem | None:
    for r in v:
        wrong = _regex(r)
        if wrong:
            return problem(N_("{value} {problem}"), value=repr(r), problem=wrong)
    return None


@dataclass(frozen=True)
class ScannerSettings:
    source: str = setting(
        "stdin:",
        "Where scans come from: stdin:, fifo:/path, evdev:/dev/input/by-id/..., "
        "evdev:name=REGEX, evdev:usb=VID:PID or none:",
        _scan_source,
    )
    max_code_length: int = setting(
        64, "Longest scan accepted; longer input is rejected.", _positive
    )
    role: str = setting(
        "book",
        "book: a barcode scanner (books and printed cards); card: a USB reader typing card UIDs.",
        _one_of("book", "card"),
    )
    grab: bool = setting(True, "Take the evdev scanner for the kiosk alone (keys never reach X).")
    max_key_gap_s: float = setting(
        0.05, "Keys further apart than this are a person typing, not a scanner.", _positive
    )
    partial_timeout_s: float = setting(
        0.2,
        "A code without Enter (scanner, FIFO or stdin) is dropped after this much silence.",
        _positive,
    )
    isbn10_to_13: bool = setting(True, "Convert ISBN-10 barcodes to ISBN-13 (978...).")
    book_patterns: list[str] = setting(
        [], "Regexes for the school's own book barcodes; [] accepts any other code.", _regexes
    )
    card_patterns: list[str] = setting(
        [], "Regexes for barcodes printed on student cards; [] accepts any other code.", _regexes
    )
    reconnect_s: float = setting(0.5, "Seconds between looks for an unplugged scanner.", _positive)


@dataclass(frozen=True)
class CardReaderSettings:
    port: str = setting(
        "",
        "pyserial URL or device path of the card reader, pty: for a pseudo-terminal to type "
        "frames into, or evdev:... for a USB reader that types; empty for none.",
        _card_port,
    )
    protocol: str = setting(
        "rdm6300",
        "Card reader framing: rdm6300, pn532 or line.",
        _one_of("rdm6300", "pn532", "line"),
    )
    baudrate: int = setting(
        0,
        "Serial speed; 0 for the protocol's own (rdm6300 9600, pn532 115200, line 9600).",
        _not_negative,
    )
    repeat_window_s: float = setting(
        1.0, "A held card counts once; it counts again after being away this long.", _not_negative
    )
    decimal_byte_order: str = setting(
        "big",
        "Byte order of 10-digit decimal card numbers readers send: big (as printed) or little.",
        _one_of("big", "little"),
    )
    pn532_ack_timeout_s: float = setting(
        0.1, "Seconds to wait for a PN532 to acknowledge a command.", _positive
    )
    pn532_response_timeout_s: float = setting(
        1.0, "Seconds to wait for a PN532's answer before counting it as lost.", _positive
    )
    pn532_poll_s: float = setting(0.1, "Pause between PN532 card polls.", _not_negative)
    pn532_retries: int = setting(
        3, "Failed PN532 commands in a row before it is woken and set up again.", _positive
    )
    reconnect_s: float = setting(
        0.5, "Seconds between attempts to reopen an unplugged or dead port.", _positive
    )


@dataclass(frozen=True)
class IndicatorSettings:
    kind: str = setting(
        "console", "Feedback device: console, gpio or none.", _one_of("console", "gpio", "none")
    )
    pin_factory: str = setting(
        "",
        "gpiozero pin factory: empty for gpiozero's choice, lgpio (Pi 5), rpigpio, pigpio, "
        "native or mock.",
        _one_of("", "lgpio", "rpigpio", "pigpio", "native", "mock"),
    )
    green_pin: int = setting(17, "BCM GPIO of the green LED; -1 for none.", _pin)
    red_pin: int = setting(27, "BCM GPIO of the red LED; -1 for none.", _pin)
    amber_pin: int = setting(22, "BCM GPIO of the amber LED; -1 for none.", _pin)
    buzzer_pin: int = setting(18, "BCM GPIO of the buzzer; -1 for none.", _pin)
    active_high: bool = setting(True, "LEDs light when their pin is high (false: when low).")
    buzzer_kind: str = setting(
        "active",
        "active: a buzzer with its own oscillator; tonal: a passive one driven with PWM tones.",
        _one_of("active", "tonal"),
    )
    buzzer_active_high: bool = setting(True, "An active buzzer sounds when its pin is high.")
    quiet: bool = setting(False, "Lights only, no sound (exams, assemblies).")


def _networks(v: list[str]) -> Problem | None:
    import ipaddress

    for net in v:
        if net == "local":
            continue
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            return problem(
                N_('{value} is not a network like 192.168.1.0/24 (or "local")'), value=repr(net)
            )
    return None


@dataclass(frozen=True)
class WebSettings:
    listen: str = setting("127.0.0.1:8080", "HOST:PORT the pages and API listen on.", _listen)
    enabled: bool = setting(True, "Serve the touchscreen page, desk, dashboard and API.")
    threads: int = setting(
        8, "Web server threads; each open page with live updates uses one.", _positive
    )
    admin_networks: list[str] = setting(
        ["local"],
        "Networks that may open the dashboard: CIDRs, or local for this machine's own subnets.",
        _networks,
    )
    secret_key_file: str = setting(
        "web-secret.key", "File with the key that signs login cookies; made on first start."
    )
    password_file: str = setting(
        "web-passwords.json", "File with the librarians' password hashes; set on first visit."
    )
    cookie_secure: bool = setting(False, "Send login cookies over HTTPS only (behind a TLS proxy).")
    session_hours: float = setting(8.0, "Hours a librarian stays logged in.", _positive)
    login_attempts: int = setting(
        5,
        "Failed logins allowed from one address per login_window_s; after as many in a row at one"
        " account from anywhere, its next attempts wait 2 s, 4 s ... up to login_window_s.",
        _positive,
    )
    login_window_s: float = setting(300.0, "Seconds the failed-login count covers.", _positive)
    login_ceiling: int = setting(
        100, "Login attempts allowed from all addresses together per login_window_s.", _positive
    )
    trusted_proxy: str = setting(
        "", "Address of the HTTPS reverse proxy whose X-Forwarded-For/-Proto are believed."
    )
    screen_addresses: list[str] = setting(
        ["127.0.0.1", "::1"],
        "Addresses whose touchscreen page shows the student's loans (the kiosk's own screen).",
        _networks,
    )
    connections_per_address: int = setting(
        20, "Open connections one client address may hold; more are closed at once.", _positive
    )
    connections: int = setting(
        80,
        "Open connections all clients together may hold; screen_addresses have 8 more of their"
        " own, and when places run short a connection without a request is closed after 5 s.",
        _positive,
    )
    idle_timeout_s: float = setting(
        30.0, "Seconds a connection may wait without a request before it is closed.", _positive
    )
    stall_timeout_s: float = setting(
        30.0,
        "Seconds a client may stop reading an answer before its connection is closed.",
        _positive,
    )
    live_pages_per_address: int = setting(
        2, "Live pages (desk, dashboard) one address may keep open at once.", _positive
    )
    undo_window_s: float = setting(
        120.0, "Seconds within which the desk may undo its last action.", _not_negative
    )


@dataclass(frozen=True)
class HubSettings:
    url: str = setting("", "Base URL of the central hub; empty to run alone.")
    token: str = setting("", "This kiosk's bearer token, from `kiosk hub register`.")
    ca_file: str = setting("", "CA certificate file to verify the hub's HTTPS with; empty: system.")
    allow_http: bool = setting(False, "Allow plain http:// to a hub that is not on this machine.")
    interval_s: float = setting(15.0, "Seconds between syncs while the hub answers.", _positive)
    retry_max_s: float = setting(
        300.0, "Longest wait between retries while the hub is away.", _positive
    )
    timeout_s: float = setting(5.0, "Seconds to wait for the hub before giving up.", _positive)
    batch_size: int = setting(
        2000, "Events sent to the hub per request (at most the hub's max_batch).", _positive
    )
    max_batch: int = setting(2000, "(hub) Most events the hub accepts in one request.", _positive)
    koc_card: str = setting(
        "barcode",
        "Card a .koc export names a patron by: barcode (printed on the card) or uid (RFID).",
        _one_of("barcode", "uid"),
    )


def _address_or_empty(v: str) -> Problem | None:
    if v == "" or _listen(v) is None:
        return None
    return problem(N_("must be HOST:PORT, like 10.0.0.5:6001"))


def _terminator(v: str) -> Problem | None:
    return None if v in ("\r", "\r\n") else problem(N_('must be "\\r" or "\\r\\n"'))


@dataclass(frozen=True)
class Sip2Settings:
    address: str = setting(
        "",
        "HOST:PORT of the library system's SIP2 server; empty: this kiosk lends itself.",
        _address_or_empty,
    )
    tls: bool = setting(False, "Talk to the SIP2 server over TLS.")
    ca_file: str = setting(
        "", "CA certificate file to verify the SIP2 server's TLS; empty: system."
    )
    user: str = setting("", "SIP2 login user (93 CN).")
    password: str = setting("", "SIP2 login password (93 CO).")
    location: str = setting("", "SIP2 location code (93 CP).")
    institution: str = setting("", "Institution id (AO) the library system expects.")
    terminal_password: str = setting("", "Terminal password (AC), if the system asks for one.")
    encoding: str = setting(
        "utf-8", "Text encoding on the wire.", _one_of("utf-8", "cp850", "gb18030")
    )
    terminator: str = setting("\r", 'End of a message: "\\r" or "\\r\\n".', _terminator)
    error_detection: bool = setting(
        True, "Send and check sequence numbers (AY) and checksums (AZ)."
    )
    timeout_s: float = setting(
        5.0, "Seconds to wait for an answer before going offline.", _positive
    )
    retries: int = setting(
        1, "Times a message is sent again after a corrupt answer.", _not_negative
    )
    heartbeat_s: float = setting(60.0, "Seconds between status checks (99) while idle.", _positive)
    retry_max_s: float = setting(
        60.0, "Longest wait between reconnects while the server is away.", _positive
    )
    patron_pattern: str = setting(
        "", "Regular expression a scanned card number matches; empty: ask the system.", _regex
    )
    item_pattern: str = setting(
        "", "Regular expression a book barcode matches; empty: ask the system.", _regex
    )
    offline_card_days: int = setting(
        7, "Offline, lend only to cards the system accepted within this many days.", _not_negative
    )
    offline_max_loans: int = setting(
        2, "Offline, lend a card at most this many books until the link is back.", _not_negative
    )


@dataclass(frozen=True)
class RulesSettings:
    loan_days: dict[str, int] = setting(
        dict(rule_defaults.LOAN_DAYS),
        "Default loan period in days per role.",
        _per_role("loan_days"),
    )
    max_loans: dict[str, int] = setting(
        dict(rule_defaults.MAX_LOANS),
        "Default most items on loan at once per role.",
        _per_role("max_loans"),
    )
    max_loans_by_grade: dict[str, int] = setting(
        dict(rule_defaults.MAX_LOANS_BY_GRADE),
        "Students of these grades may have at most this many.",
        rule_defaults.grades_problem,
    )
    renewals: int = setting(
        rule_defaults.RENEWALS,
        "How many times a loan may be renewed.",
        rule_defaults.BOUNDS["renewals"].problem,
    )
    block_when_overdue: bool = setting(
        rule_defaults.BLOCK_WHEN_OVERDUE, "Refuse new loans while the patron has overdue items."
    )
    holiday_loans: bool = setting(
        rule_defaults.HOLIDAY_LOANS, "Allow due dates after the end of term."
    )
    term_start: str = setting(
        "", "First day of term, like 2026-09-01; empty for none.", _date_or_empty
    )
    term_end: str = setting(
        "", "Last day of term, like 2027-01-22; empty for none.", _date_or_empty
    )
    closed_weekdays: list[int] = setting(
        list(rule_defaults.CLOSED_WEEKDAYS),
        "Weekdays the library is closed, 1 = Monday ... 7 = Sunday.",
        _weekdays,
    )
    closed_days: list[str] = setting([], "Dates the library is closed (holidays).", _dates)


@dataclass(frozen=True)
class CollectionSettings:
    hold_days: int = setting(
        5, "Open days a returned book waits on the hold shelf for its student.", _positive
    )
    max_holds: int = setting(
        3, "Books a student may wait for at once (holds placed at the kiosk).", _positive
    )
    last_grade: int = setting(
        6, "The last grade: `kiosk promote` closes its students as leavers.", _positive
    )


# The reading milestones a badge can be for (kiosk/circulation/reading/badges.py, docs/reading.md).
BADGE_MILESTONES = ("first_book", "list_target", "subjects")


def _milestones(v: list[str]) -> Problem | None:
    for m in v:
        if m not in BADGE_MILESTONES:
            known = ", ".join(BADGE_MILESTONES)
            return problem(
                N_("{value} is not a milestone (known: {known})"), value=repr(m), known=known
            )
    return (
        problem(N_("{value} is listed twice"), value=repr(v[0])) if len(set(v)) < len(v) else None
    )


@dataclass(frozen=True)
class ReadingSettings:
    show_progress: bool = setting(
        True,
        "Show a child, in their own session only, their books this term and their grade list.",
    )
    badges: bool = setting(
        True, "Give a child badges for reading milestones, shown once in their own session."
    )
    badge_milestones: list[str] = setting(
        list(BADGE_MILESTONES),
        "The milestones that give a badge: first_book, list_target, subjects.",
        _milestones,
    )
    badge_subjects: int = setting(
        5,
        "Different subjects (中图法 classes) of the term that give the subjects badge.",
        _positive,
    )
    badge_min_loan_hours: float = setting(
        24.0,
        "A loan counts for badges once it lasted this many hours (not a quick in and out).",
        _positive,
    )


@dataclass(frozen=True)
class Settings:
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    card_reader: CardReaderSettings = field(default_factory=CardReaderSettings)
    indicator: IndicatorSettings = field(default_factory=IndicatorSettings)
    web: WebSettings = field(default_factory=WebSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    sip2: Sip2Settings = field(default_factory=Sip2Settings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    collection: CollectionSettings = field(default_factory=CollectionSettings)
    reading: ReadingSettings = field(default_factory=ReadingSettings)
    # Folder of the config file: relative paths in the config are relative to it.
    base_dir: Path = field(default=Path("."), compare=False)

    def resolve(self, path: str) -> Path:
        """Return `path` relative to the config file's folder, unless it is absolute."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


SECTIONS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in dataclasses.fields(Settings)
    if f.name != "base_dir"
}


def default_path(cli_value: str | None = None) -> Path:
    """Return the config path: --config, else $KIOSK_CONFIG, else ./config.toml."""
    return Path(cli_value or os.environ.get("KIOSK_CONFIG") or "config.toml")


def load(path: Path | str, *, must_exist: bool = True) -> Settings:
    """Read and check a config file; raise ConfigError naming the file and key on any problem."""
    path = Path(path)
    try:
        # utf-8-sig: Windows Notepad may save UTF-8 with a BOM, which TOML alone refuses.
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(str(path), problem(N_("config file not found"))) from None
        raw = {}
    except IsADirectoryError:
        raise ConfigError(str(path), problem(N_("a folder, not a config file"))) from None
    except PermissionError:
        unreadable = problem(N_("not allowed to read it (run as root or as kiosk)"))
        raise ConfigError(str(path), unreadable) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), problem(N_("not UTF-8 text"))) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), problem(N_("not valid TOML: {error}"), error=str(e))) from None
    return from_dict(raw, source=str(path), base_dir=path.resolve().parent)


def from_dict(
    raw: dict[str, Any], *, source: str = "<config>", base_dir: Path = Path(".")
) -> Settings:
    """Build settings from a parsed TOML table."""
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS and not isinstance(value, dict):
            # `id = "x"` above every [section] header: TOML reads it as a key of no section.
            above = N_(
                "a key before the first [section]; every setting goes under its section "
                "(config.example.toml shows which)"
            )
            raise ConfigError(f"{source}: {name}", problem(above))
        if name not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            unknown = N_("unknown section [{name}] (known: {known})")
            raise ConfigError(source, problem(unknown, name=name, known=known))
        if not isinstance(value, dict):
            single = N_("{name} must be a [section], not a single value")
            raise ConfigError(source, problem(single, name=name))
        sections[name] = _section(SECTIONS[name], name, value, source)
    settings = Settings(**sections, base_dir=base_dir)
    pins = [(k, getattr(settings.indicator, k)) for k in ("green_pin", "red_pin", "amber_pin")]
    pins.append(("buzzer_pin", settings.indicator.buzzer_pin))
    for i, (key, pin) in enumerate(pins):
        twice = [other for other, p in pins[:i] if p == pin >= 0]
        if twice:
            # Else found only when `kiosk run` starts the lights (doctor saw nothing wrong).
            both_pins = N_("[indicator] {first} and {second} are both GPIO {pin}")
            raise ConfigError(source, problem(both_pins, first=twice[0], second=key, pin=pin))
    if settings.hub.url and settings.sip2.address:
        both_set = N_(
            "[hub] url and [sip2] address are both set: a kiosk lends either with a hub "
            "(this project's own library) or as a self-check of a library system over SIP2, "
            "not both; empty one of them (docs/sip2.md says when to choose which)"
        )
        raise ConfigError(source, problem(both_set))
    return settings


def _section(cls: type, name: str, table: dict[str, Any], source: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in table.items():
        where = f"{source}: [{name}] {key}"
        if key not in fields:
            unknown = problem(N_("unknown key (known: {known})"), known=", ".join(fields))
            raise ConfigError(where, unknown)
        value = _coerce(hints[key], value, where)
        check = fields[key].metadata.get("check")
        wrong = check(value) if check else None
        if wrong:
            raise ConfigError(where, wrong)
        values[key] = value
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(where, problem(N_("must be a list")))
        return [_coerce(item, v, where) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, dict):
            table = problem(N_("must be a table like {example}"), example="{ key = value }")
            raise ConfigError(where, table)
        return {str(k): _coerce(item, v, where) for k, v in value.items()}
    if origin is types.UnionType:
        raise TypeError(f"unsupported setting type {hint}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(
            where, problem(N_("must be true or false, not {value}"), value=repr(value))
        )
    if hint in (int, float) and isinstance(value, bool):
        raise ConfigError(where, problem(N_("must be a number, not {value}"), value=repr(value)))
    if not isinstance(value, hint):
        wrong = problem(N_("must be {kind}, not {value}"), kind=_type_name(hint), value=repr(value))
        raise ConfigError(where, wrong)
    return value


TYPE_NAMES = {str: N_("text in quotes"), int: N_("a whole number"), float: N_("a number")}


def _type_name(hint: Any) -> Problem | str:
    return problem(TYPE_NAMES[hint]) if hint in TYPE_NAMES else str(hint)


def documented_keys() -> dict[str, list[str]]:
    """Return every setting name per section, for the config.example.toml test."""
    return {name: [f.name for f in dataclasses.fields(cls)] for name, cls in SECTIONS.items()}
