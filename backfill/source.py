"""Snowflake: one authenticated session on the driver's node, a partition plan, and a Ray
Data datasource whose read tasks fetch each partition's result batches as Arrow.

Workers never hold credentials (DESIGN decision 1): a ``SnowflakeSession`` actor pinned to
the driver's node owns the one connection and runs each partition's query when its read
task asks; the read task receives the query's result batches (on real Snowflake, presigned
chunk URLs) and downloads them as Arrow itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import ray
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from backfill import schema as S
from backfill.config import SnowflakeConfig
from backfill.errors import BackfillError, ConfigError, FatalError, TransientError, root_cause

log = logging.getLogger(__name__)


# Snowflake's authenticator names for ours (snowflake.connector.network).
_AUTHENTICATORS = {
    "snowflake": "snowflake", "externalbrowser": "externalbrowser", "oauth": "oauth",
    "snowflake_jwt": "snowflake_jwt", "programmatic_access_token": "PROGRAMMATIC_ACCESS_TOKEN",
    "oauth_client_credentials": "OAUTH_CLIENT_CREDENTIALS",
    "oauth_authorization_code": "OAUTH_AUTHORIZATION_CODE",
    "workload_identity": "WORKLOAD_IDENTITY",
}
# Session errors a new connection cures: "session no longer exists", "session has expired",
# "authentication token has expired" (a rotated OAuth token is read again on reconnection).
SESSION_EXPIRED_ERRNOS = frozenset({390111, 390112, 390114})


def connect_kwargs(cfg: SnowflakeConfig) -> dict[str, Any]:
    """snowflake.connector.connect's arguments for any of our authenticators.

    ``client_store_temporary_credential`` caches the SSO ID token (externalbrowser) and the
    OAuth tokens of the browser flows (in the OS keyring, or on Linux in a file under
    ~/.cache/snowflake readable by the user only), so a resumed run does not open the browser
    again. Secrets are read from the config here and only passed on, never logged.
    """
    kwargs: dict[str, Any] = {
        "account": cfg.account,
        "user": cfg.user,
        "database": cfg.database,
        "schema": cfg.schema_,
        "authenticator": _AUTHENTICATORS[cfg.authenticator],
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False, "TIMEZONE": "UTC"},
        "client_session_keep_alive": cfg.client_session_keep_alive,
    }
    if cfg.warehouse:
        kwargs["warehouse"] = cfg.warehouse
    if cfg.role:
        kwargs["role"] = cfg.role
    if cfg.authenticator == "snowflake":
        kwargs["password"] = cfg.password.get_secret_value() if cfg.password else ""
    elif cfg.authenticator in ("oauth", "programmatic_access_token"):
        if cfg.token_file:  # the connector reads it at every connection
            kwargs["token_file_path"] = str(Path(cfg.token_file).expanduser())
        else:
            kwargs["token"] = cfg.token.get_secret_value() if cfg.token else ""
    elif cfg.authenticator == "snowflake_jwt":
        kwargs["private_key_file"] = cfg.private_key_file
        if cfg.private_key_file_pwd:
            kwargs["private_key_file_pwd"] = cfg.private_key_file_pwd.get_secret_value()
    elif cfg.authenticator in ("oauth_client_credentials", "oauth_authorization_code"):
        kwargs["oauth_client_id"] = cfg.oauth_client_id
        if cfg.oauth_client_secret:
            kwargs["oauth_client_secret"] = cfg.oauth_client_secret.get_secret_value()
        if cfg.oauth_token_request_url:
            kwargs["oauth_token_request_url"] = cfg.oauth_token_request_url
        if cfg.oauth_scope:
            kwargs["oauth_scope"] = cfg.oauth_scope
    elif cfg.authenticator == "workload_identity":
        kwargs["workload_identity_provider"] = cfg.workload_identity_provider
    if cfg.authenticator in ("externalbrowser", "oauth_authorization_code"):
        kwargs["client_store_temporary_credential"] = True
    kwargs.update(cfg.connect_args)
    return kwargs


def connect(cfg: SnowflakeConfig) -> Any:
    """Open a connection (see :func:`connect_kwargs`)."""
    import snowflake.connector

    kwargs = connect_kwargs(cfg)
    try:
        return snowflake.connector.connect(**kwargs)
    except snowflake.connector.errors.DatabaseError as exc:
        raise FatalError(
            f"cannot connect to account {cfg.account!r} as {cfg.user!r} "
            f"({cfg.authenticator}): {exc}",
            dependency="Snowflake",
        ) from exc


def text_chars_sql(max_chars: int) -> str:
    """A row's free-text length in characters, capped at the document's, in SQL over the
    canonical column names (Snowflake's LENGTH counts characters, as ``text_chars`` does)."""
    total = " + ".join(f"COALESCE(LENGTH({name}), 0)" for name in S.FREE_TEXT)
    return f"LEAST({total}, {int(max_chars)})"


def text_chars(table: pa.Table, max_chars: int) -> list[int]:
    """``text_chars_sql`` of each row of an Arrow table with the canonical columns."""
    total = pa.array([0] * table.num_rows, pa.int64())
    for name in S.FREE_TEXT:
        lengths = pc.fill_null(pc.utf8_length(table.column(name)), 0).cast(pa.int64())
        total = pc.add(total, lengths)
    return [min(n, max_chars) for n in total.to_pylist()]


def select_list(cfg: SnowflakeConfig, available: set[str] | None = None,
                only: tuple[str, ...] | None = None) -> tuple[str, list[str]]:
    """``SELECT`` list renaming source columns to the canonical names, and the canonical
    columns the source lacks (selected as NULL). ``available``: the table's columns;
    ``only``: the canonical columns to read, the others selected as NULL."""
    mapping = {S.ID: cfg.id_column, S.CREATED_AT: cfg.timestamp_column, **cfg.columns}
    unknown = set(cfg.columns) - set(S.CANONICAL_COLUMNS)
    if unknown:
        raise ConfigError(
            f"snowflake.columns: unknown canonical field(s) {sorted(unknown)}; "
            f"known: {', '.join(S.CANONICAL_COLUMNS)}"
        )
    items, missing = [], []
    for name in S.CANONICAL_COLUMNS:
        source = mapping.get(name, name)
        if available is not None and source.upper() not in available:
            key = {S.ID: "snowflake.id_column", S.CREATED_AT: "snowflake.timestamp_column"}.get(
                name, f"snowflake.columns.{name}" if name in cfg.columns else ""
            )
            if key:
                raise ConfigError(
                    f"{key}: column {source} is not in {cfg.table} "
                    f"(columns: {', '.join(sorted(available))})"
                )
            missing.append(name)
            items.append(f"NULL AS {name}")
        elif only is not None and name not in only:
            items.append(f"NULL AS {name}")
        else:
            items.append(f"{source} AS {name}")
    return ", ".join(items), missing


@dataclass(frozen=True)
class Partition:
    """A slice of the source: ``lo <= timestamp < hi``, or the rows whose timestamp is NULL
    (``null_timestamps``; a run without bounds has one). ``rows`` is the planner's count."""

    index: int
    lo: dt.datetime
    hi: dt.datetime
    rows: int
    # Rows whose id occurs more than once in the run's range (see SnowflakeSession.duplicates)
    duplicate_rows: int = 0
    null_timestamps: bool = False

    def where(self, ts: str) -> tuple[str, tuple[Any, ...]]:
        """The SQL condition selecting this partition's rows, and its parameters."""
        if self.null_timestamps:
            return f"{ts} IS NULL", ()
        return f"{ts} >= %s AND {ts} < %s", (self.lo, self.hi)

    def describe(self) -> str:
        return "rows without a timestamp" if self.null_timestamps else f"[{self.lo}, {self.hi})"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "lo": self.lo.isoformat(),
            "hi": self.hi.isoformat(),
            "rows": self.rows,
            "duplicate_rows": self.duplicate_rows,
            "null_timestamps": self.null_timestamps,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Partition:
        return cls(
            d["index"],
            dt.datetime.fromisoformat(d["lo"]),
            dt.datetime.fromisoformat(d["hi"]),
            d["rows"],
            d.get("duplicate_rows", 0),
            d.get("null_timestamps", False),
        )


_BUCKET_STEP = {"day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1)}


class Planner:
    """Counts rows per time bucket over ``[start, end)`` and packs them into partitions.

    A bucket busier than a partition is split again at the next finer bucket (day -> hour);
    an hour busier than that stays one partition (see DESIGN.md on splitting by id range).
    """

    def __init__(self, cfg: SnowflakeConfig, conn: Any) -> None:
        self.cfg = cfg
        self.conn = conn

    def null_timestamp_rows(self) -> int:
        """Rows whose timestamp is NULL: they lie in no time range."""
        ts = self.cfg.timestamp_column
        cur = self.conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {self.cfg.table} WHERE {ts} IS NULL")
        row = cur.fetchone()
        return int(row[0]) if row else 0

    def bounds(self) -> tuple[dt.datetime, dt.datetime] | None:
        ts = self.cfg.timestamp_column
        cur = self.conn.cursor()
        cur.execute(f"SELECT MIN({ts}), MAX({ts}) FROM {self.cfg.table}")
        lo, hi = cur.fetchone()
        if lo is None:
            return None
        return _naive(lo), _naive(hi) + dt.timedelta(microseconds=1)

    def count_buckets(
        self, unit: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, int]]:
        ts = self.cfg.timestamp_column
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT DATE_TRUNC('{unit}', {ts}) AS B, COUNT(*) AS N FROM {self.cfg.table} "
            f"WHERE {ts} >= %s AND {ts} < %s GROUP BY B ORDER BY B",
            (start, end),
        )
        return [(_naive(b), int(n)) for b, n in cur.fetchall()]

    def head(self, part: Partition, rows: int) -> list[Partition]:
        """``part`` as a first partition of at most ``rows`` rows (its earliest) and the
        rest, when it holds more than twice that. The run's first commit then waits for the
        answers of a few records, not of a whole batch (issue 14). Split at a timestamp, so
        the two still tile the range: rows that share the boundary's timestamp go to the
        second, and a head that would be empty (all of them share the first) is no split."""
        if rows <= 0 or part.rows <= 2 * rows:
            return [part]
        ts, table = self.cfg.timestamp_column, self.cfg.table
        cur = self.conn.cursor()
        cur.execute(f"SELECT {ts} FROM {table} WHERE {ts} >= %s AND {ts} < %s ORDER BY {ts} "
                    f"LIMIT 1 OFFSET {int(rows)}", (part.lo, part.hi))
        row = cur.fetchone()
        if row is None:
            return [part]
        cut = _naive(row[0])
        cur.execute(f"SELECT COUNT(*) FROM {table} WHERE {ts} >= %s AND {ts} < %s",
                    (part.lo, cut))
        got = cur.fetchone()
        first = int(got[0]) if got else 0
        if not part.lo < cut < part.hi or first == 0:
            return [part]
        return [replace(part, hi=cut, rows=first),
                replace(part, index=part.index + 1, lo=cut, rows=max(0, part.rows - first))]

    def plan(
        self, start: dt.datetime, end: dt.datetime, target_rows: int, unit: str = "day",
        head_rows: int = 0,
    ) -> list[Partition]:
        """``head_rows``: the first partition holds at most that many rows (``head``)."""
        buckets = self.count_buckets(unit, start, end)
        if unit == "day":
            refined: list[tuple[dt.datetime, int]] = []
            for bucket, count in buckets:
                if count > target_rows:
                    refined.extend(self.count_buckets("hour", bucket, bucket + _BUCKET_STEP["day"]))
                else:
                    refined.append((bucket, count))
            buckets = refined
        parts = pack_buckets(buckets, start, end, target_rows)
        first = next((i for i, p in enumerate(parts) if p.rows), None)
        if first is not None:
            parts[first:first + 1] = self.head(parts[first], head_rows)
        return [replace(p, index=i) for i, p in enumerate(parts)]


def pack_buckets(
    buckets: list[tuple[dt.datetime, int]], start: dt.datetime, end: dt.datetime, target_rows: int
) -> list[Partition]:
    """Pack sorted (bucket start, count) pairs into partitions of about ``target_rows``.

    A bucket ends where the next one starts (buckets may mix days and hours). Partitions
    tile ``[start, end)`` without gaps, so a row that appears in the source between planning
    and reading still falls in exactly one partition.
    """
    parts: list[Partition] = []
    lo, rows = start, 0
    for i, (bucket, count) in enumerate(buckets):
        nxt = buckets[i + 1][0] if i + 1 < len(buckets) else end
        b_lo = max(bucket, start)
        if rows and rows + count > target_rows:
            parts.append(Partition(len(parts), lo, b_lo, rows))
            lo, rows = b_lo, 0
        rows += count
        if rows >= target_rows:
            hi = min(nxt, end)
            parts.append(Partition(len(parts), lo, hi, rows))
            lo, rows = hi, 0
    if rows or lo < end:
        parts.append(Partition(len(parts), lo, end, rows))
    return [p for p in parts if p.lo < p.hi]


def _id_text(value: Any) -> str:
    """An id as ``normalize`` writes it: a whole number as its decimal string."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        value = int(value)
    return str(value)


def snowflake_error_text(exc: Exception) -> str:
    """A connector error as its class, error number and SQLSTATE; its message only for
    compilation and access errors (SQLSTATE class 42, 08, 28: an object, a column or a
    login, never a value). A conversion error's message quotes the value that failed."""
    errno = getattr(exc, "errno", None)
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    text = f"{type(exc).__name__} {errno or ''} (SQLSTATE {sqlstate or '-'})".replace("  ", " ")
    msg = str(getattr(exc, "msg", "") or "")
    if sqlstate[:2] in ("42", "08", "28") and msg:
        text += f": {msg[:300]}"
    return text


def id_hash_sql(expr: str) -> str:
    """SQL of an id's hash, the same number in Snowflake and Postgres: the first 28 bits of
    the MD5 of its text. Spelled digit by digit with POSITION because neither hex parsing
    (Snowflake's TO_NUMBER 'XXXX', Postgres's bit casts) is common to both dialects (nor to
    fakesnow). Summed over a partition it is a hash of the id set that ignores order; 28
    bits keep the sum exact in a double (which some drivers return) up to 33M ids."""
    digits = "'0123456789abcdef'"
    return "(" + " + ".join(
        f"(POSITION(SUBSTR(MD5({expr}), {i + 1}, 1) IN {digits}) - 1) * {16 ** (6 - i)}"
        for i in range(7)
    ) + ")"


def _naive(value: Any) -> dt.datetime:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3)
class SnowflakeSession:
    """The one Snowflake session of a run, on the driver's node (DESIGN decision 1)."""

    def __init__(self, cfg: SnowflakeConfig) -> None:
        # Connect on first use, not here: an error in a method reaches the driver with its
        # cause, while a failed actor constructor arrives as an opaque ActorDiedError.
        self.cfg = cfg
        self.conn: Any = None
        self.columns = ""
        self.missing: list[str] = []
        self.available: set[str] = set()

    def _ensure(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            return
        import snowflake.connector

        self.conn = connect(self.cfg)
        cur = self.conn.cursor()
        try:
            cur.execute(f"SELECT * FROM {self.cfg.table} LIMIT 0")
        except snowflake.connector.errors.ProgrammingError as exc:
            raise ConfigError(
                f"snowflake.table: cannot read {self.cfg.database}."
                f"{self.cfg.schema_}.{self.cfg.table}: {exc.msg}"
            ) from None
        self.available = {str(d.name).upper() for d in cur.description}
        self.columns, self.missing = select_list(self.cfg, self.available)

    def describe(self) -> list[str]:
        """Connect, check the table and its columns; return canonical columns it lacks."""
        self._ensure()
        return self.missing

    def plan(
        self, start: dt.datetime | None, end: dt.datetime | None, target_rows: int, unit: str,
        head_rows: int = 0,
    ) -> tuple[dt.datetime, dt.datetime, list[Partition], int]:
        """Resolve open bounds from the table and plan ``[start, end)``; also count the rows
        whose timestamp is NULL. A run without bounds covers the whole table, so those rows
        get a partition of their own; a run with bounds reports how many it leaves out."""
        self._ensure()
        planner = Planner(self.cfg, self.conn)
        null_rows = planner.null_timestamp_rows()
        whole_table = start is None and end is None
        parts: list[Partition] = []
        if start is None or end is None:
            bounds = planner.bounds()
            if bounds is None:
                start = end = start or end or dt.datetime(1970, 1, 1)
            else:
                start, end = start or bounds[0], end or bounds[1]
        if start < end:
            parts = planner.plan(start, end, target_rows, unit, head_rows)
        if whole_table and null_rows:
            parts.append(Partition(len(parts), end, end, null_rows, null_timestamps=True))
        return start, end, parts, null_rows

    def duplicates(
        self, start: dt.datetime, end: dt.datetime, parts: list[Partition]
    ) -> tuple[list[str], list[Partition]]:
        """Ids of ``[start, end)`` that the table holds more than once (canonical text),
        counting the copies outside the range too, and the partitions with their count of
        such rows. A run over a range that holds one copy of an id is told so: it
        dead-letters that copy as a run over the whole table does, instead of loading it as
        unique (over the older copy of another run, and closing that run's dead letter)."""
        self._ensure()
        ts, wid, table = self.cfg.timestamp_column, self.cfg.id_column, self.cfg.table
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT {wid}, {ts} FROM {table} WHERE {ts} >= %s AND {ts} < %s AND {wid} IN ("
            f"SELECT {wid} FROM {table} WHERE {wid} IS NOT NULL GROUP BY {wid} "
            "HAVING COUNT(*) > 1)",
            (start, end),
        )
        rows = cur.fetchall()
        counts = [0] * len(parts)
        for _, when in rows:
            when = _naive(when)
            for p in parts:
                if not p.null_timestamps and p.lo <= when < p.hi:
                    counts[p.index] += 1
                    break
        ids = sorted({_id_text(r[0]) for r in rows})
        return ids, [replace(p, duplicate_rows=c) for p, c in zip(parts, counts, strict=True)]

    def text_length(self, start: dt.datetime, end: dt.datetime, max_chars: int) -> tuple[int, int]:
        """(rows, characters) of ``[start, end)``: each row's free text counted by
        ``text_chars_sql``, in one aggregate query. The dry run scales its sample's token
        counts to the range's length with it: a few long documents (pasted logs) weigh on
        the range's tokens by their length, whether or not the sample drew them."""
        self._ensure()
        columns, _ = select_list(self.cfg, self.available, S.FREE_TEXT)
        ts = self.cfg.timestamp_column
        batches = self._query(
            f"SELECT COUNT(*), COALESCE(SUM({text_chars_sql(max_chars)}), 0) FROM (SELECT "
            f"{columns} FROM {self.cfg.table} WHERE {ts} >= %s AND {ts} < %s) R", (start, end),
            f"the text length of [{start}, {end})")
        row = batches[0].to_arrow().to_pylist()[0] if batches else {}
        rows, chars = (list(row.values()) + [0, 0])[:2]
        return int(rows or 0), int(chars or 0)

    def sample_batches(self, start: dt.datetime, end: dt.datetime, rows: int) -> list[Any]:
        """Result batches of ``rows`` rows drawn at random from ``[start, end)`` (all of
        them when it holds fewer), for the dry run's estimate. Only the columns the document
        is made of are read; the others come as NULL.

        ``SAMPLE (n ROWS)`` on the range's subquery: a fixed-size row sample of the rows in
        the range (on the table itself, SAMPLE would draw before the WHERE and return a few
        rows of a narrow range). Snowflake takes no SEED for a fixed-size sample nor for a
        subquery; fakesnow turns it into DuckDB's ``TABLESAMPLE RESERVOIR (n ROWS)``.
        """
        self._ensure()
        columns, _ = select_list(self.cfg, self.available, S.DOCUMENT_INPUTS)
        ts = self.cfg.timestamp_column
        return self._query(
            f"SELECT * FROM (SELECT {columns} FROM {self.cfg.table} WHERE {ts} >= %s AND "
            f"{ts} < %s) SAMPLE ({int(rows)} ROWS)", (start, end), f"a sample of [{start}, {end})")

    def partition_batches(self, part: Partition) -> list[Any]:
        cond, params = part.where(self.cfg.timestamp_column)
        return self._query(f"SELECT {self.columns} FROM {self.cfg.table} WHERE {cond}", params,
                           part.describe())

    def partition_digest(self, part: Partition) -> tuple[int, int, int]:
        """(distinct ids, sum of their ``id_hash``, rows without an id) of a partition, in
        one query on Snowflake: what ``backfill verify`` compares with Postgres."""
        cond, params = part.where(self.cfg.timestamp_column)
        wid, table = f"TO_VARCHAR({self.cfg.id_column})", self.cfg.table
        sql = (f"SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT {wid} AS K FROM {table} WHERE "
               f"{cond} AND {self.cfg.id_column} IS NOT NULL) A), (SELECT COALESCE(SUM("
               f"{id_hash_sql('K')}), 0) FROM (SELECT DISTINCT {wid} AS K FROM {table} WHERE "
               f"{cond} AND {self.cfg.id_column} IS NOT NULL) B), (SELECT COUNT(*) FROM {table} "
               f"WHERE {cond} AND {self.cfg.id_column} IS NULL)")
        batches = self._query(sql, params * 3, part.describe())
        row = batches[0].to_arrow().to_pylist()[0] if batches else {}
        values = list(row.values())
        return int(values[0] or 0), int(values[1] or 0), int(values[2] or 0)

    def partition_ids(self, part: Partition) -> list[str]:
        """The distinct ids of a partition (for the partitions ``verify`` found to differ)."""
        cond, params = part.where(self.cfg.timestamp_column)
        batches = self._query(
            f"SELECT DISTINCT {self.cfg.id_column} AS K FROM {self.cfg.table} WHERE {cond} "
            f"AND {self.cfg.id_column} IS NOT NULL", params, part.describe())
        return [_id_text(v) for b in batches for v in b.to_arrow().column(0).to_pylist()]

    @retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(5),
        wait=wait_exponential_jitter(multiplier=1, max=30),
        reraise=True,
    )
    def _query(self, sql: str, params: tuple[Any, ...], what: str) -> list[Any]:
        import snowflake.connector

        self._ensure()
        try:
            cur = self.conn.cursor()
            cur.execute(sql, params)
            return list(cur.get_result_batches() or [])
        except snowflake.connector.errors.ProgrammingError as exc:
            raise FatalError(f"query for {what} failed: {snowflake_error_text(exc)}",
                             dependency="Snowflake") from exc
        except snowflake.connector.errors.DatabaseError as exc:
            # Dropped or expired sessions, network faults, warehouse hiccups: a retry may cure
            # them; an expired session needs a new connection (and a rotated token re-read).
            if self.conn.is_closed() or getattr(exc, "errno", None) in SESSION_EXPIRED_ERRNOS:
                with contextlib.suppress(Exception):
                    self.conn.close()
                self.conn = None
            raise TransientError(
                f"Snowflake query for {what} failed: {snowflake_error_text(exc)}") from exc

    def rows_by_ids(self, ids: list[str]) -> list[Any]:
        """Result batches of the given ids (``retry-failed``)."""
        self._ensure()
        placeholders = ", ".join(["%s"] * len(ids))
        return self._query(
            f"SELECT {self.columns} FROM {self.cfg.table} "
            f"WHERE {self.cfg.id_column} IN ({placeholders})",
            tuple(ids), f"{len(ids)} ids",
        )


def session_call(method: Any, *args: Any) -> Any:
    """Call a ``SnowflakeSession`` method and wait: our errors come out as themselves, any
    other as a FatalError naming Snowflake."""
    from ray.exceptions import RayError

    try:
        return ray.get(method.remote(*args))
    except RayError as exc:
        root = root_cause(exc)
        if isinstance(root, BackfillError):
            raise root from exc
        raise FatalError(f"{type(root).__name__}: {root}", dependency="Snowflake") from exc


def normalize(table: pa.Table, partition: int) -> pa.Table:
    """Cast a result batch to the canonical schema and tag it with its partition.

    A numeric id becomes its decimal string; text loses NUL characters, which Postgres text
    cannot hold.
    """
    columns = []
    for field in S.SOURCE_SCHEMA:
        col = table.column(field.name)
        if field.name == S.ID and not pa.types.is_string(col.type):
            if pa.types.is_decimal(col.type) and col.type.scale == 0:
                col = pc.cast(col, pa.int64())
            col = pc.cast(col, pa.string())
        elif pa.types.is_timestamp(field.type) and pa.types.is_timestamp(col.type) and col.type.tz:
            col = pc.cast(col, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
        elif pa.types.is_timestamp(field.type) and pa.types.is_string(col.type):
            col = _parse_timestamps(col)
        else:
            col = pc.cast(col, field.type)
        if pa.types.is_string(field.type):
            col = pc.replace_substring(col, "\x00", "")
        columns.append(col)
    out = pa.Table.from_arrays(columns, schema=S.SOURCE_SCHEMA)
    return out.append_column(S.PARTITION, pa.array([partition] * out.num_rows, pa.int32()))


def _parse_timestamps(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Timestamps kept as text in the source: parse each; one that does not parse becomes
    NULL, which the validate stage dead-letters, instead of failing the whole block."""
    try:
        return pc.cast(col, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = []
        for text in col.to_pylist():
            try:
                value = dt.datetime.fromisoformat(text) if text else None
            except ValueError:
                value = None
            if value is not None and value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            values.append(value)
        return pa.array(values, pa.timestamp("us"))


@dataclass(frozen=True)
class ReadLedger:
    """Where a read task records what it read (``progress.record_read``): a partition is
    done when every record it read is committed, whatever the planner counted."""

    dsn: str
    schema: str
    run_id: str
    duplicate_ids: frozenset[str] = frozenset()

    def record(self, part: Partition | IdChunk, rows: int, keys: set[str]) -> None:
        from backfill.db import pg_transaction
        from backfill.progress import record_read

        dups = len(keys & self.duplicate_ids)
        pg_transaction(self.dsn, self.schema, "ledger",
                       lambda cur: record_read(cur, self.run_id, part.index, rows, len(keys),
                                               dups),
                       f"recording the read of partition {part.index}")


def _read_partition(session: Any, part: Partition, block_rows: int,
                    ledger: ReadLedger | None) -> Iterator[pa.Table]:
    """Yield the partition in blocks of ``block_rows``, then record what was read.

    Small blocks matter: a map task's output block is as large as its input block, so the
    sink's unit of commit (and what a crash can lose) would otherwise be a whole result
    chunk; and progress would move in jumps of that size.
    """
    rows, keys = 0, set()
    for block, block_keys in _blocks(lambda: ray.get(session.partition_batches.remote(part)),
                                     part.index, block_rows, part.describe()):
        rows += block.num_rows
        keys.update(block_keys)
        yield block
    if ledger is not None:
        ledger.record(part, rows, keys)


# Result chunks are fetched from presigned cloud-storage URLs that expire (about six hours
# after the query): on a ten-hour backfill a partition read late gets HTTP 403. Its query is
# then run again for fresh URLs, at most this many times.
MAX_REFETCHES = 3


def _expired_chunk(exc: BaseException) -> bool:
    errno = getattr(exc, "errno", None)
    return errno == 290403 or (errno is not None and "403" in str(exc)[:40])


def _blocks(fetch: Callable[[], list[Any]], partition: int, block_rows: int,
            what: str) -> Iterator[tuple[pa.Table, list[str]]]:
    """Download result batches as Arrow, canonical schema, in blocks of ``block_rows``, with
    each block's record keys. When a chunk's URL has expired the query is run again
    (``fetch``) and the rows already yielded are skipped, counted by record key (the new
    result may come in another order): nothing is read twice, nothing is lost."""
    batches = fetch()
    yielded: Counter[str] = Counter()
    skip: Counter[str] | None = None  # after a refetch: rows of the first pass to pass over
    refetches, i = 0, 0
    while i < len(batches):
        try:
            table = normalize(batches[i].to_arrow(), partition)
        except Exception as exc:
            if not _expired_chunk(exc) or refetches >= MAX_REFETCHES:
                raise
            refetches += 1
            log.warning("result chunk of %s expired; running its query again (%d/%d)",
                        what, refetches, MAX_REFETCHES)
            batches, skip, i = fetch(), yielded.copy(), 0
            continue
        keys = S.record_keys(table)
        if skip is not None:
            keep = []
            for k in keys:
                left = skip[k] > 0
                if left:
                    skip[k] -= 1
                keep.append(not left)
            if not all(keep):
                table = table.filter(pa.array(keep))
                keys = [k for k, kept in zip(keys, keep, strict=True) if kept]
        yielded.update(keys)
        for offset in range(0, table.num_rows, block_rows):
            yield table.slice(offset, block_rows), keys[offset:offset + block_rows]
        i += 1


@dataclass(frozen=True)
class IdChunk:
    """Source rows fetched by id. ``retry-failed`` and ``reprocess``: partition -1, the rows
    keep the partition of the run that read them first. ``run --incremental``: the run's own
    partition (one per chunk), whose read is recorded like a time range's."""

    ids: tuple[str, ...]
    partition: int = -1

    @property
    def index(self) -> int:
        return self.partition

    @property
    def rows(self) -> int:
        return len(self.ids)


def _read_ids(session: Any, chunk: IdChunk, block_rows: int,
              ledger: ReadLedger | None) -> Iterator[pa.Table]:
    rows, keys = 0, set()
    for block, block_keys in _blocks(
            lambda: ray.get(session.rows_by_ids.remote(list(chunk.ids))), chunk.partition,
            block_rows, f"{chunk.rows} ids"):
        rows += block.num_rows
        keys.update(block_keys)
        yield block
    if ledger is not None and chunk.partition >= 0:
        ledger.record(chunk, rows, keys)


class SnowflakeDatasource(Datasource):
    """One read task per pending partition. ``get_read_tasks`` is called several times per
    execution by Ray Data, so it only builds closures; the query runs inside the task."""

    def __init__(self, session: Any, partitions: list[Partition] | list[IdChunk],
                 block_rows: int, ledger: ReadLedger | None = None) -> None:
        self.session = session
        self.partitions = partitions
        self.block_rows = block_rows
        self.ledger = ledger

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(p.rows for p in self.partitions) * 2_000

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        tasks = []
        for part in self.partitions:
            meta = BlockMetadata(
                num_rows=part.rows, size_bytes=part.rows * 2_000, input_files=None, exec_stats=None
            )
            session, block_rows, ledger = self.session, self.block_rows, self.ledger

            def read(part: Partition | IdChunk = part, session: Any = session,
                     block_rows: int = block_rows,
                     ledger: ReadLedger | None = ledger) -> Iterator[pa.Table]:
                if isinstance(part, IdChunk):
                    yield from _read_ids(session, part, block_rows, ledger)
                else:
                    yield from _read_partition(session, part, block_rows, ledger)

            tasks.append(ReadTask(read, meta, schema=None))
        return tasks

    @property
    def supports_distributed_reads(self) -> bool:
        return True
