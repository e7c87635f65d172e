"""Microsoft Entra ID bearer tokens for Azure OpenAI (config ``auth: entra_id``).

Healthcare tenants often disable key authentication on their Azure OpenAI resources; the
client then sends ``Authorization: Bearer <token>`` for the scope
``https://cognitiveservices.azure.com/.default``. Two sources:

* ``entra_token_file``: a file holding the token, kept fresh by something else (a sidecar,
  ``az account get-access-token`` in cron, a Kubernetes projected secret). Read again whenever
  its modification time or size changes, so a rotated token is used from the next request on.
* otherwise azure-identity's ``DefaultAzureCredential`` (managed identity, workload identity,
  environment variables, Azure CLI ...) through ``get_bearer_token_provider``, which caches the
  token and gets a new one before it expires: a ten-hour backfill outlives several tokens.

The openai client calls the provider before every request (``azure_ad_token_provider``).
azure-identity's errors become our :class:`SystemicError` here, at the boundary: no request
can succeed without a token, so the job stops with a message naming the config keys.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from backfill.errors import SystemicError

if TYPE_CHECKING:
    from backfill.config import ModelEndpointConfig

__all__ = ["TokenFile", "token_provider"]

TokenProvider = Callable[[], Awaitable[str]]


class TokenFile:
    """The token in a file, read again when the file changes (cheap: one ``stat`` a call)."""

    def __init__(self, path: str, key: str) -> None:
        self.path = os.path.expanduser(path)
        self.key = key
        self._stamp: tuple[float, int] | None = None
        self._token = ""

    async def __call__(self) -> str:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime, st.st_size)
            if stamp != self._stamp:
                with open(self.path, encoding="utf-8") as f:
                    token = f.read().strip()
                if not token and self._token:
                    # Caught between a writer's truncation and its write (a renewal that
                    # rewrites the file in place, as "echo $TOKEN > file" does): the token
                    # read before stays in use, and the file is read again at the next call.
                    return self._token
                if not token:
                    raise OSError("the file is empty")
                self._token, self._stamp = token, stamp
        except OSError as exc:
            # (the message names the key and the file, never the token)
            raise SystemicError(
                f"cannot read the Entra ID token from {self.key} ({self.path}): "
                f"{exc.strerror or exc}", "Azure OpenAI (Entra ID)") from None
        return self._token


def token_provider(cfg: ModelEndpointConfig, stage: str) -> TokenProvider:
    """The bearer-token source of a deployment configured with ``auth: entra_id``."""
    if cfg.entra_token_file:
        return TokenFile(cfg.entra_token_file, f"{stage}.entra_token_file")
    # imported here: only entra_id deployments pay for azure-identity's import
    from azure.core.exceptions import AzureError
    from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

    credential = DefaultAzureCredential(managed_identity_client_id=cfg.entra_client_id)
    inner = get_bearer_token_provider(credential, cfg.entra_scope)

    async def provider() -> str:
        try:
            return await inner()
        except AzureError as exc:
            raise SystemicError(
                f"no Entra ID token for {cfg.entra_scope} ({type(exc).__name__}): give this "
                "node a managed identity with the 'Cognitive Services OpenAI User' role, set "
                f"AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, run `az login`, or set "
                f"{stage}.entra_token_file", "Azure OpenAI (Entra ID)") from None

    return provider
