"""Realistic synthetic medical-equipment work orders for the local stack and for tests.

The rows mimic the Snowflake ``WORK_ORDERS`` table: canonical upper-case column names, CMMS-like
categorical columns and free text that reads like biomedical-engineering tickets (reported
symptom, technician troubleshooting notes, resolution).  The free text is what the LLM extracts
from and what semantic search later runs over, so it is composed from per-equipment-type failure
modes (symptoms, findings, actions with part numbers, root causes), work-type specific templates
(PM checklists, recalls, inspections, installs, calibrations) and stylistic variation (terse vs.
verbose notes, different separators, follow-ups).  Those hand-written catalogues (equipment types,
models, failure modes, phrase lists) are data, in ``catalogue.yaml`` beside this module; this
module holds the logic that draws from them.

Deliberate dirt, all recorded so tests can check the pipeline handles it:

* PII planted in ~25 % of rows (MRNs, SSNs, phones, e-mails, dates of birth, patient names after
  a cue, occasionally a home address); every planted string is listed in
  ``SyntheticData.planted_pii`` exactly as it appears in the text.  The values come from Faker,
  not from lists written here: names in ~30 locales with each locale's own name shapes (two
  surnames, particles, middle names, family name first; ~4 % in non-Latin scripts), US street
  addresses, phone numbers, SSNs, dates of birth.  The kinds the PHI guard checks (phones,
  SSNs, MRNs, e-mails, dates of birth) keep shapes the scrubber reads (``catalogue.yaml`` says
  why, for phones); names and addresses are Faker's own.  So the corpus is not the scrubber's
  mirror image: what the scrubber misses here (names, addresses), it was not written to catch.
* ~10 % NULLs across the optional columns, a few empty strings.
* ~0.2 % rows with > 20,000-char ``TECHNICIAN_NOTES`` (pasted device event logs), ~1 % rows with
  non-Latin text / emoji, ~0.1 % rows containing NUL characters.
* With ``bad_rows=True`` a handful of deliberately bad rows per kind (see ``BAD_ROW_KINDS``),
  listed in ``SyntheticData.bad_ids``.

Determinism: everything is drawn from ``random.Random(seed)``, ``numpy.random.default_rng(seed)``
and Faker instances seeded from the seed and their locale, in a fixed order; part numbers and the
Faker seeds derive from ``zlib.crc32`` (not the salted ``hash``), so the same seed gives
byte-identical tables across processes and threads (for one Faker release: its data is part of
the output).

Collision discipline (so "no planted PII string survives scrubbing" is a meaningful test): non-PII
digit runs in the text are at most 6 digits long (part and serial numbers are grouped), while MRNs
are 7-10 digits; service dates use 4-digit years in 2019+ while dates of birth are 1930-2005 (and
2-digit-year DOBs only for 1930-1999); a surname planted on its own never occurs inside the
catalogue or this module's text (``_Pii.lone_surname``).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import re
import threading
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from faker import Faker

__all__ = [
    "BAD_ROW_KINDS",
    "FREE_TEXT_COLUMNS",
    "SCHEMA",
    "SIMFAULT_KINDS",
    "SyntheticData",
    "generate_work_orders",
    "write_parquet",
]

SCHEMA = pa.schema(
    [
        ("WORK_ORDER_ID", pa.string()),
        ("CREATED_AT", pa.timestamp("us")),
        ("UPDATED_AT", pa.timestamp("us")),
        ("FACILITY_ID", pa.string()),
        ("DEPARTMENT", pa.string()),
        ("EQUIPMENT_ID", pa.string()),
        ("EQUIPMENT_TYPE", pa.string()),
        ("MANUFACTURER", pa.string()),
        ("MODEL", pa.string()),
        ("WORK_TYPE", pa.string()),
        ("PRIORITY", pa.string()),
        ("STATUS", pa.string()),
        ("PROBLEM_DESCRIPTION", pa.string()),
        ("TECHNICIAN_NOTES", pa.string()),
        ("RESOLUTION", pa.string()),
        ("LABOR_HOURS", pa.float64()),
    ]
)

FREE_TEXT_COLUMNS = ("PROBLEM_DESCRIPTION", "TECHNICIAN_NOTES", "RESOLUTION")
SIMFAULT_KINDS = ("refusal", "malformed", "schema", "content_filter", "embed")
BAD_ROW_KINDS = ("null_id", "duplicate_id", "empty_text") + tuple(
    f"simfault_{k}" for k in SIMFAULT_KINDS
)

WORK_TYPES = ("corrective", "preventive", "recall", "inspection", "installation", "calibration")
PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in_progress", "completed", "cancelled", "deferred")

# Shares of the planted dirt (per row).
PII_ROW_SHARE = 0.25
LONG_TEXT_SHARE = 0.002
NON_LATIN_SHARE = 0.01
NUL_SHARE = 0.001
BAD_ROW_SHARE = 0.0005


@dataclass
class SyntheticData:
    table: pa.Table
    planted_pii: list[str] = field(default_factory=list)
    # kind -> ids of the deliberately bad rows.  For "null_id" rows (no id) the CREATED_AT
    # isoformat strings are listed instead; for "duplicate_id" the reused id.
    bad_ids: dict[str, list[str]] = field(default_factory=dict)


def write_parquet(data: SyntheticData, path: str | Path) -> Path:
    """Write ``data.table`` to ``path`` (parent directories created). Returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data.table, p)
    return p


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

_DIGITS = "0123456789"
_HEX = "0123456789ABCDEF"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _fill(tmpl: str, r: Callable[[], float]) -> str:
    """Expand '#' -> digit, '%' -> hex digit, '@' -> upper-case letter."""
    out = []
    for ch in tmpl:
        if ch == "#":
            out.append(_DIGITS[int(r() * 10)])
        elif ch == "%":
            out.append(_HEX[int(r() * 16)])
        elif ch == "@":
            out.append(_LETTERS[int(r() * len(_LETTERS))])
        else:
            out.append(ch)
    return "".join(out)


def _pick(seq: Sequence, r: Callable[[], float]):
    return seq[int(r() * len(seq))]


def _ri(r: Callable[[], float], lo: int, hi: int) -> int:
    return lo + int(r() * (hi - lo + 1))


class _Mode:
    """A failure mode: symptoms staff report plus coherent repair scenarios.

    Each scenario is ``(finding, action, root cause, part)``; ``{pn}`` in the action is the part
    number of ``part`` for the row's model.  Keeping finding/action/cause together (rather than
    drawing them independently) keeps every ticket internally consistent, which matters for an
    extraction model reading it.
    """

    __slots__ = ("symptoms", "fixes", "tag")

    def __init__(self, entry: dict[str, Any]):
        self.symptoms: tuple[str, ...] = tuple(entry["symptoms"])
        self.fixes: tuple[tuple[str, str, str, str | None], ...] = tuple(
            (f["finding"], f["action"], f["cause"], f.get("part")) for f in entry["fixes"]
        )
        self.tag: str = entry.get("tag", "")


# ---------------------------------------------------------------------------------------------
# Catalogue: equipment types, models, failure modes, ticket phrases (catalogue.yaml)
# ---------------------------------------------------------------------------------------------


@functools.cache
def _catalogue() -> dict[str, Any]:
    """The hand-written catalogues, ``catalogue.yaml`` beside this module, parsed once."""
    text = resources.files("backfill.devstack").joinpath("catalogue.yaml").read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _equipment(entry: dict[str, Any]) -> dict[str, Any]:
    spec = dict(entry)
    spec["models"] = [tuple(m) for m in entry["models"]]
    spec["codes"] = tuple(entry["codes"])
    spec["modes"] = [_Mode(m) for m in entry["modes"]]
    spec["recalls"] = [(x["reason"], x["fix"], x.get("part")) for x in entry["recalls"]]
    spec["cal"] = [(c["name"], c["unit"], c["nominal"], c["spread"]) for c in entry["cal"]]
    return spec


_CAT = _catalogue()
_PN_FORMATS: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _CAT["part_numbers"]["by_manufacturer"].items()
}
_PN_DEFAULT = tuple(_CAT["part_numbers"]["default"])

_PN_CACHE: dict[tuple[str, str], str] = {}


def _part_number(mfr: str, model: str, part: str) -> str:
    key = (model, part)
    pn = _PN_CACHE.get(key)
    if pn is None:
        rr = random.Random(zlib.crc32(f"{mfr}|{model}|{part}".encode())).random
        pn = _fill(_pick(_PN_FORMATS.get(mfr, _PN_DEFAULT), rr), rr)
        _PN_CACHE[key] = pn
    return pn


GENERIC_MODES = tuple(_Mode(m) for m in _CAT["generic_modes"])
EQUIPMENT: dict[str, dict] = {k: _equipment(v) for k, v in _CAT["equipment"].items()}
_CRIT = frozenset(k for k, v in EQUIPMENT.items() if v.get("critical"))

_REPORTERS = {k: tuple(v) for k, v in _CAT["reporters"]["by_department"].items()}
_REPORTERS_DEFAULT = tuple(_CAT["reporters"]["default"])
_LOCATIONS = {k: tuple(v) for k, v in _CAT["locations"]["by_department"].items()}
_LOCATIONS_DEFAULT = tuple(_CAT["locations"]["default"])

_PHRASES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _CAT["phrases"].items()}
_OPENERS = _PHRASES["openers"]
_VERIFY_LINES = _PHRASES["verify_lines"]
_LOG_LINES = _PHRASES["log_lines"]
_GENERIC_VERIFY = _PHRASES["generic_verify"]
_OBSERVATIONS = _PHRASES["observations"]
_EXTRA_ACTIONS = _PHRASES["extra_actions"]
_CLOSERS = _PHRASES["closers"]
_PENDING = _PHRASES["pending"]
_FOLLOWUPS = _PHRASES["followups"]
_CAUSE_FORMS = _PHRASES["cause_forms"]
_CANCEL = _PHRASES["cancel"]
_DEFER = _PHRASES["defer"]
_ASIDES = _PHRASES["corrective_asides"]

_ESI_LINE: str = _CAT["pm"]["electrical_safety"]
_GENERIC_PM = tuple(_CAT["pm"]["generic"])
_BATTERY_PM: str = _CAT["pm"]["battery_runtime"]
_PM_REQUESTS = tuple(_CAT["pm"]["requests"])
_PM_PASSED = tuple(_CAT["pm"]["passed"])
_RECALL_DEFAULT = [(_CAT["recall"]["default"]["reason"], _CAT["recall"]["default"]["fix"], None)]
_RECALL_COMPLETED = tuple(_CAT["recall"]["completed"])
_INSPECTION_REQUESTS = tuple(_CAT["inspection"]["requests"])
_INSPECTION_PASSED = tuple(_CAT["inspection"]["passed"])
_INSTALL_REQUESTS = tuple(_CAT["installation"]["requests"])
_INSTALL_STEPS = tuple(_CAT["installation"]["steps"])
_CALIBRATION_REQUESTS = tuple(_CAT["calibration"]["requests"])

_SLOT_VALUES = {k: tuple(v) for k, v in _CAT["slot_values"].items()}
_SERIAL_FORMATS = tuple(_CAT["serial_formats"])
_NON_LATIN = tuple(_CAT["non_latin"])
_LOG_EVENTS = tuple(_CAT["log_events"])
_TERSE = tuple((a, b) for a, b in _CAT["terse"])


# ---------------------------------------------------------------------------------------------
# Lazy per-row context for template slots
# ---------------------------------------------------------------------------------------------


def _fw(r):
    return f"{_ri(r, 1, 9)}.{_ri(r, 0, 12)}" + (f".{_ri(r, 0, 9)}" if r() < 0.5 else "")


def _fw_new(c):
    major, _, rest = c["fw_old"].partition(".")
    minor = rest.split(".")[0]
    if c.r() < 0.5:
        return f"{major}.{int(minor) + _ri(c.r, 1, 3)}"
    return f"{int(major) + 1}.{_ri(c.r, 0, 4)}.{_ri(c.r, 0, 9)}"


def _loc(c):
    tmpls = _LOCATIONS.get(c["dept"], _LOCATIONS_DEFAULT)
    r = c.r
    return _pick(tmpls, r).format(
        n=_ri(r, 1, 24), L=_pick("ABCD", r), f=_ri(r, 2, 9), nn=f"{_ri(r, 1, 40):02d}"
    )


def _code(c):
    return _fill(_pick(c.spec["codes"], c.r), c.r)


def _num(lo, hi, nd=1):
    def f(c):
        return f"{lo + c.r() * (hi - lo):.{nd}f}"

    return f


def _int(lo, hi):
    def f(c):
        return str(_ri(c.r, lo, hi))

    return f


_CTX_FUNCS: dict[str, Callable] = {
    "fw_old": lambda c: _fw(c.r),
    "fw_new": _fw_new,
    "loc": _loc,
    "code": _code,
    "ch": lambda c: _pick("ABCD", c.r),
    "rate": lambda c: _pick(_SLOT_VALUES["rate"], c.r),
    "kpa": _num(8, 40),
    "pct": _int(22, 78),
    "pct_small": _int(8, 30),
    "err": _num(6, 15),
    "mins": _int(3, 45),
    "v": _num(9.1, 11.4),
    "ohm": lambda c: f"0.{_ri(c.r, 3, 19):02d}",
    "ohm_bad": _num(0.6, 2.5, 2),
    "ua": _int(8, 95),
    "yrs": _int(3, 8),
    "h": _int(2, 48),
    "count": _int(2, 60),
    "rpm": _int(400, 1200),
    "jnum": _int(2, 40),
    "vlan": _int(20, 480),
    "ip": lambda c: f"10.{_ri(c.r, 10, 250)}.{_ri(c.r, 1, 250)}.{_ri(c.r, 2, 250)}",
    "cert_date": lambda c: c.date,
    "date": lambda c: c.date,
    "time": lambda c: f"{_ri(c.r, 0, 23):02d}:{_ri(c.r, 0, 59):02d}",
    "batt_year": lambda c: str(max(2012, int(c.date[:4]) - _ri(c.r, 3, 7))),
    "days_ago": _int(20, 300),
    "syr": lambda c: _pick(_SLOT_VALUES["syr"], c.r),
    "o2_bad": _int(70, 88),
    "mv": _num(2.0, 7.5),
    "peep": _int(5, 15),
    "leak": _int(150, 900),
    "leak_ok": _int(20, 120),
    "he": _num(38, 62),
    "elem": _int(1, 24),
    "tube_scans": lambda c: f"{_ri(c.r, 120, 480)}k",
    "hu": _num(-2.5, 2.5),
    "leak_mmhg": _int(6, 25),
    "mmhg_err": _int(5, 14),
    "leads": lambda c: _pick(_SLOT_VALUES["leads"], c.r),
    "secs": _int(9, 20),
    "joules": _int(186, 212),
    "probe": lambda c: _pick(_SLOT_VALUES["probe"], c.r),
    "dead": _int(3, 40),
    "kv": _num(78.5, 81.5),
    "cond": _num(13.6, 14.4),
    "temp": _num(33.0, 35.5),
    "temp_off": _num(1.5, 4.5),
    "temp_ok": _num(132.0, 134.5),
    "temp_ok2": _num(35.9, 36.1, 2),
    "head": lambda c: _pick(_SLOT_VALUES["head"], c.r),
    "lux": lambda c: f"{_ri(c.r, 95, 160) * 1000:,}",
    "kg": _num(1.5, 6.0),
    "hum": _int(60, 85),
    "watts": _int(84, 104),
    "flow": _num(96.0, 104.0),
    "flow_small": _num(9.6, 10.4, 2),
    "vt": _int(482, 518),
    "runtime": _int(60, 240),
    "case": lambda c: _fill("@@-######", c.r),
    # an earlier ticket: keeps 8-digit WO numbers small (7-digit substrings start with 0 and
    # so can never equal a planted MRN, whose first digit is non-zero)
    "other_wo": lambda c: f"{max(1, c.idnum - _ri(c.r, 1, 40)):08d}",
    "next_due": lambda c: f"{int(c.date[:4]) + 1}-{c.date[5:7]}",
    "recall": lambda c: f"Z-{_ri(c.r, 100, 2999):04d}-{c.date[:4]}",
    "fsca": lambda c: f"FSN-{c.date[:4]}-{_ri(c.r, 1, 60):03d}",
    "rma": lambda c: _fill("RMA-######", c.r),
    "interval": lambda c: _pick(_SLOT_VALUES["interval"], c.r),
    "eta": _int(2, 15),
    "pm_kit": lambda c: _part_number(c["mfr"], c["model"], "PM kit"),
    "pn": lambda c: _part_number(c["mfr"], c["model"], "assembly"),
}


class _Ctx(dict[str, str]):
    """Template slot values; unknown slots are drawn lazily (once per row) from _CTX_FUNCS."""

    __slots__ = ("r", "spec", "date", "idnum")

    r: Callable[[], float]
    spec: dict[str, Any]
    date: str
    idnum: int

    def __missing__(self, key: str) -> str:
        v = _CTX_FUNCS[key](self)
        self[key] = v
        return v


# ---------------------------------------------------------------------------------------------
# Text composition
# ---------------------------------------------------------------------------------------------

_TERSE = (
    ("Replaced ", "repl "),
    ("replaced ", "repl "),
    ("Returned to service", "RTS"),
    ("returned to service", "RTS"),
    ("Electrical safety test", "ESI"),
    ("electrical safety test", "ESI"),
    ("Performed ", ""),
    ("performed ", ""),
    (" and ", " & "),
    ("Verified complaint.", "verified."),
    ("according to ", "per "),
    ("with ", "w/ "),
    ("without ", "w/o "),
    (" - passed", " ok"),
    (" - PASS", " ok"),
    ("battery", "batt"),
    ("Battery", "Batt"),
    ("approximately", "approx"),
)


def _terse(s: str) -> str:
    for a, b in _TERSE:
        if a in s:
            s = s.replace(a, b)
    return s


class _RowText:
    __slots__ = ("problem", "notes", "resolution")

    def __init__(self):
        self.problem: list[str] = []
        self.notes: list[str] = []
        self.resolution: list[str] = []


def _action(ctx: _Ctx, mfr: str, model: str, action: tuple[str, str | None]) -> str:
    text, part = action
    if part is not None:
        ctx["pn"] = _part_number(mfr, model, part)
    return text.format_map(ctx)


def _compose_corrective(rt, ctx, r, spec, mfr, model, status):
    if r() < 0.3:
        mode = _pick(spec["_generic_modes"], r)
    else:
        mode = _pick(spec["modes"], r)
    symptom = _pick(mode.symptoms, r).format_map(ctx)
    u = r()
    dept = ctx["dept"]
    if u < 0.35:
        rt.problem.append(symptom)
    elif u < 0.6:
        rep = _pick(_REPORTERS.get(dept, _REPORTERS_DEFAULT), r)
        rt.problem.append(f"{rep} {symptom}")
    elif u < 0.8:
        rt.problem.append(f"{spec['noun'].capitalize()} {ctx['eqid']} in {ctx['loc']}: {symptom}")
    else:
        rt.problem.append(symptom)
        rt.problem.append(
            _pick(_ASIDES, r).format(noun=spec["noun"])
        )
    if r() < 0.15:
        rt.problem.append(f"{model}, SN {ctx['sn']}.")

    notes = rt.notes
    if r() < 0.5:
        notes.append(_pick(_OPENERS, r).format_map(ctx))
    notes.append(_pick(_VERIFY_LINES, r).format_map(ctx))
    if r() < 0.35:
        notes.append(_pick(_LOG_LINES, r).format_map(ctx))
    if r() < 0.2:
        notes.append(_pick(_OBSERVATIONS, r).format_map(ctx))
    finding, action, cause, part = _pick(mode.fixes, r)
    notes.append(finding.format_map(ctx))
    cause = cause.format_map(ctx)
    if status in ("open", "in_progress", "deferred"):
        if part is not None and r() < 0.6:
            pn = _part_number(mfr, model, part)
            notes.append(f"Ordered {part} (P/N {pn}), ETA {ctx['eta']} business days.")
        else:
            notes.append(_pick(_PENDING, r).format_map(ctx))
        if status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        return
    if status == "cancelled":
        if r() < 0.5:
            notes.pop()
        rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        return
    a1 = _action(ctx, mfr, model, (action, part))
    notes.append(a1)
    acts = [a1]
    if r() < 0.15:
        a2 = _pick(_EXTRA_ACTIONS, r).format_map(ctx)
        notes.append(a2)
        acts.append(a2)
    verify = _pick(spec["_verify_all"] if r() < 0.5 else _GENERIC_VERIFY, r)
    verify = verify.format_map(ctx)
    notes.append(verify)
    if r() < 0.6:
        notes.append(_pick(_CLOSERS, r).format_map(ctx))
    res = rt.resolution
    if r() < 0.25:
        res.append(acts[0])
    else:
        res.extend(acts)
        res.append(_pick(_CAUSE_FORMS, r).format(c=cause))
        if r() < 0.5:
            res.append(verify)
    if r() < 0.2:
        res.append(_pick(_FOLLOWUPS, r).format_map(ctx))


def _compose_pm(rt, ctx, r, spec, mfr, model, status):
    ctx["pm_kit"] = _part_number(mfr, model, "PM kit")
    rt.problem.append(
        _pick(_PM_REQUESTS, r).format(
            interval=ctx["interval"], Interval=ctx["interval"].capitalize(), noun=spec["noun"],
            eqid=ctx["eqid"], mfr=mfr, model=model, sn=ctx["sn"], loc=ctx["loc"],
        )
    )
    if status in ("open", "in_progress"):
        if r() < 0.5:
            rt.notes.append("PM started; unit in use, will return to complete.")
        return
    if status == "cancelled":
        rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        return
    if status == "deferred":
        rt.notes.append("Unit in use on a patient, could not be pulled for PM.")
        rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        return
    notes = rt.notes
    notes.append(f"Performed {ctx['interval']} PM per {mfr} procedure.")
    items = list(spec["pm"])
    k = _ri(r, 1, len(items))
    for i in range(k):
        j = i + int(r() * (len(items) - i))
        items[i], items[j] = items[j], items[i]
        notes.append(items[i].format_map(ctx))
    gen = spec["_pm_generic"]
    first = int(r() * len(gen))
    for x in range(_ri(r, 1, 3)):
        notes.append(gen[(first + x) % len(gen)].format_map(ctx))
    u = r()
    if u < 0.15:
        finding, action, _cause, part = _pick(_pick(spec["modes"], r).fixes, r)
        finding = finding.format_map(ctx)
        act = _action(ctx, mfr, model, (action, part))
        notes.append(f"Found during PM: {finding} {act}")
        rt.resolution.append(f"PM completed with findings: {finding} {act}")
    elif u < 0.2:
        finding = _pick(_pick(spec["modes"], r).fixes, r)[0].format_map(ctx)
        notes.append(f"Failed: {finding}")
        rt.resolution.append(
            f"Unit failed PM: {finding} Removed from service; corrective WO opened."
        )
    else:
        rt.resolution.append(
            _pick(_PM_PASSED, r)
        )


def _compose_recall(rt, ctx, r, spec, mfr, model, status):
    recalls = spec["recalls"] or _RECALL_DEFAULT
    reason, fix, part = _pick(recalls, r)
    if part is not None:
        ctx["pn"] = _part_number(mfr, model, part)
    reason = reason.format_map(ctx)
    fix = fix.format_map(ctx)
    u = r()
    if u < 0.4:
        rt.problem.append(f"Manufacturer recall {ctx['recall']} ({mfr}): {reason}.")
    elif u < 0.7:
        rt.problem.append(f"FSCA {ctx['fsca']}: {reason}. Check SN {ctx['sn']}.")
    else:
        rt.problem.append(f"Field safety notice from {mfr} - {reason}. Applies to {model}.")
    if status in ("open", "in_progress", "deferred", "cancelled"):
        rt.notes.append("Unit identified in affected population; scheduling remediation.")
        if status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        elif status == "cancelled":
            rt.resolution.append("Cancelled - serial number not in affected range.")
        return
    if r() < 0.15:
        rt.notes.append(f"Checked SN {ctx['sn']} against affected range: not affected.")
        rt.resolution.append(f"Not affected - SN {ctx['sn']} outside affected range. Closed.")
        return
    rt.notes.append(f"Confirmed SN {ctx['sn']} within affected serial range.")
    rt.notes.append(f"{fix}.")
    rt.notes.append("Applied recall completion label, updated CMMS recall record.")
    rt.resolution.append(
        _pick(_RECALL_COMPLETED, r).format(fix=fix, mfr=mfr)
    )


def _compose_inspection(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(_INSPECTION_REQUESTS, r).format(
            noun=spec["noun"], model=model, sn=ctx["sn"], mfr=mfr, loc=ctx["loc"], dept=ctx["dept"]
        )
    )
    if status != "completed":
        if status == "cancelled":
            rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        elif status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        return
    rt.notes.append("Visual inspection: no shipping or physical damage.")
    rt.notes.append(_ESI_LINE.format_map(ctx))
    if r() < 0.5:
        rt.notes.append(_pick(spec["pm"], r).format_map(ctx))
    if r() < 0.1:
        finding = _pick(_pick(spec["modes"], r).fixes, r)[0].format_map(ctx)
        rt.notes.append(finding)
        rt.resolution.append(
            f"Failed inspection: {finding} Returned to vendor under {ctx['rma']}."
        )
    else:
        rt.resolution.append(
            _pick(_INSPECTION_PASSED, r).format(eqid=ctx["eqid"])
        )


def _compose_install(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(_INSTALL_REQUESTS, r).format(
            noun=spec["noun"], model=model, loc=ctx["loc"], mfr=mfr, dept=ctx["dept"]
        )
    )
    if status != "completed":
        if status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        elif status == "cancelled":
            rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        return
    for s in _INSTALL_STEPS:
        if r() < 0.7:
            rt.notes.append(s.format_map(ctx))
    rt.resolution.append(
        f"Installed and accepted, in service {ctx['date']}. Entered in CMMS as {ctx['eqid']}."
    )


def _compose_calibration(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(_CALIBRATION_REQUESTS, r).format(model=model)
    )
    if status != "completed":
        if status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        elif status == "cancelled":
            rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        return
    cal = spec["cal"]
    if not cal:
        rt.notes.append("Calibration verified against reference standard; within tolerance.")
        rt.resolution.append("Calibration verified, no adjustment needed.")
        return
    adjusted = False
    for name, unit, nominal, spread in cal:
        nd = 2 if nominal < 20 else 1
        found = nominal + (r() - 0.5) * 4 * spread
        left = nominal + (r() - 0.5) * spread
        if abs(found - nominal) > spread:
            adjusted = True
            rt.notes.append(
                f"{name}: as found {found:.{nd}f} {unit} (out of tolerance), "
                f"adjusted, as left {left:.{nd}f} {unit}."
            )
        else:
            rt.notes.append(f"{name}: as found {found:.{nd}f} {unit}, within tolerance.")
    rt.resolution.append(
        "Calibration completed; adjustments made, all points within tolerance."
        if adjusted
        else "Calibration verified, no adjustment needed."
    )


_COMPOSERS = {
    "corrective": _compose_corrective,
    "preventive": _compose_pm,
    "recall": _compose_recall,
    "inspection": _compose_inspection,
    "installation": _compose_install,
    "calibration": _compose_calibration,
}


# ---------------------------------------------------------------------------------------------
# PII planting: the values from Faker, the wording from catalogue.yaml
# ---------------------------------------------------------------------------------------------

_PII_CAT = _CAT["pii"]
_PLANTS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _PII_CAT["templates"].items()}
_NAME_FORMS = tuple((x["share"], x["form"], x["text"]) for x in _PII_CAT["names"])
_HOSPITAL_DOMAINS = tuple(_PII_CAT["hospital_domains"])
_VENDOR_DOMAINS = tuple(_PII_CAT["vendor_domains"])
_FAKER_PHONE_SHARE: float = _PII_CAT["faker_phone_share"]
_PHONE_STYLES = tuple(_PII_CAT["phone_styles"])
_DOB_STYLES = tuple(_PII_CAT["dob_styles"])
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_US = "en_US"  # phones, addresses, SSNs and dates of birth: a US hospital's
_DOB_RANGE = (date(1930, 1, 1), date(2005, 12, 31))  # see "Collision discipline" above


def _locale_table(weights: dict[str, float]) -> tuple[tuple[str, ...], list[float]]:
    total = sum(weights.values())
    cum = list(itertools.accumulate(w / total for w in weights.values()))
    return tuple(weights), cum


_LATIN_LOCALES = _locale_table(_PII_CAT["name_locales"])
_ALL_LOCALES = _locale_table(_PII_CAT["name_locales"] | _PII_CAT["non_latin_name_locales"])

# A name format is a tuple of parts: ("first" | "last", Faker method) or ("", literal text).
_FORMAT_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_NameFormat = tuple[tuple[str, str], ...]


@functools.cache
def _name_formats(locale: str) -> dict[str, tuple[tuple[_NameFormat, ...], list[float]]]:
    """The locale's own name formats (Faker's person provider), without honorifics and
    suffixes ("Dr.", "Jr.", "B.Sc."), by gender ("female", "male"), with cumulative weights.
    A mid-name "{{prefix}}" is a surname particle (fr_FR "de", "Le")."""
    base, _, variant = locale.partition("+")
    if variant == "romanized":  # written given name first, as US records do
        fmts: dict[str, float] = {
            "{{first_romanized_name}} {{last_romanized_name}}": 1.0
        }
    else:
        provider = next(p for p in _faker(base).providers if ".person." in type(p).__module__)
        raw = provider.formats
        fmts = dict(raw) if isinstance(raw, dict) else dict.fromkeys(raw, 1.0)
    by_gender: dict[str, list[tuple[_NameFormat, float]]] = {"female": [], "male": []}
    for fmt, weight in fmts.items():
        parts: list[tuple[str, str]] = []
        pos = 0
        ok = True
        for m in _FORMAT_TOKEN.finditer(fmt):
            if m.start() > pos:
                parts.append(("", fmt[pos : m.start()]))
            tok = m.group(1)
            if tok.startswith(("first", "middle")):
                parts.append(("first", tok))
            elif tok.startswith("last") or (tok == "prefix" and parts):
                parts.append(("last", tok))
            else:  # honorific or suffix
                ok = False
            pos = m.end()
        if not ok or not any(k == "last" for k, _ in parts):
            continue
        parts.append(("", fmt[pos:]))
        fmt_parts = tuple(p for p in parts if p[1])
        toks = " ".join(t for _, t in fmt_parts)
        gender = "female" if "female" in toks else "male" if "_male" in toks else None
        for g in ("female", "male") if gender is None else (gender,):
            by_gender[g].append((fmt_parts, weight))
    out = {}
    for g, items in by_gender.items():
        total = sum(w for _, w in items)
        out[g] = (tuple(f for f, _ in items),
                  list(itertools.accumulate(w / total for _, w in items)))
    return out


class _Person:
    __slots__ = ("full", "given", "surname", "locale")

    def __init__(self, full: str, given: str, surname: str, locale: str):
        self.full = full  # as the locale writes it
        self.given = given
        self.surname = surname
        self.locale = locale


_FAKERS = threading.local()  # one Faker per locale and thread (their random state is theirs)
# Only the providers used (names, e-mail domains; US phones, addresses, SSNs, dates): a Faker
# with all of them takes ~25 ms to create per locale, ~4 ms with these.
_PROVIDERS = ("faker.providers.person", "faker.providers.internet")
_PROVIDERS_US = (*_PROVIDERS, "faker.providers.phone_number", "faker.providers.address",
                 "faker.providers.ssn", "faker.providers.date_time")


def _faker(locale: str) -> Any:
    """The thread's Faker generator for ``locale`` (the generator behind a one-locale ``Faker``
    proxy: the same methods, without the proxy's per-call overhead).  Unweighted: en_US names
    drawn uniformly rather than by US frequency, 30-60x faster (the only locale whose name lists
    carry weights)."""
    cache: dict[str, Any] | None = getattr(_FAKERS, "by_locale", None)
    if cache is None:
        cache = _FAKERS.by_locale = {}
    fake = cache.get(locale)
    if fake is None:
        providers = list(_PROVIDERS_US if locale == _US else _PROVIDERS)
        fake = Faker(locale, providers=providers, use_weighting=False).factories[0]
        cache[locale] = fake
    return fake


@functools.cache
def _template_text() -> str:
    """Every text the generator writes besides PII comes from these two files."""
    pkg = resources.files("backfill.devstack")
    return pkg.joinpath("catalogue.yaml").read_text("utf-8") + pkg.joinpath(
        "synthetic.py"
    ).read_text("utf-8")


@functools.cache
def _in_templates(s: str) -> bool:
    return s in _template_text()


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                       "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th",
                       "ð": "d"})


def _ascii(s: str) -> str:
    """``s`` folded to lower-case ASCII for an e-mail address: "Łukasz" -> "lukasz"."""
    s = unicodedata.normalize("NFKD", s.translate(_FOLD))
    return "".join(c for c in s if c.isascii() and (c.isalnum() or c == "-")).lower()


class _Pii:
    """The PII values of one ``generate_work_orders`` call.  Faker draws them, one instance per
    locale seeded from the call's seed and the locale (``zlib.crc32``, not the salted
    ``hash``), so the same seed gives the same values in any process.  Locales are drawn from a
    stream of their own (``self.r``), so the generator's stream never depends on what Faker
    returns: another Faker release changes the PII values, not the rest of the corpus."""

    def __init__(self, seed: int):
        self.seed = seed
        self.r = random.Random(zlib.crc32(f"{seed}|pii".encode())).random
        self._seeded: dict[str, Any] = {}

    def faker(self, locale: str) -> Any:
        base = locale.partition("+")[0]  # "zh_CN+romanized" draws from zh_CN's instance
        fake = self._seeded.get(base)
        if fake is None:
            fake = self._seeded[base] = _faker(base)
            fake.seed_instance(zlib.crc32(f"{self.seed}|{base}".encode()))
        return fake

    def person(self, gender: str = "", latin: bool = False) -> _Person:
        """A name from a locale drawn by weight; ``gender`` "female", "male" or "" (either)."""
        locales, cum = _LATIN_LOCALES if latin else _ALL_LOCALES
        locale = locales[min(bisect.bisect(cum, self.r()), len(locales) - 1)]
        fake = self.faker(locale)
        rnd = fake.random
        if not gender:
            gender = "female" if rnd.random() < 0.5 else "male"
        fmts, fcum = _name_formats(locale)[gender]
        fmt = fmts[min(bisect.bisect(fcum, rnd.random()), len(fmts) - 1)]
        out: list[str] = []
        first = last = -1
        for i, (kind, part) in enumerate(fmt):
            out.append(getattr(fake, part)() if kind else part)
            if kind == "last":
                first = i if first < 0 else first
                last = i
        surname = "".join(out[first : last + 1])
        given = ("".join(out[:first]) + " " + "".join(out[last + 1 :])).strip()
        return _Person("".join(out), given, surname, locale)

    def lone_surname(self, gender: str) -> str:
        """A surname to write on its own ("pt. Okafor"): never inside any template text, so a
        listed surname is only ever found where it was planted."""
        for _ in range(100):
            s = self.person(gender).surname
            if len(s) > 1 and not _in_templates(s):
                return s
        raise RuntimeError("no surname found that is not inside the template text")

    def mrn(self) -> str:
        """7-10 digits, the first not 0 (Faker has no MRNs; its random stream, as numerify)."""
        rnd = self.faker(_US).random
        digits = rnd.randint(7, 10)
        return str(rnd.randrange(10 ** (digits - 1), 10**digits))

    def ssn(self) -> str:
        return self.faker(_US).ssn()

    def phone(self) -> str:
        """A US number: Faker's digits in one of the catalogue's styles, or (a share
        ``faker_phone_share``) as Faker writes it."""
        fake = self.faker(_US)
        if _FAKER_PHONE_SHARE and fake.random.random() < _FAKER_PHONE_SHARE:
            return str(fake.phone_number())
        digits = re.sub(r"\D", "", fake.basic_phone_number())
        style = _PHONE_STYLES[fake.random.randrange(len(_PHONE_STYLES))]
        return style.format(a=digits[:3], b=digits[3:6], c=digits[6:])

    def dob(self) -> str:
        fake = self.faker(_US)
        d = fake.date_between_dates(*_DOB_RANGE)
        style = _DOB_STYLES[fake.random.randrange(len(_DOB_STYLES))]
        if "{yy" in style and d.year >= 2000:
            style = _DOB_STYLES[-1]
        return style.format(y=d.year, yy=d.year % 100, m=d.month, d=d.day,
                            month=_MONTHS[d.month - 1], mon=_MONTHS[d.month - 1][:3])

    def address(self) -> str:
        return self.faker(_US).street_address()

    def free_email_domain(self, person_locale: str) -> str:
        return self.faker(person_locale).free_email_domain()


class _Slots(dict[str, str]):
    """Slots of a PII sentence: the given values, then the row's (lazily, from its _Ctx)."""

    def __init__(self, ctx: _Ctx, **values: str):
        super().__init__(values)
        self.ctx = ctx

    def __missing__(self, key: str) -> str:
        return self.ctx.spec["noun"] if key == "noun" else self.ctx[key]


def _sentence(kind: str, r, ctx: _Ctx, **values: str) -> str:
    return _pick(_PLANTS[kind], r).format_map(_Slots(ctx, **values))


def _plant(r, ctx: _Ctx, pii: _Pii) -> tuple[str, list[str]]:
    """Return one PII-bearing sentence and the PII strings it contains."""
    kind = r()
    if kind < 0.2:  # MRN
        mrn = pii.mrn()
        return _sentence("mrn", r, ctx, x=mrn), [mrn]
    if kind < 0.3:  # SSN
        ssn = pii.ssn()
        return _sentence("ssn", r, ctx, x=ssn), [ssn]
    if kind < 0.47:  # phone
        ph = pii.phone()
        ext = f" ext. {_ri(r, 100, 9999)}" if r() < 0.2 else ""
        if "x" in ph:  # Faker wrote an extension (pii.faker_phone_share)
            ext = ""
        return _sentence("phone", r, ctx, x=ph, e=ext), [ph]
    if kind < 0.62:  # email (staff, vendor, patient)
        p = pii.person(latin=True)
        given, sur = _ascii((p.given or p.surname).split()[0]), _ascii(p.surname)
        u = r()
        if u < 0.55:
            em = f"{given[0]}.{sur}@{_pick(_HOSPITAL_DOMAINS, r)}"
            return _sentence("email_staff", r, ctx, x=em), [em]
        if u < 0.8:
            em = f"{given}.{sur}@{_pick(_VENDOR_DOMAINS, r)}"
            return _sentence("email_vendor", r, ctx, x=em), [em]
        em = f"{given}{sur}{_ri(r, 1, 99)}@{pii.free_email_domain(p.locale)}"
        return _sentence("email_patient", r, ctx, x=em), [em]
    if kind < 0.74:  # DOB
        dob = pii.dob()
        return _sentence("dob", r, ctx, x=dob), [dob]
    if kind < 0.92:  # name
        u = r()
        _, form, text = next((f for f in _NAME_FORMS if (u := u - f[0]) < 0), _NAME_FORMS[-1])
        if form.startswith("surname"):
            x = pii.lone_surname(form.partition("_")[2])
        else:
            p = pii.person()
            x = {"full": p.full, "last_first": f"{p.surname}, {p.given}",
                 "LAST_FIRST": f"{p.surname}, {p.given}".upper()}[form]
        return text.format_map(_Slots(ctx, x=x)), [x]
    if kind < 0.96 and ctx.spec.get("home"):  # address: home-use equipment only
        addr = pii.address()
        return _sentence("address", r, ctx, x=addr), [addr]
    # combined "screenshot" style
    name, dob, mrn = pii.person().full, pii.dob(), pii.mrn()
    return _sentence("screenshot", r, ctx, name=name, dob=dob, mrn=mrn), [name, dob, mrn]


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------

# Fixed installations (no battery, not dropped, not on an IV pole) skip those generic modes.
for _spec in EQUIPMENT.values():
    _spec["_verify_all"] = tuple(_spec["verify"]) + _GENERIC_VERIFY
    _fixed = bool(_spec.get("fixed"))
    _spec["_generic_modes"] = tuple(
        m for m in GENERIC_MODES if not (_fixed and m.tag in ("battery", "portable"))
    )
    _spec["_pm_generic"] = _GENERIC_PM + (() if _fixed else (_BATTERY_PM,))

_TYPES = tuple(EQUIPMENT)
_TYPE_WEIGHTS = np.array([EQUIPMENT[t]["weight"] for t in _TYPES], dtype=float)
_TYPE_WEIGHTS /= _TYPE_WEIGHTS.sum()

_WT_P = np.array([0.48, 0.30, 0.04, 0.08, 0.04, 0.06])
_PRIO_P = {
    "corrective": (0.15, 0.45, 0.30, 0.10),
    "corrective_crit": (0.05, 0.30, 0.40, 0.25),
    "preventive": (0.60, 0.38, 0.02, 0.0),
    "recall": (0.0, 0.40, 0.45, 0.15),
    "inspection": (0.70, 0.30, 0.0, 0.0),
    "installation": (0.40, 0.50, 0.10, 0.0),
    "calibration": (0.50, 0.45, 0.05, 0.0),
}
_LABOR_MEAN = {
    "corrective": 1.8, "preventive": 1.2, "recall": 1.0, "inspection": 0.6,
    "installation": 3.0, "calibration": 1.0,
}
# Per-column NULL rates (WORK_ORDER_ID / CREATED_AT never NULL by design); text columns also
# get status-driven NULLs, e.g. RESOLUTION on open tickets.
_NULL_RATES = {
    "UPDATED_AT": 0.10,
    "FACILITY_ID": 0.05,
    "DEPARTMENT": 0.10,
    "EQUIPMENT_ID": 0.08,
    "EQUIPMENT_TYPE": 0.08,
    "MANUFACTURER": 0.10,
    "MODEL": 0.12,
    "WORK_TYPE": 0.08,
    "PRIORITY": 0.10,
    "STATUS": 0.06,
    "PROBLEM_DESCRIPTION": 0.05,
    "TECHNICIAN_NOTES": 0.10,
    "RESOLUTION": 0.08,
    "LABOR_HOURS": 0.12,
}


def _created_at(n: int, start: datetime, end: datetime, g: np.random.Generator) -> np.ndarray:
    """Seconds offsets from start: per-day volume with weekday effect, growth and busy days."""
    total = int((end - start).total_seconds())
    if total <= 0:
        raise ValueError("end must be after start")
    n_days = max(1, -(-total // 86400))
    day = np.arange(n_days)
    weekday = (np.datetime64(start.date(), "D") + day).astype("datetime64[D]").view("int64")
    dow = (weekday + 3) % 7  # 1970-01-01 was a Thursday -> Monday == 0
    w = np.where(dow >= 5, 0.45, 1.0) * (1.0 + 0.3 * day / n_days)
    w *= g.lognormal(0.0, 0.25, n_days)
    n_busy = max(1, n_days // 300) if n_days >= 30 else 0
    if n_busy:
        busy = g.choice(n_days, size=n_busy, replace=False)
        w[busy] *= g.uniform(5.0, 10.0, n_busy)  # e.g. recall campaigns, go-lives, PM blitzes
    w /= w.sum()
    days = g.choice(n_days, size=n, p=w)
    # within-day: mostly day shift, some uniform (nights / automated PM generation)
    sec = np.where(
        g.random(n) < 0.75,
        np.clip(g.normal(13.0 * 3600, 3.0 * 3600, n), 0, 86399),
        g.uniform(0, 86400, n),
    ).astype(np.int64)
    off = days.astype(np.int64) * 86400 + sec
    return np.minimum(off, total - 1)


def generate_work_orders(
    n: int,
    seed: int = 0,
    start: datetime = datetime(2019, 1, 1),
    end: datetime = datetime(2025, 1, 1),
    bad_rows: bool = True,
    first_id: int = 1,
) -> SyntheticData:
    """Generate ``n`` synthetic work orders (bad rows included in ``n``). Deterministic per seed.

    Bad rows per kind: ``max(1, round(n * 0.0005))`` when ``n >= 100`` and ``bad_rows``.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    g = np.random.default_rng(seed)
    rng = random.Random(seed)
    r = rng.random
    pii = _Pii(seed)

    # --- asset population (recurring equipment; some "lemons" get many tickets) -------------
    n_assets = max(30, n // 15)
    a_type = g.choice(len(_TYPES), size=n_assets, p=_TYPE_WEIGHTS)
    n_fac = 24
    fac_w = g.lognormal(0.0, 0.8, n_fac)
    a_fac = g.choice(n_fac, size=n_assets, p=fac_w / fac_w.sum())
    assets = []
    for i, (ti, fi) in enumerate(zip(a_type.tolist(), a_fac.tolist(), strict=True)):
        spec = EQUIPMENT[_TYPES[ti]]
        mfr, model = _pick(spec["models"], r)
        depts = list(spec["depts"].items())
        tot = sum(w for _, w in depts)
        x = r() * tot
        dept = depts[-1][0]
        for d, w in depts:
            x -= w
            if x < 0:
                dept = d
                break
        sn = _fill(_pick(_SERIAL_FORMATS, r), r)
        assets.append((_TYPES[ti], mfr, model, dept, f"FAC-{fi + 1:03d}",
                       f"EQ-{(i * 7919 + seed) % 900000 + 100000:06d}", sn))
    asset_w = g.gamma(0.7, 1.0, n_assets)
    row_asset = g.choice(n_assets, size=n, p=asset_w / asset_w.sum()).tolist() if n else []

    # --- time, categorical columns ---------------------------------------------------------
    off = np.sort(_created_at(n, start, end, g)) if n else np.zeros(0, np.int64)
    start64 = np.datetime64(start, "us")
    created = start64 + off.astype("timedelta64[s]").astype("timedelta64[us]")
    created_dates = created.astype("datetime64[D]").astype(str).tolist()
    age_days = (int((end - start).total_seconds()) - off) / 86400.0

    wt_idx = g.choice(len(WORK_TYPES), size=n, p=_WT_P)
    status_u = g.random(n)
    status_idx = np.where(
        age_days < 30,
        np.searchsorted(np.cumsum([0.25, 0.25, 0.40, 0.05, 0.05]), status_u, side="right"),
        np.where(
            age_days < 180,
            np.searchsorted(np.cumsum([0.04, 0.04, 0.80, 0.06, 0.06]), status_u, side="right"),
            np.searchsorted(np.cumsum([0.01, 0.01, 0.88, 0.06, 0.04]), status_u, side="right"),
        ),
    )
    status_idx = np.minimum(status_idx, len(STATUSES) - 1)
    types_of_row = [assets[a][0] for a in row_asset]
    crit_row = np.array([t in _CRIT for t in types_of_row], dtype=bool)
    pu = g.random(n)
    prio_idx = np.zeros(n, dtype=np.int64)
    for wi, wt in enumerate(WORK_TYPES):
        for key, mask in (
            (wt, (wt_idx == wi) & ~(crit_row & (wi == 0))),
            ("corrective_crit", (wt_idx == wi) & crit_row & (wi == 0)),
        ):
            if mask.any():
                prio_idx[mask] = np.searchsorted(np.cumsum(_PRIO_P[key]), pu[mask], side="right")
    prio_idx = np.minimum(prio_idx, 3)

    labor_mean = np.array([_LABOR_MEAN[w] for w in WORK_TYPES])[wt_idx]
    heavy = np.array([EQUIPMENT[t].get("labor", 1.0) for t in types_of_row]) if n else 1.0
    labor = np.round(g.lognormal(np.log(labor_mean * heavy), 0.6) * 4) / 4
    labor = np.maximum(labor, 0.25)
    labor[status_idx == 3] = np.round(g.uniform(0, 0.5, int((status_idx == 3).sum())) * 4) / 4

    upd_hours = np.select(
        [status_idx == 2, status_idx == 3, status_idx == 4, status_idx == 1],
        [g.lognormal(np.log(20), 1.2, n), g.lognormal(np.log(6), 1.0, n),
         g.lognormal(np.log(200), 0.8, n), g.lognormal(np.log(3), 1.0, n)],
        default=g.uniform(0, 1, n),
    )
    updated = created + (upd_hours * 3600).astype("timedelta64[s]").astype("timedelta64[us]")
    updated_null = (g.random(n) < _NULL_RATES["UPDATED_AT"]) | (
        (status_idx == 0) & (g.random(n) < 0.5)
    )

    nulls = {c: (g.random(n) < p) for c, p in _NULL_RATES.items() if c != "UPDATED_AT"}
    # open tickets usually have no resolution and often no notes yet
    nulls["RESOLUTION"] |= (status_idx <= 1) & (g.random(n) < 0.97)
    nulls["TECHNICIAN_NOTES"] |= (status_idx == 0) & (g.random(n) < 0.5)

    pii_row = g.random(n) < PII_ROW_SHARE
    pii_extra = g.random(n)
    long_row = g.random(n) < LONG_TEXT_SHARE
    nonlatin_row = g.random(n) < NON_LATIN_SHARE
    nul_row = g.random(n) < NUL_SHARE
    empty_row = g.random(n) < 0.004  # empty strings ("" rather than NULL) in one text column

    # --- deliberately bad rows ---------------------------------------------------------------
    bad_kind: dict[int, str] = {}
    if bad_rows and n >= 100:
        k = max(1, round(n * BAD_ROW_SHARE))
        positions = g.choice(np.arange(1, n), size=min(n - 1, k * len(BAD_ROW_KINDS)),
                             replace=False).tolist()
        for j, pos in enumerate(positions):
            bad_kind[pos] = BAD_ROW_KINDS[j % len(BAD_ROW_KINDS)]
    bad_ids: dict[str, list[str]] = {k: [] for k in BAD_ROW_KINDS}

    # --- ids -----------------------------------------------------------------------------------
    ids: list[str | None] = []
    next_id = first_id
    dup_source: dict[int, int] = {}
    id_nums: list[int] = []
    for i in range(n):
        id_nums.append(next_id)
        kind = bad_kind.get(i)
        if kind == "null_id":
            ids.append(None)
            bad_ids["null_id"].append(created[i].item().isoformat())
        elif kind == "duplicate_id":
            # reuse the id of a random earlier ordinary row (rejection sampling, O(1) expected)
            src = -1
            src_id = ""
            for _ in range(1000):
                j = int(r() * i)
                cand = ids[j]
                if cand is not None and j not in bad_kind:
                    src = j
                    src_id = cand
                    break
            if src < 0:
                ids.append(f"WO-{next_id:08d}")
                next_id += 1
                continue
            dup_source[i] = src
            ids.append(src_id)
            bad_ids["duplicate_id"].append(src_id)
        else:
            new_id = f"WO-{next_id:08d}"
            ids.append(new_id)
            next_id += 1
            if kind is not None:
                bad_ids[kind].append(new_id)

    # --- text ------------------------------------------------------------------------------
    planted: dict[str, None] = {}
    prob_col: list[str | None] = [None] * n
    notes_col: list[str | None] = [None] * n
    res_col: list[str | None] = [None] * n
    wt_list = wt_idx.tolist()
    st_list = status_idx.tolist()
    null_p = nulls["PROBLEM_DESCRIPTION"].tolist()
    null_n = nulls["TECHNICIAN_NOTES"].tolist()
    null_r = nulls["RESOLUTION"].tolist()
    pii_list = pii_row.tolist()
    pii_x = pii_extra.tolist()
    long_list = long_row.tolist()
    nonlat = nonlatin_row.tolist()
    nul_list = nul_row.tolist()
    empty_list = empty_row.tolist()

    for i in range(n):
        etype, mfr, model, dept, _fac, eqid, sn = assets[row_asset[i]]
        spec = EQUIPMENT[etype]
        ctx = _Ctx(dept=dept, eqid=eqid, sn=sn, mfr=mfr, model=model)
        ctx.r = r
        ctx.spec = spec
        ctx.date = created_dates[i]
        ctx.idnum = id_nums[i]
        wt = WORK_TYPES[wt_list[i]]
        status = STATUSES[st_list[i]]
        rt = _RowText()
        _COMPOSERS[wt](rt, ctx, r, spec, mfr, model, status)
        kind = bad_kind.get(i)

        notes_terse = wt == "corrective" and r() < 0.25
        if notes_terse:
            rt.notes = [_terse(s) for s in rt.notes]
        keep_p = not null_p[i] or kind is not None and kind.startswith("simfault")
        keep_n = not null_n[i] and bool(rt.notes)
        keep_r = not null_r[i] and bool(rt.resolution)
        if kind == "empty_text":
            prob_col[i] = None if r() < 0.5 else ""
            notes_col[i] = None if r() < 0.5 else ""
            res_col[i] = None if r() < 0.5 else ""
            continue

        segs = {"p": rt.problem, "n": rt.notes, "r": rt.resolution}
        avail = [c for c, keep in (("p", keep_p), ("n", keep_n), ("r", keep_r)) if keep]
        row_planted: list[str] = []
        if pii_list[i] and avail:
            n_plants = 1 if pii_x[i] < 0.8 else (2 if pii_x[i] < 0.95 else 3)
            for _ in range(n_plants):
                # problem and notes carry most PII; resolutions only occasionally
                u = r()
                if "r" in avail and (u < 0.1 or len(avail) == 1):
                    col = "r"
                else:
                    pn_avail = [c for c in avail if c != "r"]
                    col = pn_avail[int(r() * len(pn_avail))]
                sentence, strings = _plant(r, ctx, pii)
                lst = segs[col]
                lst.insert(int(r() * (len(lst) + 1)), sentence)
                for s in strings:
                    planted[s] = None
                row_planted.extend(strings)
        if nonlat[i]:
            tgt = segs["n"] if keep_n else segs["p"]
            tgt.insert(int(r() * (len(tgt) + 1)), _pick(_NON_LATIN, r))
        if long_list[i] and keep_n:
            segs["n"].append(_event_log(r, ctx, 20_000 + _ri(r, 0, 15_000)))
        if nul_list[i]:
            tgt = segs["n"] if keep_n else segs["p"]
            tgt.insert(int(r() * (len(tgt) + 1)), "\x00")

        if keep_p:
            p = " ".join(rt.problem)
            if kind is not None and kind.startswith("simfault"):
                p = f"SIMFAULT:{kind[len('simfault_'):]} {p}"
            prob_col[i] = p
        if keep_n:
            u = r()
            sep = " " if u < 0.55 else ("\n" if u < 0.85 else "\n- ")
            txt = sep.join(rt.notes)
            notes_col[i] = ("- " + txt) if sep == "\n- " else txt
        if keep_r:
            res_col[i] = " ".join(rt.resolution)
        if empty_list[i] and kind is None:
            which = _ri(r, 0, 2)
            text_col = (prob_col, notes_col, res_col)[which]
            cur = text_col[i]
            # keep planted PII text intact so planted_pii stays truthful
            if cur is not None and not any(s in cur for s in row_planted):
                text_col[i] = ""

    # duplicate rows must differ in text from the row whose id they reuse
    for i, src in dup_source.items():
        if (prob_col[i], notes_col[i], res_col[i]) == (prob_col[src], notes_col[src], res_col[src]):
            prob_col[i] = (prob_col[i] or "") + " Re-entered ticket."

    table = pa.table(
        {
            "WORK_ORDER_ID": pa.array(ids, pa.string()),
            "CREATED_AT": pa.array(created, pa.timestamp("us")),
            "UPDATED_AT": pa.array(updated, pa.timestamp("us"), mask=updated_null),
            "FACILITY_ID": _masked([assets[a][4] for a in row_asset], nulls["FACILITY_ID"]),
            "DEPARTMENT": _masked([assets[a][3] for a in row_asset], nulls["DEPARTMENT"]),
            "EQUIPMENT_ID": _masked([assets[a][5] for a in row_asset], nulls["EQUIPMENT_ID"]),
            "EQUIPMENT_TYPE": _masked(types_of_row, nulls["EQUIPMENT_TYPE"]),
            "MANUFACTURER": _masked([assets[a][1] for a in row_asset], nulls["MANUFACTURER"]),
            "MODEL": _masked([assets[a][2] for a in row_asset], nulls["MODEL"]),
            "WORK_TYPE": _masked([WORK_TYPES[i] for i in wt_list], nulls["WORK_TYPE"]),
            "PRIORITY": _masked([PRIORITIES[i] for i in prio_idx.tolist()], nulls["PRIORITY"]),
            "STATUS": _masked([STATUSES[i] for i in st_list], nulls["STATUS"]),
            "PROBLEM_DESCRIPTION": pa.array(prob_col, pa.string()),
            "TECHNICIAN_NOTES": pa.array(notes_col, pa.string()),
            "RESOLUTION": pa.array(res_col, pa.string()),
            "LABOR_HOURS": pa.array(labor.astype(np.float64), pa.float64(),
                                    mask=nulls["LABOR_HOURS"]),
        },
        schema=SCHEMA,
    )
    return SyntheticData(table=table, planted_pii=list(planted), bad_ids=bad_ids)


def _masked(values: list[str], mask: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string(), mask=mask if len(values) else None)


def _event_log(r, ctx: _Ctx, min_chars: int) -> str:
    """A pasted device event log (the > 20,000-char notes)."""
    lines = ["--- pasted device event log ---"]
    size = 0
    y, m, d = ctx.date.split("-")
    hh, mm, ss = _ri(r, 0, 10), 0, 0
    code = ctx["code"]
    while size < min_chars:
        ss += _ri(r, 1, 50)
        if ss >= 60:
            mm += ss // 60
            ss %= 60
        if mm >= 60:
            hh = (hh + mm // 60) % 24
            mm %= 60
        ev = _pick(_LOG_EVENTS, r).replace("{code}", code)
        line = f"{y}-{m}-{d} {hh:02d}:{mm:02d}:{ss:02d} ch{_pick('ABCD', r)} {ev}"
        lines.append(line)
        size += len(line) + 1
    lines.append("--- end of log ---")
    return "\n".join(lines)
