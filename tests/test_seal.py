"""The raw free text sealed between prepare and the sink (backfill/seal.py)."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest
from cryptography.exceptions import InvalidTag

from backfill import schema as S
from backfill.prepare import prepare_batch
from backfill.seal import SEALED, new_key, seal, unseal

pytestmark = pytest.mark.unit

RAW = ["pt Rosa Ortega MRN 00482211 pump alarm", None, "Ärger mit \x00 Bett 🛏️ Nguyễn Văn An"]


def _table() -> pa.Table:
    n = len(RAW)
    cols = {name: pa.nulls(n, field.type) for name, field in
            zip(S.SOURCE_SCHEMA.names, S.SOURCE_SCHEMA, strict=True)}
    cols[S.ID] = pa.array(["A", "B", "C"])
    cols[S.CREATED_AT] = pa.array([1, 2, 3], pa.timestamp("us"))
    cols["PROBLEM_DESCRIPTION"] = pa.array(RAW)
    cols["TECHNICIAN_NOTES"] = pa.array(["called 617-555-0163", "ok", ""])
    cols["RESOLUTION"] = pa.array(["fixed", None, "Rosa"])
    return pa.table(cols)


def _bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def test_round_trip_keeps_every_value_and_null() -> None:
    key = new_key()
    table = _table()
    back = unseal(seal(table, key), key)
    for name in S.FREE_TEXT:
        assert back.column(name).to_pylist() == table.column(name).to_pylist()
    assert back.column(S.ID).to_pylist() == ["A", "B", "C"]


def test_sealed_block_holds_no_raw_text_and_needs_the_key() -> None:
    sealed = seal(_table(), new_key())
    assert not set(S.FREE_TEXT) & set(sealed.column_names)
    data = _bytes(sealed)
    for token in (b"Rosa", b"Ortega", b"00482211", b"555-0163", "Nguyễn".encode()):
        assert token not in data
    with pytest.raises(InvalidTag):
        unseal(sealed, new_key())


def test_prepare_hands_the_api_stages_the_document_and_sealed_text_only() -> None:
    key = new_key()
    out = prepare_batch(_table(), dsn="", schema="", run_id="r", max_chars=4000,
                        skip_done=False, seal_key=key)
    assert SEALED in out.column_names and not set(S.FREE_TEXT) & set(out.column_names)
    docs = out.column(S.DOCUMENT).to_pylist()
    assert "Ortega" not in docs[0] and "[MRN]" in docs[0]
    assert unseal(out, key).column("PROBLEM_DESCRIPTION").to_pylist() == RAW
