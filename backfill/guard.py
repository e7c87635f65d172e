"""The check at the door: the exact text of a request, just before it leaves, holds no
high-risk identifier the scrubber missed (DESIGN.md decision 8).

The scrubber rewrites text and must keep every engineering number the extraction needs, so
it is written for the formats it knows; measured on text it was not written against it
finds 88% of patient names and phone numbers. This guard does not rewrite anything: it
answers "does this text still hold an SSN, MRN, phone number, e-mail address or date of
birth?" and a yes makes the record a failed record instead of a request. It is broader
than the scrubber where a miss would leak (any separator, "SSN is ...", "call daughter at
...", "d.o.b.", "jsmith at gmail dot com") and as narrow where a hit would cost a record:

* a number right after an engineering label (P/N, SN, REF, LOT, model, firmware, asset,
  ticket, error ...) is never an identifier, whatever its shape ("REF 300-123-4567");
* a number glued to a longer token is part of it (versions, IPs, error codes, ranges);
* dates, 9-digit and undashed numbers count only after their cue (DOB, SSN, MRN, phone):
  a date alone is a service date, a digit run alone a serial number;
* the scrubber's placeholders ("MRN [MRN]", "DOB [DOB]") hold no digits and never match.

It returns kinds, never values: what it found must not travel into an error message.

Cost: one ``lower()``, two regex scans (cue starts, digit runs) and a few substring tests
per text; measured ~45k texts/s of ~500 chars (scrubbed) on one core of this 2-core
machine, against ~34k/s for the scrubber on the same texts: cheaper, but not by much,
because one pass of any charset-led pattern over 500 chars already costs ~5 us in sre
(tests/test_guard.py::test_guard_costs_less_than_the_scrubber). Per request it is
negligible next to the request itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from backfill.errors import RecordError
from backfill.textnorm import normalize

__all__ = ["ERROR_CLASS", "KINDS", "STAGE", "check_outgoing", "find_identifiers", "is_guarded"]

KINDS = ("SSN", "MRN", "PHONE", "EMAIL", "DOB")
STAGE = "scrub"  # the scrubber's miss, so the scrub stage's failure
ERROR_CLASS = "PHIGuard"

# Between a cue and its value: "SSN: ", "MRN# ", "DOB - ", "SSN is ", "phone no. ", "(".
_GAP = r"[ \t]*(?:(?:[:#=(\-\u2013\u2014]|is|was|of|no\.?|nbr|num(?:ber)?|on|at)[ \t]*){0,4}"
# Group separators a person types between digits (incl. en/em dash, middle dot, slash).
_S = r"[ \t.\-/\u2013\u2014\u00b7]"
# The value ends here: not followed by more of the same token or a decimal part.
_END = r"(?![\w\-\u2013\u2014]|[./]\d)"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'\d{2}|\d{2})"
_DATE = (
    rf"(?:\d{{1,2}}{_S}{{1,3}}\d{{1,2}}{_S}{{1,3}}(?:\d{{4}}|\d{{2}})"  # 3/14/62, 14 03 1962
    rf"|\d{{4}}{_S}\d{{1,2}}{_S}\d{{1,2}}"  # 1962-03-14
    rf"|(?:the[ \t]+)?{_DAY}(?:[ \t]+of)?[ \t\-/,]*{_MONTH}(?:[ \t\-/,]*{_YEAR})?"  # 14th of March
    rf"|{_MONTH}[ \t\-/]*(?:the[ \t]+)?(?:{_DAY}(?:,[ \t]*|[ \t\-/]+))?(?:{_YEAR}|{_DAY})"
    r"|\d{8}"  # 19620314
    r"|(?:19|20)\d{2})"  # "born in 1962"
)
_EXT = r"(?:[ \t]*,?[ \t]*(?:x|ext\.?)[ \t]*\d{1,6})?"  # "617.555.0199x12", ", ext 4"
_NANP = rf"(?:\+?1{_S}*)?\(?\d{{3}}\)?{_S}*\d{{3}}{_S}*\d{{4}}"  # 10/11 digits, any separators
_INTL = r"(?:\+|00)[1-9]\d{0,2}(?:[ \t.\-]?\(?\d{1,4}\)?){2,6}"  # +44 (0)20 7946 0958

# Where a cue may start: one fast scan for the first letters of every cue below; the full
# pattern is then tried only there, and only at the start of a word ("telemetry" and
# "airborne" start no cue: checked in Python, a leading lookbehind slows every position).
# Scanning with the full pattern directly cost 3x more (sre tries all its branches at every
# letter).
_CUE_START = re.compile(
    r"(?:s(?:sn|s[ \t]?[#n]|oc)|m(?:rn|\.[ \t]?r|r[ \t]?[#n]|ed)|pa?t"
    r"|d(?:ob|\.[ \t]?o|ate[ \t]+of)|b(?:irth|orn|\.d)|t(?:el|ext)|p(?:h|ager)"
    r"|c(?:ell|all|ontact)|mobile|fax|reach|whatsapp)"
)
# Cue-led values, matched at a cue's start on the lower-cased text; the group that matched
# is the kind.
_CUE_LED = re.compile(
    r"(?:"
    rf"(?:ssn|ss[ \t]?(?:\#|no\b\.?)|soc(?:ial)?\.?[ \t]*sec(?:urity)?\.?"
    rf"(?:[ \t]+(?:number|no\b\.?|\#))?|social){_GAP}(?P<SSN>\d{{3}}{_S}?\d{{2}}{_S}?\d{{4}}){_END}"
    r"|(?:mrn|m\.[ \t]?r\.[ \t]?n\b\.?|mr[ \t]?(?:\#|no\b\.?|num)"
    r"|med(?:ical)?\.?[ \t]*rec(?:ord)?s?\b\.?(?:[ \t]*(?:number|num|nbr|no\b\.?|\#))?"
    r"|(?:patient|pt)\.?[ \t]*(?:id\b|\#|number|no\b\.?))"
    rf"{_GAP}(?P<MRN>[a-z]{{0,3}}[\-]?\d[\d\- ]{{3,18}}\d){_END}"
    r"|(?:dob\b|d\.[ \t]?o\.[ \t]?b\b\.?|date[ \t]+of[ \t]+birth|birth[ \t]?(?:date|day)"
    rf"|born|b\.d\.){_GAP}(?:the[ \t]+)?(?P<DOB>{_DATE}){_END}"
    r"|(?:tel|telephone|phone|ph|cell|cellphone|mobile|fax|call|called|calling|callback"
    r"|pager|contact|reach|text|whatsapp)\b\.?"
    rf"(?P<words>(?:{_GAP}[a-z']+\b){{0,3}}){_GAP}"
    rf"(?P<PHONE>{_NANP}|{_INTL}|\d{{3}}[ \t.\-]\d{{4}}){_EXT}{_END}"
    r")"
)

# Shapes that are identifiers without a cue: dashed SSN, separated North-American numbers
# (also "1-800-..."), "(555) 123 4567", international "+CC ..." / "00CC ...".
_SEP = r"(?:[ \t]?[.\-/\u2013\u2014\u00b7][ \t]?|[ \t])"
_SHAPES = re.compile(
    rf"[\d(+](?:(?<=\d)\d{{2}}[\-\u2013\u2014]\d{{2}}[\-\u2013\u2014]\d{{4}}{_END}(?P<SSN>)"
    rf"|(?<=\+)[1-9]\d{{0,2}}(?:[ \t.\-]?\(?\d{{1,4}}\)?){{2,6}}{_END}(?P<INTL>)"
    rf"|(?<=1){_SEP}\(?\d{{3}}\)?{_SEP}?\d{{3}}{_SEP}\d{{4}}{_END}(?P<PHONE>)"
    rf"|(?<=\()\d{{3}}\){_SEP}?\d{{3}}{_SEP}?\d{{4}}{_END}(?P<PAREN>)"
    rf"|(?<=\d)\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{4}}{_EXT}{_END}(?P<NANP>))"
)

# A run of digits and separators long enough to hold one of the shapes: found in one fast
# scan; the shapes are then tried inside it only (trying them at every digit cost 2x more).
_NUMBER_RUN = re.compile(r"[\d(+][\d \t.\-/()\u2013\u2014\u00b7]{8,}")
_SHAPE_START = frozenset("0123456789(+")

# A label right before a number that makes it engineering data: "P/N", "SN", "REF", "LOT",
# "model", firmware/version, asset, work order, ticket/case/RMA/PO, error/code, IP/MAC.
_ENG_BEFORE = re.compile(
    r"(?:\b(?:p/?n|pn|part|s/?n|sn|serial|ref|lot|cat|catalog|model|mdl|rev|fw|firmware"
    r"|version|ver|sw|build|asset|tag|wo|ticket|case|rma|po|order|ip|mac|kit|code|error|err"
    r"|udi|gtin|sku|item|batch|device|unit|inv|invoice|quote)\b\.?"
    r"(?:[ \t]*(?:no\b\.?|number|num|nbr|id\b|\#))?[ \t]*[:#=]?[ \t]*)$"
)

# (letters of any script: "мария@пример.рф")
# The local part is at most 64 characters (RFC 5321), and so bounded here: unbounded, every
# start in a long dotted token ("com.vendor.pump.Service.run...", a pasted stack trace) ran
# to its end and back, quadratic in its length (48,000 characters: 12 s to 28 s). A longer
# token still holds an address when its last 64 characters before the "@" are one.
_EMAIL = re.compile(
    r"[^\W_][\w.%+\-]{0,63}[ \t]?@[ \t]?[^\W_](?:[\w\-]*[^\W_])?"
    r"(?:\.[\w\-]+)*\.[^\W\d_]{2,}\b"
)
# "jsmith at gmail dot com", "j.smith [at] hospital [dot] org", "jsmith(at)host.org".
_AT = r"(?:[ \t]*[\[({<]at[\])}>][ \t]*|[ \t]+at[ \t]+)"
_DOT = r"(?:[ \t]*[\[({<]dot[\])}>][ \t]*|[ \t]+dot[ \t]+|\.)"
_SPELLED_EMAIL = re.compile(
    rf"[a-z0-9][a-z0-9._%+\-]{{0,63}}{_AT}[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)*?{_DOT}"
    r"(?:com|org|net|edu|gov|mil|us|uk|ca|de|fr|au|io|info|biz|health|co|mail)\b"
)
# Substrings without which no spelled-out address matches: cheaper than any regex scan.
_SPELLED_TOKEN = re.compile(r"[\[({<](?:at|dot)[\])}>]|[ \t]dot[ \t]")
_WEBMAIL = ("gmail", "yahoo", "hotmail", "outlook", "icloud", "aol", "proton", "comcast")
_SPELLED_HINTS = ("dot", "at)", "at]", "at}", "at>", ".com", ".net", ".org", ".edu")


def _glued(text: str, start: int) -> bool:
    """The number continues a longer token: "v4.555-201-3344", "E-123-45-6789", an IP."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_/.-+\u2013")


def _engineering(text: str, start: int) -> bool:
    return _ENG_BEFORE.search(text, max(0, start - 28), start) is not None


def _valid_ssn(digits: str) -> bool:
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _cue_led(low: str, found: set[str]) -> None:
    for cue in _CUE_START.finditer(low):
        at = cue.start()
        if at > 0 and (low[at - 1].isalnum() or low[at - 1] == "_"):
            continue
        m = _CUE_LED.match(low, at)
        if m is None:
            continue
        if m.group("SSN") is not None:
            if _valid_ssn(_digits(m.group("SSN"))):
                found.add("SSN")
        elif m.group("MRN") is not None:
            if len(_digits(m.group("MRN"))) >= 5:
                found.add("MRN")
        elif m.group("DOB") is not None:
            found.add("DOB")
        else:
            start = m.start("PHONE")
            value = re.split(r"[ \t,]*(?:x|ext)", m.group("PHONE"))[0]
            n = len(_digits(value))
            if _glued(low, start) or _engineering(low, start):
                continue  # "call about P/N 1234567890"
            if n in (7, 10) or (n == 11 and value.lstrip("+ \t")[0] == "1") or (
                value[0] in "+0" and 8 <= n <= 15
            ):
                found.add("PHONE")


def _shapes(text: str, found: set[str]) -> None:
    for run in _NUMBER_RUN.finditer(text):
        for start in range(run.start(), run.end() - 8):
            if text[start] in _SHAPE_START:
                _shape_at(text, start, found)


def _shape_at(text: str, start: int, found: set[str]) -> None:
    m = _SHAPES.match(text, start)
    if m is not None and not (_glued(text, start) or _engineering(text, start)):
        if m.lastgroup == "SSN":
            if _valid_ssn(_digits(m.group(0))):
                found.add("SSN")
        elif m.lastgroup == "INTL":
            if 8 <= len(_digits(m.group(0))) <= 15:
                found.add("PHONE")
        else:
            found.add("PHONE")


def _spelled_email(low: str) -> bool:
    """"jsmith at gmail dot com": an address with "at"/"dot" spelled out. With a plain " at "
    and real dots only the webmail domains count: "ordered the part at philips.com" is not
    an address."""
    for m in _SPELLED_EMAIL.finditer(low):
        s = m.group(0)
        if _SPELLED_TOKEN.search(s) or any(f" at {w}" in s for w in _WEBMAIL):
            return True
    return False


def find_identifiers(text: str) -> list[str]:
    """The kinds of high-risk identifier in ``text`` (sorted; [] when clean). Never values."""
    if not text:
        return []
    found: set[str] = set()
    low = text.lower()
    # hidden and look-alike characters read as a person reads them (backfill/textnorm.py):
    if not low.isascii():
        # fullwidth and other compatibility forms read as ASCII: "rroe＠gmail.com",
        # "１２３-４５-６７８９" get past patterns written for ASCII, not past the guard
        low = unicodedata.normalize("NFKC", low)
    # "512-44-90\u200b85", "617\u2010555\u20100144", "617-555-\n0146"
    low = normalize(low)
    _cue_led(low, found)
    _shapes(low, found)  # digits have no case; lower() once for the label checks
    if ("@" in low and _EMAIL.search(low)) or (
        any(h in low for h in _SPELLED_HINTS) and _spelled_email(low)
    ):
        found.add("EMAIL")
    return sorted(found)


def check_outgoing(texts: Iterable[str], destination: str) -> None:
    """Raise the record's ``RecordError`` if any of ``texts`` (the exact text of a request
    about to be sent to ``destination``) holds a high-risk identifier."""
    kinds: set[str] = set()
    for text in texts:
        kinds.update(find_identifiers(text))
    if kinds:
        raise RecordError(
            STAGE,
            ERROR_CLASS,
            f"identifier of kind {', '.join(sorted(kinds))} found in the text about to be "
            f"sent to {destination}; not sent",
        )


def is_guarded(exc: BaseException) -> bool:
    """The guard stopped this record: it says nothing about the API, so no breaker counts it."""
    return isinstance(exc, RecordError) and exc.error_class == ERROR_CLASS
