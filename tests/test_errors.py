"""Every exception class of the kiosk derives from `KioskError` and keeps what it was."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kiosk
from kiosk.circulation.stats import PeriodError
from kiosk.circulation.stats.tables import ReportError
from kiosk.errors import KioskError


def exception_classes() -> dict[str, type[BaseException]]:
    """Return every exception class defined in a module of the kiosk, by its qualified name."""
    found = {}
    for info in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        if info.name == "kiosk.__main__":
            continue  # it runs the command line
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
            ):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_exception_is_a_kiosk_error() -> None:
    classes = exception_classes()
    assert "kiosk.config.ConfigError" in classes and "kiosk.sip2.client.Offline" in classes
    assert [name for name, cls in classes.items() if not issubclass(cls, KioskError)] == []


def test_a_value_error_stays_one() -> None:
    try:
        raise ReportError("no such report")
    except ValueError as e:
        assert isinstance(e, KioskError) and str(e) == "no such report"
    assert issubclass(PeriodError, ValueError)
