"""Tests for the check at the door (backfill.guard) and where it is wired (extract, embed).

The texts below are written by hand, not by the dev stack's generator, in formats the
scrubber was not written for; the precision list is engineering text that looks like them.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import snowflake.connector

from backfill.devstack.synthetic import FREE_TEXT_COLUMNS, generate_work_orders
from backfill.errors import RecordError
from backfill.guard import check_outgoing, find_identifiers, is_guarded
from backfill.scrub import PLACEHOLDERS, scrub_text

# (text, kind): every one must be flagged with its kind.
IDENTIFIERS = [
    ("Pt SSN is 123 45 6789 per registration sheet left in the drawer.", "SSN"),
    ("social security no 123.45.6789 written on the form taped to the pole", "SSN"),
    ("SSN of 123456789 written on the tape label of the pump", "SSN"),
    ("ssn: 123\u201345\u20136789 on a sticky note on the screen", "SSN"),
    ("Soc. Sec. # 234 56 7890 found on printout in the bin", "SSN"),
    ("Found label with SSN was 345-67-8901 on the back of the monitor", "SSN"),
    ("Found label MRN is 00482913 taped to the pump.", "MRN"),
    ("MR# A-1234567 printed on the label of the bag", "MRN"),
    ("MRN (E9981234) visible in the screenshot attached", "MRN"),
    ("Med. Rec. No: 20391847 on the old chart in the drawer", "MRN"),
    ("medrec#77120934 handwritten on the housing", "MRN"),
    ("patient no. 4471230 still shown on the idle screen", "MRN"),
    ("DOB is 3/14/62 on the screen after reboot", "DOB"),
    ("d.o.b. 14 March 1962 on the label", "DOB"),
    ("born on the 14th of March, 1962 per the sticker on the rail", "DOB"),
    ("birthday 03 14 1962 written on tape", "DOB"),
    ("Date of Birth (1962-03-14) printed on wristband stuck in the door", "DOB"),
    ("DOB Mar-14-62 on display", "DOB"),
    ("pt born March 1962, label left on pump", "DOB"),
    ("birth date: 14.03.1962 on the bag label", "DOB"),
    ("called daughter at 6175550199 about the loaner", "PHONE"),
    ("cell is 617 5550199, charge nurse", "PHONE"),
    ("phone 555/123/4567 left on the voicemail", "PHONE"),
    ("Tel: (555) 1234567 for the charge nurse", "PHONE"),
    ("fax 0044 20 7946 0958 to the clinic", "PHONE"),
    ("patient called from 555\u00b7123\u00b74567 asking about the pump", "PHONE"),
    ("call back on 617 \u2013 555 \u2013 0199 after 3pm", "PHONE"),
    ("wife's mobile no. 1 617 555 0199 on the whiteboard", "PHONE"),
    ("contact the family at +91 98765 43210 about the home unit", "PHONE"),
    ("whatsapp +353 87 123 4567 for pickup", "PHONE"),
    ("reach son on 617.555.0199x12 re: the home ventilator", "PHONE"),
    ("txt 555-123-4567 when ready", "PHONE"),
    ("contact jsmith at gmail dot com for the loaner", "EMAIL"),
    ("email j.smith [at] hospital [dot] org re: the pump", "EMAIL"),
    ("send to jsmith @ gmail.com", "EMAIL"),
    ("family wrote from r.roe(at)yahoo.com", "EMAIL"),
    ("wife is r.roe at gmail.com, send her the loaner form", "EMAIL"),
    ("daughter mary.ann dot lee at outlook dot com asked for status", "EMAIL"),
    ("son: t_nguyen{at}comcast{dot}net", "EMAIL"),
    ("pt DOB 1/2/1950 and SSN 456 78 9012 on the sheet", "DOB"),
    ("MRN 55 102 234 on the screen", "MRN"),
    ("Found label MRN of 00482913 taped to the pump.", "MRN"),
    ("MRN on 20391847 still on the idle screen", "MRN"),
    ("SOCIAL 567891234 on card found in drawer", "SSN"),
    # (session 45) numbers read out in words, no cue: dictated notes, call transcripts
    ("caller gave her number as seven one three, four four oh, two nine eight one", "SPOKEN"),
    ("he read it off the card: six one two - zero eight - seven seven four three", "SPOKEN"),
    ("dictado: su número es cuatro uno cinco, nueve ocho dos, tres tres", "SPOKEN"),
    ("la fille rappelle au zéro sept, trente et un, quatorze, quatre-vingt, deux", "SPOKEN"),
    ("Tochter sagt: null eins sieben sechs, drei drei neun, acht eins", "SPOKEN"),
    ("o filho deixou o número nove oito sete, um dois, três três zero", "SPOKEN"),
    ("soitti numerosta nolla neljä viis, kuus kuus kaks, ysi", "SPOKEN"),
    ("mama podała pesel: osiem dwa zero jeden jeden pięć", "SPOKEN"),
    ("hon sa numret: noll sju tre, fyra fyra två, åtta sex", "SPOKEN"),
    ("kći je rekla: nula devet osam, pet pet dva, jedan tri", "SPOKEN"),
]

# Engineering look-alikes: none may be flagged.
LOOK_ALIKES = [
    "SN 4471-223-9981 replaced under warranty",
    "P/N 1234567890 ordered from vendor",
    "REF 300-123-4567 on the box, LOT 2024-0314",
    "Error E-1234-5678 on boot, cleared after power cycle",
    "firmware v3.2.1.4455 installed, was 3.1.0.2210",
    "Asset tag BME-004512 relabelled",
    "serviced 03/14/2024 next due 03/14/2025",
    "Room 412 Bed B, IP 10.20.30.40 reassigned",
    "called vendor about P/N 1234567890",
    "called Philips, case 1234567890 opened",
    "phase 3 power 120 V at 60 Hz",
    "Board rev 555-123-4567 swapped",
    "Model: 555-123-4567 pump",
    "serial no. 123-45-6789 on the chassis",
    "ordered the part at philips.com",
    "PM done 2024-03-14 08:30, next 2024-09-14",
    "Part number 617-555-0199 back-ordered",
    "telemetry box 3 channel 12 flat line; leads replaced",
    "medication cart drawer 4 jammed",
    "patient monitor MX450 rebooted after error code 0x1F2E",
    "SW build 2024.03.14.1234 loaded",
    "MAC 00:1A:2B:3C:4D:5E registered on VLAN 120",
    "IP 192.168.100.200 gateway 192.168.100.1",
    "pressure 120/80 mmHg, flow 2.5 L/min, 37.0 C",
    "work order WO-2024-123456 closed",
    "PO 4500123456 raised for the battery",
    "ticket 1234567890 escalated to vendor",
    "RMA 123-456-7890 shipped back",
    "lot 123456789 expired, kit KIT-99-8877 replaced",
    "call light in room 1234 not working",
    "cell voltage 3.7 V, pack 14.8 V",
    "phone jack on wall 3B-12 loose",
    "fax machine on 4 West jammed",
    "born-in-house cable by biomed (rev 2)",
    "Dobutamine channel on the pump alarmed",
    "med rec cart in the pharmacy, shelf 12",
    "temps 36.5 37.0 37.2 38.1 over 4 hours",
    "readings: 1013 1012 1011 hPa stable",
    "asset 555-123-4567 moved to storage",
    "UDI (01)00812345678901(17)250314 scanned",
    "GTIN 00812345678901 scanned",
    "The pump was calibrated on March 14, 2024 at 10:30",
    "error 123 45 6789 on screen, vendor says sensor",
    "MRN [MRN] DOB [DOB] SSN [SSN] phone [PHONE] [EMAIL] pt [PATIENT_NAME]",
    "contact the vendor, order 1234567890",
    # (session 45) quantities in words are not a number read out
    "replaced one of the two fans, three screws missing, four hours downtime",
    "one or two units a week, twenty five minutes each, seven days on",
    "counted one, two, three, four, five alarms in the log",
    "one hundred and twenty five thousand hours on the blower",
    "due to the two-three second lag the one pump (of six) resets",
    "un deux trois: test du haut-parleur OK, cinq sur cinq",
]


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"\w+", text) if any(c.isdigit() for c in t) and len(t) >= 4]


@pytest.mark.unit
@pytest.mark.parametrize(("text", "kind"), IDENTIFIERS)
def test_identifier_is_flagged_with_its_kind(text: str, kind: str) -> None:
    assert kind in find_identifiers(text)


# (session 34) characters a reader does not see or reads as ASCII; an acceptance check outside
# the repository got these shapes past the guard (written here in other shapes than its own)
HIDDEN = [
    ("Spouse SSN 078\u201005\u20111120 on the form", "SSN"),
    ("MRN 7\u200b7\u200b1\u200b2\u200b0\u200b4\u200b4", "MRN"),
    ("call the son on 416\u2011555\u20110187", "PHONE"),
    ("cell (905) 555-\n0163 for the caregiver", "PHONE"),
    ("reach him at ４１６\u2010５５５\u2010０１９２", "PHONE"),
    ("Wristband\nMRN\n00771204\nWard 2", "MRN"),
    ("DOB\u20141949\u201211\u201230", "DOB"),
    ("олег@почта.рф", "EMAIL"),
    ("h.okonkwo@\ncarefirst.example.org", "EMAIL"),
    ("cb 312_555_0174", "PHONE"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("text", "kind"), HIDDEN)
def test_hidden_and_look_alike_characters_do_not_hide_an_identifier(text: str, kind: str) -> None:
    assert kind in find_identifiers(text)


@pytest.mark.unit
def test_the_guard_stops_what_the_scrubber_lets_through() -> None:
    assert len(IDENTIFIERS) >= 40
    kinds = {k for _, k in IDENTIFIERS}
    assert kinds == {"SSN", "MRN", "DOB", "PHONE", "EMAIL", "SPOKEN"}
    passed = [(t, k) for t, k in IDENTIFIERS if find_identifiers(scrub_text(t).text or "")]
    # Many of them pass the scrubber untouched or partly (measured: 31 of 42 with scrubber v3,
    # 19 with v4, 15 of 44 with v7, 13 of 44 with v30, 9 of 44 with v48, which reads the
    # hidden characters some of them carry, 7 of 44 with v53, every kind): the guard is what
    # stops them. (A floor, not the measurement: each version removes more of them.)
    assert len(passed) >= 6, len(passed)
    assert {k for _, k in passed} == kinds
    for text, _ in passed:
        assert find_identifiers(scrub_text(text).text or "")


@pytest.mark.unit
@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_engineering_look_alike_is_not_flagged(text: str) -> None:
    assert find_identifiers(text) == []


@pytest.mark.unit
def test_placeholders_never_trigger() -> None:
    assert len(LOOK_ALIKES) >= 40
    text = " ".join(f"{p.lower()} [{p}] {p}: [{p}]" for p in PLACEHOLDERS)
    assert find_identifiers(text) == []


@pytest.mark.unit
def test_scrubbed_synthetic_corpus_is_not_flagged() -> None:
    """The goal is 0: measured 0 of 5,387 scrubbed texts (2,000 work orders, seed 1)."""
    table = generate_work_orders(2000, seed=1).table
    texts = [v for c in FREE_TEXT_COLUMNS for v in table.column(c).to_pylist() if v]
    flagged = [t for t in texts if find_identifiers(scrub_text(t).text or "")]
    assert len(texts) > 5000
    assert flagged == []


@pytest.mark.unit
def test_the_error_names_kinds_never_values() -> None:
    text = "call 617-555-0199, SSN 123 45 6789"
    with pytest.raises(RecordError) as raised:
        check_outgoing(["clean text", text], "the LLM")
    exc = raised.value
    assert (exc.stage, exc.error_class) == ("scrub", "PHIGuard")
    assert exc.message == (
        "identifier of kind PHONE, SSN found in the text about to be sent to the LLM; not sent"
    )
    assert not any(tok in exc.message for tok in _tokens(text))
    assert is_guarded(pickle.loads(pickle.dumps(exc)))
    check_outgoing(["Pump 3 occlusion alarm, replaced door latch P/N 1234567890"], "the LLM")


# --- the job: nothing flagged leaves, and the record is a failed record ------------------

SCHEMA = "guard"
RUN_ID = "guard-1"
COLUMNS = ("WORK_ORDER_ID", "CREATED_AT", "EQUIPMENT_TYPE", "PROBLEM_DESCRIPTION",
           "LABOR_HOURS")
LEAKS = {
    # (scrubber v7 catches "SSN is 219 48 7730"; "SSN of" it still lets through; v57's
    # number layer takes "SSN of 219 48 7730" mid-sentence, v59's at the sentence's end too;
    # dotted, it still lets it through)
    "LEAK-SSN": "Sticker on the pump: SSN of 219.48.7730.",
    # (scrubber v2 catches "call her at 6175550142", v48's number layer "the cell is 617
    # 5550142"; this shape it still lets through)
    "LEAK-PHONE": "Charge nurse says the cell is 617.5550142, for the loaner pickup.",
    # (scrubber v3 catches "d.o.b." and "birthday", v6 "b. <date>", v44 any date before
    # 1990; the guard also reads "d. o. b:")
    "LEAK-DOB": "Old wristband in the channel, d. o. b: 11 August 1998, removed.",
    # (scrubber v4 catches "MR# K-8812093", v7 "MRN is K-8812093"; "MRN of" it still lets
    # through)
    "LEAK-MRN": "Screen still showed MRN of K-8812093 after discharge; cleared.",
    # (scrubber v4 reads "rroe at gmail dot com", v48 a fullwidth at sign; braces around
    # "at" and "dot" only the guard reads)
    "LEAK-EMAIL": "Family wants the report, send to rroe {at} gmail {dot} com.",
}


@pytest.fixture(scope="module")
def stack(pg_dsn: str, ray_local: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from backfill.devstack.stack import local_stack

    work = tmp_path_factory.mktemp("guard")
    with local_stack(work, 300, latency_ms=2, pg_schema=SCHEMA, partition_rows=200,
                     dsn=pg_dsn, bad_rows=False, seed=5,
                     overrides={"pipeline": {"max_failed_fraction": 0.05}}) as s:
        yield s


@pytest.mark.integration
def test_flagged_records_are_not_sent_and_are_failed_records(stack: Any) -> None:
    from backfill.devstack.simulator import read_request_log
    from backfill.errors import EXIT_OK
    from backfill.runner import RunRequest, execute

    for text in LEAKS.values():  # the scrubber lets each through: the guard must stop it
        assert find_identifiers(scrub_text(text).text or "")
    when = dt.datetime(2023, 6, 1, 12, 0)
    with snowflake.connector.connect(
        account="fakesnow", user="fake", password="x", database="CMMS", schema="PUBLIC",
        **stack.snowflake.connect_args,
    ) as conn:
        cur = conn.cursor()
        for wid, text in LEAKS.items():
            cur.execute(f"INSERT INTO WORK_ORDERS ({', '.join(COLUMNS)}) VALUES "
                        "(%s, %s, %s, %s, %s)", (wid, when, "Infusion pump", text, 1.0))
    result = execute(stack.config, RunRequest(run_id=RUN_ID))
    assert result.exit_code == EXIT_OK, result.summary

    sent = "\n".join(t for r in read_request_log(stack.request_log) for t in r["texts"])
    assert sent  # the other records were sent
    for text in LEAKS.values():
        for tok in _tokens(text) + re.findall(r"rroe|gmail", text):
            assert tok not in sent, tok
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        rows = conn.execute(
            "SELECT work_order_id, stage, error_class, error_message FROM failed_records "
            "WHERE work_order_id LIKE 'LEAK-%%'").fetchall()
        failed = conn.execute(
            "SELECT count(*) FROM failed_records WHERE error_class = 'PHIGuard'").fetchone()
    assert {r[0] for r in rows} == set(LEAKS)
    assert failed is not None and failed[0] == len(LEAKS)  # nothing else was flagged
    for wid, stage, error_class, message in rows:
        assert (stage, error_class) == ("scrub", "PHIGuard"), wid
        assert "not sent" in message
        for tok in _tokens(LEAKS[wid]) + ["rroe"]:
            assert tok not in message


# --- the whole job on hand-labeled text: no identifier token reaches the API or the tables ---

PHI_RUN = "guard-phi-1"
PHI_DAY = dt.datetime(2030, 3, 3)  # a day the synthetic rows do not reach


@pytest.mark.integration
def test_no_identifier_token_reaches_the_api_or_the_enriched_tables(stack: Any) -> None:
    """Every work order of tests/data/phi/tune.jsonl (identifiers of every kind, labeled by
    hand, on which the scrubber scores 100%) planted in the source and run through the job:
    no token of a labeled identifier is in a request the simulator got or in a stored
    extraction or document, unless the original text also holds it outside its identifiers
    ("half a name is a leak"; "SN KS-88124" keeps the 88124 of "acct 88124-0093" legitimately,
    and a request may quote the document twice)."""
    from collections import Counter

    from backfill.devstack.simulator import read_request_log
    from backfill.errors import EXIT_OK
    from backfill.runner import RunRequest, execute
    from backfill.scrub_eval import DEFAULT_CORPUS, load_corpus

    orders = load_corpus(DEFAULT_CORPUS[0])
    kinds = {s.kind for o in orders for s in o.spans}
    assert kinds >= {"name", "staff_name", "mrn", "ssn", "phone", "fax", "email", "dob",
                     "account", "health_plan", "address", "other_id"}
    marker = {f"PHI-{i:03d}": o for i, o in enumerate(orders)}
    with snowflake.connector.connect(
        account="fakesnow", user="fake", password="x", database="CMMS", schema="PUBLIC",
        **stack.snowflake.connect_args,
    ) as conn:
        cur = conn.cursor()
        for i, (wid, order) in enumerate(marker.items()):
            cur.execute("INSERT INTO WORK_ORDERS (WORK_ORDER_ID, CREATED_AT, EQUIPMENT_TYPE, "
                        "MODEL, PROBLEM_DESCRIPTION, LABOR_HOURS) VALUES (%s, %s, %s, %s, %s, %s)",
                        (wid, PHI_DAY + dt.timedelta(minutes=i), "Infusion pump",
                         f"M-{wid}", order.text, 1.0))
    result = execute(stack.config, RunRequest(start=PHI_DAY, end=PHI_DAY + dt.timedelta(
        days=1), run_id=PHI_RUN))
    assert result.exit_code == EXIT_OK, result.summary
    assert result.rows_ok == len(orders)  # none needed the guard

    def leaks(order: Any, text: str) -> list[str]:
        words = Counter(re.findall(r"[^\W_]+", text))
        outside = Counter(re.findall(r"[^\W_]+", "".join(
            "\0" if any(s.start <= k < s.end for s in order.spans) else c
            for k, c in enumerate(order.text))))
        return [t for s in order.spans for t in re.findall(r"[^\W_]+", order.text[s.start:s.end])
                if words[t] and not outside[t]]

    requests = read_request_log(stack.request_log)
    checked = 0
    for wid, order in marker.items():
        sent = [t for r in requests for t in r["texts"] if f"M-{wid}" in t]
        assert sent, wid
        for text in sent:
            assert leaks(order, text) == [], (wid, leaks(order, text))
            checked += 1
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        stored = conn.execute(
            "SELECT a.work_order_id, a.extraction::text || ' ' || e.document FROM "
            "ai_extracted_data a JOIN semantic_embeddings e USING (work_order_id) "
            "WHERE a.run_id = %s", (PHI_RUN,)).fetchall()
    assert len(stored) == len(orders)
    for wid, text in stored:
        assert leaks(marker[wid], text) == [], (wid, leaks(marker[wid], text))
    assert checked >= 2 * len(orders)  # a chat and an embedding request each
