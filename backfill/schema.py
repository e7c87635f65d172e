"""Data shapes shared by the stages: canonical source columns, the row outcome columns that
travel with every batch, and the extraction model sent to the LLM as a strict JSON schema."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

ID = "WORK_ORDER_ID"
CREATED_AT = "CREATED_AT"
UPDATED_AT = "UPDATED_AT"
FREE_TEXT = ("PROBLEM_DESCRIPTION", "TECHNICIAN_NOTES", "RESOLUTION")
TEXT_COLUMNS = (
    "FACILITY_ID",
    "DEPARTMENT",
    "EQUIPMENT_ID",
    "EQUIPMENT_TYPE",
    "MANUFACTURER",
    "MODEL",
    "WORK_TYPE",
    "PRIORITY",
    "STATUS",
    *FREE_TEXT,
)
# The structured columns the document's header names (prepare.compose_documents).
HEADER_COLUMNS = ("EQUIPMENT_TYPE", "MANUFACTURER", "MODEL", "WORK_TYPE", "PRIORITY")
# What validate and compose_documents read: all the dry run's sample of rows needs.
DOCUMENT_INPUTS = (ID, CREATED_AT, *HEADER_COLUMNS, *FREE_TEXT)
SOURCE_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string()),
        pa.field(CREATED_AT, pa.timestamp("us")),
        pa.field(UPDATED_AT, pa.timestamp("us")),
        *[pa.field(name, pa.string()) for name in TEXT_COLUMNS[:-3]],
        *[pa.field(name, pa.string()) for name in FREE_TEXT],
        pa.field("LABOR_HOURS", pa.float64()),
    ]
)
CANONICAL_COLUMNS = tuple(SOURCE_SCHEMA.names)

# Columns the stages add. Every row carries its outcome: "ok", or "failed" with the stage
# and reason, so that a bad record never fails its block (DESIGN decision 6).
PARTITION = "_partition"
STATUS = "_status"
STAGE = "_stage"
ERROR_CLASS = "_error_class"
ERROR_MESSAGE = "_error_message"
DOCUMENT = "_document"
TRUNCATED = "_truncated"
REDACTIONS = "_redactions"  # JSON: placeholder kind -> replacements in the row's free text
EXTRACTION = "_extraction"
TOKENS_IN = "_tokens_in"
TOKENS_OUT = "_tokens_out"
EMBEDDING = "_embedding"
# The journal key of a failed record's request, left in requests_in_flight by the API stage
# that failed it and taken out by the sink with its dead letter (backfill.journal).
IN_FLIGHT_KEY = "_in_flight_key"
OK = "ok"
FAILED = "failed"

def record_keys(table: pa.Table) -> list[str]:
    """Each row's record key: its id, or for a row without one a stand-in made of its
    timestamp and a hash of its content, the same however the rows are grouped in blocks
    (the key of its dead letter)."""
    ids = table.column(ID).to_pylist()
    if all(i is not None for i in ids):
        return ids
    created = table.column(CREATED_AT).to_pylist()
    texts = [table.column(c).to_pylist() for c in TEXT_COLUMNS]
    keys = []
    for i, wid in enumerate(ids):
        if wid is not None:
            keys.append(wid)
            continue
        digest = hashlib.blake2b("\x1f".join(str(t[i]) for t in texts).encode(), digest_size=6)
        keys.append(f"<no id: {CREATED_AT} {created[i]}, content {digest.hexdigest()}>")
    return keys


# What a record's content is, for ``backfill run --incremental``: every canonical column but
# UPDATED_AT, which a source may bump without changing anything the job derives.
CONTENT_COLUMNS = tuple(n for n in CANONICAL_COLUMNS if n != UPDATED_AT)


def content_hashes(table: pa.Table) -> list[str]:
    """Each row's content hash (128-bit BLAKE2b, hex) over ``CONTENT_COLUMNS`` of the
    canonical schema (``source.normalize``'s output). The one function both the sink (the
    hash stored in maintenance_logs.content_hash) and the incremental run (the hash of the
    source row now) use, so the two agree by construction. JSON of the typed values: NULL
    and the text "None" differ, and a float or timestamp has one spelling."""
    columns = [table.column(c).to_pylist() for c in CONTENT_COLUMNS]
    return [
        hashlib.blake2b(json.dumps(values, default=str, ensure_ascii=False).encode(),
                        digest_size=16).hexdigest()
        for values in zip(*columns, strict=True)
    ]


class EquipmentCategory(StrEnum):
    imaging = "imaging"
    life_support = "life_support"
    patient_monitoring = "patient_monitoring"
    infusion = "infusion"
    surgical = "surgical"
    laboratory = "laboratory"
    sterilization = "sterilization"
    therapeutic = "therapeutic"
    diagnostic = "diagnostic"
    patient_handling = "patient_handling"
    other = "other"


class FailureMode(StrEnum):
    electrical = "electrical"
    mechanical = "mechanical"
    software = "software"
    battery = "battery"
    sensor = "sensor"
    display = "display"
    alarm = "alarm"
    leak = "leak"
    calibration = "calibration"
    physical_damage = "physical_damage"
    user_error = "user_error"
    no_fault_found = "no_fault_found"
    preventive_maintenance = "preventive_maintenance"
    other = "other"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class SafetyImpact(StrEnum):
    none = "none"
    potential = "potential"
    actual = "actual"


class Extraction(BaseModel):
    """What the LLM extracts from one work order. Sent as a strict JSON schema."""

    model_config = ConfigDict(extra="forbid")

    equipment_category: EquipmentCategory = Field(description="Kind of device.")
    failure_mode: FailureMode = Field(description="How the device failed.")
    root_cause: str | None = Field(description="Root cause in a few words, null if unknown.")
    actions_taken: list[str] = Field(description="What the technician did, short phrases.")
    parts_replaced: list[str] = Field(description="Parts replaced, as named in the text.")
    severity: Severity = Field(description="Operational severity of the problem.")
    patient_safety_impact: SafetyImpact = Field(description="Effect on patient safety.")
    follow_up_needed: bool = Field(description="Whether more work is needed.")
    summary: str = Field(description="One line summary of the work order.")
    confidence: float = Field(ge=0, le=1, description="Confidence in this extraction, 0..1.")


# The system prompts, by version: what ``ai_extracted_data.prompt_version`` names, and what
# ``backfill eval --prompt-version`` measures before a version becomes the current one. A
# prompt is never edited in place: a change is a new version (rows name the one they used).
PROMPTS: dict[str, str] = {
    "extract-v1": (
        "You extract structured facts from maintenance work orders of medical equipment. "
        "Answer only with JSON matching the schema. Use only facts stated in the work order; "
        "name parts exactly as written; use null for an unknown root cause. Placeholders such "
        "as [PATIENT_NAME] or [MRN] stand for removed personal data: never guess them."
    ),
    # A test fixture, never for production: no field guidance at all, so that the tests
    # (and anyone trying `backfill eval`) see a weaker prompt score lower.
    "extract-v0-minimal": "Extract the work order as JSON.",
}
PROMPT_VERSION = "extract-v1"  # the one runs use
SYSTEM_PROMPT = PROMPTS[PROMPT_VERSION]


def schema_version(model: type[BaseModel]) -> str:
    """A short hash of ``model``'s JSON schema (field names, types, enum values and the
    descriptions the LLM reads): rows made under another schema are told apart by it."""
    text = json.dumps(model.model_json_schema(), sort_keys=True, separators=(",", ":"))
    return "extraction-" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


# Stored per row (ai_extracted_data.schema_version) beside model and prompt_version.
SCHEMA_VERSION = schema_version(Extraction)
