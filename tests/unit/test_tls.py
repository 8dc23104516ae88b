"""The local CA: files load in Python's ssl, the server certificate verifies, replicas share it."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509

from alertgraph.identity.tls import ensure_local_tls
from alertgraph.store.database import Store

HOSTS = ["localhost", "127.0.0.1", "::1", "alertgraph.test"]


def handshake(certfile: Path, keyfile: Path, cafile: Path, server_hostname: str) -> str:
    """A real TLS handshake over a socket pair; returns the negotiated version."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certfile, keyfile)
    client_context = ssl.create_default_context(cafile=str(cafile))
    left, right = socket.socketpair()
    problems: list[BaseException] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(left, server_side=True) as tls:
                tls.sendall(tls.recv(5))
        except (ssl.SSLError, OSError) as exc:
            problems.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(right, server_hostname=server_hostname) as tls:
            tls.sendall(b"hello")
            assert tls.recv(5) == b"hello"
            version = tls.version() or ""
    finally:
        thread.join(timeout=10)
    return version


def test_files_verify_for_every_host(store: Store, tmp_path: Path) -> None:
    files = ensure_local_tls(store, HOSTS, directory=tmp_path)
    for host in HOSTS:
        assert handshake(files.certfile, files.keyfile, files.ca_file, host).startswith("TLS")
    assert handshake(files.certfile, files.keyfile, files.bundle_file, "localhost")
    assert stat.S_IMODE(files.keyfile.stat().st_mode) == 0o600
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"):
        assert variable in files.trust_instructions
    assert str(files.ca_file) in files.trust_instructions


def test_other_host_names_fail_verification(store: Store, tmp_path: Path) -> None:
    files = ensure_local_tls(store, ["localhost"], directory=tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(files.certfile, files.keyfile, files.ca_file, "example.com")


def test_an_untrusted_ca_fails(store: Store, tmp_path: Path) -> None:
    files = ensure_local_tls(store, ["localhost"], directory=tmp_path)
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(files.certfile.read_text().split("-----END CERTIFICATE-----")[0]
                        + "-----END CERTIFICATE-----\n")  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(files.certfile, files.keyfile, stranger, "localhost")


def test_certificates_are_shared_through_the_database(db_url: str, tmp_path: Path) -> None:
    first_store, second_store = Store.open(db_url), Store.open(db_url)
    try:
        first = ensure_local_tls(first_store, ["localhost", "127.0.0.1"], directory=tmp_path / "a")
        # another replica, same hosts in another order: same CA and same server certificate
        second = ensure_local_tls(
            second_store, ["127.0.0.1", "LOCALHOST"], directory=tmp_path / "b"
        )
        assert first.ca_file.read_text() == second.ca_file.read_text()
        assert first.certfile.read_text() == second.certfile.read_text()
        assert first.keyfile.read_text() == second.keyfile.read_text()
        # more hosts: a new server certificate from the same CA
        third = ensure_local_tls(
            second_store, ["localhost", "db.internal"], directory=tmp_path / "c"
        )
        assert third.ca_file.read_text() == first.ca_file.read_text()
        assert third.certfile.read_text() != first.certfile.read_text()
        assert handshake(third.certfile, third.keyfile, first.ca_file, "db.internal")
    finally:
        first_store.engine.dispose()
        second_store.engine.dispose()


def test_certificate_shape(store: Store, tmp_path: Path) -> None:
    files = ensure_local_tls(store, ["localhost", "127.0.0.1"], directory=tmp_path)
    server = x509.load_pem_x509_certificates(files.certfile.read_bytes())[0]
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert server.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert lifetime.days <= 398


def test_no_hosts_is_an_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one host"):
        ensure_local_tls(store, [" "], directory=tmp_path)
