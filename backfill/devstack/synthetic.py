"""Realistic synthetic medical-equipment work orders for the local stack and for tests.

The rows mimic the Snowflake ``WORK_ORDERS`` table: canonical upper-case column names, CMMS-like
categorical columns and free text that reads like biomedical-engineering tickets (reported
symptom, technician troubleshooting notes, resolution).  The free text is what the LLM extracts
from and what semantic search later runs over, so it is composed from per-equipment-type failure
modes (symptoms, findings, actions with part numbers, root causes), work-type specific templates
(PM checklists, recalls, inspections, installs, calibrations) and stylistic variation (terse vs.
verbose notes, different separators, follow-ups).

Deliberate dirt, all recorded so tests can check the pipeline handles it:

* PII planted in ~25 % of rows (MRNs, SSNs, phones, e-mails, dates of birth, patient names after
  a cue, occasionally a home address); every planted string is listed in
  ``SyntheticData.planted_pii`` exactly as it appears in the text.
* ~10 % NULLs across the optional columns, a few empty strings.
* ~0.2 % rows with > 20,000-char ``TECHNICIAN_NOTES`` (pasted device event logs), ~1 % rows with
  non-Latin text / emoji, ~0.1 % rows containing NUL characters.
* With ``bad_rows=True`` a handful of deliberately bad rows per kind (see ``BAD_ROW_KINDS``),
  listed in ``SyntheticData.bad_ids``.

Determinism: everything is drawn from ``random.Random(seed)`` and ``numpy.random.default_rng(seed)``
in a fixed order; part numbers derive from ``zlib.crc32`` (not the salted ``hash``), so the same
seed gives byte-identical tables across processes.

Collision discipline (so "no planted PII string survives scrubbing" is a meaningful test): non-PII
digit runs in the text are at most 6 digits long (part and serial numbers are grouped), while MRNs
are 7-10 digits; service dates use 4-digit years in 2019+ while dates of birth are 1930-2005 (and
2-digit-year DOBs only for 1930-1999); single-surname plants use a list of surnames that do not
occur inside any template word.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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

    def __init__(self, symptoms, fixes, tag=""):
        self.symptoms = tuple(symptoms)
        self.fixes = tuple(f if len(f) == 4 else (*f, None) for f in fixes)
        self.tag = tag


M = _Mode

# Part-number formats by manufacturer.  Digit runs stay <= 6 (see module docstring).
_PN_FORMATS = {
    "GE Healthcare": ("######-###", "M####-###"),
    "Philips": ("M####-#####", "#### ### #####", "###-###"),
    "Siemens Healthineers": ("### ### ##", "##-####-##"),
    "Medtronic": ("###-####-###", "PB######"),
    "Draeger": ("MK#####", "## ## ###"),
    "Baxter": ("###-###", "#####-##"),
    "BD": ("######-##", "TC####-##"),
    "Fresenius Medical Care": ("###-#####-##", "M#####"),
    "Fresenius Kabi": ("######-##",),
    "Zoll": ("####-####-##", "##-####-###"),
    "Stryker": ("####-###-###", "#####-###"),
    "Hillrom": ("P####@##", "#####-##"),
}
_PN_DEFAULT = ("###-###", "####-####-##", "######-###")
_PN_CACHE: dict[tuple[str, str], str] = {}


def _part_number(mfr: str, model: str, part: str) -> str:
    key = (model, part)
    pn = _PN_CACHE.get(key)
    if pn is None:
        rr = random.Random(zlib.crc32(f"{mfr}|{model}|{part}".encode())).random
        pn = _fill(_pick(_PN_FORMATS.get(mfr, _PN_DEFAULT), rr), rr)
        _PN_CACHE[key] = pn
    return pn


# ---------------------------------------------------------------------------------------------
# Catalog: equipment types, models, failure modes
# ---------------------------------------------------------------------------------------------

GENERIC_MODES = (
    M(
        [
            "Battery will not hold a charge; unit shuts off within {mins} minutes on battery.",
            "Low battery alarm even after charging overnight.",
            "Battery icon shows full but unit died during patient transport.",
            "Unit will not run on battery, only on AC.",
            "Battery fault message on power-up.",
        ],
        [
            ("Battery capacity test: {pct}% of rated capacity.",
             "Replaced battery pack P/N {pn}.", "battery at end of life", "battery pack"),
            ("Battery pack date code {batt_year}, past recommended replacement interval.",
             "Installed new Li-ion battery P/N {pn}, ran full charge/discharge cycle.",
             "battery aged out (more than {yrs} years in service)", "battery pack"),
            ("Battery pack swollen, rear housing slightly bulged.",
             "Replaced battery pack P/N {pn} and battery door. Swollen pack bagged for recycling.",
             "battery cell failure", "battery pack"),
            ("Battery reads 0 V; charging circuit tested OK with known good pack.",
             "Replaced battery P/N {pn}.", "deep discharge from storage without AC power",
             "battery pack"),
        ],
        tag="battery",
    ),
    M(
        [
            "Unit will not power on, no AC indicator.",
            "Intermittent shutdowns while plugged in.",
            "Burning smell reported from rear of unit.",
        ],
        [
            ("Measured {v} V on the 12 V rail, out of spec.",
             "Replaced power supply board P/N {pn}.", "power supply failure", "power supply"),
            ("Blown fuse F1 on power entry module.",
             "Replaced fuses (2x T2AL 250V) and power entry module P/N {pn}.",
             "power surge during generator test", "power entry module"),
            ("Bulging capacitors on power supply board; output drops under load.",
             "Replaced power supply P/N {pn}.", "component aging on PSU board", "power supply"),
        ],
    ),
    M(
        [
            "Device reboots when the AC cord is moved.",
            "AC power indicator flickers when cord is touched.",
        ],
        [
            ("Loose AC inlet, intermittent contact.", "Replaced AC inlet assembly P/N {pn}.",
             "damaged AC inlet from cord being yanked", "AC inlet"),
            ("Worn power cord plug, intermittent at the prongs.",
             "Replaced hospital-grade power cord P/N {pn}.", "worn power cord", "power cord"),
        ],
        tag="portable",
    ),
    M(
        [
            "Display flickering.",
            "Screen goes blank intermittently, device still alarming.",
            "Horizontal lines across the LCD.",
            "Display very dim, hard to read values.",
        ],
        [
            ("LVDS cable connector partially unseated.",
             "Reseated LVDS cable and secured with Kapton tape.", "display cable vibration"),
            ("Backlight inverter output intermittent.",
             "Replaced backlight inverter board P/N {pn}.", "backlight inverter failure",
             "inverter board"),
            ("LCD panel failure confirmed with external monitor test.",
             "Replaced LCD assembly P/N {pn}.", "LCD panel failure", "LCD assembly"),
        ],
    ),
    M(
        [
            "Touchscreen unresponsive in lower right corner.",
            "Touchscreen registers touches in the wrong place.",
        ],
        [
            ("Touch panel calibration off by about 15 mm.",
             "Recalibrated touchscreen from service menu.", "touch panel drift"),
            ("Touch panel cracked at the corner.", "Replaced touch panel P/N {pn}.",
             "impact damage to touch panel", "touch panel"),
        ],
    ),
    M(
        [
            "Loud grinding noise coming from the fan.",
            "High-pitched whining noise from unit.",
            "Overtemperature warning displayed.",
            "Fan noise getting louder over the last week.",
        ],
        [
            ("Cooling fan bearing worn, fan speed {rpm} rpm.", "Replaced cooling fan P/N {pn}.",
             "worn fan bearing", "cooling fan"),
            ("Heavy dust buildup on fan filter and heat sink.",
             "Cleaned air filter and heat sink with vacuum and compressed air.",
             "clogged air filter"),
            ("Fan blade cracked, rubbing on shroud.", "Replaced fan and air filter P/N {pn}.",
             "fan damage", "cooling fan"),
        ],
    ),
    M(
        [
            "Cracked housing after unit was dropped.",
            "Rear case cracked near the AC inlet.",
            "Front bezel cracked, pieces missing.",
        ],
        [
            ("Crack runs through the mounting boss, housing no longer fluid resistant.",
             "Replaced rear housing P/N {pn}.", "dropped during transport", "rear housing"),
            ("Front bezel cracked at the corner; internal components OK.",
             "Replaced front bezel P/N {pn}.", "impact with bed rail", "front bezel"),
        ],
        tag="portable",
    ),
    M(
        ["Broken handle.", "Carry handle loose."],
        [
            ("Handle mounting posts broken off.", "Replaced handle assembly P/N {pn}.",
             "unit lifted by the handle while attached to a pole", "handle"),
            ("Handle screws stripped.", "Installed new handle screws with threadlocker.",
             "normal wear"),
        ],
        tag="portable",
    ),
    M(
        [
            "Unit froze on boot screen.",
            "Software error {code} displayed, unit locks up.",
            "Reboots randomly during use.",
            "System hangs when trying to export data.",
        ],
        [
            ("Error log shows repeated watchdog resets.",
             "Updated firmware from v{fw_old} to v{fw_new}.", "software defect fixed in v{fw_new}"),
            ("Configuration file corrupted.",
             "Reloaded software per service manual and restored site configuration.",
             "corrupted configuration file"),
            ("Known issue listed in {mfr} service bulletin for v{fw_old}.",
             "Installed software v{fw_new} per service bulletin.", "known software defect"),
            ("Event log full, system slow to respond.",
             "Cleared error log and performed factory reset; reloaded facility profile.",
             "full event log"),
        ],
    ),
    M(
        [
            "Settings revert to defaults after power cycle.",
            "Date/time wrong after every power-off.",
        ],
        [
            ("Real-time clock battery measured 1.9 V.",
             "Replaced RTC coin cell P/N {pn} and restored configuration.",
             "depleted RTC battery", "RTC battery"),
        ],
    ),
    M(
        ["Frayed power cord.", "Ground pin missing on power cord.",
         "Power cord strain relief split open."],
        [
            ("Ground resistance {ohm_bad} ohm, fails limit of 0.3 ohm.",
             "Replaced hospital-grade power cord P/N {pn}.", "cord rolled over by bed casters",
             "power cord"),
            ("Insulation cut exposing conductors near the plug.",
             "Replaced hospital-grade power cord P/N {pn}.", "cord pulled out by the cable",
             "power cord"),
        ],
        tag="portable",
    ),
    M(
        ["Keypad buttons sticking.", "Keypad unresponsive, some keys need several presses.",
         "Silence button does not work."],
        [
            ("Membrane keypad worn through on the most used keys.",
             "Replaced keypad membrane P/N {pn}.", "worn keypad", "keypad"),
            ("Sticky residue under keypad overlay.",
             "Cleaned keypad and verified every key in service test mode.",
             "fluid ingress from disinfectant spray"),
        ],
    ),
    M(
        ["Rotary knob skipping values.", "Navigation wheel selects the wrong item."],
        [
            ("Encoder knob contacts worn.", "Replaced encoder knob assembly P/N {pn}.",
             "normal wear", "encoder"),
        ],
    ),
    M(
        [
            "Not connecting to wireless.",
            "Drops off the network every few hours.",
            "Device not showing in EMR integration.",
            "Data not flowing to EMR since last night.",
        ],
        [
            ("Device certificate expired on {cert_date}.",
             "Installed new device certificate and re-entered WPA2-Enterprise credentials.",
             "expired certificate"),
            ("Wireless module not detected in service menu.",
             "Replaced wireless module P/N {pn}.", "failed wireless module", "wireless module"),
            ("Wrong SSID profile loaded after software update.",
             "Reloaded network profile and verified association to access point.",
             "network profile lost during update"),
            ("IP conflict with another device on VLAN {vlan}.",
             "Worked with IT network team to assign static IP {ip} and confirmed connectivity.",
             "IP address conflict"),
        ],
    ),
    M(
        ["Fluid spilled into unit.", "Sticky residue on keypad, possible IV fluid ingress.",
         "Saline leaked into the device during use."],
        [
            ("Corrosion on main board connector J{jnum}.",
             "Replaced main board P/N {pn} due to corrosion.", "fluid ingress", "main board"),
            ("Dried dextrose residue inside housing, boards OK.",
             "Disassembled, cleaned with IPA and dried; inspected boards under magnification.",
             "fluid ingress"),
            ("Moisture under display bezel.",
             "Dried unit for 24 h, replaced bezel gasket P/N {pn}.",
             "improper cleaning (disinfectant sprayed directly on unit)", "bezel gasket"),
        ],
        tag="portable",
    ),
    M(
        ["Alarm volume very low.", "No audible alarm, only visual."],
        [
            ("Speaker cone torn.", "Replaced speaker assembly P/N {pn}.", "speaker failure",
             "speaker"),
            ("Speaker connector loose.", "Reseated speaker connector.", "loose connector"),
            ("Alarm volume minimum set to 1 in configuration.",
             "Reset alarm volume minimum per clinical engineering policy.",
             "configuration error"),
        ],
    ),
    M(
        [
            "Intermittent fault reported, details unclear.",
            "Staff report device 'acting weird'.",
            "Device alarmed once with unknown error, cleared on restart.",
        ],
        [
            ("Could not reproduce; ran unit for {h} hours with no fault.",
             "Performed full functional check, no fault found.",
             "no fault found, possible user error"),
            ("No errors in the event log for the reported time.",
             "Ran extended burn-in test without recurrence.", "could not duplicate"),
        ],
    ),
)

_CRIT = ("ventilator", "defibrillator", "anesthesia machine", "infant incubator")

EQUIPMENT: dict[str, dict] = {
    "infusion pump": {
        "home": True,
        "weight": 20,
        "noun": "pump",
        "models": [
            ("BD", "Alaris 8015 PC Unit"),
            ("BD", "Alaris 8100 LVP Module"),
            ("Baxter", "Sigma Spectrum"),
            ("Baxter", "Spectrum IQ"),
            ("Fresenius Kabi", "Agilia VP"),
            ("Mindray", "BeneFusion VP5"),
            ("ICU Medical", "Plum 360"),
        ],
        "depts": {"ICU": 4, "Med-Surg": 4, "Oncology": 3, "Emergency": 2, "NICU": 1, "OR": 1},
        "codes": ("E-2##", "Err ##", "error ###-##-###", "Malfunction ##.#"),
        "modes": [
            M(
                [
                    "Pump alarming downstream occlusion with no kink in the line.",
                    "Repeated patient-side occlusion alarms on channel {ch}, nurse swapped "
                    "tubing twice.",
                    "Occlusion alarm at {rate} mL/h will not clear after reloading the set.",
                ],
                [
                    ("Downstream pressure sensor reads {kpa} kPa offset at zero load.",
                     "Replaced downstream pressure sensor assembly P/N {pn}.",
                     "pressure sensor drift", "pressure sensor"),
                    ("Dried dextrose on pressure sensor pins; pumping fingers sticky.",
                     "Cleaned pumping mechanism and sensor pins with IPA, recalibrated pressure "
                     "sensors.", "fluid ingress from spilled TPN"),
                    ("Platen spring weak, set not compressed evenly.",
                     "Replaced pumping mechanism P/N {pn}.", "worn platen", "pumping mechanism"),
                    ("No fault with pump; occlusion alarm reproduced only with the clamp closed "
                     "on the set.", "Reviewed set loading with charge nurse.",
                     "roller clamp left closed (user error)"),
                ],
            ),
            M(
                [
                    "Upstream occlusion alarm every few minutes.",
                    "Upstream occlusion alarm with full bag, spike OK.",
                ],
                [
                    ("Upstream pressure sensor drifting, out of calibration.",
                     "Recalibrated upstream pressure transducer per service manual.",
                     "sensor drift"),
                    ("Upstream sensor cracked.", "Replaced upstream pressure sensor P/N {pn}.",
                     "sensor damage", "upstream sensor"),
                ],
            ),
            M(
                [
                    "Air-in-line alarms with no visible air in the tubing.",
                    "AIL alarm keeps triggering at low rates.",
                    "Air-in-line alarm on channel {ch} during blood infusion.",
                ],
                [
                    ("Air-in-line ultrasonic sensor failing self-test.",
                     "Replaced air-in-line detector P/N {pn}.", "AIL sensor failure",
                     "air-in-line sensor"),
                    ("AIL detector channel dirty, residue in sensor slot.",
                     "Cleaned AIL sensor channel, verified detection with 50 uL bubble test.",
                     "contaminated AIL sensor"),
                ],
            ),
            M(
                [
                    "Door will not latch.",
                    "Door latch broken, set not held in place.",
                    "Channel door pops open during infusion.",
                ],
                [
                    ("Door latch hook cracked.",
                     "Replaced door latch P/N {pn} and verified door-open alarm.",
                     "broken latch", "door latch"),
                    ("Door hinge pin walked out.", "Replaced door assembly P/N {pn}.",
                     "normal wear", "door assembly"),
                ],
            ),
            M(
                [
                    "Nurse reports bag finished early, suspect over-infusion.",
                    "Volume infused does not match expected.",
                    "Heparin drip ran about {pct_small}% fast per pharmacy.",
                ],
                [
                    ("Flow accuracy with IDA-5: {err}% error at 100 mL/h (spec +/-5%).",
                     "Recalibrated pumping mechanism per service manual.", "calibration drift"),
                    ("Mechanism cam worn, stroke volume low.",
                     "Replaced pumping mechanism P/N {pn}; flow accuracy re-verified within "
                     "+/-5%.", "worn pumping mechanism", "pumping mechanism"),
                    ("Flow accuracy within spec on bench ({flow} mL/h at 100 mL/h).",
                     "No repair needed; pharmacy notified, incident review opened.",
                     "no device fault found (bag overfill suspected)"),
                ],
            ),
            M(
                [
                    "Pump not receiving updated drug library.",
                    "Drug library version outdated on unit.",
                    "Pump shows communication error with server.",
                ],
                [
                    ("Pump last synced {days_ago} days ago; server shows pump offline.",
                     "Pushed latest drug library from server, confirmed version on unit.",
                     "server-side deployment failure"),
                    ("Wireless card not associating to the medical device SSID.",
                     "Replaced wireless module P/N {pn}.", "wireless module failure",
                     "wireless module"),
                ],
            ),
            M(
                [
                    "Pump displays {code} and channel fails.",
                    "Channel error {code}, module unusable.",
                    "Malfunction alarm {code} at startup.",
                ],
                [
                    ("Error log: {code} repeated {count} times; communication fault between PC "
                     "unit and module.", "Replaced IUI connector P/N {pn}.",
                     "bent connector pins", "IUI connector"),
                    ("Logic board fails diagnostics with {code}.",
                     "Replaced main logic board P/N {pn}.", "logic board failure", "main board"),
                ],
            ),
            M(
                [
                    "Pole clamp loose, pump slides down the IV pole.",
                    "Pole clamp knob spins freely.",
                ],
                [
                    ("Pole clamp threads stripped.", "Replaced pole clamp assembly P/N {pn}.",
                     "normal wear", "pole clamp"),
                    ("Clamp screw bent.", "Replaced pole clamp screw P/N {pn}.",
                     "over-tightening on oversized pole", "clamp screw"),
                ],
            ),
        ],
        "pm": [
            "Flow rate accuracy at 100 mL/h: {flow} mL/h (spec +/-5%).",
            "Occlusion pressure test upstream and downstream: PASS.",
            "Air-in-line detection verified with bubble test.",
            "Door and latch function checked.",
            "Drug library version verified current.",
        ],
        "verify": [
            "Flow accuracy verified with IDA-5 at 100 mL/h: {flow} mL/h.",
            "Ran occlusion and AIL tests - PASS.",
        ],
        "recalls": [
            ("software anomaly in v{fw_old} may cause keypad entries to register twice",
             "Updated firmware to v{fw_new} per field action", None),
            ("possible cracks in the pumping mechanism housing",
             "Inspected mechanism housing, replaced P/N {pn}", "pumping mechanism"),
            ("battery may fail without warning", "Replaced battery with revised P/N {pn}",
             "battery pack"),
        ],
        "cal": [("flow rate at 100 mL/h", "mL/h", 100.0, 4.0),
                ("occlusion pressure", "psi", 12.5, 1.2)],
    },
    "syringe pump": {
        "weight": 5,
        "noun": "syringe pump",
        "models": [
            ("BD", "Alaris 8110 Syringe Module"),
            ("Fresenius Kabi", "Agilia SP"),
            ("Medtronic", "Medfusion 4000"),
            ("Mindray", "BeneFusion SP5"),
        ],
        "depts": {"NICU": 4, "ICU": 3, "OR": 2, "Oncology": 1},
        "codes": ("E-###", "Err ##"),
        "modes": [
            M(
                [
                    "Syringe not recognized, size detection fault.",
                    "Pump says wrong syringe size for a {syr} mL syringe.",
                ],
                [
                    ("Syringe size sensor potentiometer out of range.",
                     "Replaced syringe size sensor P/N {pn}.", "sensor failure", "size sensor"),
                    ("Barrel clamp sensor dirty.",
                     "Cleaned barrel clamp and recalibrated size detection for 3-60 mL.",
                     "dirty clamp sensor"),
                ],
            ),
            M(
                [
                    "Plunger clamp broken.",
                    "Plunger driver does not grip the plunger flange.",
                ],
                [
                    ("Plunger clamp arm cracked.", "Replaced plunger driver assembly P/N {pn}.",
                     "broken plunger clamp", "plunger driver"),
                ],
            ),
            M(
                ["Occlusion alarm at {rate} mL/h on small syringe.",
                 "False occlusion alarms on 10 mL syringe."],
                [
                    ("Force sensor reading high at zero load.", "Recalibrated force sensor.",
                     "force sensor drift"),
                    ("Force sensor fails calibration.", "Replaced force sensor P/N {pn}.",
                     "force sensor failure", "force sensor"),
                ],
            ),
        ],
        "pm": [
            "Flow accuracy at 10 mL/h with 60 mL syringe: {flow_small} mL/h.",
            "Occlusion alarm at high and low thresholds: PASS.",
        ],
        "verify": ["Flow accuracy at 10 mL/h verified: {flow_small} mL/h."],
        "recalls": [("lead screw may bind at low rates", "Replaced lead screw P/N {pn}",
                     "lead screw")],
        "cal": [("flow rate at 10 mL/h", "mL/h", 10.0, 0.4)],
    },
    "ventilator": {
        "home": True,
        "weight": 8,
        "noun": "vent",
        "models": [
            ("Draeger", "Evita V500"),
            ("Draeger", "Savina 300"),
            ("Medtronic", "Puritan Bennett 980"),
            ("Philips", "Respironics V60"),
            ("GE Healthcare", "CARESCAPE R860"),
            ("Hamilton Medical", "HAMILTON-C6"),
        ],
        "depts": {"ICU": 6, "Respiratory Therapy": 3, "Emergency": 2, "NICU": 1},
        "codes": ("TE ##", "Technical fault ##-###", "Err ##", "Code ##.#"),
        "modes": [
            M(
                [
                    "O2 sensor calibration failed.",
                    "FiO2 reading {o2_bad}% with 100% O2 set.",
                    "O2 cell alarm on startup.",
                ],
                [
                    ("O2 cell depleted, output {mv} mV.",
                     "Replaced O2 cell P/N {pn}, calibrated at 21% and 100%.",
                     "O2 cell end of life", "O2 cell"),
                    ("O2 cell within date, calibration drifted.",
                     "Performed O2 sensor calibration.", "calibration drift"),
                ],
            ),
            M(
                [
                    "Flow sensor error, vent alarming 'Flow measurement inoperable'.",
                    "Measured tidal volumes erratic.",
                    "Expiratory flow sensor failure message.",
                ],
                [
                    ("Expiratory flow sensor wire broken.",
                     "Replaced expiratory flow sensor P/N {pn}.", "broken hot-wire flow sensor",
                     "flow sensor"),
                    ("Flow sensor contaminated with secretions.",
                     "Replaced flow sensor with reprocessed spare, recalibrated.",
                     "contaminated flow sensor"),
                ],
            ),
            M(
                [
                    "Leak test failed during SST.",
                    "Vent alarming high leak, circuit changed with no improvement.",
                    "Cannot maintain PEEP of {peep} cmH2O.",
                ],
                [
                    ("Exhalation valve diaphragm torn.",
                     "Replaced exhalation valve diaphragm P/N {pn}.", "torn exhalation diaphragm",
                     "exhalation diaphragm"),
                    ("Leak at expiratory cassette O-ring, leak rate {leak} mL/min at 50 cmH2O.",
                     "Replaced O-rings and re-ran leak test.", "worn O-ring"),
                    ("Expiratory valve cassette seated crooked after reprocessing.",
                     "Reseated expiratory valve cassette; SST passed.",
                     "improper reassembly after cleaning"),
                ],
            ),
            M(
                [
                    "Vent went to ambient state with {code}.",
                    "Technical fault {code}, patient switched to backup vent.",
                    "Turbine overheat alarm.",
                ],
                [
                    ("Blower current high, turbine bearing noise audible.",
                     "Replaced turbine module P/N {pn}.", "turbine bearing wear", "turbine"),
                    ("Blower inlet filter clogged.",
                     "Replaced inlet filter and fan filter, ran EST.", "clogged inlet filter"),
                ],
            ),
        ],
        "pm": [
            "Ran EST/SST - PASS.",
            "Replaced inlet air filter and fan filter (PM kit P/N {pm_kit}).",
            "Verified tidal volume with VT900A at 500 mL: {vt} mL.",
            "O2 cell calibrated at 21% and 100%.",
            "Checked all alarms including disconnect and high pressure.",
        ],
        "verify": [
            "Ran EST and verified tidal volume with VT900A: {vt} mL delivered for 500 mL set.",
            "SST passed with new circuit.",
        ],
        "recalls": [
            ("potential for unintended shutdown due to power supply connector",
             "Replaced power supply cable per field correction P/N {pn}", "PSU cable"),
            ("software v{fw_old} may show incorrect PEEP after circuit disconnect",
             "Updated software to v{fw_new}", None),
        ],
        "cal": [("tidal volume at 500 mL", "mL", 500.0, 15.0), ("FiO2 at 60%", "%", 60.0, 1.5)],
    },
    "MRI scanner": {
        "weight": 1.2,
        "noun": "MRI",
        "models": [
            ("GE Healthcare", "SIGNA Artist 1.5T"),
            ("GE Healthcare", "SIGNA Premier 3T"),
            ("Siemens Healthineers", "MAGNETOM Vida 3T"),
            ("Siemens Healthineers", "MAGNETOM Sola 1.5T"),
            ("Philips", "Ingenia Ambition 1.5T"),
        ],
        "depts": {"Radiology": 1},
        "codes": ("0x8004%%%%", "Error ####", "RF ##-###"),
        "labor": 4.0,
        "modes": [
            M(
                [
                    "Helium level alarm, level at {he}%.",
                    "Cold head not running, compressor fault on the chiller panel.",
                    "Helium pressure rising.",
                ],
                [
                    ("Cold head compressor tripped on overtemperature, chilled water flow low.",
                     "Restarted compressor after facilities restored chilled water; {mfr} "
                     "notified.", "facility chiller interruption"),
                    ("Helium compressor adsorber past service hours.",
                     "Replaced compressor adsorber P/N {pn}.", "adsorber past service life",
                     "adsorber"),
                    ("Cold head making knocking noise, 2nd stage temperature high.",
                     "Coordinated {mfr} FSE visit; cold head replaced.", "cold head wear"),
                ],
            ),
            M(
                [
                    "Head coil not detected.",
                    "Coil error {code} when starting exam.",
                ],
                [
                    ("Head/neck coil connector pins damaged.",
                     "Replaced head/neck coil P/N {pn} (exchange).", "damaged coil connector",
                     "head coil"),
                    ("Coil element {elem} failing in coil test.",
                     "Sent coil for repair, loaner coil installed and tested.",
                     "coil element failure"),
                ],
            ),
            M(
                [
                    "RF spikes / herringbone artifact on all sequences.",
                    "Image artifacts, zipper line through images.",
                ],
                [
                    ("RF noise source found: loose RF door finger stock.",
                     "Repaired RF door finger stock, RF noise test passed.", "RF shielding leak"),
                    ("Spike test fails; loose gradient cable connection in equipment room.",
                     "{mfr} FSE re-torqued gradient cable connections, spike test passed.",
                     "loose gradient cable"),
                ],
            ),
            M(
                [
                    "Patient table will not move.",
                    "Table stuck in the bore, manual release used.",
                ],
                [
                    ("Table drive belt slipping.", "Replaced table drive belt P/N {pn}.",
                     "table drive wear", "drive belt"),
                    ("Table position encoder error {code}.", "Replaced table encoder P/N {pn}.",
                     "encoder failure", "table encoder"),
                ],
            ),
        ],
        "pm": [
            "Helium level {he}%, pressure normal.",
            "Ran SNR and uniformity phantom QA - within spec.",
            "Checked RF room shielding and door seal.",
            "Verified chiller flow and temperature.",
        ],
        "verify": ["Ran phantom QA; SNR and uniformity within spec.", "Daily QA passed."],
        "recalls": [("possible failure of the table emergency release",
                     "{mfr} FSE installed revised release mechanism P/N {pn}", "table release")],
        "cal": [("center frequency", "MHz", 63.86, 0.01)],
    },
    "CT scanner": {
        "weight": 1.5,
        "noun": "CT",
        "models": [
            ("GE Healthcare", "Revolution CT"),
            ("GE Healthcare", "Optima CT660"),
            ("Siemens Healthineers", "SOMATOM Force"),
            ("Siemens Healthineers", "SOMATOM go.Top"),
            ("Philips", "Incisive CT"),
        ],
        "depts": {"Radiology": 4, "Emergency": 1},
        "codes": ("Error ####", "Gantry error #-###", "HV ###"),
        "labor": 3.5,
        "modes": [
            M(
                [
                    "Tube arcing, scans aborted mid-exam.",
                    "X-ray tube arc errors, {count} in the last day.",
                    "Scan aborted with HV generator error {code}.",
                ],
                [
                    ("Tube arc count high, tube at {tube_scans} scan seconds.",
                     "{mfr} FSE replaced X-ray tube, performed tube seasoning and calibration.",
                     "X-ray tube end of life"),
                    ("HV cable termination shows tracking marks.", "Replaced HV cable P/N {pn}.",
                     "HV cable breakdown", "HV cable"),
                ],
            ),
            M(
                [
                    "Ring artifacts on head images.",
                    "Image quality complaint from radiologist: banding in abdomen.",
                ],
                [
                    ("Detector calibration out of date.",
                     "Performed air calibration and detector calibration.",
                     "detector calibration drift"),
                    ("Detector module {elem} has a dead channel.",
                     "Replaced detector module P/N {pn}.", "detector module failure",
                     "detector module"),
                ],
            ),
            M(
                ["Gantry rotation error {code}.", "Gantry will not rotate, rotation fault."],
                [
                    ("Slip ring brushes worn.", "Replaced slip ring brush block P/N {pn}.",
                     "slip ring wear", "brush block"),
                ],
            ),
            M(
                ["Table will not move, table motion error.", "Table drifts during helical scan."],
                [
                    ("Table encoder fault.", "Replaced table encoder P/N {pn}.", "encoder failure",
                     "table encoder"),
                    ("Table drive belt tension low.", "Adjusted drive belt tension and "
                     "calibrated table position.", "belt stretch"),
                ],
            ),
        ],
        "pm": [
            "Ran daily QA phantom: CT number water {hu} HU, noise within spec.",
            "Cleaned slip ring and checked brushes.",
            "Performed air calibration.",
            "Checked gantry and table interlocks.",
        ],
        "verify": ["Water phantom CT number {hu} HU, uniformity within spec."],
        "recalls": [("table may move unexpectedly if foot pedal cable damaged",
                     "Installed revised foot pedal P/N {pn}", "foot pedal")],
        "cal": [("CT number of water", "HU", 0.0, 2.0),
                ("kVp accuracy at 120 kV", "kV", 120.0, 1.5)],
    },
    "patient monitor": {
        "weight": 16,
        "noun": "monitor",
        "models": [
            ("Philips", "IntelliVue MX450"),
            ("Philips", "IntelliVue MX800"),
            ("GE Healthcare", "CARESCAPE B650"),
            ("GE Healthcare", "CARESCAPE B450"),
            ("Mindray", "BeneVision N15"),
            ("Draeger", "Infinity Delta"),
        ],
        "depts": {"ICU": 5, "Emergency": 3, "OR": 2, "NICU": 2, "Cardiology": 2, "Med-Surg": 2,
                  "L&D": 1},
        "codes": ("INOP ###", "E-###", "Err ##"),
        "modes": [
            M(
                [
                    "SpO2 reading erratic.",
                    "SpO2 shows 'no signal' with a known good sensor.",
                    "Pleth waveform noisy on multiple patients.",
                ],
                [
                    ("SpO2 extension cable intermittent when flexed.",
                     "Replaced SpO2 interface cable P/N {pn}.", "damaged SpO2 cable", "SpO2 cable"),
                    ("SpO2 module failing self-test.", "Replaced SpO2 module P/N {pn}.",
                     "SpO2 module failure", "SpO2 module"),
                ],
            ),
            M(
                [
                    "NIBP cuff will not inflate.",
                    "NIBP readings inconsistent, cuff leak alarm.",
                    "NIBP takes several minutes to get a reading.",
                ],
                [
                    ("NIBP pump weak, leak rate {leak_mmhg} mmHg/min.",
                     "Replaced NIBP pump assembly P/N {pn}.", "NIBP pump wear", "NIBP pump"),
                    ("NIBP hose connector cracked.", "Replaced NIBP hose P/N {pn}.",
                     "cracked hose connector", "NIBP hose"),
                    ("NIBP pressure transducer off by {mmhg_err} mmHg.",
                     "Recalibrated NIBP transducer against reference manometer.",
                     "transducer drift"),
                ],
            ),
            M(
                [
                    "ECG lead-off alarms with leads attached.",
                    "Noisy ECG waveform.",
                    "ECG trace shows 60 Hz interference.",
                ],
                [
                    ("{leads}-lead set broken at the yoke.", "Replaced {leads}-lead set P/N {pn}.",
                     "broken lead wire", "lead set"),
                    ("Trunk cable intermittent.", "Replaced ECG trunk cable P/N {pn}.",
                     "damaged trunk cable", "ECG trunk cable"),
                    ("Monitor OK with simulator; electrodes dried out.",
                     "Educated staff on electrode prep and storage.", "poor electrode contact"),
                ],
            ),
            M(
                [
                    "Monitor not showing at central station.",
                    "Lost central connection, bed shows offline.",
                ],
                [
                    ("Monitor assigned to wrong care unit in central station config.",
                     "Reassigned monitor to correct care unit in central station config.",
                     "network configuration"),
                    ("Network port on monitor damaged.",
                     "Replaced network interface board P/N {pn}.", "damaged network port",
                     "network board"),
                ],
            ),
        ],
        "pm": [
            "ECG, SpO2, NIBP, temperature verified with patient simulator.",
            "NIBP accuracy at 0, 50, 150, 250 mmHg: within +/-3 mmHg.",
            "Alarm limits and volume verified.",
        ],
        "verify": [
            "Verified all parameters with ProSim 8 simulator.",
            "NIBP accuracy within +/-3 mmHg at 150 mmHg.",
        ],
        "recalls": [("display may freeze without alarm after v{fw_old}",
                     "Installed software v{fw_new}", None)],
        "cal": [("NIBP at 150 mmHg", "mmHg", 150.0, 2.0),
                ("temperature at 37.0 C", "C", 37.0, 0.1)],
    },
    "defibrillator": {
        "weight": 6,
        "noun": "defib",
        "models": [
            ("Zoll", "R Series"),
            ("Zoll", "X Series"),
            ("Philips", "HeartStart MRx"),
            ("Philips", "HeartStart XL+"),
            ("Stryker", "LIFEPAK 15"),
            ("Stryker", "LIFEPAK 20e"),
        ],
        "depts": {"Emergency": 3, "ICU": 3, "Cardiology": 2, "OR": 2, "Med-Surg": 2},
        "codes": ("Service code ##", "Err ##", "E-###"),
        "modes": [
            M(
                [
                    "Failed daily self-test.",
                    "Code readiness check failed, red X on display.",
                    "Defib shows 'Service' indicator.",
                ],
                [
                    ("Self-test log shows {code}; therapy cable test fails.",
                     "Replaced therapy cable P/N {pn}.", "damaged therapy cable",
                     "therapy cable"),
                    ("Internal charge test failed at 200 J.", "Replaced HV capacitor P/N {pn}.",
                     "HV capacitor failure", "HV capacitor"),
                    ("Self-test log shows {code} from therapy board.",
                     "Replaced therapy board P/N {pn}.", "therapy board fault", "therapy board"),
                ],
            ),
            M(
                [
                    "Energy delivered out of tolerance during check.",
                    "Charge time longer than {secs} seconds to 200 J.",
                ],
                [
                    ("Delivered {joules} J into 50 ohm load for 200 J selected.",
                     "Replaced HV capacitor P/N {pn}.", "aging capacitor", "HV capacitor"),
                    ("Charge time {secs} s on battery, 6 s on AC.",
                     "Replaced battery P/N {pn}; charge time now 6 s.", "weak battery",
                     "battery pack"),
                ],
            ),
            M(
                ["Printer jams.", "Strip recorder not printing.", "Paper door broken."],
                [
                    ("Printer platen roller worn.", "Replaced printer assembly P/N {pn}.",
                     "printer wear", "printer"),
                    ("Printer door latch broken.", "Replaced paper door P/N {pn}.",
                     "latch wear", "printer door"),
                    ("Wrong paper loaded (thermal side down).",
                     "Reloaded paper correctly, printed test strip.", "user error"),
                ],
            ),
        ],
        "pm": [
            "Energy output test at 2, 50, 200 J with Impulse 7000DP: within +/-15%.",
            "Pacer output verified at 30, 70, 140 mA.",
            "Sync cardioversion timing verified.",
            "Checked pads expiration and cable condition.",
        ],
        "verify": ["Energy output verified: {joules} J delivered for 200 J selected.",
                   "Ran user test - PASS."],
        "recalls": [
            ("device may fail to deliver shock due to a relay issue",
             "Replaced relay board per field correction P/N {pn}", "relay board"),
            ("software v{fw_old} may show incorrect battery status",
             "Updated software to v{fw_new}", None),
        ],
        "cal": [("energy at 200 J", "J", 200.0, 6.0), ("pacer output at 70 mA", "mA", 70.0, 2.0)],
    },
    "ultrasound": {
        "weight": 4,
        "noun": "ultrasound",
        "models": [
            ("GE Healthcare", "LOGIQ E10"),
            ("GE Healthcare", "Vivid E95"),
            ("Philips", "EPIQ 7"),
            ("Philips", "Affiniti 70"),
            ("Siemens Healthineers", "ACUSON Sequoia"),
            ("Mindray", "Resona 7"),
        ],
        "depts": {"Radiology": 3, "Cardiology": 2, "Emergency": 2, "L&D": 1},
        "codes": ("Error ####", "E-###"),
        "modes": [
            M(
                [
                    "Dark vertical lines in the image from the {probe} probe.",
                    "Image dropout on one side with the {probe} probe.",
                ],
                [
                    ("Probe element test shows {dead} dead elements.",
                     "Sent {probe} probe for repair under contract, loaner provided.",
                     "transducer element failure"),
                    ("Cracked lens on {probe} transducer, leakage test failed.",
                     "Replaced {probe} transducer P/N {pn}.", "probe dropped", "probe"),
                ],
            ),
            M(
                ["Probe not recognized by system.", "System shows 'no probe' on port 2."],
                [
                    ("Probe connector pins bent.", "Replaced probe connector P/N {pn}.",
                     "connector damage", "probe connector"),
                    ("Port 2 connector contacts dirty.",
                     "Cleaned probe port contacts, verified all ports.", "dirty contacts"),
                ],
            ),
            M(
                [
                    "Trackball not moving cursor smoothly.",
                    "Keyboard keys unresponsive.",
                ],
                [
                    ("Trackball dirty.", "Cleaned trackball assembly.", "dirty trackball"),
                    ("Control panel cable loose.", "Reseated control panel cable.",
                     "loose cable"),
                    ("Control panel keys worn.", "Replaced control panel P/N {pn}.",
                     "normal wear", "control panel"),
                ],
            ),
            M(
                ["System will not boot past splash screen.", "System very slow to boot."],
                [
                    ("Hard drive SMART errors.",
                     "Replaced hard drive P/N {pn}, reloaded system software and presets.",
                     "hard drive failure", "hard drive"),
                ],
            ),
        ],
        "pm": [
            "Probe inspection and leakage test on all transducers - PASS.",
            "Image QA with phantom, depth and resolution within spec.",
            "Cleaned air filters.",
        ],
        "verify": ["Image QA with phantom passed."],
        "recalls": [("transducer lens may delaminate", "Inspected lenses, replaced P/N {pn}",
                     "probe")],
        "cal": [],
    },
    "X-ray": {
        "weight": 3,
        "noun": "X-ray unit",
        "models": [
            ("GE Healthcare", "Optima XR240amx"),
            ("GE Healthcare", "AMX Navigate"),
            ("Philips", "DigitalDiagnost C90"),
            ("Siemens Healthineers", "Mobilett Mira Max"),
            ("Siemens Healthineers", "Ysio Max"),
            ("Carestream", "DRX-Revolution"),
        ],
        "depts": {"Radiology": 4, "Emergency": 2, "ICU": 1, "OR": 1},
        "codes": ("Error ####", "E-###", "Gen ###"),
        "labor": 2.0,
        "modes": [
            M(
                [
                    "Wireless DR panel not communicating with system.",
                    "Detector not ready, exposures blocked.",
                ],
                [
                    ("Panel pairing lost after update.",
                     "Re-paired detector and re-ran gain calibration.", "detector pairing lost"),
                    ("Detector battery not charging.", "Replaced detector battery P/N {pn}.",
                     "battery failure", "detector battery"),
                ],
            ),
            M(
                ["DR panel dropped, now showing lines in image.", "Cracked DR panel."],
                [
                    ("Panel scintillator cracked.",
                     "{mfr} replaced DR panel under service contract.",
                     "detector damaged by drop"),
                ],
            ),
            M(
                ["Collimator light not working.", "Collimator light dim, field hard to see."],
                [
                    ("Collimator lamp burned out.", "Replaced collimator lamp P/N {pn}.",
                     "lamp end of life", "collimator lamp"),
                    ("Collimator LED driver failed.", "Replaced LED driver board P/N {pn}.",
                     "LED driver failure", "LED driver"),
                ],
            ),
            M(
                ["Tube arm drifts down, will not hold position."],
                [("Arm brake worn.", "Replaced arm brake P/N {pn}.", "brake wear", "arm brake")],
            ),
            M(
                ["Exposure error {code}, no image acquired.", "Generator fault {code}."],
                [
                    ("Generator fault in log: {code}.",
                     "Replaced generator control board P/N {pn}.", "generator board failure",
                     "generator board"),
                ],
            ),
            M(
                ["Drive motor on portable not working.", "Portable will not drive forward."],
                [
                    ("Drive motor brushes worn.", "Replaced drive motor P/N {pn}.", "motor wear",
                     "drive motor"),
                    ("Deadman switch on drive handle failed.", "Replaced drive handle switch "
                     "P/N {pn}.", "switch failure", "drive switch"),
                ],
            ),
        ],
        "pm": [
            "kVp, mA and timer accuracy verified with RaySafe X2.",
            "Collimator/light field alignment checked.",
            "Detector calibration performed.",
        ],
        "verify": ["kVp accuracy verified at 80 kV: {kv} kV measured."],
        "recalls": [("drive handle may cause unintended motion",
                     "Installed revised drive handle P/N {pn}", "drive handle")],
        "cal": [("kVp at 80 kV", "kV", 80.0, 1.5), ("exposure time at 100 ms", "ms", 100.0, 3.0)],
    },
    "dialysis machine": {
        "home": True,
        "weight": 5,
        "noun": "dialysis machine",
        "models": [
            ("Fresenius Medical Care", "2008T"),
            ("Fresenius Medical Care", "5008S"),
            ("Baxter", "PrisMax"),
            ("Baxter", "Prismaflex"),
            ("B. Braun", "Dialog+"),
        ],
        "depts": {"Dialysis": 5, "ICU": 2},
        "codes": ("Alarm ####", "E-###", "Err ##"),
        "modes": [
            M(
                [
                    "Conductivity alarm during treatment.",
                    "Conductivity out of range, reading {cond} mS/cm.",
                ],
                [
                    ("Conductivity cell dirty.", "Cleaned and recalibrated conductivity cell.",
                     "scaling in hydraulics"),
                    ("Concentrate pump output low.", "Replaced concentrate pump P/N {pn}.",
                     "concentrate pump wear", "concentrate pump"),
                ],
            ),
            M(
                ["Machine will not pass pressure holding test.", "Fluid under machine."],
                [
                    ("Internal hydraulic leak at the balancing chamber.",
                     "Replaced balancing chamber diaphragm P/N {pn}.", "diaphragm rupture",
                     "balancing chamber"),
                    ("Loose hose clamp at the heater outlet.",
                     "Replaced hose clamp and verified pressure hold.", "loose fitting"),
                ],
            ),
            M(
                ["Blood leak detector alarm with no visible blood."],
                [
                    ("Blood leak detector optics fouled.",
                     "Cleaned blood leak detector, recalibrated.", "fouled optics"),
                    ("Blood leak detector fails calibration.",
                     "Replaced blood leak detector P/N {pn}.", "detector failure",
                     "blood leak detector"),
                ],
            ),
            M(
                ["Air detector alarm keeps triggering.", "Venous line air detector false alarms."],
                [
                    ("Air detector sensor misaligned.",
                     "Realigned air detector and verified with test set.", "sensor misalignment"),
                    ("Air detector fails self-test.", "Replaced air detector P/N {pn}.",
                     "sensor failure", "air detector"),
                ],
            ),
            M(
                ["Heater failure, dialysate temp {temp} C.", "Dialysate temperature low alarm."],
                [
                    ("Heater rod open circuit.", "Replaced heater rod P/N {pn}.",
                     "heater failure", "heater rod"),
                ],
            ),
            M(
                ["Heat disinfect cycle failing.", "Chemical disinfect did not complete."],
                [
                    ("Disinfect temperature not reaching 83 C.",
                     "Descaled hydraulics and reran heat disinfect.", "scale buildup"),
                    ("Citric acid intake line clogged.", "Replaced intake filter P/N {pn}.",
                     "clogged intake line", "intake filter"),
                ],
            ),
        ],
        "pm": [
            "Conductivity and temperature calibration verified.",
            "Pressure holding test - PASS.",
            "Replaced PM kit P/N {pm_kit} (O-rings, filters).",
            "Ran heat disinfect and verified cycle completion.",
        ],
        "verify": ["Ran T1 test - PASS.", "Conductivity verified at {cond} mS/cm."],
        "recalls": [("blood pump may stop without alarm",
                     "Installed updated blood pump module P/N {pn}", "blood pump")],
        "cal": [("conductivity", "mS/cm", 14.0, 0.2), ("dialysate temperature", "C", 37.0, 0.3)],
    },
    "anesthesia machine": {
        "weight": 3,
        "noun": "anesthesia machine",
        "models": [
            ("GE Healthcare", "Aisys CS2"),
            ("GE Healthcare", "Aespire 7900"),
            ("Draeger", "Perseus A500"),
            ("Draeger", "Fabius GS premium"),
            ("Mindray", "A7"),
        ],
        "depts": {"OR": 6, "L&D": 1},
        "codes": ("Error ###", "Alarm ###", "Err ##"),
        "modes": [
            M(
                [
                    "Machine failed leak test during morning checkout.",
                    "System leak of {leak} mL/min.",
                ],
                [
                    ("CO2 absorber canister O-ring damaged.",
                     "Replaced absorber canister O-ring P/N {pn}.", "worn O-ring",
                     "absorber O-ring"),
                    ("Bellows housing cracked.", "Replaced bellows assembly P/N {pn}.",
                     "cracked bellows", "bellows"),
                    ("Loose vaporizer mount seal.",
                     "Reseated vaporizer and replaced mount O-rings; leak test passed.",
                     "improper vaporizer mounting"),
                ],
            ),
            M(
                ["Gas monitor module error {code}.",
                 "Agent readings inaccurate, sevo reading low."],
                [
                    ("Gas module sample line water trap clogged.",
                     "Replaced water trap and calibrated gas module with calibration gas.",
                     "clogged water trap"),
                    ("Gas module fails calibration.", "Replaced gas module P/N {pn}.",
                     "gas module failure", "gas module"),
                ],
            ),
            M(
                ["Flow sensor failure message.", "Tidal volume reading inaccurate."],
                [
                    ("Flow sensor contaminated with moisture.", "Replaced flow sensor P/N {pn}.",
                     "flow sensor contamination", "flow sensor"),
                ],
            ),
        ],
        "pm": [
            "Performed annual PM with PM kit P/N {pm_kit}.",
            "Vaporizer output verified with gas analyzer.",
            "Leak test and ventilator accuracy verified.",
            "O2 sensor calibrated.",
        ],
        "verify": ["Full system checkout passed.", "Leak test: {leak_ok} mL/min at 30 cmH2O."],
        "recalls": [("ventilator may fail to deliver set volume",
                     "Replaced ventilator control board P/N {pn}", "vent control board")],
        "cal": [("O2 concentration at 100%", "%", 100.0, 1.0)],
    },
    "ECG": {
        "weight": 3,
        "noun": "ECG cart",
        "models": [
            ("GE Healthcare", "MAC 5500 HD"),
            ("GE Healthcare", "MAC 2000"),
            ("Philips", "PageWriter TC70"),
            ("Mindray", "BeneHeart R12"),
        ],
        "depts": {"Cardiology": 3, "Emergency": 2, "Med-Surg": 1},
        "codes": ("Error ###", "E-###"),
        "modes": [
            M(
                ["Noisy baseline on all leads.", "Lead II shows flat line.",
                 "Lead fail message on V3."],
                [
                    ("Patient cable lead open.", "Replaced 10-lead patient cable P/N {pn}.",
                     "broken lead wire", "patient cable"),
                    ("Acquisition module intermittent.", "Replaced acquisition module P/N {pn}.",
                     "acquisition module failure", "acquisition module"),
                ],
            ),
            M(
                ["ECGs not transmitting to MUSE.", "Orders not downloading to cart."],
                [
                    ("Site number misconfigured.",
                     "Reconfigured MUSE site and transmission settings.", "configuration error"),
                ],
            ),
            M(
                ["Printer jams every few ECGs.", "Printout faded."],
                [
                    ("Printhead dirty, paper path worn.", "Replaced printhead P/N {pn}.",
                     "printer wear", "printhead"),
                    ("Non-OEM paper in use.", "Replaced paper with OEM stock, cleaned printhead.",
                     "wrong paper"),
                ],
            ),
        ],
        "pm": ["ECG simulator test, all 12 leads verified.", "Print quality checked."],
        "verify": ["Verified 12-lead acquisition with simulator."],
        "recalls": [],
        "cal": [("heart rate at 60 bpm", "bpm", 60.0, 1.0)],
    },
    "autoclave/sterilizer": {
        "weight": 2,
        "noun": "sterilizer",
        "models": [
            ("Steris", "AMSCO 400"),
            ("Steris", "V-PRO maX 2"),
            ("Getinge", "GSS67H"),
            ("Tuttnauer", "3870EA"),
        ],
        "depts": {"Sterile Processing": 5, "OR": 1},
        "codes": ("Fault ###", "Alarm ##", "E-###"),
        "modes": [
            M(
                [
                    "Failed Bowie-Dick test.",
                    "Chamber not reaching 132 C.",
                    "Cycle aborted with {code}.",
                ],
                [
                    ("Air leak at door gasket.", "Replaced door gasket P/N {pn}.",
                     "worn door gasket", "door gasket"),
                    ("Steam trap stuck open.", "Replaced steam trap P/N {pn}.",
                     "failed steam trap", "steam trap"),
                    ("Chamber temperature probe reading {temp_off} C low.",
                     "Replaced chamber RTD P/N {pn} and calibrated.", "temperature probe drift",
                     "chamber RTD"),
                ],
            ),
            M(
                ["Vacuum pump noisy.", "Long vacuum pulse times."],
                [
                    ("Vacuum pump seal leaking.", "Rebuilt vacuum pump with kit P/N {pn}.",
                     "vacuum pump wear", "vacuum pump kit"),
                ],
            ),
            M(
                ["Door will not unlock after cycle.", "Door seal alarm."],
                [
                    ("Door lock solenoid sticking.", "Replaced door lock solenoid P/N {pn}.",
                     "solenoid failure", "door solenoid"),
                ],
            ),
        ],
        "pm": [
            "Calibrated chamber temperature and pressure transducers.",
            "Replaced door gasket and filters per PM schedule.",
            "Bowie-Dick and leak rate test - PASS.",
        ],
        "verify": ["Ran Bowie-Dick and leak test - PASS.", "Chamber temp {temp_ok} C at exposure."],
        "recalls": [],
        "cal": [("chamber temperature", "C", 132.0, 0.5), ("chamber pressure", "psi", 28.5, 0.6)],
    },
    "surgical light": {
        "weight": 2,
        "noun": "surgical light",
        "models": [
            ("Stryker", "Visum LED II"),
            ("Hillrom", "iLED 7"),
            ("Steris", "Harmony LED"),
            ("Draeger", "Polaris 600"),
        ],
        "depts": {"OR": 5, "L&D": 1, "Emergency": 1},
        "codes": ("Err ##", "E-###"),
        "modes": [
            M(
                ["Light head drifts, will not stay in position."],
                [
                    ("Arm brake tension low.", "Adjusted arm brake tension per service manual.",
                     "brake wear"),
                ],
            ),
            M(
                ["Several LEDs out on light head {head}.", "Light head dimmer than the other."],
                [
                    ("LED module {elem} failed.", "Replaced LED module P/N {pn}.",
                     "LED module failure", "LED module"),
                ],
            ),
            M(
                ["Light flickers at high intensity.", "Light turns off when arm is rotated."],
                [
                    ("Slip ring contact worn.", "Replaced slip ring P/N {pn}.", "slip ring wear",
                     "slip ring"),
                ],
            ),
        ],
        "pm": ["Light intensity measured {lux} lux at 1 m.", "Arm and brake adjustment checked."],
        "verify": ["Intensity at 1 m: {lux} lux."],
        "recalls": [],
        "cal": [],
    },
    "hospital bed": {
        "home": True,
        "weight": 7,
        "noun": "bed",
        "models": [
            ("Hillrom", "Centrella Smart+"),
            ("Hillrom", "Progressa"),
            ("Stryker", "ProCuity"),
            ("Stryker", "S3 MedSurg"),
        ],
        "depts": {"Med-Surg": 5, "ICU": 3, "Emergency": 1, "L&D": 1},
        "codes": ("E-###", "Err ##"),
        "modes": [
            M(
                [
                    "Bed exit alarm going off when patient is in bed.",
                    "Bed exit alarm does not sound.",
                    "Scale reading off by {kg} kg.",
                ],
                [
                    ("Load cell {elem} out of calibration.",
                     "Calibrated scale with test weights.", "load cell drift"),
                    ("Load cell cable pinched.", "Replaced load cell P/N {pn}.", "pinched cable",
                     "load cell"),
                ],
            ),
            M(
                ["Head of bed will not raise.", "Bed stuck in low position.",
                 "Pendant control not working."],
                [
                    ("HOB actuator not responding.", "Replaced HOB actuator P/N {pn}.",
                     "actuator failure", "HOB actuator"),
                    ("Pendant cable cut.", "Replaced pendant P/N {pn}.", "cable damage",
                     "pendant"),
                ],
            ),
            M(
                ["Side rail latch broken.", "Side rail will not lock up."],
                [
                    ("Side rail latch spring broken.", "Replaced side rail latch P/N {pn}.",
                     "latch wear", "side rail latch"),
                ],
            ),
            M(
                ["Brake will not engage.", "Caster wobbles.", "CPR release does not work."],
                [
                    ("Brake pedal linkage worn.", "Adjusted brake linkage.", "linkage wear"),
                    ("Caster bearing worn.", "Replaced caster P/N {pn}.", "caster wear",
                     "caster"),
                    ("CPR cable stretched.", "Replaced CPR release cable P/N {pn}.",
                     "cable stretch", "CPR cable"),
                ],
            ),
        ],
        "pm": ["Scale verified with 50 kg test weight.", "Bed exit alarm function checked.",
               "All motions and CPR release verified.", "Brakes and casters inspected."],
        "verify": ["All functions verified, scale within 0.5 kg."],
        "recalls": [("side rail may release unexpectedly", "Installed rail latch kit P/N {pn}",
                     "rail latch kit")],
        "cal": [("scale at 50 kg", "kg", 50.0, 0.3)],
    },
    "infant incubator": {
        "weight": 2,
        "noun": "isolette",
        "models": [
            ("Draeger", "Isolette 8000 plus"),
            ("Draeger", "Babyleo TN500"),
            ("GE Healthcare", "Giraffe OmniBed"),
        ],
        "depts": {"NICU": 6, "L&D": 1},
        "codes": ("Alarm ##", "E-###"),
        "modes": [
            M(
                ["Air temperature alarm, temp not holding at set point."],
                [("Heater element degraded.", "Replaced heater P/N {pn}.", "heater failure",
                  "heater")],
            ),
            M(
                ["Skin temp probe reading erratic.", "Probe failure alarm."],
                [("Skin probe connector damaged.", "Replaced skin temp probe P/N {pn}.",
                  "damaged probe", "skin probe")],
            ),
            M(
                ["Humidity not reaching {hum}%."],
                [("Humidifier reservoir scale buildup.",
                  "Descaled humidifier, verified humidity control.", "scale buildup")],
            ),
            M(
                ["Porthole door latch broken.", "Porthole will not stay closed."],
                [("Porthole latch cracked.", "Replaced porthole latch P/N {pn}.", "latch wear",
                  "porthole latch")],
            ),
            M(
                ["Fan noise in incubator.", "Air flow alarm."],
                [("Fan impeller rubbing.", "Replaced fan motor P/N {pn}.", "fan wear",
                  "fan motor")],
            ),
        ],
        "pm": ["Temperature accuracy verified with INCU II analyzer.", "Alarms verified."],
        "verify": ["Temperature verified with INCU II: {temp_ok2} C at 36.0 C set."],
        "recalls": [],
        "cal": [("air temperature at 36.0 C", "C", 36.0, 0.2)],
    },
    "blood gas analyzer": {
        "weight": 1.5,
        "noun": "analyzer",
        "models": [
            ("Siemens Healthineers", "RAPIDPoint 500e"),
            ("Radiometer", "ABL90 FLEX PLUS"),
        ],
        "depts": {"Lab": 4, "ICU": 2, "Emergency": 1},
        "codes": ("Error ###", "E-###"),
        "modes": [
            M(
                ["Sample path clogged.", "Sample aspiration error {code}."],
                [("Sample probe blocked with clot.", "Replaced sample probe P/N {pn}.",
                  "clotted sample", "sample probe"),
                 ("Clot in sample path.", "Cleared sample path and ran QC.", "clotted sample")],
            ),
            M(
                ["QC failure on pO2.", "Cartridge not recognized."],
                [("Cartridge reader contacts dirty.", "Cleaned reader contacts, QC passed.",
                  "dirty reader"),
                 ("Sensor cartridge expired on board.", "Replaced sensor cartridge, QC passed.",
                  "expired cartridge")],
            ),
        ],
        "pm": ["Ran QC levels 1-3 - PASS.", "Replaced pump tubing."],
        "verify": ["QC passed on all levels."],
        "recalls": [],
        "cal": [("pH QC level 2", "pH", 7.40, 0.01)],
    },
    "electrosurgical unit": {
        "weight": 2,
        "noun": "ESU",
        "models": [
            ("Medtronic", "Valleylab FT10"),
            ("Erbe", "VIO 300 D"),
        ],
        "depts": {"OR": 6},
        "codes": ("Error ###", "E-###"),
        "modes": [
            M(
                ["REM alarm with pad properly applied."],
                [("REM circuit impedance high.", "Replaced REM board P/N {pn}.",
                  "REM board fault", "REM board"),
                 ("REM cable connector worn.", "Replaced REM cable adapter P/N {pn}.",
                  "cable damage", "REM cable")],
            ),
            M(
                ["Footswitch not activating."],
                [("Footswitch cable broken.", "Replaced footswitch P/N {pn}.", "cable damage",
                  "footswitch")],
            ),
            M(
                ["Output seems weak in cut mode."],
                [("Output {watts} W measured for 100 W set.",
                  "Calibrated output per service manual.", "output drift")],
            ),
        ],
        "pm": ["Output power verified with ESU analyzer in cut and coag.",
               "HF leakage measured - PASS."],
        "verify": ["Output verified: {watts} W at 100 W set into 300 ohm."],
        "recalls": [],
        "cal": [("cut output at 100 W", "W", 100.0, 3.0)],
    },
    "telemetry transmitter": {
        "weight": 3,
        "noun": "transmitter",
        "models": [("Philips", "IntelliVue MX40"), ("GE Healthcare", "ApexPro CH")],
        "depts": {"Cardiology": 3, "Med-Surg": 3},
        "codes": ("INOP ###", "E-###"),
        "modes": [
            M(
                ["Transmitter not pairing.", "Frequent 'no signal' at central."],
                [("Antenna connection loose.", "Replaced antenna assembly P/N {pn}.",
                  "antenna fault", "antenna"),
                 ("Battery contacts corroded.",
                  "Cleaned battery contacts, re-paired to central station.",
                  "corroded contacts")],
            ),
            M(
                ["Battery door broken."],
                [("Battery door hinge snapped.", "Replaced battery door P/N {pn}.",
                  "normal wear", "battery door")],
            ),
        ],
        "pm": ["Verified ECG and SpO2 at central station."],
        "verify": ["Signal verified at central station."],
        "recalls": [],
        "cal": [],
    },
}

# Reporter phrases by department.
_REPORTERS = {
    "Radiology": ("Rad tech reports", "CT tech called:", "MRI tech reports", "Radiology reports"),
    "Lab": ("Lab tech reports", "Lab supervisor called:"),
    "OR": ("OR nurse reports", "Anesthesia tech reports", "OR charge nurse called:"),
    "Dialysis": ("Dialysis RN reports", "Dialysis tech reports"),
    "Sterile Processing": ("SPD tech reports", "SPD lead called:"),
    "Respiratory Therapy": ("RT reports", "Respiratory therapist called:"),
}
_REPORTERS_DEFAULT = ("RN reports", "Charge nurse reports", "Per unit staff:", "Nurse called:",
                      "Unit clerk called in:", "Staff report:")

_LOCATIONS = {
    "ICU": ("ICU bed {n}", "MICU rm {n}", "SICU bay {n}", "CVICU room {n}"),
    "NICU": ("NICU pod {L} bed {n}", "NICU bay {n}"),
    "Emergency": ("ED bay {n}", "ED trauma {n}", "ED room {n}"),
    "OR": ("OR {n}", "OR suite {n}", "PACU bay {n}"),
    "Radiology": ("CT room {n}", "MRI suite {n}", "X-ray room {n}", "IR suite {n}"),
    "Cardiology": ("Cath lab {n}", "Echo room {n}", "CCU bed {n}"),
    "Oncology": ("Infusion chair {n}", "Onc rm {f}{nn}"),
    "Lab": ("Core lab bench {n}", "Stat lab"),
    "Dialysis": ("Dialysis station {n}", "Dialysis chair {n}"),
    "Med-Surg": ("Room {f}{nn} Bed {L}", "Rm {f}{nn}-{L}", "{f}West rm {nn}"),
    "Respiratory Therapy": ("RT equipment room", "RT storage"),
    "Sterile Processing": ("SPD sterilizer {n}", "SPD decon area"),
    "L&D": ("L&D room {n}", "LDR {n}"),
}

_OPENERS = (
    "Picked up unit from {dept}.",
    "Responded to page from {dept}.",
    "Device brought to biomed shop, tagged out of service.",
    "Arrived on unit, device already tagged DO NOT USE.",
    "Met with {dept} staff at {loc}.",
    "Received unit via transport with defect tag attached.",
    "Checked device in {loc}.",
)
_VERIFY_LINES = (
    "Verified complaint.",
    "Able to reproduce the problem on the bench.",
    "Could not reproduce at first; fault appeared after {mins} min warm-up.",
    "Confirmed issue with staff present.",
    "Issue intermittent, reproduced after several power cycles.",
)
_LOG_LINES = (
    "Error log shows {code} x{count} since {date}.",
    "Event log: {code} at {time} on {date}.",
    "Pulled service log, {code} logged {count} times.",
)
_GENERIC_VERIFY = (
    "Electrical safety test passed.",
    "Ran full functional check per service manual - passed.",
    "Performed ESI: ground {ohm} ohm, leakage {ua} uA - PASS.",
    "Ran unit on the bench for {h} hours without recurrence.",
    "Power-on self-test passed.",
)
_OBSERVATIONS = (
    "No physical damage noted.",
    "Checked cables and connectors, no issues.",
    "Unit at firmware v{fw_old}.",
    "Last PM passed, within interval.",
    "Asset has {count} WOs on record.",
)
_EXTRA_ACTIONS = (
    "Also cleaned unit and replaced worn labels.",
    "Replaced worn rubber feet while unit was open.",
    "Tightened loose screws on rear cover.",
    "Cleaned dust from internal fan and vents.",
    "Updated firmware to v{fw_new} while unit was in the shop.",
)
_CLOSERS = (
    "Returned to service in {loc}.",
    "Cleaned and returned to {dept}.",
    "RTS.",
    "Returned to {dept}, staff notified.",
    "Placed back in clean equipment room.",
)
_PENDING = (
    "Tagged out of service pending parts.",
    "Escalated to {mfr} technical support, case {case}.",
    "Loaner requested from {mfr}.",
    "Waiting on {dept} to release the unit.",
    "Troubleshooting in progress.",
)
_FOLLOWUPS = (
    "Follow-up: 3rd occurrence on this asset this year - recommend capital replacement.",
    "Follow-up needed: monitor for recurrence over the next 30 days.",
    "Follow-up: educate {dept} staff on proper cleaning (do not spray directly on keypad).",
    "Follow-up: {mfr} FSE to return to complete repair.",
    "Follow-up: check remaining units of this model for the same issue.",
    "Follow-up: reported to {mfr} complaint handling, case {case}.",
    "Follow-up: add to next PM checklist.",
)
_CAUSE_FORMS = ("Root cause: {c}.", "Cause: {c}.", "Probable cause {c}.", "RC - {c}.")
_CANCEL = (
    "Cancelled - duplicate of WO-{other_wo}.",
    "Cancelled: device found working, user error (set not loaded correctly).",
    "Cancelled - device retired under capital replacement plan.",
    "Cancelled, handled by {mfr} under service contract.",
    "Cancelled per {dept} manager; unit could not be located.",
)
_DEFER = (
    "Deferred: awaiting part on backorder from {mfr}.",
    "Deferred until downtime can be scheduled with {dept}.",
    "Deferred to next PM cycle.",
    "Deferred - pending capital approval for replacement.",
)
_GENERIC_PM = (
    "Visual inspection of housing, labels, cords and strain reliefs: OK.",
    "Electrical safety test per IEC 62353: protective earth {ohm} ohm, equipment leakage {ua} "
    "uA - PASS.",
    "Cleaned exterior and cooling vents.",
    "Verified audible and visual alarms.",
    "Performed self-test - passed.",
    "Synced date/time to network time.",
    "Applied new PM sticker, next PM due {next_due}.",
    "Verified firmware v{fw_new} current per {mfr} bulletin.",
)
_NON_LATIN = (
    "夜勤スタッフより: アラームが鳴り続けていた。",
    "バッテリー交換済み、動作確認OK。",
    "تم استبدال البطارية والجهاز يعمل بشكل طبيعي.",
    "ملاحظة: يرجى التحقق من الإنذار.",
    "Замена батареи выполнена, тест пройден.",
    "Прибор передан в отделение.",
    "更换电池后设备正常。",
    "报警已排除，设备恢复使用。",
    "배터리 교체 완료.",
    "✅ tested OK 👍",
    "⚠️ repeat failure 🔋🔧",
    "Técnico: revisión completa, sin fallas.",
)
_LOG_EVENTS = (
    "ALARM {code}",
    "INFO self-test pass",
    "WARN battery low",
    "INFO AC power restored",
    "INFO AC power lost, on battery",
    "ALARM high priority acknowledged",
    "INFO therapy start",
    "INFO therapy stop",
    "WARN sensor check",
    "ERROR watchdog reset",
    "INFO config loaded",
    "INFO user login biomed",
)

# ---------------------------------------------------------------------------------------------
# PII material
# ---------------------------------------------------------------------------------------------

_FIRST = (
    "John", "Maria", "Li", "James", "Aisha", "Robert", "Mary", "Wei", "Carlos", "Fatima",
    "Michael", "Patricia", "David", "Jennifer", "José", "Zoë", "Chloé", "Renée", "François",
    "Łukasz", "Søren", "Priya", "Raj", "Olga", "Dmitri", "Yuki", "Hiroshi", "Ana", "Miguel",
    "Linda", "Thomas", "Susan", "Kwame", "Amara", "Mohammed", "Nadia", "Ingrid", "Björn",
    "Siobhan", "Declan", "Mei", "Jun", "Elena", "Mateo", "Grace", "Samuel", "Anne-Marie",
    "Jean-Luc", "Ebony", "Tyrone",
)
_LAST = (
    "Smith", "Garcia", "Wei", "O'Brien", "Nguyen", "Johnson", "Hernández", "Müller",
    "Garcia-Lopez", "Smith-Jones", "McDonald", "MacLeod", "D'Angelo", "O'Connor", "Okafor",
    "Patel", "Kowalski", "Wiśniewski", "Núñez", "Ibáñez", "Çelik", "Øverby", "Rodriguez",
    "Thompson", "Williams", "Brown", "Kim", "Nakamura", "Tanaka", "Ivanova", "Petrov",
    "Haddad", "Mensah", "Fitzgerald", "DeLuca", "Van Buren", "Schäfer", "Lindqvist",
    "Abernathy", "Whitfield", "Castellanos", "Zhang", "Chen", "Washington", "Jefferson",
)
# Surnames used alone ("pt. O'Brien") must not occur inside template words, hence this subset.
_SAFE_SURNAMES = (
    "O'Brien", "Nguyen", "Hernández", "Müller", "Garcia-Lopez", "McDonald", "MacLeod",
    "D'Angelo", "O'Connor", "Okafor", "Kowalski", "Wiśniewski", "Núñez", "Ibáñez", "Çelik",
    "Øverby", "Rodriguez", "Thompson", "Nakamura", "Ivanova", "Petrov", "Haddad", "Mensah",
    "Fitzgerald", "DeLuca", "Schäfer", "Lindqvist", "Abernathy", "Whitfield", "Castellanos",
)
_PARTICLE_NAMES = ("de la Cruz", "van der Berg", "da Silva", "von Trapp", "del Rosario")
_HOSPITAL_DOMAINS = ("stmarys-hospital.org", "mercyhealth.org", "uhs-med.org",
                     "northshore-health.org", "baycare-med.org")
_VENDOR_DOMAINS = ("ge.com", "philips.com", "siemens-healthineers.com", "medtronic.com",
                   "draeger.com", "zoll.com", "stryker.com")
_PATIENT_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STREETS = ("Maple", "Oak", "Pine", "Cedar", "Elm", "Highland", "Lakeview", "Sunset", "Franklin",
            "Spring", "Ridge", "Orchard", "Willow", "Chestnut")
_STREET_SUFFIX = ("St", "Street", "Ave", "Avenue", "Rd", "Road", "Dr", "Drive", "Ln", "Lane",
                  "Blvd", "Ct", "Court", "Way")

_ASCII_FOLD = str.maketrans({
    "é": "e", "ë": "e", "ç": "c", "Ł": "L", "ł": "l", "ø": "o", "Ø": "O", "ö": "o", "ü": "u",
    "á": "a", "í": "i", "ñ": "n", "ú": "u", "ś": "s", "Ç": "C", "ä": "a", "'": "", " ": "",
})


def _ascii(s: str) -> str:
    return s.translate(_ASCII_FOLD).lower()


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
    tmpls = _LOCATIONS.get(c["dept"], ("{f}th floor storage",))
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
    "rate": lambda c: _pick(("5", "10", "25", "50", "75", "100", "125", "150", "250"), c.r),
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
    "syr": lambda c: _pick(("3", "5", "10", "20", "30", "60"), c.r),
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
    "leads": lambda c: _pick(("3", "5", "6"), c.r),
    "secs": _int(9, 20),
    "joules": _int(186, 212),
    "probe": lambda c: _pick(("C1-5", "L12-3", "S5-1", "X5-1", "C5-1", "L3-12", "9L-D"), c.r),
    "dead": _int(3, 40),
    "kv": _num(78.5, 81.5),
    "cond": _num(13.6, 14.4),
    "temp": _num(33.0, 35.5),
    "temp_off": _num(1.5, 4.5),
    "temp_ok": _num(132.0, 134.5),
    "temp_ok2": _num(35.9, 36.1, 2),
    "head": lambda c: _pick(("1", "2", "A", "B"), c.r),
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
    "interval": lambda c: _pick(("annual", "semi-annual", "quarterly", "24-month"), c.r),
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
            _pick(
                (
                    "Device tagged out and sent to biomed.",
                    "Backup unit provided to the floor.",
                    "Second time this week.",
                    "Happened twice during night shift.",
                    "Unit pulled from use, please check ASAP.",
                    "Staff switched to a spare {noun}.",
                    "Reported via CMMS portal.",
                ),
                r,
            ).format(noun=spec["noun"])
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
        _pick(
            (
                "Scheduled {interval} preventive maintenance.",
                "PM due - {noun} {eqid}, {interval} PM per {mfr} service manual.",
                "{Interval} PM per CMMS schedule.",
                "Preventive maintenance - {model} SN {sn}.",
                "Planned maintenance ({interval}); unit located in {loc}.",
                "PM",
            ),
            r,
        ).format(
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
            _pick(
                (
                    "PM complete, passed.",
                    "PM completed per procedure. No deficiencies found.",
                    "PM done, all checks within spec.",
                    "Passed PM. Returned to service.",
                    "PM complete.",
                ),
                r,
            )
        )


def _compose_recall(rt, ctx, r, spec, mfr, model, status):
    recalls = spec["recalls"] or [
        ("labeling update for the operator manual", "Replaced operator manual and labels", None)
    ]
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
        _pick(
            (
                "Recall remediation completed: {fix}.",
                "Completed; acknowledgement form returned to {mfr}.",
                "{fix}. Recall closed.",
            ),
            r,
        ).format(fix=fix, mfr=mfr)
    )


def _compose_inspection(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(
            (
                "Incoming inspection: new {noun} {model}, SN {sn}.",
                "Annual electrical safety inspection.",
                "Post-repair inspection after vendor service.",
                "Loaner {noun} from {mfr} - incoming inspection.",
                "Inspection after device was dropped in {loc}.",
                "Joint Commission readiness inspection - {dept}.",
            ),
            r,
        ).format(noun=spec["noun"], model=model, sn=ctx["sn"], mfr=mfr, loc=ctx["loc"],
                 dept=ctx["dept"])
    )
    if status != "completed":
        if status == "cancelled":
            rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        elif status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        return
    rt.notes.append("Visual inspection: no shipping or physical damage.")
    rt.notes.append(_GENERIC_PM[1].format_map(ctx))
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
            _pick(
                (
                    "Passed inspection, tagged and entered in CMMS as {eqid}.",
                    "Passed. Safety sticker applied.",
                    "Inspection complete - no issues.",
                ),
                r,
            ).format(eqid=ctx["eqid"])
        )


def _compose_install(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(
            (
                "Install {noun} ({model}) in {loc}.",
                "New install - {mfr} {model} replacing retired unit.",
                "Installation of new {noun} for {dept}.",
            ),
            r,
        ).format(noun=spec["noun"], model=model, loc=ctx["loc"], mfr=mfr, dept=ctx["dept"])
    )
    if status != "completed":
        if status == "deferred":
            rt.resolution.append(_pick(_DEFER, r).format_map(ctx))
        elif status == "cancelled":
            rt.resolution.append(_pick(_CANCEL, r).format_map(ctx))
        return
    steps = [
        "Uncrated and inspected for shipping damage.",
        f"Verified packing list against PO, SN {ctx['sn']}.",
        "Configured network: IP {ip}, VLAN {vlan}.",
        "Loaded site configuration profile and set date/time.",
        "In-serviced {dept} staff on basic operation.",
        _GENERIC_PM[1],
    ]
    for s in steps:
        if r() < 0.7:
            rt.notes.append(s.format_map(ctx))
    rt.resolution.append(
        f"Installed and accepted, in service {ctx['date']}. Entered in CMMS as {ctx['eqid']}."
    )


def _compose_calibration(rt, ctx, r, spec, mfr, model, status):
    rt.problem.append(
        _pick(
            (
                "Annual calibration due.",
                "Calibration check requested, readings suspect.",
                "Calibration verification after repair.",
                "Scheduled calibration - {model}.",
            ),
            r,
        ).format(model=model)
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
# PII planting
# ---------------------------------------------------------------------------------------------


def _mrn(r) -> str:
    n = _ri(r, 7, 10)
    return str(_ri(r, 1, 9)) + _fill("#" * (n - 1), r)


def _ssn(r) -> str:
    area = _ri(r, 1, 899)
    if area == 666:
        area = 667
    return f"{area:03d}-{_ri(r, 1, 99):02d}-{_ri(r, 1, 9999):04d}"


def _phone(r) -> str:
    a = _ri(r, 201, 989)
    b = 555 if r() < 0.4 else _ri(r, 200, 999)
    c = _ri(r, 0, 9999)
    fmt = _ri(r, 0, 5)
    if fmt == 0:
        return f"({a}) {b}-{c:04d}"
    if fmt == 1:
        return f"{a}-{b}-{c:04d}"
    if fmt == 2:
        return f"+1 {a} {b} {c:04d}"
    if fmt == 3:
        return f"{a}.{b}.{c:04d}"
    if fmt == 4:
        return f"+1 ({a}) {b}-{c:04d}"
    return f"1-{a}-{b}-{c:04d}"


def _dob(r) -> str:
    y = _ri(r, 1930, 2005)
    m = _ri(r, 1, 12)
    d = _ri(r, 1, 28)
    fmt = _ri(r, 0, 5)
    if fmt == 0:
        return f"{m:02d}/{d:02d}/{y}"
    if fmt == 1:
        return f"{y}-{m:02d}-{d:02d}"
    if fmt == 2 and y < 2000:
        return f"{m}/{d}/{y % 100:02d}"
    if fmt == 3:
        return f"{_MONTHS[m - 1]} {d}, {y}"
    if fmt == 4:
        return f"{d:02d}-{_MON[m - 1]}-{y}"
    return f"{m}/{d}/{y}"


def _name(r) -> tuple[str, str, str]:
    first = _pick(_FIRST, r)
    last = _pick(_PARTICLE_NAMES, r) if r() < 0.04 else _pick(_LAST, r)
    return first, last, f"{first} {last}"


def _plant(r, ctx) -> tuple[str, list[str]]:
    """Return one PII-bearing sentence and the PII strings it contains."""
    kind = r()
    if kind < 0.2:  # MRN
        mrn = _mrn(r)
        t = _pick(
            (
                "Pt MRN {x} was connected at time of alarm.",
                "Device still linked to MRN: {x} in EMR; association cleared.",
                "Incident report filed for medical record #{x}.",
                "medical record number {x} noted on the event log printout.",
                "MRN#{x} on unit at time of failure.",
                "Patient ID {x} still associated to monitor - cleared discharged pt.",
                "MR# {x} per RN.",
                "Med rec # {x} referenced in safety report.",
            ),
            r,
        )
        return t.format(x=mrn), [mrn]
    if kind < 0.3:  # SSN
        ssn = _ssn(r)
        t = _pick(
            (
                "Patient sticker with SSN {x} found on side of {noun}; removed and shredded.",
                "Nurse wrote SSN: {x} on tape label - removed per privacy policy.",
                "pt SS# {x} visible on screen capture, deleted.",
                "Label on handle read '{x}' (patient social), removed.",
                "Social security number {x} was typed into the patient ID field by mistake.",
            ),
            r,
        )
        return t.format(x=ssn, noun=ctx.spec["noun"]), [ssn]
    if kind < 0.47:  # phone
        ph = _phone(r)
        ext = f" ext. {_ri(r, 100, 9999)}" if r() < 0.2 else ""
        t = _pick(
            (
                "Call {dept} charge nurse at {x}{e} when ready.",
                "Contact {x}{e} for pickup.",
                "Callback: {x}{e}.",
                "Left voicemail for {mfr} FSE at {x}.",
                "Pt family phone {x} - home unit delivery.",
                "Reach requester at {x}{e} or via pager.",
                "Vendor cell {x}.",
            ),
            r,
        )
        return t.format(x=ph, e=ext, dept=ctx["dept"], mfr=ctx["mfr"]), [ph]
    if kind < 0.62:  # email
        first, last, _ = _name(r)
        u = r()
        if u < 0.55:
            em = f"{_ascii(first)[0]}.{_ascii(last)}@{_pick(_HOSPITAL_DOMAINS, r)}"
            t = _pick(("Emailed status to {x}.", "Requested by {x}", "cc {x} on parts order.",
                       "Per email from {x}, unit can be pulled after 1500."), r)
        elif u < 0.8:
            em = f"{_ascii(first)}.{_ascii(last)}@{_pick(_VENDOR_DOMAINS, r)}"
            t = _pick(("Vendor FSE {x} confirmed part shipped.",
                       "Quote requested from {x}."), r)
        else:
            em = f"{_ascii(first)}{_ascii(last)}{_ri(r, 1, 99)}@{_pick(_PATIENT_DOMAINS, r)}"
            t = _pick(("Pt daughter emailed from {x} asking about the home pump.",
                       "Patient email {x} was entered in device notes field; cleared."), r)
        return t.format(x=em), [em]
    if kind < 0.74:  # DOB
        dob = _dob(r)
        t = _pick(
            (
                "Patient DOB {x} - peds profile selected.",
                "DOB: {x}",
                "pt born {x}, settings checked against weight.",
                "D.O.B. {x} shown on the monitor admit screen.",
                "Date of birth {x} was entered as patient ID by mistake.",
            ),
            r,
        )
        return t.format(x=dob), [dob]
    if kind < 0.92:  # name
        first, last, full = _name(r)
        u = r()
        if u < 0.2:
            return f"pt {full} was on the {ctx.spec['noun']} when it alarmed.", [full]
        if u < 0.35:
            return f"Patient {full} moved to backup unit.", [full]
        if u < 0.5:
            return f"Patient: {full}.", [full]
        sur = _pick(_SAFE_SURNAMES, r)
        if u < 0.62:
            return f"Per RN, pt. {sur} complained the alarm kept going off.", [sur]
        if u < 0.72:
            return f"Mr. {sur} in {ctx['loc']} tripped over the power cord.", [sur]
        if u < 0.8:
            return f"Mrs. {sur}'s family asked about the noise.", [sur]
        if u < 0.9:
            up = f"{last.upper()}, {first.upper()}"
            return f"PATIENT: {up} shown on the screen.", [up]
        lf = f"{last}, {first}"
        return f"Patient name: {lf} on the admit screen.", [lf]
    if kind < 0.96 and ctx.spec.get("home"):  # address: home-use equipment only
        addr = f"{_ri(r, 2, 9899)} {_pick(_STREETS, r)} {_pick(_STREET_SUFFIX, r)}"
        t = _pick(("Home unit picked up from patient residence at {x}.",
                   "Deliver loaner to {x}, back door."), r)
        return t.format(x=addr), [addr]
    # combined "screenshot" style
    first, last, full = _name(r)
    dob = _dob(r)
    mrn = _mrn(r)
    return (
        f"Screenshot attached showed Patient: {full}, DOB {dob}, MRN {mrn} - image deleted.",
        [full, dob, mrn],
    )


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------

# Fixed installations (no battery, not dropped, not on an IV pole) skip those generic modes.
_FIXED = {"MRI scanner", "CT scanner", "autoclave/sterilizer", "surgical light"}
for _t, _spec in EQUIPMENT.items():
    _spec["_verify_all"] = tuple(_spec["verify"]) + _GENERIC_VERIFY
    _fixed = _t in _FIXED
    _spec["_generic_modes"] = tuple(
        m for m in GENERIC_MODES if not (_fixed and m.tag in ("battery", "portable"))
    )
    _spec["_pm_generic"] = _GENERIC_PM + (
        () if _fixed else ("Battery runtime test: {runtime} min on battery.",)
    )

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
        sn = _fill(_pick(("@@######", "##@#####", "@@@-######", "@######"), r), r)
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
                sentence, strings = _plant(r, ctx)
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
