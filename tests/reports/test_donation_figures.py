"""The year report's donations on a generated school with known answers: books donated, donors
and donations, and per class (a child's class, or the class that gave), counting only the days of
the period asked for; the same numbers on the reports page and its print view."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

from flask.testing import FlaskClient
from web.helpers import text

from kiosk.circulation.reading import donations
from kiosk.circulation.records import put_patron
from reports.school import School

CLASSES = [f"{g}({c})班" for g in "一二三四五六" for c in (1, 2)]
THIS_YEAR = dt.date(2026, 9, 1)  # the school's clock: 30 October 2026, school year 2026-2027
LAST_YEAR = dt.date(2026, 6, 15)


def test_the_year_report_counts_the_donations(client: FlaskClient, school: School) -> None:
    rng = random.Random(25)
    store = school.store
    with store.write() as db:
        for n, cls in enumerate(CLASSES):
            for k in range(6):
                row = {
                    "id": f"G{n:02d}{k}",
                    "name": f"学生{n:02d}{k}",
                    "role": "student",
                    "grade": n // 2 + 1,
                    "class_name": cls,
                }
                put_patron(db, row, [], store.now())
    books, donors, donations_n = 0, set(), 0
    per_class: Counter[str] = Counter()
    class_donors: dict[str, set[str]] = {}
    label = 0

    def give(form: donations.DonationForm, count: int, counted: bool, donor: str, cls: str) -> None:
        nonlocal books, donations_n, label
        new = []
        for _ in range(count):
            label += 1
            new.append(
                {"barcode": f"G{label:05d}", "title": f"捐书{label}", "isbn": "", "author": ""}
            )
        form = donations.DonationForm(**{**form.__dict__, "new_books": tuple(new)})
        assert donations.record_donation(store, form, dt.date(2026, 10, 30), "librarian:admin").ok
        if counted:
            books += count
            donations_n += 1
            donors.add(donor)
            if cls:
                per_class[cls] += count
                class_donors.setdefault(cls, set()).add(donor)

    for n, cls in enumerate(CLASSES):
        for k in range(6):
            times = rng.choice([0, 0, 1, 2])  # a child may give twice: one donor
            for _ in range(times):
                counted = rng.random() < 0.8
                day = THIS_YEAR + dt.timedelta(days=rng.randrange(59)) if counted else LAST_YEAR
                pid = f"G{n:02d}{k}"
                form = donations.DonationForm(kind="child", patron_id=pid, day=day.isoformat())
                give(form, rng.randrange(1, 4), counted, "child:" + pid, cls)
        if rng.random() < 0.5:
            form = donations.DonationForm(kind="class", class_name=cls, day="2026-10-01")
            give(form, rng.randrange(5, 15), True, "class:" + cls, cls)
    for name in ("王爸爸", "李妈妈", "王爸爸"):
        form = donations.DonationForm(kind="parent", name=name, day="2026-10-10")
        give(form, 2, True, "parent:" + name, "")
    form = donations.DonationForm(kind="organisation", name="新华书店", day="2026-09-10")
    give(form, 20, True, "organisation:新华书店", "")
    assert books > 50 and len(per_class) > 6  # the generator made a school worth counting

    for path in ("/admin/reports/?period=year", "/admin/reports/print?period=year"):
        page = text(client.get(path))
        block = page.split('id="donated"')[1]
        found = {
            k: int(re.search(rf'id="donated-{k}">(\d+)<', block).group(1))  # type: ignore[union-attr]
            for k in ("books", "donors", "donations")
        }
        assert found == {"books": books, "donors": len(donors), "donations": donations_n}, path
        rows = re.findall(
            r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
            block.split('id="donated-classes"')[1].split("</table>")[0],
        )
        expected = [
            (cls, str(per_class[cls]), str(len(class_donors[cls])))
            for cls in CLASSES
            if per_class[cls]
        ]
        assert rows == expected, path  # in school order
    # Last school year's own report counts only its donations.
    page = text(client.get("/admin/reports/?period=range&from=2025-09-01&to=2026-08-31"))
    block = page.split('id="donated"')[1]
    last = re.search(r'id="donated-books">(\d+)<', block)
    expected_last = sum(
        r["n"]
        for r in store.query(
            "SELECT COUNT(*) AS n FROM donation_books b JOIN donations d ON d.id = b.donation_id "
            "WHERE d.donated_on < '2026-09-01'"
        )
    )
    assert last is not None and int(last.group(1)) == expected_last > 0
