"""Fixtures of the report tests: the school with known answers, and a logged-in browser on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from web.helpers import LOOPBACK, set_up_and_login

from kiosk.web import create_app
from reports.school import School, build


@pytest.fixture
def school(tmp_path: Path) -> Iterator[School]:
    """The school of reports/school.py, built afresh."""
    s = build(tmp_path)
    yield s
    s.store.close()


@pytest.fixture
def client(school: School) -> FlaskClient:
    """A librarian logged in to the pages on the school's store."""
    app = create_app(store=school.store, settings=school.settings, networks=LOOPBACK)
    c = app.test_client()
    set_up_and_login(c)
    return c
