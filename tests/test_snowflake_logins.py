"""Snowflake logins (issue 11): each authenticator builds the connector's arguments, a missing
secret is exit 2 naming the key, and an expired session is re-established without losing the
query (against a real fakesnow server; the expiry itself is injected, fakesnow never expires
a session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backfill.config import parse_config
from backfill.errors import ConfigError
from backfill.source import SESSION_EXPIRED_ERRNOS, connect_kwargs

BASE = {"account": "org-acct", "user": "ETL", "database": "CMMS", "schema": "PUBLIC"}


def _snowflake(**keys: Any) -> Any:
    raw = {
        "snowflake": {**BASE, **keys},
        "postgres": {"dsn": "postgresql://x"},
        "llm": {"provider": "openai", "api_key": "k", "deployment": "gpt-4o-mini"},
        "embedding": {"deployment": "text-embedding-3-small"},
    }
    return parse_config(raw).snowflake


@pytest.mark.unit
@pytest.mark.parametrize(("keys", "expected"), [
    ({"password": "pw"}, {"authenticator": "snowflake", "password": "pw"}),
    ({"authenticator": "externalbrowser"},
     {"authenticator": "externalbrowser", "client_store_temporary_credential": True}),
    ({"authenticator": "oauth", "token": "tok"}, {"authenticator": "oauth", "token": "tok"}),
    ({"authenticator": "programmatic_access_token", "token": "pat"},
     {"authenticator": "PROGRAMMATIC_ACCESS_TOKEN", "token": "pat"}),
    ({"authenticator": "oauth_client_credentials", "oauth_client_id": "cid",
      "oauth_client_secret": "sec", "oauth_token_request_url": "https://idp/token",
      "oauth_scope": "session:role:ETL"},
     {"authenticator": "OAUTH_CLIENT_CREDENTIALS", "oauth_client_id": "cid",
      "oauth_client_secret": "sec", "oauth_token_request_url": "https://idp/token",
      "oauth_scope": "session:role:ETL"}),
    ({"authenticator": "oauth_authorization_code", "oauth_client_id": "cid"},
     {"authenticator": "OAUTH_AUTHORIZATION_CODE", "oauth_client_id": "cid",
      "client_store_temporary_credential": True}),
    ({"authenticator": "workload_identity", "workload_identity_provider": "AZURE"},
     {"authenticator": "WORKLOAD_IDENTITY", "workload_identity_provider": "AZURE"}),
])
def test_each_authenticator_builds_the_connector_arguments(
    keys: dict[str, Any], expected: dict[str, Any]
) -> None:
    kwargs = connect_kwargs(_snowflake(**keys))
    assert {k: kwargs.get(k) for k in expected} == expected
    assert kwargs["client_session_keep_alive"] is True
    assert kwargs["account"] == "org-acct" and kwargs["user"] == "ETL"


@pytest.mark.unit
def test_a_token_file_is_passed_as_a_path_read_at_each_connection(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok")
    kwargs = connect_kwargs(_snowflake(authenticator="oauth", token_file=str(token)))
    assert kwargs["token_file_path"] == str(token) and "token" not in kwargs


@pytest.mark.unit
@pytest.mark.parametrize(("keys", "named"), [
    ({"authenticator": "snowflake"}, "snowflake.password"),
    ({"authenticator": "oauth"}, "snowflake.token or snowflake.token_file"),
    ({"authenticator": "programmatic_access_token"}, "snowflake.token or snowflake.token_file"),
    ({"authenticator": "oauth", "token_file": "/nonexistent/token"}, "snowflake.token_file"),
    ({"authenticator": "oauth_client_credentials", "oauth_client_id": "cid"},
     "snowflake.oauth_client_secret"),
    ({"authenticator": "workload_identity"}, "snowflake.workload_identity_provider"),
])
def test_a_missing_secret_is_exit_2_naming_the_key(keys: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as err:
        _snowflake(**keys)
    assert named in str(err.value)
    assert err.value.exit_code == 2


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from backfill.devstack.snowflake import FakesnowProcess
    from backfill.devstack.stack import write_dataset

    parquet = tmp_path_factory.mktemp("fs") / "wo.parquet"
    write_dataset(50, 3, False, parquet)
    with FakesnowProcess(seed_parquet=str(parquet)) as fs:
        yield fs


@pytest.mark.integration
def test_an_expired_session_is_reconnected_and_the_query_answered(fakesnow: Any) -> None:
    import snowflake.connector

    from backfill.source import Partition, SnowflakeSession

    cfg = _snowflake(password="pw", database=fakesnow.database, schema=fakesnow.schema,
                     table=fakesnow.table, connect_args=fakesnow.connect_args)
    # the actor's class, run in this process so that the connection can be made to expire
    session = SnowflakeSession.__ray_metadata__.modified_class(cfg)
    assert session.describe() == []  # (connects and reads the table's columns, as a run does)
    everything = Partition(0, dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), 50)
    before = session.partition_batches(everything)
    first = session.conn
    real_cursor = first.cursor

    def expired_once() -> Any:
        first.cursor = real_cursor
        raise snowflake.connector.errors.DatabaseError(
            msg="Session no longer exists.  New login required to access the service.",
            errno=min(SESSION_EXPIRED_ERRNOS))

    first.cursor = expired_once
    after = session.partition_batches(everything)
    assert session.conn is not first  # a new session, not a retry on the dead one
    rows = sum(b.to_arrow().num_rows for b in after)
    assert rows == sum(b.to_arrow().num_rows for b in before) == 50


class ExpiringBatch:
    """A real fakesnow result batch whose download fails once with the connector's own error
    for an expired presigned URL (HTTP 403), as a partition read six hours after its query."""

    def __init__(self, batch: Any, fail: bool) -> None:
        self.batch, self.fail = batch, fail

    def to_arrow(self) -> Any:
        from snowflake.connector.errors import HttpError

        if self.fail:
            raise HttpError(msg="403 Forbidden: get sfc-results.s3.amazonaws.com/results/x",
                            errno=290403)
        return self.batch.to_arrow()


@pytest.mark.integration
def test_an_expired_result_chunk_reruns_the_query_and_reads_each_row_once(
    fakesnow: Any,
) -> None:
    from backfill import schema as S
    from backfill.source import Partition, SnowflakeSession, _blocks

    cfg = _snowflake(password="pw", database=fakesnow.database, schema=fakesnow.schema,
                     table=fakesnow.table, connect_args=fakesnow.connect_args)
    session = SnowflakeSession.__ray_metadata__.modified_class(cfg)
    session.describe()
    everything = Partition(0, dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), 50)
    # fakesnow answers in one batch: cut it in three so that the expiry comes mid-partition
    (whole,) = session.partition_batches(everything)
    rows = whole.to_arrow()

    class Slice:
        def __init__(self, lo: int, hi: int) -> None:
            self.lo, self.hi = lo, hi

        def to_arrow(self) -> Any:
            return rows.slice(self.lo, self.hi - self.lo)

    fetches: list[int] = []

    def fetch() -> list[Any]:
        fetches.append(1)
        # the query again: same rows, another order (the second pass is reversed)
        parts = [Slice(0, 20), Slice(20, 35), Slice(35, 50)]
        if len(fetches) == 1:
            return [parts[0], ExpiringBatch(parts[1], True), parts[2]]
        return [Slice(35, 50), Slice(0, 20), Slice(20, 35)]

    read = [(block, keys) for block, keys in _blocks(fetch, 0, 7, "the test partition")]
    keys = [k for _, ks in read for k in ks]
    assert len(fetches) == 2
    assert sorted(keys) == sorted(S.record_keys(rows))  # every row once, none twice
    assert sum(b.num_rows for b, _ in read) == 50
