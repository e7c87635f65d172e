"""Microsoft Entra ID logins to Azure OpenAI (config ``auth: entra_id``, issue 11).

The simulator plays an Azure OpenAI resource with key authentication disabled: it accepts only
the bearer tokens it is told, answers an api-key with Azure's 401, and counts the tokens it
saw. Tokens come from a file (real file, re-read when it changes) or from azure-identity's
DefaultAzureCredential; Azure's identity service cannot run here, so that one test replaces
the credential class with a fake that hands out short-lived tokens (the only mock).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from backfill.azure_auth import TokenFile, token_provider
from backfill.config import parse_config
from backfill.devstack.simulator import SimulatorProcess
from backfill.devstack.stack import LocalStack, local_stack
from backfill.errors import SystemicError
from backfill.openai_client import Deployment

ENDPOINT = {"provider": "azure_openai", "endpoint": "https://x.openai.azure.com",
            "deployment": "gpt-4o-mini"}


def _cfg(llm: dict[str, Any], embedding: dict[str, Any] | None = None) -> Any:
    raw = {
        "snowflake": {"account": "a", "user": "u", "password": "p", "database": "D",
                      "schema": "S"},
        "postgres": {"dsn": "postgresql://x"},
        "llm": llm,
        "embedding": embedding or {"deployment": "text-embedding-3-small"},
    }
    return parse_config(raw)


# --- config -----------------------------------------------------------------------------


@pytest.mark.unit
def test_entra_id_needs_no_api_key_and_the_embedding_inherits_it(tmp_path: Path) -> None:
    cfg = _cfg({**ENDPOINT, "auth": "entra_id", "entra_token_file": str(tmp_path / "t")})
    assert cfg.llm.auth == cfg.embedding.auth == "entra_id"
    assert cfg.embedding.entra_token_file == str(tmp_path / "t")
    assert cfg.llm.api_key is None


@pytest.mark.unit
@pytest.mark.parametrize(("llm", "message"), [
    ({**ENDPOINT, "auth": "entra_id", "api_key": "k"}, "auth entra_id and api_key are both set"),
    ({**ENDPOINT, "provider": "openai", "auth": "entra_id"}, "auth entra_id needs provider"),
    ({**ENDPOINT}, "api_key is empty (or set auth: entra_id)"),
])
def test_bad_auth_config_names_the_keys(llm: dict[str, Any], message: str) -> None:
    from backfill.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        _cfg(llm)
    assert message in str(err.value)
    assert "llm" in str(err.value)


# --- token sources --------------------------------------------------------------------


@pytest.mark.unit
def test_token_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("tok-A\n")
    source = TokenFile(str(path), "llm.entra_token_file")
    assert asyncio.run(source()) == "tok-A"
    path.write_text("tok-BB\n")  # (another size: a change even within the mtime resolution)
    assert asyncio.run(source()) == "tok-BB"
    path.unlink()
    with pytest.raises(SystemicError) as err:
        asyncio.run(source())
    assert "llm.entra_token_file" in str(err.value) and "tok-" not in str(err.value)


def test_a_token_file_caught_mid_rewrite_keeps_the_last_token(tmp_path: Path) -> None:
    """A renewal that rewrites the file in place truncates it first: a read in between sees
    it empty (CI caught one mid-run, and the run stopped). The token read before stays in use
    until the new one is there; a file empty from the start is an error."""
    path = tmp_path / "token"
    path.write_text("tok-A\n")
    source = TokenFile(str(path), "llm.entra_token_file")
    assert asyncio.run(source()) == "tok-A"
    path.write_text("")  # truncated, the new token not yet written
    assert asyncio.run(source()) == "tok-A"
    path.write_text("tok-BB\n")
    assert asyncio.run(source()) == "tok-BB"
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(SystemicError, match="empty"):
        asyncio.run(TokenFile(str(empty), "llm.entra_token_file")())


class FakeCredential:
    """Stands in for azure-identity's DefaultAzureCredential: Azure's identity service is out of
    reach here. Each token lives one second, so every call needs a new one."""

    instances: list[FakeCredential] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.scopes: list[tuple[str, ...]] = []
        self.fail = False
        FakeCredential.instances.append(self)

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        if self.fail:
            raise ClientAuthenticationError("ManagedIdentityCredential: no identity")
        self.scopes.append(scopes)
        return AccessToken(f"tok-{len(self.scopes)}", int(time.time()) + 1)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token = await self.get_token(*scopes)
        return AccessTokenInfo(token.token, token.expires_on)

    async def close(self) -> None:
        pass


@pytest.mark.unit
def test_default_credential_tokens_are_refreshed_and_its_errors_are_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import azure.identity.aio

    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", FakeCredential)
    cfg = _cfg({**ENDPOINT, "auth": "entra_id", "entra_client_id": "mi-client-id"})
    provider = token_provider(cfg.llm, "llm")

    async def two() -> list[str]:
        return [await provider(), await provider()]

    first, second = asyncio.run(two())
    credential = FakeCredential.instances[-1]
    assert credential.kwargs == {"managed_identity_client_id": "mi-client-id"}
    assert credential.scopes[0] == ("https://cognitiveservices.azure.com/.default",)
    assert first != second  # the one-second token was renewed before the second request

    credential.fail = True
    with pytest.raises(SystemicError) as err:
        asyncio.run(provider())
    message = str(err.value)
    assert "ClientAuthenticationError" in message and "llm.entra_token_file" in message


# --- against the simulator (an Azure resource with key auth disabled) ---------------------


@pytest.mark.integration
def test_azure_with_local_auth_disabled_takes_the_token_and_refuses_the_key(
    tmp_path: Path,
) -> None:
    token = tmp_path / "token"
    token.write_text("tok-A")
    with SimulatorProcess(bearer_tokens=["tok-A"]) as sim:
        azure = {"provider": "azure_openai", "endpoint": sim.url, "deployment": "gpt-4o-mini"}
        by_key = _cfg({**azure, "api_key": "k"}).llm
        by_token = _cfg({**azure, "auth": "entra_id", "entra_token_file": str(token)}).llm
        body = {"model": "gpt-4o-mini", "max_tokens": 5,
                "messages": [{"role": "user", "content": "pump alarm"}]}

        async def call(cfg: Any) -> Any:
            api = Deployment(cfg, None, 1, "extract")
            try:
                return await api.post("/chat/completions", body, 10)
            finally:
                await api.aclose()

        with pytest.raises(SystemicError) as err:
            asyncio.run(call(by_key))
        assert "Key based authentication is disabled" in str(err.value)
        assert "Check llm.api_key" in str(err.value)
        assert asyncio.run(call(by_token)) is not None
        token.write_text("tok-WRONG")
        with pytest.raises(SystemicError) as err:
            asyncio.run(call(by_token))
        assert "Check llm.auth, llm.entra_token_file" in str(err.value)
        stats = sim.stats()
    assert stats["by_token"] == {"tok-A": 1} and stats["rejected_tokens"] == 1


SCHEMA = "entra"
N = 600


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("entra")
    with local_stack(work, N, latency_ms=5, pg_schema=SCHEMA, partition_rows=200, dsn=pg_dsn,
                     bad_rows=False, seed=5, bearer_tokens=["tok-A"],
                     overrides={"pipeline": {"batch_size": 50}}) as s:
        yield s


class RotateTokenAfterFirstCommit(threading.Thread):
    """Plays the sidecar that renews the token file, and Azure accepting the new token: once the
    run has committed records, or has had 50 requests answered (on a busy machine the extract
    stage can answer every record before the first commit lands: the test then proved nothing
    and failed), tok-B is written and accepted too. (Azure keeps accepting an old token until
    it expires; refusing tok-A here would race the requests already signed with it.) The last
    requests must carry tok-B: the file was read again."""

    def __init__(self, stack: LocalStack, token: Path) -> None:
        super().__init__(daemon=True)
        self.stack, self.token, self.stop = stack, token, threading.Event()
        self.rotated_at: dict[str, int] | None = None

    def run(self) -> None:
        sim = self.stack.simulator
        before = sim.stats()["by_token"].get("tok-A", 0)  # (the module's earlier runs)
        while not self.stop.wait(0.02):
            try:
                with psycopg.connect(self.stack.dsn) as conn:
                    done = conn.execute(
                        f"SELECT count(*) FROM {SCHEMA}.maintenance_logs").fetchone()
            except psycopg.errors.UndefinedTable:
                continue
            if done and done[0] > 0 or sim.stats()["by_token"].get("tok-A", 0) >= before + 50:
                break
        sim.configure(bearer_tokens=["tok-A", "tok-B-renewed"])
        self.token.write_text("tok-B-renewed")
        self.rotated_at = dict(sim.stats()["by_token"])


@pytest.mark.slow  # a whole run of its own (make test < 15 min; make test-slow runs it)
@pytest.mark.integration
def test_a_run_with_entra_id_uses_the_renewed_token(stack: LocalStack, tmp_path: Path) -> None:
    from backfill.runner import RunRequest, execute

    token = tmp_path / "token"
    token.write_text("tok-A")
    raw = yaml.safe_load(stack.config_path.read_text())
    for section in ("llm", "embedding"):
        raw[section].update(provider="azure_openai", endpoint=stack.simulator.url,
                            api_key=None, auth="entra_id", entra_token_file=str(token))
    cfg = parse_config(raw, str(stack.config_path))
    rotation = RotateTokenAfterFirstCommit(stack, token)
    rotation.start()
    try:
        result = execute(cfg, RunRequest(run_id="entra-1"))
    finally:
        rotation.stop.set()
        rotation.join()
    with psycopg.connect(stack.dsn) as conn:
        (written,) = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.ai_extracted_data WHERE run_id = 'entra-1'"
        ).fetchone() or (0,)
    stats = stack.simulator.stats()
    assert result.exit_code == 0, result.summary
    assert written == result.rows_ok > 0
    assert rotation.rotated_at is not None, "the run ended before its first commit was seen"
    assert stats["by_token"].get("tok-A", 0) > 0 and stats["by_token"].get("tok-B-renewed", 0) > 0
    assert stats["rejected_tokens"] == 0
