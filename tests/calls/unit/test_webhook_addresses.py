"""A webhook's host is checked again at every delivery and the request goes to the
address checked: a host whose DNS moves to a private address after it was subscribed
is not sent to (DNS rebinding), and over TLS the certificate must still be the URL's
host's."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.calls.notifications import delivery, webhooks
from tests.calls.webhook_receiver import Receiver

HOST = "hooks.example.test"
PAYLOAD = {"id": "d-1", "kind": "call.assigned"}


@pytest.fixture
def dns(monkeypatch):
    """``HOST`` resolves to whatever the test sets; every other name as usual."""
    answer = {"address": "93.184.215.14"}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["address"], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answer


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.down()


def test_a_host_that_moved_to_a_private_address_is_refused_at_delivery(dns, receiver):
    url = f"http://{HOST}:{receiver.port}/hook"
    webhooks.check_url(url, private_ok=False)  # public when subscribed
    dns["address"] = "127.0.0.1"  # ... and now pointing inside
    code, error = delivery._post(PAYLOAD, url, "secret", 2, private_ok=False)
    assert code is None and error.startswith("Refused: The host is private")
    assert receiver.received == []


def test_the_request_goes_to_the_checked_address_with_the_urls_host(dns, receiver):
    dns["address"] = "127.0.0.1"
    url = f"http://{HOST}:{receiver.port}/hook?x=1"
    assert delivery._post(PAYLOAD, url, "secret", 2, private_ok=True) == (204, None)
    [(path, headers, _)] = receiver.received
    assert path == "/hook?x=1" and headers["Host"] == f"{HOST}:{receiver.port}"
    assert headers["Rapport-Delivery"] == "d-1"


def _certificate(folder, name: str):
    """A CA, and a certificate it signed for ``name``: (CA file, cert file, key file)."""
    now = dt.datetime.now(dt.UTC)

    def made(subject, issuer, key, signer, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = made("Test CA", "Test CA", ca_key, ca_key, True)
    cert = made(name, "Test CA", key, ca_key, False, san=name)
    files = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class _Hooks(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Hooks.hosts.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("named", [HOST, "someone-else.example.test"])
def test_over_tls_the_certificate_must_be_the_urls_host(dns, tmp_path, monkeypatch, named):
    ca, cert, key = _certificate(tmp_path, named)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(delivery, "CA_BUNDLE", str(ca))
    dns["address"] = "127.0.0.1"
    _Hooks.hosts = []
    try:
        code, error = delivery._post(
            PAYLOAD, f"https://{HOST}:{server.server_address[1]}/hook", "s", 2, private_ok=True
        )
    finally:
        server.shutdown()
        server.server_close()
    if named == HOST:
        assert (code, error) == (204, None)
        assert _Hooks.hosts == [f"{HOST}:{server.server_address[1]}"]
    else:
        assert code is None and error.startswith("SSLError") and "doesn't match" in error
        assert _Hooks.hosts == []
