"""The check at the door: the exact text of a request, just before it leaves, holds no
high-risk identifier the scrubber missed (DESIGN.md decision 8).

The scrubber rewrites text and must keep every engineering number the extraction needs, so
it is written for the formats it knows; measured on text it was not written against it
finds 88% of patient names and phone numbers. This guard does not rewrite anything: it
answers "does this text still hold an SSN, MRN, phone number, e-mail address or date of
birth, or a number read out digit by digit?" and a yes makes the record a failed record
instead of a request. It is broader
than the scrubber where a miss would leak (any separator, "SSN is ...", "call daughter at
...", "d.o.b.", "jsmith at gmail dot com") and as narrow where a hit would cost a record:

* a number right after an engineering label (P/N, SN, REF, LOT, model, firmware, asset,
  ticket, error ...) is never an identifier, whatever its shape ("REF 300-123-4567");
* a number glued to a longer token is part of it (versions, IPs, error codes, ranges);
* dates, 9-digit and undashed numbers count only after their cue (DOB, SSN, MRN, phone):
  a date alone is a service date, a digit run alone a serial number;
* the scrubber's placeholders ("MRN [MRN]", "DOB [DOB]") hold no digits and never match;
* a number read out in words (``SPOKEN``) counts from six words of one language in a row
  ("two two eight one, four four zero seven"): "one or two", "twenty five minutes" are
  quantities, and nobody reads a quantity out digit by digit.

It returns kinds, never values: what it found must not travel into an error message.

Cost: one ``lower()``, two regex scans (cue starts, digit runs) and a few substring tests
per text; measured ~45k texts/s of ~500 chars (scrubbed) on one core of this 2-core
machine, against ~34k/s for the scrubber on the same texts: cheaper, but not by much,
because one pass of any charset-led pattern over 500 chars already costs ~5 us in sre
(``benchmarks/guard_bench.py``; the scrubber has since grown to ~1k texts/s). Per request
it is negligible next to the request itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from backfill.errors import RecordError
from backfill.textnorm import normalize

__all__ = ["ERROR_CLASS", "KINDS", "STAGE", "check_outgoing", "find_identifiers", "is_guarded"]

KINDS = ("SSN", "MRN", "PHONE", "EMAIL", "DOB", "SPOKEN")
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


# (session 45) A number read out in words, as call transcripts and dictated notes write an
# SSN, a phone or a record number ("five three zero one one two, dash, one four", "zéro six,
# quarante-deux, dix-huit", "nolla neljä nolla, seittemän kaks yks"): six or more number words
# of one language in a row, only separators between them. No cue is needed: a quantity is not
# read digit by digit, so six in a row is a number someone dictated. The scrubber masks such a
# number only after a cue it knows; on the read corpus files the guard stops 7 of 3,336
# records for it, 5 of them holding an identifier that left in words (docs/phi.md). The
# words are each language's digits and, where numbers are read in pairs, its tens and teens;
# not "hundred", "thousand" or "and", which make a quantity. A fixed vocabulary of a few
# hundred words, written here and read by eye: no maintained library lists digit words (num2words
# writes whole numbers, compounds and all).
_SPOKEN_LANGUAGES = {
    "en": "zero oh nought one two three four five six seven eight nine double triple ten eleven"
          " twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty"
          " forty fifty sixty seventy eighty ninety",
    "es": "cero uno una dos tres cuatro cinco seis siete ocho nueve doble diez once doce trece"
          " catorce quince dieciséis dieciseis diecisiete dieciocho diecinueve veinte treinta"
          " cuarenta cincuenta sesenta setenta ochenta noventa",
    "pt": "zero um uma dois duas três tres quatro cinco seis meia sete oito nove dez onze doze"
          " treze catorze quatorze quinze dezesseis dezasseis dezessete dezassete dezoito"
          " dezenove dezanove vinte trinta quarenta cinquenta sessenta setenta oitenta noventa",
    "fr": "zéro zero un une deux trois quatre cinq six sept huit neuf dix onze douze treize"
          " quatorze quinze seize vingt trente quarante cinquante soixante septante octante"
          " huitante nonante vingt",
    "de": "null eins zwei zwo drei vier fünf sechs sieben acht neun zehn elf zwölf",
    "it": "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici",
    "nl": "nul een één twee drie vier vijf zes zeven acht negen",
    "pl": "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć",
    "uk": "нуль один одна два дві три чотири п'ять шість сім вісім дев'ять",
    "ru": "ноль нуль один одна два две три четыре пять шесть семь восемь девять",
    "bcs": "nula jedan jedna dva dvije tri četiri pet šest sedam osam devet",
    "fi": "nolla yksi yks kaksi kaks kolme neljä viisi viis kuusi kuus seitsemän seittemän"
          " kahdeksan kaheksan kasi yhdeksän ysi",
    "sv": "noll ett en två tre fyra fem sex sju åtta nio",
    "da": "nul en et to tre fire fem seks syv otte ni",
    "hi": "शून्य एक दो तीन चार पाँच पांच छह छः सात आठ नौ",
}
_SPOKEN_SETS = {lang: frozenset(words.split()) for lang, words in _SPOKEN_LANGUAGES.items()}
_SPOKEN_WORD = "|".join(sorted({re.escape(w) for ws in _SPOKEN_SETS.values() for w in ws},
                               key=len, reverse=True))
_SPOKEN_MIN = 6
# Between two of the words: spaces, a comma, a dash or hyphen; the word for a dash, the "and"
# inside a number ("trente et un", "treinta y dos", "vinte e um"), or a placeholder the
# scrubber put in the middle of one ("nolla neljä viis [PERSON] kaks ysi"); none of them
# counts as a digit.
_SPOKEN_JOINERS = ("dash", "hyphen", "guion", "guión", "traço", "tiret", "strich", "viiva",
                   "crtica", "crta", "et", "y", "e")
_SPOKEN_SEP = (r"(?:[ \t]*[,\-\u2013\u2014][ \t]*|[ \t]+)(?:(?:"
               + "|".join(_SPOKEN_JOINERS) + r"|\[[a-z_]+\])(?:[ \t]*,[ \t]*|[ \t]+))?")
_SPOKEN = re.compile(rf"(?<![\w'])(?:{_SPOKEN_WORD})(?:{_SPOKEN_SEP}(?:{_SPOKEN_WORD})"
                     rf"(?![\w'])){{{_SPOKEN_MIN - 1},}}")
_SPOKEN_TOKEN = re.compile(r"\[[a-z_]+\]|[^\W\d_]+(?:'[^\W\d_]+)?")
_SPOKEN_SEPARATORS = frozenset(_SPOKEN_JOINERS)


_SPOKEN_ANY = frozenset().union(*_SPOKEN_SETS.values())
_SPOKEN_SPLIT = str.maketrans({c: " " for c in ",-\u2013\u2014"})


def _spoken(low: str) -> bool:
    """Six or more number words of one language in a row (the words of several languages
    mixed are not a number: "to" and "en" are Danish digits). A pass over the words first,
    which most texts end: the pattern alone cost 26 us a text, 4x this pass."""
    run = 0
    for word in low.translate(_SPOKEN_SPLIT).split():
        word = word.strip(".;:()!?\"")
        if word in _SPOKEN_ANY:
            run += 1
            if run >= _SPOKEN_MIN:
                break
        elif word not in _SPOKEN_SEPARATORS and not word.startswith("["):
            run = 0
    else:
        return False
    for m in _SPOKEN.finditer(low):
        words = [w for w in _SPOKEN_TOKEN.findall(m.group())
                 if w not in _SPOKEN_SEPARATORS and not w.startswith("[")]
        for vocabulary in _SPOKEN_SETS.values():
            run = 0
            for w in words:
                run = run + 1 if w in vocabulary else 0
                if run >= _SPOKEN_MIN:
                    return True
    return False


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
    if _spoken(low):
        found.add("SPOKEN")
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
