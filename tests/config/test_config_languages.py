"""A bad config is said in the reader's language: the sentence through the catalogs, the file,
section, key and value as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import config


def error_of(tmp_path: Path, text: str) -> config.ConfigError:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError) as e:
        config.load(path)
    return e.value


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        (  # an unknown key
            "[kiosk]\nlanguag = 'en'\n",
            "[kiosk] languag: 没有这个设置项（可用的有：id, language, timezone,",
            "[kiosk] languag: unknown key (known: id, language, timezone,",
        ),
        (  # a wrong type, its kind in words
            "[kiosk]\nsession_timeout_s = 'long'\n",
            "[kiosk] session_timeout_s: 必须是数字，不能是 'long'",
            "[kiosk] session_timeout_s: must be a number, not 'long'",
        ),
        (
            "[indicator]\nquiet = 1\n",
            "[indicator] quiet: 必须是 true 或 false，不能是 1",
            "[indicator] quiet: must be true or false, not 1",
        ),
        (  # out of range
            "[kiosk]\nsession_timeout_s = -3\n",
            "[kiosk] session_timeout_s: 必须大于 0",
            "[kiosk] session_timeout_s: must be greater than 0",
        ),
        (  # out of range, a problem inside a problem
            "[rules]\nloan_days = { student = 400 }\n",
            "[rules] loan_days: student：400 不在 1 到 365 之间",
            "[rules] loan_days: student: 400 is not between 1 and 365",
        ),
        (
            "[web]\nlisten = '0.0.0.0:99999'\n",
            "[web] listen: 端口 99999 超过了最大值 65535",
            "[web] listen: port 99999 is above 65535, the highest there is",
        ),
        (
            "[kiosk]\nlog_level = 'LOUD'\n",
            "[kiosk] log_level: 必须是以下之一：DEBUG, INFO, WARNING, ERROR",
            "[kiosk] log_level: must be one of DEBUG, INFO, WARNING, ERROR",
        ),
        (
            "[rules]\nmax_loans = { table = 3 }\n",
            "[rules] max_loans: 没有身份 'table'（身份有：student, teacher, helper, librarian）",
            "[rules] max_loans: unknown role 'table' (roles: student, teacher, helper, librarian)",
        ),
        (
            "[stuff]\n",
            "没有小节 [stuff]（可用的有：[kiosk], [store],",
            "unknown section [stuff] (known: [kiosk], [store],",
        ),
    ],
)
def test_a_config_problem_is_said_in_both_languages(
    tmp_path: Path, text: str, zh: str, en: str
) -> None:
    e = error_of(tmp_path, text)
    path = tmp_path / "config.toml"
    assert e.said("zh_CN").startswith(f"{path}: {zh}")
    assert e.said("en").startswith(f"{path}: {en}")
    assert str(e) == e.said("en")  # logs and scripts read English


def test_a_table_where_a_list_is_wanted_keeps_its_braces(tmp_path: Path) -> None:
    e = error_of(tmp_path, "[rules]\nloan_days = 14\n")
    assert e.said("en").endswith("[rules] loan_days: must be a table like { key = value }")
    assert e.said("zh_CN").endswith("[rules] loan_days: 必须是表，例如 { key = value }")
