"""The rules form: each problem beside its field in the reader's language, what was typed kept."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from web.helpers import text, token

from reports.school import School

ROLES = ("student", "teacher", "helper", "librarian")


def good_form(client: FlaskClient) -> dict[str, str]:
    form = {f"loan_days_{r}": "14" for r in ROLES} | {f"max_loans_{r}": "3" for r in ROLES}
    return form | {
        "csrf_token": token(client, "/admin/rules"),
        "renewals": "1",
        "term_start": "2026-09-01",
        "term_end": "2027-01-22",
        "closed_days": "2026-10-01",
        "closed_weekdays": ["6", "7"],
    }


def error_beside(html: str, field: str) -> str:
    """Return the error shown for a field: its input points at it, and it stands right after."""
    found = re.search(
        rf'name="{field}"[^>]*aria-describedby="{field}-error">\s*(?:</label>)?\s*'
        rf'<span class="field-error" id="{field}-error"[^>]*>([^<]+)</span>',
        html,
    )
    assert found, f"no error beside {field}"
    return found.group(1)


def test_every_bad_field_is_named_beside_it_and_kept(client: FlaskClient, school: School) -> None:
    before = school.store.query("SELECT * FROM rules ORDER BY scope")
    form = good_form(client) | {
        "loan_days_student": "",
        "max_loans_teacher": "lots",
        "grade_2": "500",
        "renewals": "-1",
        "term_start": "2027-02-01",
        "term_end": "2027-01-22",
        "closed_days": "2026-10-01\n2026-13-01",
    }
    r = client.post("/admin/rules", data=form)
    html = text(r)
    assert r.status_code == 400
    assert error_beside(html, "loan_days_student") == "请写一个整数，例如 14。"
    assert error_beside(html, "max_loans_teacher") == "请写一个整数，例如 2。"
    assert error_beside(html, "grade_2") == "请写 0 到 100 之间的数。"
    assert error_beside(html, "renewals") == "请写一个整数，例如 1。"
    assert "学期结束日早于开始日（2027-02-01）。" in html
    assert (
        "第 2 行：2026-13-01 不是日期，请写成 2026-10-01 这样的日期，"
        "或 2026-10-01 ~ 2026-10-07 这样的一段日期。" in html
    )
    # What was typed is still there.
    assert 'name="max_loans_teacher" value="lots"' in html and 'value="2027-02-01"' in html
    assert "2026-10-01\n2026-13-01</textarea>" in html
    assert school.store.query("SELECT * FROM rules ORDER BY scope") == before
    english = text(client.post("/admin/rules?lang=en", data=form))
    assert "The term ends before it starts (2027-02-01)." in english
    assert error_beside(english, "grade_2") == "Write a number from 0 to 100."


def test_a_good_form_is_saved(client: FlaskClient, school: School) -> None:
    r = client.post("/admin/rules", data=good_form(client) | {"grade_1": "1"})
    assert r.status_code == 302
    assert school.store.value("SELECT max_loans FROM rules WHERE scope = 'grade:1'") == 1
    html = text(client.get("/admin/rules"))
    assert 'name="term_end" value="2027-01-22"' in html and "规则已保存" in html
