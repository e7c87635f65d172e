"""The raw free text travels sealed from prepare to the sink.

A block carries the source row (for ``maintenance_logs``) past the extract and embed actors,
which call external APIs and may run on other nodes, and Ray may spill it to disk there.
Only the scrubbed document is for them. Ray Data cannot route some columns of a stream around
two stages (a join would be a shuffle), so prepare seals the raw free-text columns of each row
with AES-256-GCM under a key made for the run by the driver and given only to the prepare
tasks and the writers; the API actors get the ciphertext and no key. The sink opens them
before writing. (``cryptography`` is the maintained library for this; nothing here is a
cipher of ours.)

Cost on one core: ~17 us a row to seal, ~9 to open (JSON + AES-GCM; docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os

import pyarrow as pa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backfill import schema as S

__all__ = ["SEALED", "new_key", "seal", "unseal"]

SEALED = "_sealed_text"  # binary: 12-byte nonce + AES-GCM of the row's free text as JSON
_NONCE = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(table: pa.Table, key: bytes) -> pa.Table:
    """Replace the free-text columns with one sealed column."""
    aead = AESGCM(key)
    columns = [table.column(name).to_pylist() for name in S.FREE_TEXT]
    sealed = []
    for values in zip(*columns, strict=True):
        nonce = os.urandom(_NONCE)
        sealed.append(nonce + aead.encrypt(nonce, json.dumps(values).encode(), None))
    table = table.drop_columns(list(S.FREE_TEXT))
    return table.append_column(SEALED, pa.array(sealed, pa.binary()))


def unseal(table: pa.Table, key: bytes) -> pa.Table:
    """The free-text columns back, from a sealed block (others are returned as they are)."""
    if SEALED not in table.column_names:
        return table
    aead = AESGCM(key)
    rows = [json.loads(aead.decrypt(v[:_NONCE], v[_NONCE:], None))
            for v in table.column(SEALED).to_pylist()]
    table = table.drop_columns([SEALED])
    for i, name in enumerate(S.FREE_TEXT):
        table = table.append_column(name, pa.array([r[i] for r in rows], pa.string()))
    return table
