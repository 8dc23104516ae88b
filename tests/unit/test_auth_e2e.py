"""The stock azure-identity ClientSecretCredential against a real server over local TLS.

``serve_over_tls`` runs uvicorn in a child process on 127.0.0.1 and a free port, the way the full
server's tests can run ``alertgraph serve``; the child shares the test's database.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from alertgraph.identity.auth import Authenticator, AuthSettings, add_app, authorize
from alertgraph.identity.tls import TlsFiles, ensure_local_tls
from alertgraph.schema.endpoints import BY_NAME
from alertgraph.store.database import Store

TENANT = "4c2b7e10-5d8a-4f51-9e3c-0a1b2c3d4e5f"

SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from alertgraph.identity.auth import AuthSettings
from alertgraph.identity.oidc import auth_routes
from alertgraph.store.database import Store
url, cert, key, port = sys.argv[1:]
app = Starlette(routes=auth_routes(Store.open(url), AuthSettings()))
uvicorn.run(app, host="127.0.0.1", port=int(port), ssl_certfile=cert, ssl_keyfile=key,
            log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=1)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_over_tls(db_url: str, tls: TlsFiles) -> Iterator[str]:
    """The token service on https://127.0.0.1:<free port> in a child process; yields its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    command = [sys.executable, "-c", SERVER, db_url, str(tls.certfile), str(tls.keyfile), str(port)]
    child = subprocess.Popen(command, env=env)
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    try:
        deadline = time.monotonic() + 30
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"the server exited with status {child.returncode}")
            try:
                # a complete HTTPS request: a bare TCP probe would leave a TLS handshake pending
                httpx.get(f"https://127.0.0.1:{port}/discovery/v2.0/keys", verify=context)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 30 s") from None
                time.sleep(0.05)
        yield f"https://127.0.0.1:{port}"
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test_client_secret_credential_gets_a_token_we_accept(
    db_url: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import ClientSecretCredential

    tls = ensure_local_tls(store, ["127.0.0.1", "localhost"], directory=tmp_path)
    # what the trust instructions tell users to do, and no proxy for the loopback address
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.bundle_file))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings = AuthSettings()
    client_id, secret = add_app(store, tenant=TENANT, roles=["SecurityAlert.ReadWrite.All"])
    with serve_over_tls(db_url, tls) as base_url:
        credential = ClientSecretCredential(
            TENANT, client_id, secret, authority=base_url, disable_instance_discovery=True
        )
        access = credential.get_token("https://graph.microsoft.com/.default")
        assert access.expires_on > time.time() + 3000
        principal = Authenticator(store, settings).authenticate(
            f"Bearer {access.token}", request_id="e2e"
        )
        assert principal.kind == "application"
        assert principal.app_id == client_id
        assert principal.tenant == TENANT
        authorize(principal, BY_NAME["alerts_v2"], "write", request_id="e2e")
        # a wrong secret surfaces as azure-identity's authentication error
        from azure.core.exceptions import ClientAuthenticationError

        wrong = ClientSecretCredential(
            TENANT, client_id, "not-the-secret", authority=base_url, disable_instance_discovery=True
        )
        with pytest.raises(ClientAuthenticationError, match="Invalid client secret"):
            wrong.get_token("https://graph.microsoft.com/.default")
        credential.close()
        wrong.close()
