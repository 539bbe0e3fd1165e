"""Make a demo school: 18 classes, ~700 students, ~8,000 books and a term of loans so far.

Everything comes from one `random.Random(seed)` (UUIDs too), and the term is laid out around the
day the demo is made, so the same seed on the same day gives the same school, row for row. The
roll and the catalogue are saved as an import saves them; the term's loans and returns are the
kiosk's own commands (the circulation service, at each one's time), all in one transaction, in
a few seconds. Only `kiosk demo` imports this module; `kiosk run` never does.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import config
from kiosk.circulation import cards
from kiosk.circulation.clock import stamp
from kiosk.circulation.commands import RecordImport, SetRules
from kiosk.circulation.handler import handle
from kiosk.circulation.records import copy_rows, item_copy, patron_copy
from kiosk.circulation.rules import rules_rows
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.codes import ean13_check_digit
from kiosk.i18n import _

KIOSK_ID = "demo-kiosk"
TIMEZONE = "Asia/Shanghai"
GRADES = "一二三四五六"
CLASSES_PER_GRADE = 3
ITEMS = 8000

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵赵吴周周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
    "肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹"
)
GIVEN = (
    "子梓涵浩宇轩欣怡雨思博文佳嘉晨一诺铭睿泽萱彤琪瑶婷杰俊豪天乐可心安然若悦奕沐宸语昊航锦"
    "明阳朗颖晴妍芮翔鹏飞雪梅兰竹菲琳逸辰煜皓恒伟志强静雅蕾瑞凯楠源清奇星月"
)
# (title, author, Chinese Library Classification) of books every school library has.
CLASSICS = (
    ("草房子", "曹文轩", "I287.45"),
    ("青铜葵花", "曹文轩", "I287.45"),
    ("笑猫日记·保姆狗的阴谋", "杨红樱", "I287.45"),
    ("淘气包马小跳·贪玩老爸", "杨红樱", "I287.45"),
    ("皮皮鲁传", "郑渊洁", "I287.45"),
    ("舒克和贝塔", "郑渊洁", "I287.45"),
    ("狼王梦", "沈石溪", "I287.45"),
    ("城南旧事", "林海音", "I246.5"),
    ("稻草人", "叶圣陶", "I287.7"),
    ("宝葫芦的秘密", "张天翼", "I287.45"),
    ("小兵张嘎", "徐光耀", "I287.45"),
    ("寄小读者", "冰心", "I286.1"),
    ("西游记（青少版）", "吴承恩", "I242.4"),
    ("三国演义（青少版）", "罗贯中", "I242.4"),
    ("水浒传（青少版）", "施耐庵", "I242.4"),
    ("小猪唏哩呼噜", "孙幼军", "I287.45"),
    ("大头儿子和小头爸爸", "郑春华", "I287.45"),
    ("米小圈上学记", "北猫", "I287.45"),
    ("没头脑和不高兴", "任溶溶", "I287.7"),
    ("一只想飞的猫", "陈伯吹", "I287.7"),
    ("中国神话故事", "袁珂", "I277.5"),
    ("夏洛的网", "E·B·怀特", "I712.85"),
    ("小王子", "圣埃克苏佩里", "I565.88"),
    ("绿野仙踪", "弗兰克·鲍姆", "I712.84"),
    ("窗边的小豆豆", "黑柳彻子", "I313.88"),
    ("安徒生童话", "安徒生", "I534.88"),
    ("格林童话", "格林兄弟", "I516.88"),
    ("汤姆·索亚历险记", "马克·吐温", "I712.44"),
    ("海底两万里", "凡尔纳", "I565.44"),
    ("昆虫记", "法布尔", "Q96-49"),
    ("Charlotte's Web", "E. B. White", "I712.85"),
    ("Matilda", "Roald Dahl", "I561.85"),
    ("Charlie and the Chocolate Factory", "Roald Dahl", "I561.85"),
    ("Frog and Toad Are Friends", "Arnold Lobel", "I712.85"),
    ("The Cat in the Hat", "Dr. Seuss", "I712.85"),
    ("Ramona the Pest", "Beverly Cleary", "I712.85"),
    ("Because of Winn-Dixie", "Kate DiCamillo", "I712.85"),
    ("The Wonderful Wizard of Oz", "L. Frank Baum", "I712.84"),
    ("Alice's Adventures in Wonderland", "Lewis Carroll", "I561.84"),
    ("The Very Hungry Caterpillar", "Eric Carle", "I712.85"),
    ("Where the Wild Things Are", "Maurice Sendak", "I712.85"),
)
# Series of non-fiction: (title pattern, author, classification, volume names).
SERIES = (
    ("十万个为什么·{}", "少年儿童出版社", "Z228.1", "动物 植物 天文 地球 人体 物理 化学 交通"),
    ("神奇校车·{}", "乔安娜·柯尔", "N49", "海底探险 人体漫游 气候 电的世界 太阳系 恐龙"),
    ("中国历史故事·{}", "林汉达", "K209", "春秋 战国 西汉 东汉 三国 唐朝 宋朝 明朝"),
    ("动物百科·{}", "中国少年儿童百科编委会", "Q95-49", "鸟类 昆虫 海洋动物 哺乳动物 恐龙"),
    ("我的第一本科学漫画书·{}", "洪在彻", "N49", "森林探险 沙漠探险 火山探险 极地探险"),
    ("DK Children's Encyclopedia: {}", "DK", "Z228.1", "Space Animals Oceans Machines Bodies"),
)
PLACES = [
    "森林里",
    "海底",
    "月亮上",
    "外婆家",
    "学校里",
    "小河边",
    "山顶上",
    "城市里",
    "梦里",
    "雪地里",
    "草原上",
    "沙漠里",
]
THINGS = [
    "秘密",
    "朋友",
    "魔法书",
    "小猫",
    "宝藏",
    "夏天",
    "冒险",
    "星星",
    "风筝",
    "大树",
    "小船",
    "钥匙",
    "信",
    "歌",
]
EN_ADJ = [
    "Secret",
    "Brave",
    "Little",
    "Lost",
    "Hidden",
    "Magic",
    "Quiet",
    "Flying",
    "Giant",
    "Clever",
]
EN_NOUN = [
    "Garden",
    "Dragon",
    "River",
    "Island",
    "Lighthouse",
    "Fox",
    "Clock",
    "Balloon",
    "Forest",
    "Robot",
]
# 报刊杂志 (a few issues each) and 工具书, with their item types' own loan rules
# (rule_defaults.ITEM_TYPES): (title, publisher or author, ISBN body or "", call number,
# copies, type).
PERIODICALS = (
    ("儿童文学 {}", "中国少年儿童新闻出版总社", "", "I287.8/1", 3, "magazine"),
    ("我们爱科学 {}", "中国少年儿童新闻出版总社", "", "N49/2", 3, "magazine"),
    ("少年文艺 {}", "少年文艺杂志社", "", "I287.8/3", 3, "magazine"),
    ("故事大王 {}", "故事大王杂志社", "", "I287.8/4", 3, "magazine"),
    ("新华字典（第12版）", "中国社会科学院语言研究所", "978710007704", "H164/1", 4, "reference"),
    ("现代汉语词典（第7版）", "中国社会科学院语言研究所", "978710012450", "H164/2", 2, "reference"),
    ("成语大词典", "商务国际辞书编辑部", "978751761234", "H136.3/1", 2, "reference"),
    ("牛津英汉双解词典", "牛津大学出版社", "978710015678", "H316/1", 2, "reference"),
)
EN_AUTHORS = "Anna Lee|Tom Baker|Mary Stone|Sam Clark|Lucy Gray|Ben Hall|Emma Wood|Jack Hill"


@dataclass
class School:
    """The rows of a demo school, ready to be saved."""

    patrons: list[dict[str, Any]] = field(default_factory=list)
    cards: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)


class _TermClock:
    """The clock of the term being lived through: each checkout and return is made at its time."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()


def make_demo(
    folder: Path, seed: int = 2026, *, today: dt.date | None = None
) -> tuple[config.Settings, str]:
    """Create (or reuse) a demo school in `folder`; return its settings and hints for the user."""
    folder = Path(folder)
    config_path = folder / "config.toml"
    if config_path.exists():
        settings = config.load(config_path)
        store = Store.open(settings.resolve(settings.store.path), kiosk_id=settings.kiosk.id)
        try:
            if store.value("SELECT count(*) FROM patrons"):
                return settings, hints(store, settings)
        finally:
            store.close()
    today = today or dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    term_start = today - dt.timedelta(days=today.weekday() + 7 * 9)  # a Monday, 9 weeks back
    term_end = term_start + dt.timedelta(weeks=20, days=4)
    folder.mkdir(parents=True, exist_ok=True)
    config_path.write_text(CONFIG.format(seed=seed, start=term_start, end=term_end), "utf-8")
    settings = config.load(config_path)
    store = Store.open(settings.resolve(settings.store.path), kiosk_id=settings.kiosk.id)
    try:
        build(store, settings, seed, today)
        return settings, hints(store, settings)
    finally:
        store.close()


CONFIG = """\
# A demo school made by `kiosk demo` (seed {seed}). Delete this folder to make a new one.
[kiosk]
id = "demo-kiosk"
timezone = "Asia/Shanghai"

[store]
path = "kiosk.db"

[scanner]
# Type card codes and book barcodes into the terminal, one per line.
source = "stdin:"

[indicator]
kind = "console"

[rules]
term_start = "{start}"
term_end = "{end}"
"""


def build(store: Store, settings: config.Settings, seed: int, today: dt.date) -> School:
    """Generate the school and live its term so far through the kiosk's own commands.

    One transaction: the rules and the import's record through the handler, the roll and the
    catalogue as an import saves them, then every checkout and return through the circulation
    service, each at its own time on the term's clock, so the desk's decision reads the store as
    it was at that moment.
    """
    rng = random.Random(seed)
    tz = ZoneInfo(settings.kiosk.timezone)
    term_start = dt.date.fromisoformat(settings.rules.term_start)
    opening = dt.datetime.combine(term_start, dt.time(7, 30), tzinfo=tz)
    school = School()
    _people(rng, school, opening)
    _books(rng, school, opening)
    clock, real = _TermClock(opening), (store.clock, store.new_uuid)
    store.clock, store.new_uuid = clock, lambda: _uuid(rng)
    # The roll's and the catalogue's events draw their UUIDs apart, so the term lived after
    # them is the one the seed always made.
    ids = random.Random(seed ^ 0x5EED)
    try:
        with store.write():
            rows, policy, closed = rules_rows(settings.rules)
            handle(store, SetRules(tuple(rows), policy, tuple(closed), "config"))
            _save(store, school, ids)
            counts = {"patrons": len(school.patrons), "items": len(school.items)}
            handle(store, RecordImport({"kind": "demo", **counts}, "demo"))
            term = _Term(rng, Circulation(store, settings.kiosk.timezone), clock, school, today)
            term.live(term_start)
            magazines = School()  # after the term's loans, which stay as they were
            _periodicals(magazines, opening)
            _save(store, magazines, ids)
            school.items += magazines.items
    finally:
        store.clock, store.new_uuid = real
    return school


def _save(store: Store, school: School, ids: random.Random) -> None:
    """Save the roll and the catalogue as an import does: an event a row, at the row's time."""
    cards_of: dict[str, list[str]] = {}
    for code, patron_id, *_rest in school.cards:
        cards_of.setdefault(patron_id, []).append(code)
    copies = [
        replace(patron_copy({**p, "status": "active"}, cards_of.get(p["id"])), at=p["updated_at"])
        for p in school.patrons
    ]
    copies += [replace(item_copy(it), at=it["updated_at"]) for it in school.items]
    term_ids, store.new_uuid = store.new_uuid, lambda: _uuid(ids)
    try:
        copy_rows(store, copies, "demo")
    finally:
        store.new_uuid = term_ids


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return rng.choice(SURNAMES) + given


def _people(rng: random.Random, school: School, opening: dt.datetime) -> None:
    at = stamp(opening)
    used: set[str] = set()

    def card() -> str:
        while True:
            code = rng.choice(("0F", "1A", "3C", "05")) + f"{rng.getrandbits(32):08X}"
            number = cards.number(code)
            if code not in used and number not in used:
                used.update((code, str(number)))
                return code

    def add(pid: str, name: str, role: str, grade: int | None, cls: str, *codes: str) -> None:
        school.patrons.append(
            {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            | {"updated_at": at}
        )
        school.cards.extend((c, pid, at, cards.number(c)) for c in codes)

    for g, numeral in enumerate(GRADES, start=1):
        for c in range(1, CLASSES_PER_GRADE + 1):
            cls = f"{numeral}({c})班"
            size = rng.randint(37, 41)
            helpers = rng.sample(range(1, size + 1), 2) if g >= 3 else []
            for n in range(1, size + 1):
                pid = f"S{g}{c}{n:02d}"
                role = "helper" if n in helpers else "student"
                # A student card has an RFID chip and the student number printed as a barcode.
                add(pid, _name(rng), role, g, cls, card(), pid)
            add(f"T{g}{c}", rng.choice(SURNAMES) + "老师", "teacher", None, cls, card())
    for n in range(1, 7):
        add(f"T0{n}", _name(rng), "teacher", None, "", card())
    add("L01", "林老师", "librarian", None, "", card())


def _books(rng: random.Random, school: School, opening: dt.datetime) -> None:
    titles: list[tuple[str, str, str, int]] = [(t, a, c, 6) for t, a, c in CLASSICS]
    for pattern, author, clc, volumes in SERIES:
        titles += [(pattern.format(v), author, clc, 3) for v in volumes.split()]
    for place in PLACES:
        for thing in THINGS:
            clc = rng.choice(("I287.45", "I287.45", "I247.8", "I287.7"))
            titles.append((f"{place}的{thing}", _name(rng), clc, 1))
    for adj in EN_ADJ:
        for noun in EN_NOUN:
            clc = rng.choice(("I712.85", "I561.85"))
            titles.append((f"The {adj} {noun}", rng.choice(EN_AUTHORS.split("|")), clc, 1))
    records = []
    for title, author, clc, weight in titles:
        group = "0" if title.isascii() else "7"  # English-language or Chinese publishers
        body = f"978{group}{rng.randrange(10**8):08d}"
        isbn = body + ean13_check_digit(body)
        records.append((title, author, isbn, f"{clc}/{rng.randint(1, 99)}", weight))
    weights = [r[4] for r in records]
    corners = [f"{n}({c})班图书角" for n in GRADES for c in range(1, CLASSES_PER_GRADE + 1)]
    at = stamp(opening)
    for i in range(ITEMS):
        title, author, isbn, call, _ = rng.choices(records, weights)[0]
        location = rng.choice(corners) if rng.random() < 0.08 else "library"
        school.items.append(
            {
                "barcode": f"{10000001 + i}",
                "title": title,
                "author": author,
                "isbn": isbn,
                "call_number": call,
                "location": location,
                "status": "available",
                "updated_at": at,
            }
        )


def _periodicals(school: School, opening: dt.datetime) -> None:
    """Add the magazines (this term's issues) and the reference books, with their types."""
    barcode = 20000001
    for title, author, isbn, call, copies, kind in PERIODICALS:
        for n in range(copies):
            month = (opening.month - 1 + n) % 12 + 1
            year = opening.year + (opening.month - 1 + n) // 12
            school.items.append(
                {
                    "barcode": str(barcode),
                    "title": title.format(f"{year}年{month}月"),
                    "author": author,
                    "isbn": isbn + ean13_check_digit(isbn) if isbn else "",
                    "call_number": call,
                    "location": "library",
                    "status": "available",
                    "item_type": kind,
                    "updated_at": stamp(opening),
                }
            )
            barcode += 1


class _Term:
    """The desk through a term: lunch-time loans, and books coming back some mornings later."""

    def __init__(
        self,
        rng: random.Random,
        circulation: Circulation,
        clock: _TermClock,
        school: School,
        today: dt.date,
    ) -> None:
        self.rng, self.circulation, self.clock, self.today = rng, circulation, clock, today
        self.tz = circulation.tz
        self.rules = circulation.rules(circulation.store.db)
        self.borrowers = [p["id"] for p in school.patrons]
        # The books a child can pick from the library's shelves (corner books stay in class).
        self.shelf = [it["barcode"] for it in school.items if it["location"] == "library"]
        self.returns: dict[dt.date, list[str]] = {}  # day -> books that come back that morning

    def live(self, day: dt.date) -> None:
        """Lend and return books day by day, in time order, from the start of term to yesterday."""
        while day < self.today:
            if self.rules.is_open(day):
                self.morning_returns(day)
                self.lunch_and_after_school(day)
            day += dt.timedelta(days=1)

    def morning_returns(self, day: dt.date) -> None:
        """Take back the books due back today, before school (so lunch can lend them again)."""
        books = self.returns.pop(day, [])
        times = sorted(_at(self.rng, day, self.tz, (7, 30), 60) for _ in books)
        for barcode, at in zip(books, times, strict=True):
            self.clock.at = at
            done = self.circulation.checkin(barcode, actor="self-service")  # no card: a return
            if done.ok:
                self.shelf.append(barcode)

    def lunch_and_after_school(self, day: dt.date) -> None:
        """Lend books to children who come by: most at lunch, the rest after school."""
        times = []
        for _visitor in range(self.rng.randint(60, 140)):
            lunch = self.rng.random() < 0.7
            start, minutes = ((11, 50), 80) if lunch else ((15, 40), 50)
            times.append(_at(self.rng, day, self.tz, start, minutes))
        for at in sorted(times):
            self.clock.at = at
            self.lend(day)

    def lend(self, day: dt.date) -> None:
        """Lend a random book to a random patron if the desk's decision allows, plan its return."""
        rng = self.rng
        patron_id = rng.choice(self.borrowers)
        if not self.shelf:
            return
        i = rng.randrange(len(self.shelf))
        barcode = self.shelf[i]
        done = self.circulation.checkout(patron_id, barcode, actor=patron_id)  # the child's card
        if not done.ok or done.patron is None:
            return
        self.shelf[i], self.shelf[-1] = self.shelf[-1], self.shelf[i]
        self.shelf.pop()
        limits = self.rules.limits(done.patron)
        # Most books come back within the loan period, some late, a few not at all this term.
        roll = rng.random()
        if roll < 0.01:
            return
        if roll < 0.06:
            days = limits.loan_days + rng.randint(2, 20)
        else:
            days = rng.randint(2, limits.loan_days)
        back = day + dt.timedelta(days=days)
        while not self.rules.is_open(back):
            back += dt.timedelta(days=1)
        if back < self.today:
            self.returns.setdefault(back, []).append(barcode)


def _at(
    rng: random.Random, day: dt.date, tz: ZoneInfo, start: tuple[int, int], minutes: int
) -> dt.datetime:
    first = dt.datetime.combine(day, dt.time(*start), tzinfo=tz)
    return first + dt.timedelta(seconds=rng.randrange(minutes * 60))


def hints(store: Store, settings: config.Settings) -> str:
    """Return what to type first: student cards, a helper card, books on the shelf and on loan."""
    now = store.now()
    students = store.query(
        "SELECT p.id, p.name, p.class_name, c.code, c.number FROM patrons p "
        "JOIN cards c ON c.patron_id = p.id AND c.number IS NOT NULL "
        "WHERE p.role = 'student' AND p.grade >= 3 AND NOT EXISTS "
        "(SELECT 1 FROM loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL) "
        "ORDER BY p.id LIMIT 3"
    )
    helper = store.query(
        "SELECT p.name, p.class_name, c.code FROM patrons p JOIN cards c ON c.patron_id = p.id "
        "WHERE p.role = 'helper' AND c.number IS NOT NULL ORDER BY p.id LIMIT 1"
    )
    shelf = store.query(
        "SELECT barcode, title FROM items WHERE status = 'available' AND location = 'library' "
        "ORDER BY barcode LIMIT 3"
    )
    on_loan = store.query(
        "SELECT l.item_barcode, i.title, p.name FROM loans l JOIN items i "
        "ON i.barcode = l.item_barcode JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.returned_at IS NULL AND l.due_at >= ? ORDER BY l.item_barcode LIMIT 1",
        [now],
    )
    lines = [
        _("Demo school ready: {path}", path=store.path),
        _("Type a card code or a book barcode and press Enter."),
        _("Student cards:"),
    ]
    for i, s in enumerate(students):
        # The last one shows the decimal printed on the card: it opens the same session.
        code = s["number"] if i == len(students) - 1 else s["code"]
        lines.append(f"  {code}  {s['name']} {s['class_name']}")
    if helper:
        h = helper[0]
        lines.append(_("Helper card (desk mode):"))
        lines.append(f"  {h['code']}  {h['name']} {h['class_name']}")
    lines.append(_("Books on the shelf:"))
    lines += [f"  {b['barcode']}  {b['title']}" for b in shelf]
    if on_loan:
        b = on_loan[0]
        lines.append(_("A book on loan (scan it with no card to return it):"))
        lines.append(f"  {b['item_barcode']}  {b['title']} ({b['name']})")
    lines.append(_("Config: {path}. Press Ctrl+C to quit.", path=settings.base_dir / "config.toml"))
    return "\n".join(lines)
