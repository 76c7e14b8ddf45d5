"""Credentials: key exchange, refresh before expiry, one shared exchange, re-exchange after 401, secrecy."""

from __future__ import annotations

import logging

import anyio
import pytest

from mcp_agents.client import (
    AgentRunsClient,
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
)
from mcp_agents.client._auth import jwt_expiry
from mcp_agents.settings import Settings
from tests.client.conftest import make_client
from tests.support.scripted_api import ScriptedAPI, make_jwt


async def test_key_is_exchanged_once_and_cached(api: ScriptedAPI, client: AgentRunsClient) -> None:
    for _ in range(3):
        await client.runs.list()
    assert api.exchanges == 1
    issue = api.calls_to("/token/issue")[0]
    assert issue.headers["authorization"] == f"Bearer {api.api_key}"
    assert b'"type":"apikey"' in issue.body.replace(b" ", b"")
    assert all(c.headers["authorization"] != f"Bearer {api.api_key}" for c in api.calls_to("/api/v1"))


@pytest.mark.parametrize("send_expires_in", [True, False])
async def test_token_is_refreshed_before_it_expires(send_expires_in: bool) -> None:
    api = ScriptedAPI(token_ttl=1.0, send_expires_in=send_expires_in)  # exp in the JWT when no expires_in
    async with api.serve(), make_client(api.root, api_key=api.api_key) as client:
        await client.runs.list()
        await anyio.sleep(0.6)  # past the refresh point (half the lifetime for short tokens), before expiry
        await client.runs.list()
    assert api.exchanges == 2
    assert [c.path for c in api.calls] == ["/token/issue", "/api/v1/agents", "/token/issue", "/api/v1/agents"]


async def test_concurrent_callers_share_one_exchange(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.exchange_delay = 0.05
    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(client.runs.list)
    assert api.exchanges == 1


async def test_401_re_exchanges_once_then_succeeds(api: ScriptedAPI, client: AgentRunsClient) -> None:
    await client.runs.list()
    api.revoke_tokens()
    await client.runs.list()
    assert api.exchanges == 2


async def test_persistent_401_is_raised_after_one_re_exchange(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(401, times=10, path="/api/v1/agents",
               body={"error": "Unauthorized", "status": 401, "message": "token revoked"})
    with pytest.raises(AuthenticationError, match="token revoked") as caught:
        await client.runs.list()
    assert "VERTESIA_API_KEY" in str(caught.value)
    assert api.exchanges == 2 and len(api.calls_to("/api/v1")) == 2


async def test_a_bad_key_is_an_authentication_error(api: ScriptedAPI) -> None:
    async with make_client(api.root, api_key="sk-wrong-key-123456") as client:
        with pytest.raises(AuthenticationError, match="token service refused") as caught:
            await client.runs.list()
    assert "sk-wrong" not in str(caught.value) and "sk-wrong" not in repr(caught.value.body)
    assert api.calls_to("/api/v1") == []


async def test_a_jwt_is_used_as_is(api: ScriptedAPI) -> None:
    token = make_jwt(2_000_000_000, 1)
    api.tokens[token] = 2_000_000_000
    async with make_client(api.root, token=token) as client:
        await client.runs.list()
        api.revoke_tokens()
        with pytest.raises(AuthenticationError):
            await client.runs.list()
    assert api.exchanges == 0
    assert api.calls[0].headers["authorization"] == f"Bearer {token}"


async def test_no_credential_is_a_configuration_error(api: ScriptedAPI) -> None:
    async with make_client(api.root) as client:
        with pytest.raises(ConfigurationError, match="VERTESIA_API_KEY"):
            await client.runs.list()
    assert api.raw_paths == []


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        AgentRunsClient(base_url="api.example.com")
    with pytest.raises(ConfigurationError):
        AgentRunsClient(timeout=0)


def test_jwt_expiry() -> None:
    assert jwt_expiry(make_jwt(1234, 1)) == 1234
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.%%%.c") is None


async def test_from_settings_uses_region_and_credentials() -> None:
    settings = Settings.load({"VERTESIA_API_KEY": "sk-abcdef123456", "VERTESIA_REGION": "eu1"})
    async with AgentRunsClient.from_settings(settings, timeout=5.0) as client:
        assert client.base_url == "https://api.eu1.vertesia.io/api/v1"
        assert client.timeout == 5.0
        assert client.credentials.refreshable


async def test_credentials_never_appear_in_reprs_errors_or_logs(api: ScriptedAPI,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # The service echoes secrets back in its error text; the client must still not show them.
    api.script(400, times=1, path="/agents", body={"error": "Bad Request", "status": 400,
                                                  "message": f"bad key {api.api_key}", "details": "x"})
    async with make_client(api.root, api_key=api.api_key) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.runs.list()
        token = client.credentials._cached
        assert token
        await client.runs.list()
        texts = [repr(client), str(client), repr(client.credentials), repr(client._requester),
                 str(caught.value), repr(caught.value), repr(caught.value.body), repr(caught.value.message),
                 caplog.text]
        view = client.with_credentials(token=token)
        texts.append(repr(view))
    for text in texts:
        assert api.api_key not in text
        assert token not in text
        assert "eyJ" not in text


async def test_exchange_retries_a_busy_token_service(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(503, times=2, path="/token/issue")
    await client.runs.list()
    assert api.exchanges == 1 and len(api.calls_to("/token/issue")) == 3


async def test_unreachable_token_service_names_the_setting(api: ScriptedAPI) -> None:
    async with make_client(api.root, api_key=api.api_key, sts_url="http://127.0.0.1:9") as client:
        with pytest.raises(APIConnectionError, match="VERTESIA_STS_URL") as caught:
            await client.runs.list()
    assert api.api_key not in str(caught.value)
    assert api.calls == []


async def test_with_both_a_key_and_a_token_the_key_is_used(api: ScriptedAPI) -> None:
    async with make_client(api.root, api_key=api.api_key, token="eyJx.eyJy.z") as client:
        await client.runs.list()
    assert api.exchanges == 1
