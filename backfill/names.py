"""Person names without a cue word, found with name lists (scrubber version 3).

The cue-based rules of ``backfill.scrub`` find "pt Rosa Ortega" but not "Rosa Ortega's line"
or "called Okonkwo back"; no maintained library finds those offline here (Presidio needs a
spaCy NER model, which is not on the package registry: docs/phi.md has the measurement).
This layer looks every word up in the first- and last-name lists of the UCSF Philter
de-identification project (``philter-ucsf`` on PyPI: 97k first and 161k last names, with a
195k-word English and medical vocabulary from which names were removed), joined since version
55 by the given names and surnames of Faker's 86 locales, and in our list of equipment makers,
products and jargon that are also names (``data/not_names.txt``).

A word is
* ``NAME``: in the name lists, not in the vocabulary, not equipment ("Okonkwo", "Beatriz",
  "Price"): masked when capitalised (Title or ALL CAPS), and when lower case only beside
  another name word ("maria gonzalez");
* ``MAYBE``: a name that is also a word ("Hope", "Will", "Brown"), an unknown capitalised word
  ("Oluwaseun", but also "ProCuity"), an initial ("J.") or a particle ("de", "van"): masked
  next to a masked word; a capitalised ambiguous name also inside a sentence ("per Hope on
  5N"), where a capital marks a name, not at a sentence start ("Will check").
* anything else is kept.

Words that name equipment are kept even when they are names ("Baxter", "Alaris", "Welch
Allyn"); a name word directly before a model number is taken as a product ("Hamilton C6",
"Sigma Spectrum 35700").
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import re
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from backfill.relead import compile_led

__all__ = ["CREDENTIALS", "EXTENSION_WORDS", "MODEL_AFTER", "fold", "is_given_name", "is_surname",
           "is_word", "mask_names", "plain_words"]

PLACEHOLDER = "[PERSON]"

_DATA = Path(__file__).resolve().parent / "data" / "not_names.txt"

# A word: letters, with inner apostrophes or hyphens ("O'Neill", "Garcia-Lopez"); an initial
# "J." is a word ending in a dot.
# A word, or a name placeholder the cue rules left. Not glued to digits: "40Ah", "RL-44",
# "v2" are codes. The dot of an initial ("J.") is part of it, a sentence's full stop is not.
# The vowel signs and viramas of the Indic and South-East Asian scripts are marks, not letters,
# to Python's \w: a Tamil or Khmer name is one word with them ("செல்வராஜா", "ចាន់ធី").
_MARKS = ("[\u0300-\u036f\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
          "\u0981-\u0983\u09bc-\u09d7\u09e2\u09e3\u0a01-\u0a03\u0a3c-\u0a51\u0a81-\u0a83"
          "\u0abc-\u0acd\u0b01-\u0b03\u0b3c-\u0b57\u0b82\u0bbe-\u0bcd\u0bd7\u0c00-\u0c04"
          "\u0c3e-\u0c56\u0c81-\u0c83\u0cbc-\u0cd6\u0d00-\u0d03\u0d3b-\u0d57\u0d81-\u0d83"
          "\u0dca-\u0df3\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd"
          "\u102b-\u103e\u1056-\u1059\u17b4-\u17d3\u0591-\u05c7\u064b-\u065f\u0670]")
_WORD = compile_led(
    r"\[(?:PATIENT_NAME|PERSON)\]"
    r"|(?<![\w\-/])(?>[^\W\d_](?:[^\W\d_]|" + _MARKS + r")*"
    r"(?:['\u2019\-][^\W\d_](?:[^\W\d_]|" + _MARKS + r")*)*)"
    r"(?:(?<=(?<![^\W\d_])[^\W\d_])\.(?=[ \t,;)]))?(?![\-/]?\d|\w)")
# Inner capitals make a product ("BladderScan", "ProCuity", "AirSense"), except the name
# prefixes of "McDonald", "MacLeod", "DeLuca", "LaToya", "DiMaggio", "VanDyke", "O'Brien".
_CAMEL = compile_led(r"[^\W\d_](?<!Mc)(?<!Mac)(?<!De)(?<!La)(?<!Le)(?<!Di)(?<!Van)(?<!Du)[A-Z]")
# An acronym and a lower-case word: a department or a team ("MT-dienst", "IT-support",
# "ICU-team"), not a product whose name the capitalised words after it continue.
_ACRONYM_COMPOUND = compile_led(r"[A-Z]{2,5}-[a-zà-öø-ÿ]{3,}$")
_POSSESSIVE = ("'s", "\u2019s")
# Malay and Arabic "son of" / "daughter of", which stand only inside a name
_PATRONYMIC = frozenset("bin binti bt bte bint ibn".split())
# The particles that are also the articles and prepositions of Romance sentences
_ROMANCE_ARTICLES = frozenset("de del della di da das do dos du la le las los el y o".split())
_PARTICLES = frozenset(
    "de del della der den da das do dos du van von la le las los di bin ibn al el ter ten y o"
    " ni nic thi ap bt binti bte bint"  # (version 55: Malay "Rosnah bt Ismail")
    .split())  # (compared folded: "Ó", "Ní")
# A model or code right after a word makes it a product name ("Hamilton C6", "Alaris 8015").
MODEL_AFTER = compile_led(
    r"[ \t]+(?!MRN|DOB|SSN|ACCT|\d{1,2}[A-Z]{1,2}-\d{1,3}\b)"  # a record label or a room: "4E-07"
    # or a date after a name: "tech Ngozi Eze-Williams 2025-01-28"
    r"(?!\d{4}-\d\d-\d\d\b|\d{1,2}([/.\-])\d{1,2}\1\d{2,4}\b)"
    # or a time or a day and month: "by J. Okafor 07:35", "Delivered by Kyle Brandt 10-15"
    r"(?!\d{1,2}:\d\d\b|\d{1,2}[\-/]\d{1,2}(?![\w\-/]|\.\d))"
    r"(?:[A-Z]{0,4}\d[\w\-./]*|(?i:fw|firmware|s/?n|sn|serial|model|p/?n|rev)\b)")
# (version 36) A clinician's credential after a name: "Laura Chen, RN", "Medical Director:
# Steven Mahoe, MD" (heldout30: two words that are also English words, at a line's start, had
# been kept). Not Maryland's "MD" before a ZIP code ("Silver Spring, MD 20910").
CREDENTIALS = ("RN", "MD", "NP", "CNA", "LPN", "BMET", "CBET", "CRNA", "EMT", "RRT", "PhD",
               "BSN", "MSN", "CEng", "MBBS", "DNP", "FNP", "CCRN")
_CREDENTIAL_AFTER = compile_led(
    rf"[ \t]*,?[ \t]*(?:{'|'.join(CREDENTIALS)})\b(?![\-/]|[ \t]*\d{{5}})")

# (version 37) A serial number's word after a capitalised word makes it, and the capitalised
# words before it, a product's name: "Trima Accel, serie 1T31847", "Symbia Intevo Bold, S/N
# 1034417", "Intellis, Implantat-SN", "Pozis ХК-400, зав. №" (product names the lists do not
# hold had been taken for names, the fail-closed rule's cost; the read files lost 134 models).
_SERIAL_AFTER = compile_led(
    # (a model code may come between: "LKPv 6520 serie")
    r"(?:[ \t]+(?=[\w\-./+]*\d)[\w\-./+]{1,12}){0,2}"
    # (not Vietnamese "sn 1958", sinh năm: the year of birth after a name)
    r"(?:[,(]?[ \t]*(?i:s/?n\b(?![ \t]*(?:19|20)\d\d(?![\w\-]))"
    r"|sarjanro|serijos|серийн|серійн|сериялық|с\.[ \t]?н\.|nr\.?[ \t]+serial|№"
    r"|ser(?:ial|ie|ien?nr|ien?nummer|ial[ \t]*(?:no|number|\#))?\b\.?"
    r"|n\.?[º°o]\.?[ \t]*(?:de[ \t]+)?s[ée]rie|nr\.?[ \t]+ser\b|implantat-?sn|implant[ \t]+serial"
    r"|device[ \t]+s(?:n|erial)\b|зав\.|сер\.|serienr|rað\.?nr)"
    r"|[,(\u060c]?[ \t]*(?:رقم[ \t]+مسلسل|الرقم[ \t]+التسلسلي|سریال|सीरियल|सिरियल|क्रमांक"
    r"|সিরিয়াল|số[ \t]+máy|מס['׳][ \t]+סידורי|序列号|시리얼|սերիական))")

# Where a sentence starts: a capital there says nothing about the word.
_SENTENCE_END = frozenset(".!?\n:;\"([-*•>")

# Word classes
NAME = 4  # a name and not an English word: "Okonkwo", "Beatriz"
AMBIG = 3  # a name that is also a word: "Grace", "Will", "Brown", "Heater"
UNKNOWN = 2  # a capitalised word in no list: "Oluwaseun", "Alphamaxx", or an initial "J."
FOREIGN = 1  # a word in another script ("Пономарев", "井上"): a name only after a cue
OTHER = 0

# The lists are plain ASCII without apostrophes ("oconnor", "nguyen", "lukasz").
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                       "æ": "ae", "Æ": "AE", "ı": "i", "'": "", "\u2019": ""})
# Words after which a word is a person's name even when it is also a word or in no list
# ("Dr. Mbeki", "per Hope", "called Will back", "mom Rose", "w/ okafor").
_PERSON_CUES = frozenset("""
    dr doctor nurse rn lpn np cna tech technician prof professor mr mrs ms mx miss
    crna fse physio surgeon carer pharmacist midwife paramedic anaesthetist anesthetist
    perfusionist radiographer sonographer porter engr eng bme biomed ing lic dra lt sgt capt cpl mdm
    auditor advocate coordinator driver escort officer ofc engineer technologist therapist
    physiologist
    pt patient patients pts per called call paged page told asked notified informed thanks thx
    attn cc by spoke talked texted emailed
    son daughter wife husband mom mother dad father brother sister spouse partner caregiver
    guardian friend aunt uncle niece nephew grandson granddaughter grandmother grandfather
    baby infant
    ask ring rang tell interpreter translator agent courier dispatcher drvr
    mum grandma grandpa granny nana gran cousin neighbour neighbor aunty auntie sis
    grand-daughter grand-son great-grandson great-granddaughter
""".split()) | frozenset(map(str.lower, """
    paciente hija hijo esposa esposo madre padre patient fille fils épouse époux mère père
    nieto nieta abuelo abuela tío tía sobrino sobrina hermano hermana papá mamá
    petit-fils petite-fille frère sœur soeur enkel enkelin bruder schwester neto neta irmão irmã
    mąż żona syn córka matka ojciec brat siostra
    patiënt pacjent pacjentka client cliente dhr mevr mevrouw meneer herr frau mme mlle sr sra
    srta signor signora enf enfermera enfermeira técnico técnica mum hi hello hey dear
    patientin tochter sohn ehefrau ehemann mutter vater mãe pai filha filho
    환자 病人 患者 病患 пациент пациентка пацієнт пацієнтка ασθενής מטופל מטופלת مريض المريض
    보호자 딸 아들 남편 아내 어머니 아버지 담당 担当 担当者 長男 長女 次男 次女 娘 息子 夫 妻 家族
    家属 女儿 儿子 丈夫 妻子 负责人 工程师 住民 家屬 兒子 女兒 維修 技師
    técnico tecnico teknisi tekniker technicus techniker manželka manžel datter sønn søn
    κόρη γιος σύζυγος τεχν ασθενούς טכנאי מטופלת מטופל בת בן الطفلة الطفل بنت ابن
    пациента пациентки пациенту пациентке пацијента пацијент пацієнта дитина мама папа мать
    отец дочь дочери дочка сын сына жена муж бабушка дедушка донька син чоловік дружина
    née né epouse épouse
    utente pacient pacienta pacientka pacienti dcéra syn participant umurwayi agente
    crew emt paramédicos paramedicos paramédico paramedico arduraduna responsable inženýr
    өвчтөн эмч հիվանդ инженер техник д-р анестезиолог медсестра лікар врач māsa ārsts
    bebê bebé bebe
    usuario usuaria patiente sjúklingur bolnik bolnica klient klientka hasta mari technicien
    technicienne sonur dóttir abikaasa
    τεχνικός νοσηλεύτρια νοσηλευτής ιατρός γιατρός annesi babası oğlu kızı eşi hemşire teknisyen
    технік медсестрі медсестри лікарю дитина мама мати ابنه ابنته أمي ابي زوجته فني
    الفني للمريض د אמא אבא האחות אחות מרים मरीज़ मरीज बेटा बेटी श्रीमती पत्नी रोगी নার্স স্ত্রী
    ছেলে মেয়ে ผู้ป่วย นาย นาง พยาบาล ลูกสาว ลูกชาย ช่าง 간호사 보호자 看護師 技術員 記入 用户
    প্রকৌশলী ডাক্তার ডা মোঃ
    用戶 联系人 聯絡人 护士 護士 工程師 技师 pasien perawat teknisi anak istri suami
    המטופל המטופלת 家屬 家属 রোগী রোগীর
    zoon dochter echtgenote echtgenoot ofw sanfw uffz hptm gefr stuffz inmate detainee csr
    청각사 техничар радиолог др сестра همسر تکنسین پرستار بیمار مریض بیٹے بیٹی بیوی شوہر
    pesakit anak isteri suami
    母 父 祖母 祖父 兄 姉 弟 妹 母親 父親 院長 원장 어머니 아버지 할머니 할아버지 언니 누나 오빠 형
    trainer therapist podiatrist lactation slp audiologist optometrist orthotist prosthetist
    pat kone hustru dotter dottern sonen maken frun mannen mormor farmor morfar farfar
    протезист фізіотерапевт фізіотерапевтка ортопед терапевт пацієнтці пацієнтові
    พญ นพ ทพ ทพญ دکتر دكتور الدكتور
    主治医 担当医 維修工程師 维修工程师 护士长 護理長 工程师 엔지니어 المهندس مهندس बेटे तकनीशियन डॉ
    salut bonjour bonsoir coucou hola ciao salve hallo moin servus grüezi hej hei moi hoi olá
    merhaba selam привет здравствуйте cześć witam ahoj szia jambo habari kamusta halo namaste
    rep pak bapak ibu kuya mamma sestra pacijentice pacijentica pacijent tehnician tehnicianul
    named daughter-in-law son-in-law mother-in-law father-in-law
    interprète interprete tłumacz tolk tulkki
    الأم الأب الزوجة الزوج الابنة مريضة مریضہ पोती पोता दादी दादा नानी नाना माँ मां
    பாட்டி அம்மா மகள் மகன் தாத்தா දුව පුතා අම්මා مادر پدر دختر پسر
""".split()))


# Cues after which even a lower-case word in no dictionary is a name ("his wife gulnara's").
_FAMILY_CUES = frozenset("""
    son daughter wife husband mom mother dad father brother sister spouse partner caregiver
    guardian aunt uncle niece nephew grandson granddaughter grandmother grandfather baby mr mrs
    ms mx miss dr thanks thx regards cheers missus mister
    mum grandma grandpa granny nana gran cousin neighbour neighbor aunty auntie sis
    grand-daughter grand-son
    hija hijo esposa esposo nieto nieta fille fils tochter sohn filha filho
""".split())
# (compared folded, as the words are: "Κόρη" is "κορη", "manželka" is "manzelka")
_PERSON_CUES = frozenset("".join(c for c in unicodedata.normalize("NFKD", w.translate(_FOLD))
                                 if not unicodedata.combining(c))
                         for w in _PERSON_CUES) | _PERSON_CUES
_LABEL_END = compile_led(r"[ \t]*(?:\n|$)|[ \t]{2,}|[ \t]+(?:MRN|MR|DOB|ACCT|CSN|FIN|SSN)\b"
                         # (version 55) a chat's or a log's speaker: "Mikko V.: kotikäynti",
                         # "Agnes N., CHA"
                         r"|\.[ \t]*[:,]")
_ALIAS_GAPS = frozenset((" (", "(", " / ", "/", " ( ", ' ("', ' (\u201c', ' "', " \u201c"))
# ... and the surname after a nickname in quotes: 'Wilhelmina "Billie" Strand'
_ALIAS_ENDS = frozenset(('" ', "\u201d ", "') "))
# Nouns that follow a given name without being a surname: "Grace Hospital", "Mary Ward"
_AFTER_NAME_NOUNS = frozenset("""
    hospital ward unit wing building house home room clinic center centre street st road rd
    avenue ave lane hall court pavilion tower annex campus school college university church
    chapel foundation institute trust lodge suite bay theatre theater floor level block pump
    monitor bed lift hoist chair program programme team service services department dept
""".split())
# Words after which a capitalised word joined to a name is the name's first part.
_LEFT_CUES = _PERSON_CUES | frozenset("via witness phleb phlebotomist signed sgd from".split())
# Given names that are more often the word after a relation ("wife will call", "son said")
_NOT_GIVEN = frozenset("will may said called is was has had says can and or at on in to".split())
# Abbreviated titles whose dot does not end a sentence ("Dr. Mbeki").
_TITLES = frozenset("dr mr mrs ms mx prof pt sr sra srta mme mlle dhr mevr hr fr sig ing lic dra lt"
                    " sgt capt cpl mdm tec techn τεχν"
                    # (version 41) the patient's abbreviations with their dot: "pat. Åke Nyström"
                    " pat pte pcte pac".split())
# Cues strong enough that any capitalised word after them is a name ("Dr. Page"), and a lower-
# case word that is also an English word ("rn summer").
_STRONG_CUES = frozenset(
    "dr doctor rn lpn np cna crna fse physio carer mr mrs ms mx miss baby".split())
# Verbs after a word that make it a person ("Rose told her RN", "Will (nights) says").
_SAYS = compile_led(
    r"(?:[ \t]*\([^()\n]{1,24}\))?,?[ \t]+(?:says|said|told|asked|called|calls|wants|wanted"
    r"|states|stated|reports|reported|requested|mentioned|noticed|confirmed|agreed|thinks"
    r"|shadowed|paged|texted|emailed|responded|covering|covered|attended"
    # (version 56) a signature's verbs: "ruby signed, sonny initialed"
    r"|signed|initialed|initialled)\b"
    # "Papadopoulou family asking about the lift"
    r"|(?:['\u2019]s)?[ \t]+(?:family|household|kids|children|parents)\b"
    # "Joey (pt, 6 y/o)", "Okafor (patient) ..."
    r"|[ \t]*\((?:pt|patient|pts?['\u2019]s)\b"
    # "Grace in bed 22", "Okafor in 4W"
    r"|[ \t]+(?:in|on)[ \t]+(?:bed|rm|room|bay|[0-9]{1,2}[A-Z]{1,2}\b)", re.IGNORECASE)
# Things that "say" in work orders ("Pump says wrong syringe size").
_NOT_SPEAKERS = frozenset("""
    pump monitor screen display unit device vent ventilator machine system log manual label tag
    sticker error alarm message code bed software firmware printer scanner panel it this
""".split())
_PLACEHOLDER_WORDS = ("[patient_name]", "[person]")
# Honorifics after a name in Japanese and Korean: "佐藤 花子 様", "이수진 씨"
_HONORIFIC_AFTER = compile_led(r"[ \t]?(?:様|さん|殿|氏|씨|님)(?!\w)")
# (version 56) Korean kin words and "teacher" after a name, with a particle: "순자 할머니가",
# "jieun 선생님께". Not grown over the words around (Korean puts spaces between words: the
# growth of a caseless script's name would run to the sentence's end).
_KIN_AFTER_KO = compile_led(
    r"[ \t]?(?:할머니|할아버지|어르신|선생님)(?:께서|께|가|는|의|도|이|을|를)?(?!\w)")
# (version 56) Honorifics written in Latin letters after a name: glued ("makoto-san",
# "kobayashi-san", "ichiro-san's"), or a word after it ("omid agha", "bahar khanum", "güneş
# bey", "ponnammal paati"): the word before is a name, whatever its case and lists (heldout46).
# Kin words after a name that are short or other words too ("madhuri tai", "kulkarni kaka",
# "sunita sis."): only after a word of the name lists.
_HONORIFIC_SUFFIXES = ("-san", "-sama", "-kun", "-chan", "-sensei", "-ssi", "-nim")
_HONORIFICS_AFTER = frozenset(
    "agha aga khanum khanom khanoum bey hanım hanim efendi sahib sahab saheb paati patti thatha"
    " begum".split())
_KIN_AFTER = frozenset("tai kaka kaki didi bhai bhaiya apa aapa ji sis".split())
_AFTER_NAME_TITLES = _HONORIFICS_AFTER | _KIN_AFTER
_HONORIFIC_CHARS = "様さん殿氏씨님"  # (a cheap gate for _HONORIFIC_AFTER after a Latin word)
# (version 56) Verbs after a lower-case given name that is also a word, which only a person
# does: "summer said ring the shop", "ruby signed" (not after "the", "my": "the mark said")
_SAYS_PERSON = compile_led(
    r",?[ \t]+(?:says|said|signed|initialed|initialled|told|asked|texted|wants)\b")
# (version 56) What a person does, after a lower-case given name that is no word: "yazan fixed
# it", "zeke waited 2 hrs", "uri came out", "nimal pls send"
_ACTS = compile_led(
    r"[ \t]+(?:fixed|came|comes|waited|parked|drove|will|was|is|has|had|pls|please|can|cried"
    r"|arrived|left|brought|took|translates|translated|signed|swapped|replaced|checked)\b")
# (version 56) A chat's or a log's speaker in lower case at its line's start, after a time,
# a bracket or a quote: "19/6 10:50 jomar: called mother", '"jomar: swapped'
_SPEAKER_BEFORE = compile_led(r"[\d \t:/.,\-\[\]\"'APMapm]*$")
_DETERMINERS = frozenset("the a an this that my your our his her their its no every each some any"
                         " which what".split())
# (version 56) Two words that cue a person: "ask for marisol", "talk to Deb", "speak with X"
_TWO_WORD_CUES = {"for": frozenset(("ask", "asked", "asking")),
                  "to": frozenset(("talk", "talked", "speak", "spoke", "speaking")),
                  "with": frozenset(("talk", "talked", "speak", "spoke", "speaking"))}
# Words that label a person only before a colon ("Name: ...", "From: ..."). Before a colon,
# every person cue labels one too, but for _NOT_LABELS (see ``cued``).
_COLON_CUES = frozenset(("name", "caller", "resident", "contact", "requester", "requestor",
                         "engineer", "from", "to", "بیمار",
                         # (version 56) "dispatch: tammy r.", "Checked: Rupa", "QC: ..."
                         "dispatch", "checked", "qc", "delivered", "received", "collected"))


# Person cues that before a colon label no person: "call: 4412", "per: policy", "thanks:"
_NOT_LABELS = frozenset("""
    per called call paged page told asked notified informed thanks thx attn by spoke talked
    texted emailed hi hello hey dear
""".split())


def fold(word: str) -> str:
    """A word as the lists hold it: lower case, without accents ("Vargová" -> "vargova")."""
    return _fold(word)


def _fold(word: str) -> str:
    low = word.lower()
    if low.isascii() and "'" not in low:
        return low
    low = unicodedata.normalize("NFKD", low.translate(_FOLD))
    return "".join(c for c in low if not unicodedata.combining(c))


def _philter_dir() -> Path:
    # The package's __init__ imports its NLP pipeline (nltk ...): read its data files without
    # importing it.
    spec = importlib.util.find_spec("philter_ucsf")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the name lists of philter-ucsf are missing: pip install philter-ucsf")
    return Path(next(iter(spec.submodule_search_locations))) / "filters"


@dataclass(frozen=True)
class _Lists:
    names: frozenset[str]  # names that are no English word
    ambiguous: frozenset[str]  # names that are also words
    words: frozenset[str]  # English and medical words, equipment words
    equipment: frozenset[str]
    plain: frozenset[str]  # lower-case words that are neither names nor equipment nor cues
    first: frozenset[str]  # given names (both lists hold many of each other's)
    last: frozenset[str]
    phrases: dict[str, list[tuple[str, ...]]]  # first word -> protected phrases
    foreign: frozenset[str]  # given names and surnames in scripts other than Latin (Faker's)


# Building the lists takes ~1.8 s of CPU (three JSON files, two dictionaries, Faker's 86
# locales, set algebra; 1.1-1.4 s before version 55)
# in every process that scrubs: on a 2-core node, the job's first prepare tasks paid it while
# the other workers started (issue 14's first commit). The built lists are kept in the user's
# cache, keyed by what they are built from (the files' sizes and times, this module's source,
# Faker's version, the interpreter), and loaded in ~0.25 s. Written by this code only,
# atomically; any error reading it falls back to building.
_CACHE_FORMAT = 2


def _cache_path(base: Path) -> Path | None:
    try:
        from english_words import __file__ as words_file
        from faker import VERSION as faker_version
        parts = [str(_CACHE_FORMAT), sys.version, Path(__file__).read_text(encoding="utf-8"),
                 faker_version]
        for f in (base / "blacklists" / "firstnames_minus_fps.json",
                  base / "blacklists" / "lastnames_minus_fps.json",
                  base / "whitelists" / "whitelist_plus_fps_091718_nonames.json",
                  _DATA, Path(words_file)):
            st = f.stat()
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
    except (OSError, ImportError):
        return None
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "backfill" / f"name-lists-{key}.pickle"


@cache
def _lists() -> _Lists:
    base = _philter_dir()
    path = _cache_path(base)
    if path is not None:
        try:
            with open(path, "rb") as f:
                lists = pickle.load(f)
            if isinstance(lists, _Lists):
                return lists
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            pass
    lists = _build_lists(base)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(lists, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except OSError:
                os.unlink(tmp)  # (a full disk: no half-written file left behind)
                raise
        except OSError:
            pass  # a read-only home: build each time, as before
    return lists


def _build_lists(base: Path) -> _Lists:

    def load(rel: str) -> set[str]:
        with open(base / rel, encoding="utf-8") as f:
            return set(json.load(f))

    foreign, faker_given, faker_surnames = _faker_names()
    first = load("blacklists/firstnames_minus_fps.json")
    last = load("blacklists/lastnames_minus_fps.json")
    # Philter's vocabulary had every name taken out ("heater", "grace" are surnames), so
    # whether a name is also a word comes from the dictionaries of english-words (Webster's
    # 2nd and GCIDE): a word they list in lower case, or GCIDE as a headword.
    from english_words import get_english_words_set

    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    gcide = get_english_words_set(["gcide"], lower=True, alpha=True)
    web2_lower = {w for w in web2 if w.islower()}
    whitelist = load("whitelists/whitelist_plus_fps_091718_nonames.json")
    vocab = whitelist | web2_lower | gcide
    # (version 55) Philter's lists are American; the given names and surnames of Faker's 86
    # locales in Latin script join them ("Lindqvist", "Sigurðardóttir", "Muthoni", "Colón"):
    # 17,000 names that a capitalised word inside a sentence found, but not at a sentence
    # start, in lower case after a cue, or as the surname of a login ("jlindqvist"). Those
    # that are words ("Colón", "Fall", "Wal") count as given names and surnames beside another
    # name word, but are no names alone: Faker's surnames hold "Low", "Power", "Line" ("BATT
    # LOW", "Power Fail").
    names = first | last | (faker_given - vocab) | (faker_surnames - vocab)
    first |= faker_given
    last |= faker_surnames
    equipment: set[str] = set()
    phrases: dict[str, list[tuple[str, ...]]] = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "|" in line:
            for p in line.split("|"):
                # (folded as the words they are compared with: "grüßen" is "grussen")
                words = tuple(_fold(w) for w in p.lower().split() if w != "&")
                if words:
                    phrases.setdefault(words[0], []).append(words)
        else:
            equipment.update(line.lower().split())
    # (version 55) GCIDE's headwords come capitalised and lower-cased alike, its proper nouns
    # with them: "John", "Kevin", "Adrian", "Charlotte" were names that are also words, kept
    # where no cue or second name word stood beside them ("handed over to Alexander at 14:00").
    # A given name of Faker's locales that only GCIDE lists (not Webster's in lower case, not
    # Philter's vocabulary) is a name; not a month ("April", "Jan", French "Mars").
    proper = {w for w in names & gcide if w in faker_given and w not in web2_lower
              and w not in whitelist and w not in _CALENDAR_WORDS}
    return _Lists(
        foreign=foreign,
        names=frozenset((names - vocab - equipment) | (proper - equipment)),
        ambiguous=frozenset((names & vocab) - equipment - proper),
        words=frozenset(vocab | equipment),
        equipment=frozenset(equipment),
        plain=frozenset(w for w in vocab if w.islower() and w not in names and w not in equipment
                        and w not in _PERSON_CUES and w not in _PARTICLES and w not in phrases),
        first=frozenset(first),
        last=frozenset(last),
        phrases=phrases,
    )


# Words of Faker's name lists that work orders use as words: titles ("श्रीमती", "นาย",
# "الحاج"), kinship ("בת", "بنت"), greetings ("السلام عليكم"), "tel.", "name", "light",
# "detector", "appeared", "successful", "red", "on", "age" (found on the read files)
_NOT_FOREIGN_NAMES = frozenset("""
    טל בת שם שלום שלי שלו לב שדה אל אליה श्रीमती श्री นาย นาง นางสาว الحاج الشيخ السادة مقدم تمام
    بن بنت ابن أبو ام أم سلام السلام نور كاشف ظاهر موفق شامل هدایت زائد على عمر سليم طلعت رمضان
    लाल अनु
""".split())
# ... and the words for a role or a relative before a name in those scripts
_FOREIGN_ROLES = frozenset(_fold(w) for w in """
    الممرضة الممرض المريض المريضة الطبيب الدكتور المهندس الفني الأب الأم ابنه ابنته زوجها زوجته
    ولده وابنها جوزها ڈاکٹر زوجہ مریضہ مریض پرستار بیمار فرزند همسر אשתו בעלה אחות רופא מטופל
    ექთანი პაციენტი მეუღლე შვილი ექიმი ინჟინერი टेक्नीशियन टेक्निसियन सिस्टर नर्स डा
""".split())


# Month and weekday words that are also given names in some locale ("April", "Jan", "Mars")
_CALENDAR_WORDS = frozenset(
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec mars mai juni juli"
    " monday tuesday wednesday thursday friday saturday sunday".split())


def _faker_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """From the person providers of Faker's 86 locales: the given names and surnames of the
    scripts other than Latin (Arabic, Persian, Hebrew, Cyrillic, Greek, Georgian, Armenian,
    Indic, Thai, CJK ...; the philter lists know English names only, and a caseless script
    gives no capital to find a name by), and the given names and the surnames in Latin script.
    Words of three letters or more, of letters only, folded like the text's."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    foreign: set[str] = set()
    given: set[str] = set()
    surnames: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attr, value in vars(provider).items():
            if not attr.startswith(("first_names", "last_names")) or not isinstance(
                    value, (tuple, list, dict)):
                continue
            for name in value:
                for word in str(name).split():
                    if len(word) <= 2:
                        continue
                    if all(c.isascii() or "LATIN" in unicodedata.name(c, "LATIN")
                           for c in word):
                        if word.isalpha():
                            (given if attr.startswith("first_names") else surnames).add(
                                _fold(word))
                    else:
                        foreign.add(_fold(word))
    return (frozenset(foreign - {_fold(w) for w in _NOT_FOREIGN_NAMES}), frozenset(given),
            frozenset(surnames))


@cache
def _lists_keeping(keep_words: tuple[str, ...]) -> _Lists:
    """The lists with a site's own words kept: single words join the equipment words, several
    words a protected phrase."""
    base = _lists()
    single = {_fold(w) for w in keep_words if len(w.split()) == 1}
    phrases = {k: list(v) for k, v in base.phrases.items()}
    for w in keep_words:
        words = tuple(_fold(p) for p in w.split())
        if len(words) > 1:
            phrases.setdefault(words[0], []).append(words)
    return _Lists(
        names=base.names - single, ambiguous=base.ambiguous - single,
        words=base.words | single, equipment=base.equipment | single,
        plain=base.plain, first=base.first, last=base.last, phrases=phrases,
        foreign=base.foreign - single)


def is_given_name(word: str) -> bool:
    """A given name in the lists ("Mohamed", "Will") that no equipment, cue or plain word is
    (the lists hold many words: "Will" is a name before a surname)."""
    low = _fold(word)
    return (low in _lists().first and low not in _lists().equipment and low not in _PERSON_CUES
            and low not in _NOT_GIVEN and low not in _lists().plain)


def is_surname(word: str) -> bool:
    """A surname in the lists, word or not ("Hill", "Okafor"), that no equipment bears."""
    low = _fold(word)
    return low in _lists().last and low not in _lists().equipment


def is_name_not_word(word: str) -> bool:
    """A name of the lists that is no English word nor an equipment word ("Okonkwo", "John")."""
    return _classify(word, _fold(word), _lists()) == NAME


def is_word(word: str) -> bool:
    """An English or medical word, or an equipment word, in the lists (names that are words
    too included: "will", "grace")."""
    return _fold(word) in _lists().words


def is_equipment(word: str) -> bool:
    """A maker's, a product's or an engineering word of the lists ("Philips", "Stryker")."""
    return _fold(word) in _lists().equipment


def plain_words() -> frozenset[str]:
    """Lower-case English words that are neither names nor equipment nor cues."""
    return _lists().plain


def _strip_possessive(word: str) -> str:
    for suffix in _POSSESSIVE:
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


# The word for a telephone extension or a pager in the scripts without case and in Cyrillic
# and Greek: no name, though it follows one ("الممرضة [PERSON] (تحويلة ٤٤٨٢)", "护士 张晓燕 分机
# 8261"); backfill/scrub.py masks the number after it (version 33).
EXTENSION_WORDS = frozenset("""
    تحويلة داخلی داخلي פנימי שלוחה 分机 分機 内線 내선 एक्स एक्सटेंशन এক্সটেনশন โทรภายใน ภายใน
    நீட்டிப்பு вн внутр вътр доб дод лок локал εσωτ εσωτερικό
""".split())
_EXTENSION_FOLDED = frozenset(map(_fold, EXTENSION_WORDS))


def _classify(word: str, low: str, lists: _Lists) -> int:
    """``low``: the word folded to the lists' form."""
    if low in _EXTENSION_FOLDED:
        return OTHER
    if len(word) == 2 and word[0].isupper() and word[1] == ".":
        return UNKNOWN  # an initial: "J."
    if low in lists.names:
        # an inflected word is a word: "pins", "keys", "burns", "sanders"
        for cut in (1, 2):
            if low[-cut:] in ("s", "es")[cut - 1:cut] and low[:-cut] in lists.words:
                return AMBIG
        return NAME
    if low in lists.ambiguous:
        return AMBIG
    if "-" in low and low not in lists.words:  # "Garcia-Lopez", "Mary-Kate"
        parts = low.split("-")
        if all(p in lists.names or p in lists.ambiguous for p in parts):
            return NAME if any(p in lists.names for p in parts) else AMBIG
    if not low.isascii():
        # the lists know no other script, and a Cyrillic word is as often not a name
        return FOREIGN if any(c.isalpha() for c in low) else OTHER
    if word[0].isupper() and low not in lists.words:
        if _is_word(low, lists.words):
            # "Touchscreen", "Reboots", but also "Runningwater", "Tramwell": a word that may be
            # a name, like "Grace"
            return AMBIG
        return UNKNOWN  # a capitalised word in no list: a name, a product, a place
    return OTHER


_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")
_PREFIXES = ("re", "pre", "un", "non", "over", "under", "auto", "micro", "multi", "self", "mis")


def _is_word(low: str, vocab: frozenset[str]) -> bool:
    """An English word the dictionaries list only in another form: inflected ("reboots"),
    compound ("touchscreen", "footswitch"), prefixed ("overtemperature") or hyphenated
    ("air-in-line", "li-ion", "high-pitched")."""
    if "-" in low:
        return all(len(p) <= 2 or p in vocab or _is_word(p, vocab) for p in low.split("-"))
    for suffix in _SUFFIXES:
        if low.endswith(suffix) and len(low) - len(suffix) >= 3:
            stem = low[: -len(suffix)]
            if stem in vocab or stem + "e" in vocab:
                return True
    for prefix in _PREFIXES:
        if low.startswith(prefix) and low[len(prefix):] in vocab and len(low) - len(prefix) >= 3:
            return True
    return any(low[:k] in vocab and low[k:] in vocab for k in range(4, len(low) - 3))


def _shouting(text: str) -> bool:
    letters = sum(map(str.isalpha, text))
    return sum(map(str.isupper, text)) > 0.6 * letters


def _after_quantity(text: str, pos: int) -> bool:
    """A number, a degree or a percent sign before ``pos`` (spaces between)."""
    k = pos - 1
    while k >= 0 and text[k] in " \t":
        k -= 1
    return k >= 0 and (text[k].isdigit() or text[k] in "°%")


def _next_char(text: str, pos: int) -> str:
    """The first character at or after ``pos`` that is no space or tab; "\n" at the end."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return text[pos] if pos < len(text) else "\n"


def mask_names(text: str, hits: list[str], keep_words: tuple[str, ...] = (),
               fail_closed: bool = True, known: Sequence[str] = (),
               found: list[str] | None = None) -> str:
    """Replace person names found by the lists with ``[PERSON]``; one hit per name.
    ``keep_words``: the site's words that are no names (config ``scrub.keep_words``);
    ``found``: if given, receives the words masked here (for the logins made of them);
    ``fail_closed``: mask unknown capitalised words inside a sentence; ``known``: names the
    cue rules already replaced, whose other mentions are masked too ("son (Gene) ... gene's")."""
    lists = _lists() if not keep_words else _lists_keeping(keep_words)
    words = list(_WORD.finditer(text))
    if not words:
        return text
    groups = [m.group() for m in words]
    seen = {w for name in known for w in map(_fold, _WORD.findall(name))
            if len(w) > 2 and w not in _PARTICLES and w not in lists.equipment
            and w not in lists.plain}
    # Fast path (most texts): every word a lower-case English word that is no name (and so no
    # other mention of a known name either: ``seen`` holds no plain word).
    plain = lists.plain
    if all(g in plain for g in groups):
        return text
    n = len(words)
    bases = [_strip_possessive(g) for g in groups]
    titled = [False] * n  # (version 56) a name by the honorific glued to it: "makoto-san"
    for i, base in enumerate(bases):
        if "-" in base:
            cut = base.rfind("-")  # (lower case: "Ojibway-Chan" is a double surname)
            if base[cut:] in _HONORIFIC_SUFFIXES and cut > 1:
                bases[i], titled[i] = base[:cut], True
    low = [_fold(b).rstrip(".") for b in bases]
    if seen and not seen.intersection(low):
        seen = set()
    # (Georgian's Mkhedruli letters are lower case to Unicode, but the script has no case)
    caps = [g[0] == "[" or g[0].isupper() or not g[0].islower() or "\u10d0" <= g[0] <= "\u10ff" or (
        # "al-Harbi", "el-Sayed", "bin-Laden": a particle glued to a capitalised name
        "-" in g and g.split("-", 1)[0].lower() in _PARTICLES and g.split("-", 1)[1][:1].isupper())
        for g in groups]

    def capital(i: int) -> bool:
        return caps[i]  # (a script without case, "井上", "غنيم", counts as capitalised)

    def sentence_start(i: int) -> bool:
        j = words[i].start() - 1
        while j >= 0 and text[j] in " \t":
            j -= 1
        if i > 0 and j == words[i - 1].end() - 1 and len(groups[i - 1]) == 2 and groups[
                i - 1][1] == "." and groups[i - 1][0].isupper():
            # the dot of an initial ends no sentence: "J. Wunungmurra RN"; a unit's does:
            # "at 134.2 °C. Door", "coldhead 4.2 K. Spike"
            if not _after_quantity(text, words[i - 1].start()):
                return False
        return j < 0 or text[j] in _SENTENCE_END

    def joined(i: int) -> bool:
        """Words i and i+1 can be parts of one name: only a space or two between them, or the
        dot of initials written together ("Ермеков Д.Т.")."""
        gap = text[words[i].end():words[i + 1].start()]
        return len(gap) <= 2 and gap.strip(" \t") == "" or (
            gap == "." and len(groups[i]) == 1 and groups[i].isupper()
            and len(groups[i + 1]) <= 2 and groups[i + 1][0].isupper())

    def comma_joined(i: int) -> bool:
        """"Last, First", "Morozova/Arkadiy" or HL7's "WOJCIK^ANNA": words i and i+1 with a
        comma, a slash or a caret between."""
        gap = text[words[i].end():words[i + 1].start()]
        return gap in (",", ", ", "/", " / ", "^")  # (version 55: HL7's "^WOJCIK^ANNA^^^^RN")

    def cued(i: int) -> bool:
        """The word before is a person cue, right before ("Dr. X", "per X", "w/ X")."""
        if i == 0 or kind[i] == FOREIGN and low[i] in _PERSON_CUES:
            return False  # (a cue word is no name: "家屬: 女兒 林佳穎")
        gap = text[words[i - 1].end():words[i].start()]
        if gap == " " and i > 1 and low[i - 2] in _TWO_WORD_CUES.get(low[i - 1], ()) and text[
                words[i - 2].end():words[i - 1].start()] == " ":
            return True  # (version 56) "ask for marisol", "talk to Deb"
        if gap.strip(" \t") == ":" and low[i - 1] == "by" and i > 1 and low[i - 2].endswith("ed"):
            return True  # (version 56) "Delivered by: Shohel"
        if gap.strip(" \t") in (":", "\uff1a") and (
                len(groups[i]) > 1 or low[i] in _PARTICLES) and (
                low[i - 1] in _COLON_CUES or (
                low[i - 1] in _PERSON_CUES and low[i - 1] not in _NOT_LABELS)):
            return True  # "Patient: لاما الأزد", "Patient name: He, Lei", "Τεχνικός: Νίκος"
        if low[i - 1] not in _PERSON_CUES:
            return False
        return 0 < len(gap) <= 3 and gap.strip(" \t") in ("", "/", "(", '"', "\u201c") or (
            gap.startswith(".") and gap[1:].strip(" \t") == "" and low[i - 1] in _TITLES)

    kind = [OTHER] * n
    protected = [False] * n
    serial_named: list[int] = []
    for i, w in enumerate(low):
        for ph in lists.phrases.get(w, ()):
            if tuple(low[i:i + len(ph)]) == ph:
                for j in range(i, i + len(ph)):
                    protected[j] = True
    anchor = [False] * n
    honorific: list[int] = []
    for i, m in enumerate(words):
        word = bases[i]
        if groups[i] in plain:
            continue
        if low[i] in _PLACEHOLDER_WORDS:
            # a name the cue rules replaced: grow it ("pt [PATIENT_NAME] Ó Súilleabháin")
            anchor[i] = True
            kind[i] = NAME
            continue
        if protected[i]:
            continue
        if _ACRONYM_COMPOUND.match(word):
            continue  # (version 35) "MT-dienst Ruud Verbeek": a team, no product before a name
        if _CAMEL.search(word) and not word.isupper():
            protected[i] = True
            if _SERIAL_AFTER.match(text, m.end()):
                serial_named.append(i)  # "Lokomat Pro FreeD (Seriennr. ...)"
            continue
        k = _classify(word, low[i], lists)
        if k and len(word) == 2 and word[1] == "." and _after_quantity(text, m.start()):
            k = OTHER  # a unit, not an initial: "134.2 °C. Door", "4.2 K. Spike"
        if k == FOREIGN and _HONORIFIC_AFTER.match(text, m.end()):
            honorific.append(i)  # a name by its honorific: grown over its script's words below
        if k and MODEL_AFTER.match(text, m.end()) and not (
                k == FOREIGN and not word[0].isupper()):
            # (not in a script without case, where a name is often followed by its phone or
            # a date: "儿子 王磊 138-5550-1723")
            k = OTHER  # "Hamilton C6"
            protected[i] = True
        elif k != NAME and word[0].isupper() and _SERIAL_AFTER.match(text, m.end()):
            k = OTHER  # "Trima Accel, serie ...": the product, and its words before (below)
            protected[i] = True
            serial_named.append(i)
        kind[i] = k
        if k == OTHER and low[i] in lists.equipment:
            protected[i] = True
    for i in serial_named:  # (the product's words before it: "Symbia Intevo Bold, S/N")
        j = i - 1
        while (j >= max(0, i - 3) and caps[j] and kind[j] not in (NAME, FOREIGN)
               and joined(j) and low[j] not in _PERSON_CUES):
            kind[j] = OTHER
            protected[j] = True
            j -= 1
    # Capitalised words right after a maker or product word continue the product's name
    # ("Mobilett Mira Max", "Trilogy Evo", "Maquet Alphamaxx"); one before it too, unless
    # it is a name ("Sigma Spectrum").
    # A person cue before a capitalised word ends the product's name: "ICU RN Anneliese",
    # "Getinge FSE Marta Nowak" (not before an acronym: "Azure XT DR MRI").
    def breaks(j: int) -> bool:
        return (low[j] in _PERSON_CUES and j + 1 < n and caps[j + 1]
                and not groups[j + 1].isupper())

    # (not in a script without case, where every word looks capitalised: "病人 陳美玲 體重 152")
    def caseless(j: int) -> bool:
        return kind[j] == FOREIGN and not groups[j][0].isupper()

    for i in range(n - 1):
        if (protected[i] and capital(i) and capital(i + 1) and joined(i)
                and not breaks(i) and not breaks(i + 1) and not caseless(i + 1)):
            protected[i + 1] = True
            kind[i + 1] = OTHER
    for i in range(n - 1, 0, -1):
        if (protected[i] and capital(i - 1) and kind[i - 1] != NAME and joined(i - 1)
                and not caseless(i - 1)):
            kind[i - 1] = OTHER
    japanese = any(c in text for c in _HONORIFIC_CHARS)
    for i in range(n - 1):  # (version 56) "omid agha", "madhuri tai": see _HONORIFICS_AFTER
        if titled[i]:
            continue
        if low[i + 1] in _AFTER_NAME_TITLES and joined(i) and (
                low[i + 1] in _HONORIFICS_AFTER or low[i] in lists.first or low[i] in lists.last):
            titled[i] = True
        elif (japanese and kind[i] != FOREIGN and groups[i].isascii()
              and _HONORIFIC_AFTER.match(text, words[i].end())):
            titled[i] = True  # "Tanaka さん"
    for i in range(n):
        if titled[i] and (protected[i] or low[i] in plain or low[i] in lists.equipment
                          or low[i] in _PERSON_CUES or len(low[i]) < 2 or groups[i][0] == "["):
            titled[i] = False
    if not any(kind) and not seen and not any(titled) and not any(
            caps[i] and low[i - 1] in _STRONG_CUES for i in range(1, n)):
        return text  # (a strong cue makes any capitalised word after it a name: "carer Mags")
    # In a text that is not shouting, an ALL-CAPS word is an acronym or a brand ("PARI").
    shouting = _shouting(text) if any(
        kind[i] and len(groups[i]) > 1 and groups[i].isupper() for i in range(n)) else False

    mask = [a or t for a, t in zip(anchor, titled, strict=True)]
    for i in honorific:
        mask[i] = True
    for i in range(n):
        k = kind[i]
        if anchor[i] or protected[i]:
            continue
        if low[i] in _PERSON_CUES and len(low[i]) > 2 and text.startswith(":", words[i].end()):
            continue  # (version 55) a label, not a name: "Eng: TM" ("Eng" is a surname too)
        word = words[i].group()
        if capital(i) and i > 0 and low[i - 1] in _STRONG_CUES and cued(i):
            mask[i] = True  # "Dr. Page", "RN Okafor"
            continue
        if low[i] in _PARTICLES and cued(i):
            # "PATIENT: Ó HAILPÍN", "Mr. da Costa", "Ms. de la O": the particles and the word
            j = i
            while j + 1 < n and low[j + 1] in _PARTICLES and not capital(j + 1) and joined(j):
                j += 1
            if j + 1 < n and capital(j + 1) and joined(j):
                for k in range(i, j + 2):
                    mask[k] = True
                continue
        if not k:
            if (not capital(i) and i > 0 and low[i - 1] in _FAMILY_CUES and cued(i)
                    and len(low[i]) > 2 and low[i].isalpha() and low[i] not in lists.words
                    and not _is_word(low[i], lists.words)):
                mask[i] = True  # "his wife gulnara's charger"
            continue
        if (not capital(i) and i > 0 and low[i - 1] in _FAMILY_CUES and cued(i)
                and low[i] in lists.first and low[i] not in _NOT_GIVEN):
            mask[i] = True  # "daughter ana called", "told his daughter summer"
            continue
        if not capital(i):
            if k == NAME and (cued(i) or _SAYS.match(text, words[i].end())) or (
                    k == AMBIG and i > 0 and low[i - 1] in _STRONG_CUES and cued(i)):
                mask[i] = True  # "per okafor", "rn summer", "for okonkwo in 11"
            elif (k == NAME and low[i] in lists.first and low[i] not in _PARTICLES
                  and _ACTS.match(text, words[i].end())):
                mask[i] = True  # "yazan fixed it"
            elif k >= AMBIG and low[i] in lists.first and low[i] not in _NOT_GIVEN and (
                    # (not a word: "purity:", "login:" are a form's keys)
                    k == NAME and text.startswith(": ", words[i].end())
                    and low[i] not in _COLON_CUES and low[i] not in _PERSON_CUES
                    and _SPEAKER_BEFORE.match(
                        text, text.rfind("\n", 0, words[i].start()) + 1, words[i].start())
                    or _SAYS_PERSON.match(text, words[i].end()) and low[i] not in _NOT_SPEAKERS
                    and not (i > 0 and low[i - 1] in _DETERMINERS)
                    or i > 0 and low[i - 1] in _TWO_WORD_CUES and cued(i)  # "ask for hank"
                    # (version 56) "dispatch: tammy r.": a label's colon before a given name
                    or i > 0 and low[i - 1] in _COLON_CUES and cued(i) and text[
                        words[i - 1].end():words[i].start()].strip(" \t") == ":"):
                mask[i] = True  # "summer said ring the shop", "ruby signed"
            continue
        if word.isupper() and len(word) > 1 and not shouting and not cued(i):
            # "HUNTER, SUMMER" in a normal text: an EHR label, not an acronym; "OLEKSANDRA
            # HNATYUK": a name that is no word beside another or an unknown word
            if i + 1 < n and kind[i + 1] and words[i + 1].group().rstrip(".").isupper() and (
                    k >= AMBIG and comma_joined(i)
                    or joined(i) and NAME in (k, kind[i + 1]) and min(k, kind[i + 1]) >= UNKNOWN
                    and not protected[i + 1] and len(groups[i + 1]) > 2):
                mask[i] = mask[i + 1] = True
            continue
        if k == NAME or cued(i) or (
                _SAYS.match(text, words[i].end()) and low[i] not in _NOT_SPEAKERS):
            mask[i] = True
        elif fail_closed and k == UNKNOWN and not sentence_start(i) and len(low[i]) > 2:
            # fail closed: a capitalised word no dictionary or list knows, inside a sentence,
            # is more often a name than a product the lists miss
            mask[i] = True
    # lower-case name pairs ("sandra kowalczyk"): neither an English word, or a given name
    # and a surname that is no word, or one no word after a cue; not an article of a Romance
    # language and the word after it (version 35: "se cambió la bomba" is "the pump", and the
    # growth below took the lower-case names of the lists after it, "está lista", to the end
    # of the sentence); "pham thi lan" stays a name
    for i in range(n - 1):
        if (kind[i] >= AMBIG and kind[i + 1] >= AMBIG and joined(i) and not capital(i)
                and not capital(i + 1) and low[i] not in _ROMANCE_ARTICLES
                and low[i + 1] not in _ROMANCE_ARTICLES and (
                kind[i] == kind[i + 1] == NAME or cued(i) and NAME in (kind[i], kind[i + 1])
                or kind[i + 1] == NAME and low[i] in lists.first and low[i + 1] in lists.last)):
            mask[i] = mask[i + 1] = True
        elif (kind[i] == NAME and not kind[i + 1] and cued(i) and joined(i)
              and not capital(i) and not capital(i + 1) and low[i] in lists.first
              and len(low[i + 1]) > 3 and low[i + 1].isalpha() and low[i + 1] not in lists.words
              and not _is_word(low[i + 1], lists.words)):
            # (version 55) a given name and a surname no list knows, in lower case after a
            # cue: "pt doris thorsgaard (MRN ...)"
            mask[i] = mask[i + 1] = True
    # two capitalised name words, or a name word and an unknown one ("Celeste Arroyo", "Wang
    # Jianguo"), not at a sentence start for two words that are also English words
    for i in range(n - 1):
        a, b = kind[i], kind[i + 1]
        if (a and b and capital(i) and capital(i + 1) and joined(i)
                and not protected[i] and not protected[i + 1] and AMBIG in (a, b)
                and (not groups[i].isupper() or len(groups[i]) == 2 and groups[i][1] == ".")
                and not words[i + 1].group().isupper()
                and (UNKNOWN in (a, b) or NAME in (a, b) or not sentence_start(i)
                     or _CREDENTIAL_AFTER.match(text, words[i + 1].end()))):
            mask[i] = mask[i + 1] = True
    # grow names over capitalised neighbours ("Grace Lin", "Oluwaseun Adeyemi", "J. Whitfield")
    # Sweeps in both directions (a chain grows in one sweep, so this is linear), until stable.
    changed = True
    while changed:
        changed = False
        for i in (*range(n), *range(n - 1, -1, -1)):
            if mask[i] or protected[i] or not kind[i] or low[i] in _PARTICLES or (
                    kind[i] == FOREIGN and low[i] in _PERSON_CUES) or (  # "Инженер [Ермеков]"
                    groups[i] in CREDENTIALS):  # "[Grant Baker], BMET II"
                continue
            if kind[i] < NAME and not capital(i) and not (
                    i > 0 and mask[i - 1] and low[i - 1] in ("thi", "van")):  # "pham thi lan"
                continue
            # "Price, Lorraine", "Morozova/Arkadiy": across a comma or slash only a capitalised
            # word that is in the lists or in none
            # (not an acronym after the name: "Жумабаева Айгерим, ИИН [OTHER_ID]")
            comma = kind[i] >= FOREIGN and capital(i) and len(low[i]) > 1 and not (
                groups[i].isupper() and len(groups[i]) <= 4 and not groups[i].isascii())
            # a word of another script joins only a name of its script ("Гордеева, Алла"),
            # never a Latin one: the sentence after "pt [PATIENT_NAME]" may be Arabic
            foreign = kind[i] == FOREIGN

            def joins(j: int, foreign: bool = foreign) -> bool:
                # (or an initial of its script: "Эмч Д. Ганболд")
                return mask[j] and (not foreign or not anchor[j] and (
                    kind[j] == FOREIGN or len(groups[j]) == 2 and not groups[j].isascii()))

            if (foreign or capital(i)) and i > 0 and mask[i - 1] and text[
                    words[i - 1].end():words[i].start()] in _ALIAS_GAPS | _ALIAS_ENDS:
                # the name in its own script or a nickname: "Taras (Тарас Коваленко)",
                # "Harjit Singh (Harjit)", 'Nowak ("Kevin")'
                mask[i] = changed = True
                continue
            if foreign and i + 1 < n and mask[i + 1] and not anchor[i + 1] and text[
                    words[i].end():words[i + 1].start()] in (" (", "(", " / ", "/"):
                # ... or before it: "김민준 (KIM Min-jun)", "रमेश पाटील (Ramesh Patil)"
                mask[i] = changed = True
                continue

            if (i > 0 and joins(i - 1) and (joined(i - 1) or comma and comma_joined(i - 1))) or (
                    i + 1 < n and joins(i + 1) and (joined(i) or comma and comma_joined(i))):
                mask[i] = changed = True
                continue
            # across lower-case particles: "Pinto da Silva's", "Hendrik van der Berg"; a
            # capitalised one after a given name: "Yannick Le Goff"
            p = i - 1
            while p >= 0 and low[p] in _PARTICLES and (
                    not capital(p) or p > 0 and mask[p - 1] and not anchor[p - 1]) and joined(p):
                p -= 1
            # (Vietnamese middle names "Thị", "Văn" are followed by a lower-case given name:
            # "pham thi lan")
            if (capital(i) or low[i - 1] in ("thi", "van")) and p < i - 1 and p >= 0 and joins(
                    p) and joined(p):
                mask[i] = changed = True
    # (version 33) a given name or surname of another script that Faker's lists hold, with the
    # word of its script before and after it ("فرزند: علی رضایی موبایل", "Оксана Мельник 00:53"):
    # after the growth above, which in a script without case would run to the sentence's end;
    # not over a role's or a relation's word ("ექთანი ნინო ბერიძე")
    foreign = lists.foreign
    for i in range(n):
        if (kind[i] == FOREIGN and not mask[i] and not protected[i] and caps[i]
                and low[i] in foreign):
            mask[i] = True
            for j, gap in ((i + 1, i), (i - 1, i - 1)):
                if (0 <= j < n and kind[j] == FOREIGN and caps[j] and joined(gap)
                        and not protected[j] and low[j] not in _PERSON_CUES
                        and low[j] not in _FOREIGN_ROLES and low[j] not in _EXTENSION_FOLDED):
                    mask[j] = True
    for i in range(n) if "할" in text or "어르신" in text or "선생님" in text else ():
        # (version 56) "순자 할머니가", "jieun 선생님께": see _KIN_AFTER_KO
        if (not mask[i] and not protected[i] and low[i] not in plain and low[i] not in _PERSON_CUES
                and len(groups[i]) > 1 and _KIN_AFTER_KO.match(text, words[i].end())):
            mask[i] = True
    # a given name that is also a word or an abbreviation, between a person cue and the
    # surname the rules found: "returned by Ana [Lucía Paredes]", "via Min [Zhou]", "phleb Ma.
    # [Luisa Dizon]", "Witness: Len [Doyle]"
    # ... and a label's surname in capitals before its given name: "pt MAY, [Bernadette]"
    for i in range(n - 2, 0, -1):
        if (mask[i + 1] and not mask[i] and not protected[i] and capital(i)
                and (joined(i) and not groups[i].isupper()
                     or comma_joined(i) and groups[i].isupper() and len(groups[i]) > 1)
                and low[i] not in lists.equipment and low[i - 1] in _LEFT_CUES
                and text[words[i - 1].end():words[i].start()].strip(" \t") in ("", ":")):
            mask[i] = True
    # a surname that is also an English word, closing a name after a given name the lists
    # know: "his wife [Reneé] Long called", "To: [Hannah] Black <...>", "Lt. [Rhonda] Pace
    # notified" (not a place or a thing named after a person: "Grace Hospital", "Mary Ward")
    for i in range(1, n):
        given = i - 1
        if given > 0 and len(groups[given]) == 2 and groups[given][1] == "." and mask[given]:
            given -= 1  # "[Marcus] [T.] Long"
        if (not mask[i] and not protected[i] and mask[i - 1] and mask[given]
                and not anchor[given] and joined(i - 1) and capital(i)
                and not groups[i].isupper() and kind[i] <= AMBIG
                and low[given] in lists.first and low[i] not in _AFTER_NAME_NOUNS
                and low[i] not in _PERSON_CUES and len(low[i]) > 2
                and (_next_char(text, words[i].end()) in ",.;:)<\n"
                     or i + 1 < n and not capital(i + 1) and joined(i))):
            mask[i] = True
    # a surname that is also a maker's, closing a name after its given name: "Logged by
    # [Gordon] Baxter, EBME" (before a model or a word it stays the maker: "Baxter pump")
    for i in range(1, n):
        if (protected[i] and not mask[i] and mask[i - 1] and not anchor[i - 1] and joined(i - 1)
                and capital(i) and not groups[i].isupper() and kind[i - 1] >= AMBIG
                and (words[i].end() == len(text) or text[words[i].end()] in ",.;)\n")
                and i > 1 and low[i - 2] in _PERSON_CUES):
            mask[i] = True
    # particles between two name words or before a capitalised one ("Maria de la Cruz",
    # "Van der Berg")
    i = 0
    while i < n:
        if low[i] not in _PARTICLES or mask[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and low[j + 1] in _PARTICLES and joined(j):
            j += 1
        after = j + 1 < n and mask[j + 1] and joined(j)
        before = i > 0 and mask[i - 1] and joined(i - 1)
        if (i == j and low[i] in _PATRONYMIC and 0 < i < n - 1 and capital(i - 1)
                and capital(i + 1) and joined(i - 1) and joined(i) and not protected[i - 1]
                and not protected[i + 1]):
            # (version 55) "son of", "daughter of" between two capitalised words is a name
            # whole, wherever it stands: "Patient affected: Rosnah binti Jumat"
            after = before = mask[i - 1] = mask[i + 1] = True
        # (two particles in a row are a name's: "v. de la [Cruz-Whitfield]")
        if after and (before or capital(i) or j > i):
            for k in range(i, j + 1):
                mask[k] = True
        # ... and the capitalised word after them ends the name: "[Pieter] van der Wal"
        elif (before and j + 1 < n and capital(j + 1) and joined(j) and not protected[j + 1]
              and low[j + 1] not in lists.equipment and low[j + 1] not in _PARTICLES):
            for k in range(i, j + 2):
                mask[k] = True
        i = j + 1
    # a middle initial without its dot closing a label name: "DELGADO, MARISOL R  MRN"
    for i in range(1, n):
        g = groups[i]
        if (len(g) == 1 and g.isupper() and mask[i - 1] and joined(i - 1) and not mask[i]
                and _LABEL_END.match(text, words[i].end())):
            mask[i] = True
    # the other mentions of a name: capitalised, a name that is no word, or possessive
    # ("(Gene) ... gene's #")
    equipment = lists.equipment
    seen.update(low[i] for i in range(n) if mask[i] and not anchor[i] and kind[i] >= AMBIG
                and len(low[i]) > 2 and low[i] not in _PARTICLES)
    if seen:
        for i in range(n):
            if not mask[i] and not protected[i] and low[i] in seen and low[i] not in equipment and (
                    capital(i) or kind[i] == NAME or groups[i] != bases[i]):
                mask[i] = True
    if not any(mask):
        return text
    out: list[str] = []
    last = 0
    i = 0
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and mask[j + 1] and joined(j):
            j += 1
        end = words[j].end()
        end -= len(words[j].group()) - len(bases[j])
        out.append(text[last:words[i].start()])
        placeholders = [words[k].group() for k in range(i, j + 1) if anchor[k]]
        if placeholders:
            out.append(placeholders[0])  # grown: still the one name the cue rule counted
        else:
            out.append(PLACEHOLDER)
            hits.append("PERSON")
        if found is not None:
            found.extend(bases[k] for k in range(i, j + 1) if not anchor[k])
        last = end
        i = j + 1
    out.append(text[last:])
    return "".join(out)
