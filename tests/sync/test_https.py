"""HTTPS to the hub: certificates verified, a school's own CA allowed, plain HTTP on purpose."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kiosk.sync.client import HubClient, HubError, HubLink
from kiosk.sync.protocol import check_hub_url

from .conftest import Hub
from .proxy import FaultProxy

pytestmark = pytest.mark.timeout(60)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """Make a school CA and a server certificate for 127.0.0.1 signed by it, with openssl."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test School CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "hub.key",
        "-out",
        "hub.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "san.txt").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "hub.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "hub.pem",
        "-days",
        "2",
        "-extfile",
        "san.txt",
    )
    return folder / "ca.pem", folder / "hub.pem", folder / "hub.key"


@pytest.fixture
def tls_hub(hub: Hub, tmp_path: Path) -> Any:
    ca, cert, key = make_certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    proxy = FaultProxy(hub.url, tls=context)  # TLS in front of the hub, as a reverse proxy does
    yield proxy.url, ca
    proxy.close()


def test_the_schools_ca_file_lets_the_kiosk_verify_the_hub(hub: Hub, tls_hub: Any) -> None:
    url, ca = tls_hub
    client = HubClient(HubLink(url, hub.register("k1"), "k1", ca_file=str(ca)))
    status, body = client.changes(0, "", "2026-11-02T01:00:00.000Z")
    assert (status, body["error"]) == (410, "snapshot_needed")
    client.close()


def test_a_certificate_the_kiosk_cannot_verify_is_refused(hub: Hub, tls_hub: Any) -> None:
    url, _ca = tls_hub
    client = HubClient(HubLink(url, hub.register("k1"), "k1"))
    with pytest.raises(HubError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        client.changes(0, "", "2026-11-02T01:00:00.000Z")
    client.close()


@pytest.mark.parametrize(
    ("url", "allow_http", "problem"),
    [
        ("http://192.168.1.10:8080", False, "plain HTTP to another machine"),
        ("ftp://hub.school", False, "must be https://"),
        ("hub.school", False, "must be https://"),
        ("http://192.168.1.10:8080/", True, None),
        ("http://127.0.0.1:8080/", False, None),
        ("http://localhost:8080", False, None),
        ("http://[::1]:8080", False, None),
        ("https://hub.school.example/", False, None),
    ],
)
def test_plain_http_only_on_loopback_or_when_allowed(
    url: str, allow_http: bool, problem: str | None
) -> None:
    if problem is None:
        assert check_hub_url(url, allow_http) == url.rstrip("/")
    else:
        with pytest.raises(ValueError, match=problem):
            check_hub_url(url, allow_http)
