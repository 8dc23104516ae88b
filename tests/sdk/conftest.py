"""One demo server per test module and database (``module_db_url``) for the SDK acceptance suite.

The acceptance tests of a module share a server (starting one per test would dominate the run
time), so each test picks its own alerts/incidents and never relies on another test's writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import hypothesis.database  # noqa: F401  (see below)
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_http.middleware.options import ResponseHandlerOption

from tests.live import LiveServer, live_server

# On Python 3.11.7, parsing a module imported late in an SDK session can fail with "AST constructor
# recursion depth mismatch"; the hypothesis plugin imports hypothesis at session end (rewritten,
# hence parsed), which broke runs of the SDK tests alone. Importing it up front avoids that.


class StaticToken(AccessTokenProvider):
    """Hands one token to requests for the allowed hosts only (what a connector author writes)."""

    def __init__(self, token: str, hosts: list[str]) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator(hosts)

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: Any = None
    ) -> str:
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class Sdk:
    """Official Graph SDK clients pointed at one running server.

    ``beta()`` / ``v1()`` build a client (optionally with another token); ``run()`` runs one async
    scenario and closes every HTTP client it opened, since the SDK never does.
    """

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self._adapters: list[Any] = []

    def beta(self, token: str | None = None) -> Any:
        from msgraph_beta import GraphRequestAdapter, GraphServiceClient

        return GraphServiceClient(request_adapter=self._adapter(GraphRequestAdapter, "beta", token))

    def v1(self, token: str | None = None) -> Any:
        from msgraph import GraphRequestAdapter, GraphServiceClient

        return GraphServiceClient(request_adapter=self._adapter(GraphRequestAdapter, "v1.0", token))

    def _adapter(self, adapter_class: Any, version: str, token: str | None) -> Any:
        provider = StaticToken(token or self.server.token(), ["127.0.0.1"])
        adapter = adapter_class(BaseBearerTokenAuthenticationProvider(provider))
        adapter.base_url = f"{self.server.base}/{version}"
        self._adapters.append(adapter)
        return adapter

    def run(self, scenario: Callable[[], Awaitable[None]]) -> None:
        async def wrapped() -> None:
            try:
                await scenario()
            finally:
                for adapter in self._adapters:
                    await adapter._http_client.aclose()
                self._adapters.clear()

        asyncio.run(wrapped())
        gc.collect()


OPEN_TYPES = {"Dictionary", "AdditionalDataDictionary"}  # Graph open types: extra members are data


def unmapped(model: Any, path: str = "$") -> list[str]:
    """Members anywhere in an SDK model tree that the SDK had no property for.

    A non-empty answer means the server sent a misnamed member, or a derived value without the
    ``@odata.type`` that makes the SDK pick its class. Control information is ignored.
    """
    found: list[str] = []
    if isinstance(model, list):
        for index, item in enumerate(model):
            found += unmapped(item, f"{path}[{index}]")
        return found
    if not dataclasses.is_dataclass(model) or isinstance(model, type):
        return found
    if type(model).__name__ not in OPEN_TYPES:
        extra = getattr(model, "additional_data", None) or {}
        found += [f"{path}.{key}" for key in extra if "@odata." not in key]
    for field in dataclasses.fields(model):
        if field.name not in ("additional_data", "backing_store"):
            found += unmapped(getattr(model, field.name), f"{path}.{field.name}")
    return found


def native(query_parameters: Any = None) -> RequestConfiguration[Any]:
    """A request configuration whose call returns the raw httpx response (status, headers)."""
    return RequestConfiguration(
        query_parameters=query_parameters,
        options=[ResponseHandlerOption(NativeResponseHandler())],
    )


@pytest.fixture(scope="module")
def demo_server(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(module_db_url, tmp_path_factory.mktemp("serve"), "--demo") as running:
        yield running


@pytest.fixture
def sdk(demo_server: LiveServer) -> Sdk:
    return Sdk(demo_server)
