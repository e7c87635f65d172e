"""Blocks as the sink receives them (prepared rows with an extraction and an embedding),
without running the API stages: for the sink's tests and its benchmark."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from backfill import schema as S
from backfill.devstack.synthetic import generate_work_orders
from backfill.prepare import compose_documents, validate
from backfill.source import normalize


def extraction_answer(summary: str = "Occlusion alarm; replaced pressure sensor.") -> str:
    """The extract stage's output for one record: extraction and grounding warnings."""
    return json.dumps(
        {
            "extraction": {
                "equipment_category": "infusion",
                "failure_mode": "sensor",
                "root_cause": "worn sensor",
                "actions_taken": ["replaced sensor"],
                "parts_replaced": ["pressure sensor"],
                "severity": "medium",
                "patient_safety_impact": "potential",
                "follow_up_needed": False,
                "summary": summary,
                "confidence": 0.9,
            },
            "warnings": [],
        }
    )


def enriched_rows(rows: int, dimensions: int = 1536, seed: int = 1, first_id: int = 1) -> pa.Table:
    """``rows`` valid work orders, each with an answer and a random unit-scale vector."""
    data = generate_work_orders(rows, seed=seed, bad_rows=False, first_id=first_id)
    table = compose_documents(validate(normalize(data.table, 0)), 12_000)
    n = table.num_rows
    vectors = np.random.default_rng(seed).standard_normal((n, dimensions), dtype=np.float32)
    emb = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dimensions)
    return (
        table.append_column(S.EXTRACTION, pa.array([extraction_answer()] * n))
        .append_column(S.TOKENS_IN, pa.array([200] * n, pa.int32()))
        .append_column(S.TOKENS_OUT, pa.array([80] * n, pa.int32()))
        .append_column(S.EMBEDDING, emb)
    )
