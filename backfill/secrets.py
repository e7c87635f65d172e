"""Secrets that travel between Ray processes as the name of their environment variable.

The config, and with it the Postgres DSN, the API keys and the Snowflake password, reaches the
actors and tasks of a run as a task argument, which Ray stores in its object store and GCS and
sends over the network. A secret the config took from an environment variable (``${VAR}``)
is therefore pickled as the variable's *name* and read again from the environment of the
process that unpickles it: on a cluster the job gets it as an environment variable (the
runtime env's ``env_vars``, or the nodes' own environment), never inside a task argument
(issue 11, docs/security.md). A secret written into the config file itself travels as is.

pydantic's ``SecretStr`` and ``str`` keep working: these are subclasses, so the code that
uses a DSN or a key is unchanged.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from pydantic import SecretStr

from backfill.errors import ConfigError

__all__ = ["EnvSecret", "EnvStr"]


def _lookup(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise ConfigError(
            f"{var} is not set in the environment of this Ray process (node "
            f"{socket.gethostname()}): secrets reach the job's workers as environment "
            "variables, not inside task arguments; give it to the job with `ray job submit "
            f"--runtime-env-json '{{\"env_vars\": {{\"{var}\": ...}}}}'` or set it on every node")
    return value


def _secret_from_env(var: str) -> EnvSecret:
    return EnvSecret(_lookup(var), var)


def _str_from_env(var: str) -> EnvStr:
    return EnvStr(_lookup(var), var)


class EnvSecret(SecretStr):
    """A ``SecretStr`` read from ``$var``; pickled as ``var`` alone."""

    def __init__(self, value: str, var: str) -> None:
        super().__init__(value)
        self.var = var

    def __reduce__(self) -> tuple[Any, ...]:
        return (_secret_from_env, (self.var,))


class EnvStr(str):
    """A plain string (a resolved DSN) read from ``$var``; pickled as ``var`` alone."""

    var: str

    def __new__(cls, value: str, var: str) -> EnvStr:
        obj = super().__new__(cls, value)
        obj.var = var
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (_str_from_env, (self.var,))
