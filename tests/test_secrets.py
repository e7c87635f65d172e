"""Secrets given as ``${VAR}`` travel to Ray's workers as the variable's name, not the value
(issue 11: never inside a task argument), and are read again where they are unpickled."""

from __future__ import annotations

import pickle

import pytest
from ray import cloudpickle

from backfill.config import parse_config
from backfill.db import resolve_dsn
from backfill.errors import ConfigError
from backfill.secrets import EnvSecret, EnvStr

pytestmark = pytest.mark.unit

DSN = "postgresql://etl:pg-secret-7731@db.example:5432/cmms"
KEY = "sk-test-secret-api-key-4418"
PASSWORD = "sf-secret-password-9902"
RAW = {
    "snowflake": {"account": "a", "user": "u", "password": "${SF_PW}", "database": "D",
                  "schema": "S"},
    "postgres": {"dsn": "${PG_DSN}"},
    "llm": {"provider": "openai", "api_key": "${LLM_KEY}", "deployment": "gpt-4o-mini"},
    "embedding": {"deployment": "text-embedding-3-small"},  # inherits llm.api_key
}
ENV = {"SF_PW": PASSWORD, "PG_DSN": DSN, "LLM_KEY": KEY}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


def test_secrets_from_the_environment_pickle_as_their_names(env: None) -> None:
    cfg = parse_config(RAW)
    assert isinstance(cfg.postgres.dsn, EnvSecret) and cfg.postgres.dsn.var == "PG_DSN"
    assert isinstance(cfg.embedding.api_key, EnvSecret)
    assert cfg.llm.api_key is not None and cfg.llm.api_key.get_secret_value() == KEY
    dsn = resolve_dsn(cfg)
    assert isinstance(dsn, EnvStr) and dsn == DSN
    for dumps in (pickle.dumps, cloudpickle.dumps):
        blob = dumps((cfg, dsn))
        for secret in (DSN, KEY, PASSWORD, "pg-secret-7731"):
            assert secret.encode() not in blob
        again, again_dsn = pickle.loads(blob)
        assert again_dsn == DSN and isinstance(again_dsn, EnvStr)
        assert again.snowflake.password.get_secret_value() == PASSWORD
        assert again.embedding.api_key.get_secret_value() == KEY


def test_a_worker_without_the_variable_is_told_which_one(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = cloudpickle.dumps(resolve_dsn(parse_config(RAW)))
    monkeypatch.delenv("PG_DSN")
    with pytest.raises(ConfigError) as err:
        pickle.loads(blob)
    assert "PG_DSN is not set in the environment of this Ray process" in str(err.value)
    assert "pg-secret" not in str(err.value)


def test_a_secret_written_in_the_file_stays_a_plain_secret(env: None) -> None:
    raw = {**RAW, "postgres": {"dsn": DSN}}
    cfg = parse_config(raw)
    assert not isinstance(cfg.postgres.dsn, EnvSecret)
    assert not isinstance(resolve_dsn(cfg), EnvStr)
