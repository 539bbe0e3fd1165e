"""Check the SIP2 link by hand: log in, run 99, and say what is wrong and how to fix it.

Used by `kiosk doctor` and `kiosk sip2 test`. Each finding is (level, message, fix), in the
terminal's language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from kiosk.config import Sip2Settings
from kiosk.i18n import N_, _
from kiosk.sip2.client import LoginRefused, Offline, Sip2Client
from kiosk.sip2.protocol import Malformed

Finding = tuple[str, str, str]  # level (ok, problem), message, fix

# What a 64's patron status positions mean, for a person.
STATUS_WORDS = {
    0: N_("charge privileges denied"),
    1: N_("renewal privileges denied"),
    4: N_("card reported lost"),
    5: N_("too many items charged"),
    6: N_("too many items overdue"),
    10: N_("excessive outstanding fines"),
    11: N_("excessive outstanding fees"),
}
# Item circulation status (18), for a person.
CIRCULATION = {
    "01": N_("other"),
    "02": N_("on order"),
    "03": N_("available"),
    "04": N_("charged"),
    "05": N_("charged (not to be recalled)"),
    "06": N_("in process"),
    "07": N_("recalled"),
    "08": N_("waiting on hold shelf"),
    "09": N_("waiting to be re-shelved"),
    "10": N_("in transit"),
    "11": N_("claimed returned"),
    "12": N_("lost"),
    "13": N_("missing"),
}


def check(s: Sip2Settings, config: str) -> Iterator[Finding]:
    """Log in and run 99; on failure, try what usually fixes it and say so."""
    if not s.address:
        yield ("ok", _("none configured: the kiosk lends from its own store"), "")
        return
    edit = _("edit [sip2] in {config}", config=config)
    client = Sip2Client(s)
    try:
        status = client.connect()
    except LoginRefused:
        yield (
            "problem",
            _("the SIP2 server refused the login of user {user}", user=s.user),
            _(
                "check [sip2] user, password and location against the self-check account in "
                "the library system (docs/sip2.md); {edit}",
                edit=edit,
            ),
        )
        return
    except Offline as e:
        if client.connected or "no answer" in str(e):
            other = "\r\n" if s.terminator == "\r" else "\r"
            if _answers(dataclasses.replace(s, terminator=other)):
                yield (
                    "problem",
                    _("the SIP2 server answers only messages ending in {end}", end=repr(other)),
                    _("set terminator = {end} in [sip2]; {edit}", end=_toml(other), edit=edit),
                )
                return
        yield (
            "problem",
            _("cannot reach the SIP2 server at {address}: {error}", address=s.address, error=e),
            _(
                "check the network, [sip2] address, and that the SIP2 server runs and lets "
                "this kiosk's address in; {edit}",
                edit=edit,
            ),
        )
        return
    except Malformed as e:
        yield from _explain(s, str(e), client.stats.corrupt, edit)
        return
    finally:
        client.close()
    online = status.flag(0) == "Y"
    words = _(
        "logged in as {user}; 99 answered: online {online}, checkout {out}, checkin {back}, "
        "protocol {version}, checksums {checks}",
        user=s.user or "-",
        online=status.flag(0),
        out=status.flag(2),
        back=status.flag(1),
        version=status.fixed[30:34],
        checks=_("on") if s.error_detection else _("off"),
    )
    if client.stats.corrupt:
        yield (
            "problem",
            _("{count} corrupt answer(s) on the way", count=client.stats.corrupt),
            _("check the encoding ([sip2] encoding) and the network; {edit}", edit=edit),
        )
    yield ("ok" if online else "problem", words, "" if online else _("the server is offline"))


def _explain(s: Sip2Settings, error: str, corrupt: int, edit: str) -> Iterator[Finding]:
    if "no checksum" in error:
        fix = _("the server sends no checksums: set error_detection = false; {edit}", edit=edit)
        yield ("problem", _("answers without checksums: {error}", error=error), fix)
    elif "could not read" in error:
        fix = _("the server wants checksums: set error_detection = true; {edit}", edit=edit)
        yield ("problem", _("the server could not read the kiosk's messages"), fix)
    elif "not " in error and "text" in error:
        fix = _("set [sip2] encoding to the server's (utf-8, cp850 or gb18030); {edit}", edit=edit)
        yield ("problem", _("answers in another encoding: {error}", error=error), fix)
    elif corrupt:
        fix = _(
            "checksum errors: check [sip2] encoding, or set error_detection = false if the "
            "server computes checksums differently; {edit}",
            edit=edit,
        )
        yield ("problem", _("corrupt answers: {error}", error=error), fix)
    else:
        yield ("problem", _("an answer the kiosk cannot read: {error}", error=error), edit)


def _answers(s: Sip2Settings) -> bool:
    client = Sip2Client(s)
    try:
        client.connect()
        return True
    except (Offline, LoginRefused, Malformed):
        return False
    finally:
        client.close()


def _toml(text: str) -> str:
    return '"' + text.replace("\r", "\\r").replace("\n", "\\n") + '"'
