"""A connector's stock set-up, end to end.

An app registered with `alertgraph app add`, azure-identity's ClientSecretCredential with alertgraph
as its authority, and the official beta SDK using the token it gets, against `alertgraph serve
--tls`, trusting the CA the server printed, with no custom token provider.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
from pathlib import Path

import pytest

from tests.live import live_server, run_cli

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

TENANT = "dddddddd-0000-4000-8000-00000000000d"


def test_client_secret_credential_and_sdk_over_tls(db_url, tmp_path, monkeypatch) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential
    from msgraph_beta import GraphRequestAdapter, GraphServiceClient
    from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph_beta.generated.models.security.alert import Alert
    from msgraph_core.authentication import AzureIdentityAuthenticationProvider

    out = run_cli(
        "app",
        "add",
        "--db",
        db_url,
        "--tenant",
        TENANT,
        "--role",
        "SecurityAlert.Read.All",
        "--role",
        "SecurityIncident.Read.All",
    )
    client_id = re.search(r"client_id:\s+(\S+)", out).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", out).group(1)
    run_cli(
        "import",
        str(_alerts_file(tmp_path)),
        "--into",
        "security/alerts_v2",
        "--db",
        db_url,
        "--tenant",
        TENANT,
    )

    with live_server(db_url, tmp_path, "--tls") as server:
        log = server.log()
        bundle = re.search(r"REQUESTS_CA_BUNDLE=(\S+)", log).group(1)
        # exactly what serve printed for Python clients
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
        monkeypatch.setenv("SSL_CERT_FILE", bundle)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        credential = ClientSecretCredential(
            TENANT, client_id, secret, authority=server.base, disable_instance_discovery=True
        )
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
        )
        adapter = GraphRequestAdapter(auth)
        adapter.base_url = f"{server.base}/beta"
        client = GraphServiceClient(request_adapter=adapter)

        async def scenario() -> None:
            try:
                alerts = await client.security.alerts_v2.get()
                assert sorted(a.id for a in alerts.value) == ["cc-1", "cc-2"]
                incidents = await client.security.incidents.get()
                assert incidents.value == []
                # the app holds read permissions only: a write is Graph's 403
                patch = client.security.alerts_v2.by_alert_id("cc-1").patch(
                    Alert(assigned_to="x@contoso.com")
                )
                with pytest.raises(ODataError) as denied:
                    await patch
                assert denied.value.response_status_code == 403
                assert "SecurityAlert.ReadWrite.All" in denied.value.error.message
            finally:
                await adapter._http_client.aclose()

        asyncio.run(scenario())
        credential.close()
        # a wrong secret: azure-identity (through MSAL) shows Entra's code and reason as Entra's
        # answer would make it show them
        wrong = ClientSecretCredential(
            TENANT, client_id, "not-the-secret", authority=server.base,
            disable_instance_discovery=True,
        )  # fmt: skip
        with pytest.raises(ClientAuthenticationError) as refused:
            wrong.get_token("https://graph.microsoft.com/.default")
        message = str(refused.value)
        assert "AADSTS7000215: Invalid client secret provided" in message
        assert "Trace ID:" in message
        assert "Correlation ID:" in message
        wrong.close()
        gc.collect()


def _alerts_file(tmp_path: Path) -> Path:
    path = tmp_path / "alerts.ndjson"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"cc-{n}",
                    "title": "t",
                    "severity": "low",
                    "status": "new",
                    "serviceSource": "microsoftDefenderForEndpoint",
                    "createdDateTime": f"2024-06-01T00:00:0{n}Z",
                }
            )
            for n in (1, 2)
        )
    )
    return path
