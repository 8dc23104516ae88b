"""A local certificate authority and server certificate, kept in the database.

HTTPS matters here because the stock Azure identity stack refuses plain-http authorities. The CA
and each server certificate are created once and stored as meta values, so every replica serving
the same database presents the same certificate; the PEM files are written for uvicorn
(``ssl_certfile``/``ssl_keyfile``) and for clients to trust.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from alertgraph.store.database import Store

CA_META_KEY = "tls.ca"
CA_DAYS = 3650
#: under the 398 days browsers accept for server certificates
SERVER_DAYS = 397
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True, slots=True)
class TlsFiles:
    certfile: Path  # server certificate followed by the CA certificate
    keyfile: Path
    ca_file: Path  # the CA certificate alone: what clients should trust
    bundle_file: Path  # the system's CA bundle plus ours, for tools that take one bundle
    trust_instructions: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _new_ca() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    # a random serial in the name keeps two installations' CAs apart in a trust store
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "alertgraph"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"alertgraph local CA {x509.random_serial_number() % 10**8}"
            ),
        ]
    )
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return {"cert": cert.public_bytes(serialization.Encoding.PEM).decode(), "key": _pem_key(key)}


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def _new_server(ca: dict[str, str], hosts: list[str]) -> dict[str, str]:
    ca_cert = x509.load_pem_x509_certificate(ca["cert"].encode())
    ca_key = _load_key(ca["key"])
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(host) for host in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return {"cert": cert.public_bytes(serialization.Encoding.PEM).decode(), "key": _pem_key(key)}


def _stored(store: Store, key: str, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    text = store.get_meta(key)
    if text is None:
        # race-safe: when two replicas start together, the first write wins and both use it
        text = store.set_meta_if_absent(key, orjson.dumps(make()).decode())
    value: dict[str, str] = orjson.loads(text)
    return value


def _expiring(cert_pem: str) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.not_valid_after_utc - _now() < dt.timedelta(days=RENEW_BEFORE_DAYS)


def _write(path: Path, text: str, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _system_bundle() -> str:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    return ""


def ensure_local_tls(store: Store, hosts: list[str], *, directory: Path | None = None) -> TlsFiles:
    """The local CA and a server certificate for ``hosts``, written as PEM files in ``directory``.

    Created on first use and stored in the database; a server certificate is reissued (by the
    same CA) when it is within 30 days of expiry. ``hosts`` are DNS names or IP addresses.
    """
    names = list(dict.fromkeys(host.strip().lower() for host in hosts if host.strip()))
    if not names:
        raise ValueError("ensure_local_tls needs at least one host name or IP address")
    target = directory or Path.home() / ".alertgraph" / "tls"
    ca = _stored(store, CA_META_KEY, _new_ca)
    if _expiring(ca["cert"]):
        ca = _new_ca()
        store.set_meta(CA_META_KEY, orjson.dumps(ca).decode())
    digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]
    ca_digest = hashlib.sha256(ca["cert"].encode()).hexdigest()[:16]
    server_key = f"tls.server.{ca_digest}.{digest}"
    server = _stored(store, server_key, lambda: _new_server(ca, names))
    if _expiring(server["cert"]):
        server = _new_server(ca, names)
        store.set_meta(server_key, orjson.dumps(server).decode())
    files = TlsFiles(
        certfile=target / "server.pem",
        keyfile=target / "server-key.pem",
        ca_file=target / "ca.pem",
        bundle_file=target / "ca-bundle.pem",
        trust_instructions="",
    )
    _write(files.certfile, server["cert"] + ca["cert"])
    _write(files.keyfile, server["key"], private=True)
    _write(files.ca_file, ca["cert"])
    _write(files.bundle_file, _system_bundle().rstrip("\n") + "\n" + ca["cert"])
    return TlsFiles(
        files.certfile,
        files.keyfile,
        files.ca_file,
        files.bundle_file,
        trust_instructions(files.ca_file, files.bundle_file, names),
    )


def trust_instructions(ca_file: Path, bundle_file: Path, hosts: list[str]) -> str:
    return (
        f"alertgraph serves HTTPS for {', '.join(hosts)} with a certificate of its local CA.\n"
        "Make clients trust that CA:\n"
        f"  Python (requests, azure-identity, msal):  export REQUESTS_CA_BUNDLE={bundle_file}\n"
        f"  Python ssl / httpx / OpenSSL tools:       export SSL_CERT_FILE={bundle_file}\n"
        f"  Node.js:                                   export NODE_EXTRA_CA_CERTS={ca_file}\n"
        f"  curl:                                      curl --cacert {ca_file} ...\n"
        f"The bundle is the system's CAs plus this one; {ca_file} holds this CA alone."
    )
