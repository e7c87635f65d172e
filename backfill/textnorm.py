"""Characters that hide an identifier from patterns written for what people see (issue 10).

A value pasted from a word processor, a PDF or a web form can carry characters a reader does
not see or reads as ASCII: a zero-width space inside an SSN ("512-44-90\u200b85"), Unicode
hyphens and dashes between its groups ("512\u201044\u20109084", "SSN\u2014512449083"),
fullwidth digits and letters ("\uff16\uff11\uff17"), no-break and thin spaces as group
separators, a number broken at its hyphen by a line end ("617-555-\\n0146"), an e-mail
broken after its "@", doubled "@@" or URL-encoded "%40", digit groups joined by "_", a cue
alone on its line with the value on the next ("MRN\\n00412233"). An acceptance check outside
the repository sent all of these to the API through both the scrubber and the guard (session
34). The scrubber and the guard read the text through :func:`normalize`, and the evaluation
compares values in the same form, so what they see is what a person reads.

Written by hand: ``unicodedata.normalize("NFKC")`` maps fullwidth forms but keeps Unicode
hyphens and dashes, zero-width and bidirectional marks, and would also rewrite the fullwidth
punctuation of Chinese and Japanese prose ("\uff1a", "\uff08") that the rules match as it is.
What is changed, and only there:

* removed: zero-width space, word joiner, byte-order mark, soft hyphen, the bidirectional
  marks and embeddings (formatting only); zero-width joiners and non-joiners only between
  ASCII characters (they spell words in Indic scripts and Persian);
* to a space: no-break, narrow no-break, figure, thin, hair and the other fixed-width spaces;
* to ASCII: fullwidth digits, Latin letters, "\uff20" and "\uff0d";
* to "-": Unicode hyphens, dashes and the minus sign next to a digit ("1962\u201303",
  "SSN\u2014512"; a dash between words stays);
* joined: a line end after a hyphen between digits, after an "@" or around a lone cue line.
"""

from __future__ import annotations

import re

__all__ = ["normalize"]

_DROP = "\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008"
_TABLE = str.maketrans(
    {**dict.fromkeys(map(ord, _DROP)),
     **{ord(c): " " for c in _SPACES},
     **{0xFF10 + i: chr(0x30 + i) for i in range(10)},
     **{0xFF21 + i: chr(0x41 + i) for i in range(26)},
     **{0xFF41 + i: chr(0x61 + i) for i in range(26)},
     0xFF20: "@", 0xFF0D: "-"})
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_NON_ASCII = re.compile(
    rf"[{_DROP}{_SPACES}\u200c\u200d\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff20\uff0d{_DASHES}]")
_DASH_BY_DIGIT = re.compile(rf"(?<=\d)[{_DASHES}]|[{_DASHES}](?=\d)")
_JOINER_IN_ASCII = re.compile(r"(?<=[\x21-\x7e])[\u200c\u200d](?=[\x21-\x7e])")
# "617-555-\n0146", "512-44-\n9071": the hyphen says the number goes on
_BROKEN_NUMBER = re.compile(r"(?<=\d)-[ \t]*\r?\n[ \t]*(?=\d)")
# "j.kowalczyk@\nfamilymail.net", "r.kowalski@@hospital.org", "j.kowalczyk%40familymail.net"
_BROKEN_AT = re.compile(r"(?<=[A-Za-z0-9._%+\-])(?:@+[ \t]*\r?\n[ \t]*|@{2,}|%40)(?=[A-Za-z0-9])")
# "617_555_0145": a phone's or an id's groups joined by underscores
_UNDERSCORED = re.compile(r"(?<![\w])(\d{2,4})_(\d{2,4})_(\d{3,4})(?![\w])")
# A label's cue alone on its line and its value on the next ("MRN\n00412233", "DOB:\n3/2/62")
_LONE_CUE = re.compile(
    r"(?im)^([ \t]*(?:mrn|ssn|dob|d\.o\.b\.?|date[ \t]+of[ \t]+birth|phone|tel\.?|cell|mobile"
    r"|fax|e-?mail|acct|account|member[ \t]+id|policy)[ \t]*(?:no\.?|#)?[ \t]*:?)[ \t]*\r?\n"
    r"(?=[ \t]*[\d(+])")


def normalize(text: str) -> str:
    """``text`` as a person reads it (module docstring); the same object when nothing changes."""
    if not text.isascii():
        if _NON_ASCII.search(text) is not None:
            text = text.translate(_TABLE)
            if "\u200c" in text or "\u200d" in text:
                text = _JOINER_IN_ASCII.sub("", text)
            text = _DASH_BY_DIGIT.sub("-", text)
    elif not ("\n" in text or "@" in text or "%40" in text or "_" in text):
        return text
    if "\n" in text:
        text = _BROKEN_NUMBER.sub("-", text)
        text = _LONE_CUE.sub(r"\1 ", text)
    if "@" in text or "%40" in text:
        text = _BROKEN_AT.sub("@", text)
    if "_" in text:
        text = _UNDERSCORED.sub(r"\1-\2-\3", text)
    return text
