"""Rule defaults are said once (config/rule_defaults.py): config, store, form and page agree."""

from __future__ import annotations

from flask.testing import FlaskClient

from kiosk.circulation.records import set_rules
from kiosk.circulation.rules import Limits, load_rules
from kiosk.circulation.service import Circulation
from kiosk.config import RulesSettings, rule_defaults
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text

BOOKS = ("9787020002207", "9787535449450", "9787544270878", "9787530215982")


def test_a_role_without_a_stored_rule_gets_its_default_limits_everywhere(
    client: FlaskClient, daemon: Daemon
) -> None:
    # Rules for students only (an old store, a hub's rules from before helpers were counted).
    only_students = RulesSettings(loan_days={"student": 14}, max_loans={"student": 2})
    set_rules(daemon.store, only_students, actor="librarian")
    assert daemon.store.query("SELECT scope FROM rules WHERE scope LIKE 'role:%'") == [
        {"scope": "role:student"}
    ]
    # The config's default for helpers (3 books, 14 days) holds at the desk ...
    defaults = RulesSettings()
    helper = Limits(defaults.loan_days["helper"], defaults.max_loans["helper"], defaults.renewals)
    assert helper == Limits(14, 3, 1)
    circulation = Circulation(daemon.store)
    assert [circulation.checkout("H001", b).ok for b in BOOKS] == [True, True, True, False]
    patron = circulation.patron("H001")
    assert patron is not None and load_rules(daemon.store.reader).limits(patron) == helper
    # ... and on the rules page, which shows what the desk does.
    set_up_and_login(client)
    html = text(client.get("/admin/rules"))
    assert 'name="max_loans_helper" value="3"' in html
    assert 'name="loan_days_helper" value="14"' in html


def test_the_form_and_the_config_refuse_the_same_numbers() -> None:
    from kiosk.config import ConfigError, from_dict
    from kiosk.web.admin.rules_form import check

    bound = rule_defaults.BOUNDS["loan_days"]
    for days, ok in ((bound.low, True), (bound.high, True), (bound.high + 1, False), (0, False)):
        form = {f"loan_days_{r}": str(days) for r in rule_defaults.ROLES}
        form |= {f"max_loans_{r}": "2" for r in rule_defaults.ROLES} | {"renewals": "1"}
        assert check(form, []).ok is ok, days
        try:
            from_dict({"rules": {"loan_days": {"student": days}}})
            accepted = True
        except ConfigError:
            accepted = False
        assert accepted is ok, days
