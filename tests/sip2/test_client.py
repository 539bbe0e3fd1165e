"""The SIP2 client against a real ACS process (pysip2) over TCP on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.config import Sip2Settings
from kiosk.sip2.client import LoginRefused, Offline, Sip2Client
from kiosk.sip2.protocol import Malformed


def client(address: str, **kw: Any) -> Sip2Client:
    settings = dict(address=address, user="kiosk", password="secret", institution="SCHOOL")
    return Sip2Client(Sip2Settings(**{**settings, "timeout_s": 2.0, **kw}))


@pytest.mark.parametrize(
    ("encoding", "terminator", "detection"),
    [
        ("utf-8", "\r", True),
        ("gb18030", "\r\n", True),
        ("utf-8", "\r\n", False),
        ("cp850", "\r", False),
    ],
)
def test_lunch_over_the_wire(acs: Any, encoding: str, terminator: str, detection: bool) -> None:
    server = acs("--encoding", encoding, "--terminator", "crlf" if terminator == "\r\n" else "cr")
    c = client(server.address, encoding=encoding, terminator=terminator, error_detection=detection)
    status = c.connect()
    assert status.code == "98" and status.flag(0) == "Y"
    p = c.patron_information("P002" if encoding == "cp850" else "P001")
    assert p.get("BL") == "Y"
    assert p.get("AE") == ("Lily Chen" if encoding == "cp850" else "王小明")
    book = "B002" if encoding == "cp850" else "B001"  # cp850 has no Chinese titles
    out = c.checkout("P001", book)
    assert out.flag(0) == "1" and out.get("AH") == "20300115    235900"
    assert c.renew("P001", book).flag(0) == "1"
    assert c.checkin(book).flag(0) == "1"
    assert c.end_session("P001").code == "36"
    assert [r["op"] for r in server.journal()] == ["63", "11", "29", "09", "35"]


def test_corrupt_answer_is_asked_again_with_97(acs: Any) -> None:
    server = acs("--corrupt", "B002")
    c = client(server.address)
    out = c.checkout("P001", "B002")
    assert out.flag(0) == "1"
    assert c.stats.corrupt == 1
    assert len(server.journal("11")) == 1  # asked again, not lent twice


def test_server_requiring_checksums_and_a_kiosk_without(acs: Any) -> None:
    server = acs("--error-detection", "required")
    c = client(server.address, error_detection=False, retries=1)
    with pytest.raises(Malformed, match="could not read"):
        c.connect()


def test_refused_login_and_no_server(acs: Any) -> None:
    server = acs()
    with pytest.raises(LoginRefused):
        client(server.address, password="wrong").connect()
    server.kill()
    with pytest.raises(Offline):
        client(server.address).connect()


def test_malformed_answer_is_an_error_not_a_crash(acs: Any) -> None:
    server = acs("--malformed", "B003")
    c = client(server.address)
    with pytest.raises(Malformed):
        c.checkout("P001", "B003")
    assert c.patron_information("P001").get("BL") == "Y"  # the connection goes on


def test_a_96_gets_the_message_again(acs: Any) -> None:
    server = acs("--ask-again", "11", "--terminator", "crlf")
    c = client(server.address, terminator="\r\n")
    assert c.checkout("P001", "B007").flag(0) == "1"
    assert c.stats.resent == 1
    assert len(server.journal("11")) == 1


def test_over_tls_verified_by_the_schools_ca(acs: Any, tmp_path: Any) -> None:
    from sync.test_https import make_certificates

    ca, cert, key = make_certificates(tmp_path)
    server = acs("--tls", str(cert), str(key))
    c = client(server.address, tls=True, ca_file=str(ca))
    assert c.connect().flag(0) == "Y"
    assert c.patron_information("P001").get("AE") == "王小明"
    c.close()
    with pytest.raises(Offline, match="cannot connect"):
        client(server.address, tls=True).connect()  # the system's CAs do not know it
