"""Config: the contract's YAML parses; unknown keys, missing secrets and bad types exit 2
with the key named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from backfill.cli import main
from backfill.config import expand_env, load_config, parse_config
from backfill.errors import ConfigError

pytestmark = pytest.mark.unit

CONTRACT = Path(__file__).resolve().parents[1].parent / "shared" / "CONTRACT.md"
ENV = {
    "SNOWFLAKE_PASSWORD": "pw",
    "AZURE_OPENAI_API_KEY": "key",
    "BACKFILL_POSTGRES_DSN": "postgresql://u@localhost/db",
}


def contract_yaml() -> dict:
    if not CONTRACT.exists():
        pytest.skip(f"{CONTRACT} not found: the contract lives in shared/ beside the repo")
    text = CONTRACT.read_text()
    block = re.search(r"## Configuration file \(YAML\).*?```yaml\n(.*?)```", text, re.S)
    assert block, "CONTRACT.md has no config example"
    return yaml.safe_load(block.group(1))


def test_contract_example_parses_with_env() -> None:
    cfg = parse_config(contract_yaml(), env=ENV)
    assert cfg.snowflake.schema_ == "PUBLIC"
    assert cfg.llm.deployment == "gpt-4o-mini"
    assert cfg.embedding.dimensions == 1536
    assert cfg.pipeline.partition_rows == 50000
    assert cfg.snowflake.password is not None
    assert cfg.snowflake.password.get_secret_value() == "pw"


def test_unknown_key_is_named() -> None:
    raw = contract_yaml()
    raw["pipeline"]["batch_sise"] = 10
    with pytest.raises(ConfigError, match=r"pipeline\.batch_sise: unknown key"):
        parse_config(raw, env=ENV)


def test_missing_secret_names_key_and_variable() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(contract_yaml(), env={**ENV, "SNOWFLAKE_PASSWORD": ""})
    assert "snowflake" in str(info.value) and "password" in str(info.value)
    assert "SNOWFLAKE_PASSWORD" in str(info.value)


def test_missing_api_key_names_section() -> None:
    with pytest.raises(ConfigError, match=r"llm: api_key is empty.*AZURE_OPENAI_API_KEY"):
        parse_config(contract_yaml(), env={**ENV, "AZURE_OPENAI_API_KEY": ""})


def test_wrong_type_is_named() -> None:
    raw = contract_yaml()
    raw["pipeline"]["batch_size"] = "lots"
    with pytest.raises(ConfigError, match=r"pipeline\.batch_size"):
        parse_config(raw, env=ENV)


def test_sql_identifiers_are_checked() -> None:
    raw = contract_yaml()
    raw["snowflake"]["table"] = "WORK_ORDERS; DROP TABLE X"
    with pytest.raises(ConfigError, match=r"snowflake\.table"):
        parse_config(raw, env=ENV)


def test_env_expansion_defaults() -> None:
    env = {"A": "1"}
    assert expand_env({"x": "${A}", "y": "${B:-two}", "z": "${B}", "w": "a-${A}-b"}, env) == {
        "x": "1",
        "y": "two",
        "z": None,
        "w": "a-1-b",
    }


def test_oauth_needs_token() -> None:
    raw = contract_yaml()
    raw["snowflake"]["authenticator"] = "oauth"
    with pytest.raises(ConfigError, match=r"needs snowflake\.token.*SNOWFLAKE_OAUTH_TOKEN"):
        parse_config(raw, env=ENV)
    parse_config(raw, env={**ENV, "SNOWFLAKE_OAUTH_TOKEN": "tok"})


def test_cli_exits_2_on_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = contract_yaml()
    raw["llm"]["colour"] = "blue"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["status", "--config", str(path)]) == 2
    assert "llm.colour: unknown key" in capsys.readouterr().err


def test_cli_exits_2_on_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", "/nonexistent/backfill.yaml"]) == 2
    assert "/nonexistent/backfill.yaml" in capsys.readouterr().err


def test_cli_exits_2_on_bad_date() -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--start", "yesterday"])
    assert info.value.code == 2


def test_load_config_reads_env_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(contract_yaml()))
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("BACKFILL_CONFIG", str(path))
    assert load_config().llm.deployment == "gpt-4o-mini"


@pytest.mark.unit
def test_configuration_reference_is_current() -> None:
    """docs/configuration.md lists every key the models accept (`make docs` rewrites it)."""
    from pathlib import Path

    from backfill.config import reference_markdown

    doc = Path(__file__).parents[1] / "docs" / "configuration.md"
    assert doc.read_text() == reference_markdown(), "stale: run `make docs`"


@pytest.mark.parametrize("dsn", ["", "   "])
def test_unset_dsn_is_an_error_naming_key_and_variable(dsn: str) -> None:
    """An unset DSN once started a throwaway embedded database in production."""
    with pytest.raises(ConfigError) as info:
        parse_config(contract_yaml(), env={**ENV, "BACKFILL_POSTGRES_DSN": dsn})
    text = str(info.value)
    assert "postgres.dsn" in text and "BACKFILL_POSTGRES_DSN" in text, text


def test_unset_dsn_exits_2_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "backfill.yaml"
    config.write_text(yaml.safe_dump(contract_yaml()))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BACKFILL_POSTGRES_DSN")
    monkeypatch.chdir(tmp_path)  # where an embedded server would have put its files
    for command in (["run"], ["status"], ["verify", "--run-id", "x"]):
        assert main([*command, "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert "postgres.dsn" in err and "BACKFILL_POSTGRES_DSN" in err, err
    assert not (tmp_path / ".backfill").exists()


def test_embedded_is_said_explicitly() -> None:
    cfg = parse_config(contract_yaml(), env={**ENV, "BACKFILL_POSTGRES_DSN": "embedded"})
    assert cfg.postgres.embedded
    cfg = parse_config(contract_yaml(), env=ENV)
    assert not cfg.postgres.embedded


def test_scrub_section_defaults_and_site_words() -> None:
    from backfill.scrub import ScrubPolicy

    assert ScrubPolicy.from_config(parse_config(contract_yaml(), env=ENV).scrub) == ScrubPolicy()
    raw = contract_yaml()
    raw["scrub"] = {"keep_words": ["Zephyrion", "Sage Prevalon"], "fail_closed_names": False}
    policy = ScrubPolicy.from_config(parse_config(raw, env=ENV).scrub)
    assert policy.keep_words == ("Zephyrion", "Sage Prevalon") and not policy.fail_closed_names
    raw["scrub"] = {"keep_word": ["x"]}
    with pytest.raises(ConfigError, match=r"scrub\.keep_word: unknown key"):
        parse_config(raw, env=ENV)


def test_the_number_threshold_reaches_the_scrubber_and_a_bad_one_is_named() -> None:
    from backfill.scrub import ScrubPolicy

    raw = contract_yaml()
    assert ScrubPolicy.from_config(parse_config(raw, env=ENV).scrub).number_threshold is None
    raw["scrub"] = {"number_threshold": 0.6}
    assert ScrubPolicy.from_config(parse_config(raw, env=ENV).scrub) == ScrubPolicy(
        number_threshold=0.6)
    for bad in (0, 1, 1.5, "high"):
        raw["scrub"] = {"number_threshold": bad}
        with pytest.raises(ConfigError, match=r"scrub\.number_threshold"):
            parse_config(raw, env=ENV)


def test_name_model_is_off_by_default_and_checked_before_a_run(monkeypatch, tmp_path) -> None:
    import io

    from backfill.runner import size_stages
    from backfill.scrub import ScrubPolicy

    raw = contract_yaml()
    assert not ScrubPolicy.from_config(parse_config(raw, env=ENV).scrub).name_model
    raw["scrub"] = {"name_model": True}
    cfg = parse_config(raw, env=ENV)
    assert ScrubPolicy.from_config(cfg.scrub) == ScrubPolicy(name_model=True)
    # not installed: the runner's check (run, dry run, retry, incremental) stops, exit 2
    monkeypatch.setenv("BACKFILL_NER_MODEL_DIR", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match=r"scrub\.name_model .*pip install"):
        size_stages(cfg, io.StringIO())
