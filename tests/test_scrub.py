"""Tests for the PII scrubber (backfill.scrub)."""

from __future__ import annotations

import re
import time

import pyarrow as pa
import pytest

from backfill.devstack.synthetic import FREE_TEXT_COLUMNS, generate_work_orders
from backfill.scrub import PLACEHOLDERS, ScrubPolicy, ScrubResult, scrub_array, scrub_text

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def synthetic():
    return generate_work_orders(5000, seed=1234)


@pytest.fixture(scope="module")
def scrubbed(synthetic):
    out = {}
    totals: dict[str, int] = {}
    for col in FREE_TEXT_COLUMNS:
        arr, counts = scrub_array(synthetic.table.column(col))
        out[col] = arr
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    return out, totals


# --- recall on the synthetic data ----------------------------------------------------------


def test_no_planted_pii_survives(synthetic, scrubbed) -> None:
    """The key recall test: every PII string the generator planted is gone after scrubbing."""
    arrays, _ = scrubbed
    blob = "\n".join(x for col in FREE_TEXT_COLUMNS for x in arrays[col].to_pylist() if x)
    assert len(synthetic.planted_pii) > 1000
    leaked = [p for p in synthetic.planted_pii if p in blob]
    assert not leaked, leaked[:20]


@pytest.mark.parametrize("seed", [7, 99])
def test_no_planted_pii_survives_other_seeds(seed: int) -> None:
    d = generate_work_orders(1500, seed=seed)
    texts = [
        x
        for col in FREE_TEXT_COLUMNS
        for x in scrub_array(d.table.column(col))[0].to_pylist()
        if x
    ]
    blob = "\n".join(texts)
    assert [p for p in d.planted_pii if p in blob] == []


def test_placeholders_appear(scrubbed) -> None:
    arrays, totals = scrubbed
    blob = "\n".join(x for col in FREE_TEXT_COLUMNS for x in arrays[col].to_pylist() if x)
    for tag in ("MRN", "SSN", "PHONE", "EMAIL", "DOB", "PATIENT_NAME", "ADDRESS"):
        assert totals.get(tag, 0) > 0, tag
        assert blob.count(f"[{tag}]") == totals[tag], tag
    assert set(totals) <= set(PLACEHOLDERS)


def test_scrub_array_preserves_nulls_and_shape(synthetic, scrubbed) -> None:
    arrays, _ = scrubbed
    for col in FREE_TEXT_COLUMNS:
        original = synthetic.table.column(col)
        out = arrays[col]
        assert isinstance(out, pa.Array)
        assert len(out) == len(original)
        assert out.type == pa.string()
        assert out.null_count == original.null_count
        orig = original.to_pylist()
        assert all((a is None) == (b is None) for a, b in zip(orig, out.to_pylist(), strict=True))


def test_most_text_is_untouched(synthetic, scrubbed) -> None:
    """Precision on the synthetic data: only rows carrying planted PII change."""
    arrays, _ = scrubbed
    planted = synthetic.planted_pii
    changed_without_pii = []
    for col in FREE_TEXT_COLUMNS:
        for before, after in zip(
            synthetic.table.column(col).to_pylist(), arrays[col].to_pylist(), strict=True
        ):
            if before != after and not any(p in before for p in planted):
                changed_without_pii.append((before, after))
    assert changed_without_pii == []


# --- hand-written positives ------------------------------------------------------------------

POSITIVE = [
    # (text, PII substring that must disappear, expected placeholder)
    ("Pt MRN 10293847 was connected at time of alarm.", "10293847", "MRN"),
    ("MRN: 4839201", "4839201", "MRN"),
    ("MRN#4839201 on unit", "4839201", "MRN"),
    ("mrn 48392017", "48392017", "MRN"),
    ("MRN: E1234567", "E1234567", "MRN"),
    ("Incident report filed for medical record #8839201.", "8839201", "MRN"),
    ("medical record number 8839201 noted on printout", "8839201", "MRN"),
    ("MR# 15677760 per RN.", "15677760", "MRN"),
    ("Med rec # 1234567 referenced in safety report.", "1234567", "MRN"),
    ("Patient ID 6614449295 still associated to monitor.", "6614449295", "MRN"),
    ("SSN 123-45-6789", "123-45-6789", "SSN"),
    ("Label on handle read '123-45-6789', removed.", "123-45-6789", "SSN"),
    ("pt SS# 123-45-6789 visible on screen", "123-45-6789", "SSN"),
    ("ssn: 123456789", "123456789", "SSN"),
    ("Social security number 123 45 6789 was typed", "123 45 6789", "SSN"),
    ("Call (555) 201-3344 when ready.", "(555) 201-3344", "PHONE"),
    ("Callback 555-201-3344", "555-201-3344", "PHONE"),
    ("Vendor cell +1 617 555 0199.", "617 555 0199", "PHONE"),
    ("Contact 815.830.0043 ext. 4015 for pickup.", "815.830.0043", "PHONE"),
    ("Contact 815.830.0043 ext. 4015 for pickup.", "4015", "PHONE"),
    ("Reach me at 1-617-555-0199 x22", "617-555-0199", "PHONE"),
    ("Reach me at +1 (686) 634-7123", "634-7123", "PHONE"),
    ("UK FSE +44 20 7946 0958", "7946 0958", "PHONE"),
    ("pager 555-1234", "555-1234", "PHONE"),
    ("cell: 6175550199", "6175550199", "PHONE"),
    ("Emailed status to j.doe@stmarys-hospital.org.", "j.doe@stmarys-hospital.org", "EMAIL"),
    ("pt daughter wrote from maria.garcia62@gmail.com", "maria.garcia62", "EMAIL"),
    ("DOB 03/14/1962", "03/14/1962", "DOB"),
    ("DOB: 1962-03-14", "1962-03-14", "DOB"),
    ("pt born 3/14/62, settings checked", "3/14/62", "DOB"),
    ("D.O.B. 14-Mar-1962 shown", "14-Mar-1962", "DOB"),
    ("Date of birth March 14, 1962 was entered as ID", "March 14, 1962", "DOB"),
    ("dob 14 Mar 1962", "14 Mar 1962", "DOB"),
    ("Birthdate: 19620314", "19620314", "DOB"),
    ("born in 1962", "1962", "DOB"),
    ("pt John Smith was on the pump when it alarmed.", "John Smith", "PATIENT_NAME"),
    ("patient Maria Garcia moved to backup unit", "Maria Garcia", "PATIENT_NAME"),
    ("Patient: Li Wei.", "Li Wei", "PATIENT_NAME"),
    ("Per RN, pt. O'Brien complained the alarm kept going off.", "O'Brien", "PATIENT_NAME"),
    ("Mr. Okafor in ICU bed 3 tripped over the cord.", "Okafor", "PATIENT_NAME"),
    ("Mrs. Garcia-Lopez's family asked about the noise.", "Garcia-Lopez", "PATIENT_NAME"),
    ("Ms. Zoë D'Angelo", "D'Angelo", "PATIENT_NAME"),
    ("Ms. Zoë D'Angelo", "Zoë", "PATIENT_NAME"),
    ("Patient: José Hernández.", "Hernández", "PATIENT_NAME"),
    ("pt Łukasz Wiśniewski was moved", "Wiśniewski", "PATIENT_NAME"),
    ("pt Anne-Marie Schäfer was moved", "Schäfer", "PATIENT_NAME"),
    ("pt Maria de la Cruz was moved", "Cruz", "PATIENT_NAME"),
    ("Mrs. Van Buren said so", "Buren", "PATIENT_NAME"),
    ("Pt J. Smith said", "Smith", "PATIENT_NAME"),
    ("PATIENT: GARCIA-LOPEZ, MARIA shown on screen", "MARIA", "PATIENT_NAME"),
    ("PATIENT: DE LA CRUZ, MARIA shown on screen", "MARIA", "PATIENT_NAME"),
    ("Patient name: Kim, Jun on the admit screen", "Jun", "PATIENT_NAME"),
    ("Patient name: de la Cruz, Maria on the admit screen", "Maria", "PATIENT_NAME"),
    ("Home unit picked up at 2266 Sunset Road.", "2266 Sunset", "ADDRESS"),
    ("Deliver loaner to 48 Maple Ave, Apt 3B, back door.", "3B", "ADDRESS"),
    # cue glued to punctuation (missing space after a period, brackets)
    ("Alarm noted.DOB 03/14/1962", "03/14/1962", "DOB"),
    ("alarmed.pt John Smith was on it", "John Smith", "PATIENT_NAME"),
    ("(pt John Smith)", "John Smith", "PATIENT_NAME"),
    ("see-MRN 1234567", "1234567", "MRN"),
    # a declined noun use of "pt." must not swallow the next cue
    ("cleared discharged pt. Mr. Øverby tripped", "Øverby", "PATIENT_NAME"),
    ("acct # 12345678", "12345678", "ACCOUNT"),
    ("FIN: 1234567 on the label", "1234567", "ACCOUNT"),
    ("encounter 987654321", "987654321", "ACCOUNT"),
    # scrubber v2
    ("acct no 1234-567-89 on the rental form", "1234-567-89", "ACCOUNT"),
    ("Account # B00123456 needs a note", "B00123456", "ACCOUNT"),
    ("Member ID ABC123456789 on the label", "ABC123456789", "HEALTH_PLAN"),
    ("insurance # 55-1234-9988 written on the cart", "1234", "HEALTH_PLAN"),
    ("health plan Aetna 7712003456 on file", "7712003456", "HEALTH_PLAN"),
    ("policy no: K44-902-1187", "K44-902-1187", "HEALTH_PLAN"),
    ("implant serial XYZ123456B (pt's device)", "XYZ123456B", "OTHER_ID"),
    ("drivers license # D1234-5678-9012 found", "D1234-5678-9012", "OTHER_ID"),
    ("med record # 7712345 on the sheet", "7712345", "MRN"),
    ("DOB (2/3/1951) printed", "2/3/1951", "DOB"),
    ("call 617/555/0144 to schedule", "617/555/0144", "PHONE"),
    ("called from 6175550123 about the chair", "6175550123", "PHONE"),
    ("Called Mr Tran at 6175550123 no answer", "6175550123", "PHONE"),
    ("Called Jane Roe ext 5512 about it", "5512", "PHONE"),
    ("try jdoe@ again later", "jdoe@", "EMAIL"),
    ("called the son, Peter, at home", "Peter", "PATIENT_NAME"),
    ("pt's wife Maria asked", "Maria", "PATIENT_NAME"),
    ("grandmother (Olga) called", "Olga", "PATIENT_NAME"),
    ("Husband Tomás Ruiz picked it up", "Ruiz", "PATIENT_NAME"),
    ("spoke w/ Ines Moreau re the loaner", "Moreau", "PATIENT_NAME"),
    ("contact Pieter 555-201-3344 first", "Pieter", "PATIENT_NAME"),
    ("Li Na's daughter called", "Li Na", "PATIENT_NAME"),
    ("alarm on Grace Hill (MRN 1234567)", "Grace Hill", "PATIENT_NAME"),
    ("kid in ED (Noah Smith, bed 4) pulled the lead", "Noah Smith", "PATIENT_NAME"),
    ("the pt's name (Ruth Baker) printed", "Ruth Baker", "PATIENT_NAME"),
    ("label was from the previous patient, Trần Thị Hoa.", "Trần Thị Hoa", "PATIENT_NAME"),
    ("pt Mrs. Lindqvist at home", "Lindqvist", "PATIENT_NAME"),
    ("pt lee min-ho on the feeding pump", "min-ho", "PATIENT_NAME"),
    ("return to 77 E. 2nd Street, Apt 4D", "2nd", "ADDRESS"),
    # version 4
    ("gene's # 555-0126. pt", "555-0126", "PHONE"),
    ("-Thabo, biomed x555-0108", "555-0108", "PHONE"),
    ("Tel. 0049 30 555 0142. Pumpe", "0142", "PHONE"),
    ("Tél. 514-555-0147 poste 212", "212", "PHONE"),
    ("at 4471 Wildcat Hollow Rd, Pinecrest alarms", "Pinecrest", "ADDRESS"),
    ("Bernard Little\n17 Ashgrove Lane, Fallowfield, OR 97399\nph", "Fallowfield", "ADDRESS"),
    ("ship to PO Box 2240, thanks", "2240", "ADDRESS"),
    ("Dirección: Calle Loíza 415, San Juan, PR 00911.", "Loíza 415", "ADDRESS"),
    ("| Pt | MRN | Implant SN |\n| Ortiz | 1120034 | NGV604112H |", "NGV604112H", "OTHER_ID"),
    ("| Pt | MRN | Implant SN |\n| Ortiz | 1120034 | NGV604112H |", "1120034", "MRN"),
    ("Paciente X, expediente 4471029. La", "4471029", "MRN"),
    ("(chart 0092231) dialysis", "0092231", "MRN"),
    ("Nwosu, Chiamaka MRN5120077 DOB", "5120077", "MRN"),
    ("pt [PATIENT_NAME] (E1192047). His device", "E1192047", "MRN"),
    ("geb. 12.04.1948, Zimmer", "1948", "DOB"),
    ("(nascido 2 de maio de 1947) has", "1947", "DOB"),
    ("DOB 7-Mar-52\n", "52", "DOB"),
    ("Sokolova, Yevgenia (07/30/1961) - SCD pump", "1961", "DOB"),
    ("SSN [512 48 9937], dob", "9937", "SSN"),
    ("Medicaid # MCD 77104829, acct", "MCD", "HEALTH_PLAN"),
    ("insurance # UHC 9014 3382 17 on the", "3382", "HEALTH_PLAN"),
    ("Medicare pt. Ruth Ames MBI 1EG4-TE5-MK73. nebulizer", "1EG4", "HEALTH_PLAN"),
    ("truck plate AZ 8NVK112 blocking the gate", "8NVK112", "OTHER_ID"),
    ("parking pass for plate HNL 4R7 given.", "4R7", "OTHER_ID"),
    ("TX DL 28814093. SSN", "28814093", "OTHER_ID"),
    ("pt's own insulin pump, MiniMed 780G s/n NG2281094H, cracked", "NG2281094H", "OTHER_ID"),
    ("home vent, s/n TV0219883 (PT-OWNED, not our asset)", "TV0219883", "OTHER_ID"),
    ("the son (Gene) called. gene's # is on file", "gene", "PATIENT_NAME"),
    ("Papadopoulou family asking about the lift", "Papadopoulou", "PERSON"),
    ("INTAKE PAPERS: OLEKSANDRA HNATYUK, DOB 08.11.1976", "HNATYUK", "PATIENT_NAME"),
    ("pt pham thi lan in bed 12", "lan", "PERSON"),
    ("family of Abdullah ibn Saad al-Harbi request", "Harbi", "PERSON"),
    ("Re: father Taras Kovalenko (Тарас Коваленко), born", "Коваленко", "PATIENT_NAME"),
    ("also checked his wife gulnara's charger", "gulnara", "PERSON"),
    ("told his daughter summer it wasnt the battery", "summer", "PERSON"),
    ("Mr. Baxter in 7E-14 says his pump beeps", "Baxter in", "PATIENT_NAME"),
    ("patient Ji-ho Park insurance", "Ji-ho", "PATIENT_NAME"),
    # version 5: other countries' identity, record and health-plan numbers and addresses,
    # chat speakers, role titles
    ("Pt Anika Bose, Aadhaar 5555 4321 0987, ward 3", "4321", "OTHER_ID"),
    ("Guarantor NIN 55509876543 on file", "55509876543", "OTHER_ID"),
    ("BSN 555098765 verified by admissions", "555098765", "OTHER_ID"),
    ("PPSN 7654321WA listed", "7654321WA", "OTHER_ID"),
    ("Patient Lindiwe Dube, ID 7903045123087, ward 2", "7903045123087", "OTHER_ID"),
    ("modem IMEI 356938035643809 offline", "356938035643809", "OTHER_ID"),
    ("UR 2203817 on the humidifier tag", "2203817", "MRN"),
    ("folder no. KBH 221 9034 returning", "221 9034", "MRN"),
    ("Medicare 4412 55109 2 on the form", "55109", "HEALTH_PLAN"),
    ("medical aid Bonitas 553311902 pre-auth", "553311902", "HEALTH_PLAN"),
    ("PhilHealth 11-223344556-7 copy", "223344556", "HEALTH_PLAN"),
    ("Versichertennr. A123456789 liegt vor", "A123456789", "HEALTH_PLAN"),
    ("address Plot 9, Aba Road, Owerri. Concentrator", "Owerri", "ADDRESS"),
    ("home 4 Ashgrove Close, Lucan, Co. Dublin K78 Y2N3, mobile", "Lucan", "ADDRESS"),
    ("seen at 22 Protea Ave, Sunnyside, Pretoria 0083. Aid", "Pretoria", "ADDRESS"),
    ("DOB on file 1966-02-11, acct", "1966", "DOB"),
    ("SSN (last 4) 7781 confirmed", "7781", "SSN"),
    ("rang on 0422 555 019 about the pump", "0422", "PHONE"),
    ("[08:02] priyanka: the Spectrum is beeping", "priyanka", "PERSON"),
    ("ICU RN Hildegard. Pressure line changed", "Hildegard", "PERSON"),
    ("Stryker FSE Tomasz Wrona replaced the caster", "Wrona", "PERSON"),
    # version 6: cues and shapes of other countries (values invented for these tests)
    ("patiëntnummer 5512093 op afdeling 4", "5512093", "MRN"),
    ("hosp no KRH/23/40917 transferred", "40917", "MRN"),
    ("MRN QX-5180 on the dialysis log", "5180", "MRN"),
    ("ABHA 14-5521-9930-0017 attached", "9930", "HEALTH_PLAN"),
    ("Cartão SUS 700 5512 0933 1184 anotado", "0933", "HEALTH_PLAN"),
    ("Medicaid secondary 550918273 billed", "550918273", "HEALTH_PLAN"),
    ("AMKA 21035512345 checked", "21035512345", "OTHER_ID"),
    ("call his mobile 07700 900731 after 5", "900731", "PHONE"),
    ("kei-san 080-5555-0142 evenings", "5555", "PHONE"),
    ("sms from <+447700900825> re pump", "900825", "PHONE"),
    ("Mrs. Ola, 81, b. 04/11/1943, oxygen", "1943", "DOB"),
    ("DOB on wristband 1950.02.17 mismatch", "1950", "DOB"),
    ("born 2nd of June 1939 per chart", "1939", "DOB"),
    ("caller gave last 4 SSN 9912 for billing", "9912", "SSN"),
    ("Swapped the cuff hose, leak gone. -Marisol", "Marisol", "PERSON"),
    ("will page me if the new one alarms too -dagny\n[10:02] ok", "dagny", "PERSON"),
    ("Hi Radomir, the loaner is ready", "Radomir", "PERSON"),
    ("Visit: Flat 12C, Lotus Heights, 6th Main, Koramangala, Bengaluru 560095\nO2 ok",
     "Koramangala", "ADDRESS"),
    ("Adres: ul. Lipowa 14/3, 80-172 Gdańsk\nrespirator", "Gdańsk", "ADDRESS"),
    ("Domicilio: Calle Olmo 88, Col. Roma\nconcentrador", "Olmo", "ADDRESS"),
    ("Paciente: Inés Barahona Cuesta\nBomba Alaris", "Barahona", "PATIENT_NAME"),
    # (version 40: shapes first met in heldout33, written anew here)
    ("患者王秀英(住院号2231456)术后", "2231456", "MRN"),
    ("患者王秀英(住院号2231456)术后", "王秀英", "PERSON"),
    ("Llamó la esposa, su cel es 4471 2290 por si acaso", "4471 2290", "PHONE"),
    ("javila se na 063/412-77-15 juče", "063/412-77-15", "PHONE"),
    ("rappeler le fils au 0661-452-318 svp", "0661-452-318", "PHONE"),
    ("owner list: Okafor, Chidi 44120987", "Chidi", "PERSON"),
    ("pac. Ivan Horvat rođ. 03.02.1944, soba 4", "03.02.1944", "DOB"),
    ("new postal code T2N 1N4 per family", "T2N 1N4", "ADDRESS"),
    ("caller: my number is five five five, oh one uh four two two nine", "two two nine",
     "PHONE"),
    # (version 41: shapes first met in heldout34, written anew here)
    ("bomba retirada, pat. Sigrid Lindqvist informerad", "Lindqvist", "PATIENT_NAME"),
    ("pt Ole Dahl (19511203-4417) on ward 6", "4417", "MRN"),
    ("wa keluarga 0857 3312 6640 sore ini", "3312 6640", "PHONE"),
    ("contacto (03) 4471-2208 oficina", "4471-2208", "PHONE"),
    ("me llamó al 4862-3100 int 207 por la bomba", "4862-3100", "PHONE"),
    ("son: +44 20 7946 0321 x 2210", "2210", "PHONE"),
    ("OT;bomba;Enf. Ruiz;5557712030 ext.3301;alarma", "5557712030", "PHONE"),
    ("no formulário consta 318.552.741-09 ao lado do nome", "318.552.741-09", "OTHER_ID"),
    ("datos: 14.227.309-K, cama 2", "14.227.309-K", "OTHER_ID"),
    ("hija dice: llamar al tres cero dos catorce veinte y uno mañana", "catorce", "PHONE"),
    ("ring noll åtta sju, fem fyra tre, tjugo, elva", "tjugo", "PHONE"),
    # (version 42: a user word of another language with no colon anywhere in the text; the
    # rule had it since version 39, its gate did not)
    ("Benutzer hschmidt, Gerät neu gestartet", "hschmidt", "PERSON"),
    ("usuario jperez, equipo reiniciado", "jperez", "PERSON"),
    # (version 43: a date of birth said in words, with no number said in words in the text)
    ("caller gave date of birth march third nineteen seventy eight for the pump return",
     "seventy eight", "DOB"),
    ("pt born april twelfth nineteen forty one, pump swapped", "forty one", "DOB"),
    # (version 44: a full date before 1990 is a birth date, with or without a cue)
    ("Kurt Lange 15.03.1960 Zimmer 4, Pumpe getauscht", "15.03.1960", "DOB"),
    ("visitor read it off the wristband: 4/17/55, pump returned", "4/17/55", "DOB"),
    ("form says 07 Sept 1967 next to the bed number", "1967", "DOB"),
    ("incident form: Nov 11, 1941. Patient fine", "1941", "DOB"),
    ("老王1957年3月12日出生的，监护仪报警", "1957", "DOB"),
    ("어르신 1948년 5월 3일생, 산소발생기 교체", "1948", "DOB"),
    ("row: 1939-11-02 | bed 12 | pump ok", "1939-11-02", "DOB"),
    ("ημ. γέν. 22 Ιουλίου 1961 Αρ. μητρώου", "Ιουλίου", "DOB"),
    ("Cliente: 3 de mayo de 1979 [10:05] Agente", "mayo", "DOB"),
    ("রোগী ১২ মার্চ ১৯৫৯ জন্ম, মেশিন ঠিক", "১৯৫৯", "DOB"),
    ("जन्म १२ जानेवारी १९५० आहे, पंप बदलला", "जानेवारी", "DOB"),
    ("[14:02] ወ/ሮ ሰላም ታደሰ: ማሽኑ ቆሟል", "ሰላም", "PERSON"),
    ("张丽华(护士长): 监护仪报警\n刘强(工程师): 马上到", "张丽华", "PERSON"),
    ("worklist:  NOWAK^ZOFIA^ANNA  RCH2219034", "ZOFIA", "PATIENT_NAME"),
    ("送付先 高雄市前鎮區中山二路88巷12號5樓 まで", "中山二路", "ADDRESS"),
    ("ส่งเครื่องที่ 77/3 หมู่ 2 ต.บ้านเป็ด อ.เมือง จ.ขอนแก่น 40000", "บ้านเป็ด", "ADDRESS"),
    ("entregar en calle Morelos 118 int 2, Zapopan", "Morelos", "ADDRESS"),
    ("Patient (logged in as ekvist.home) reports the app froze", "ekvist.home", "PERSON"),
    ("確認者：山本 健太（ログイン k-yamamoto）", "k-yamamoto", "PERSON"),
    ("ĐD Trần Thị Mỹ Hạnh kiểm tra máy thở", "Mỹ", "PERSON"),
    # (version 45: the word for "address" in more languages, a caseless script's address with
    # no digit, the flat or lot beside a masked street, a Cyrillic street abbreviation, an
    # address read out in words; written for this test, not taken from the corpus)
    ("ලිපිනය: අංක 15/2, මහ පාර, ගාල්ල", "ගාල්ල", "ADDRESS"),
    ("முகவரி: 12, காந்தி தெரு, மதுரை 625001", "காந்தி", "ADDRESS"),
    ("ঠিকানা: গ্রাম: পলাশপুর, ডাকঘর: রামগঞ্জ, জেলা: লক্ষ্মীপুর", "পলাশপুর", "ADDRESS"),
    ("ünvanı: Nizami küç. 45, mənzil 12, Bakı", "Nizami", "ADDRESS"),
    ("send it to Flat 4, 22 Rosebery Road, Leeds LS6 2AB please", "Flat 4", "ADDRESS"),
    ("lives at 77 Oak Lane apt 5, Dover DE 19901", "apt 5", "ADDRESS"),
    ("доставка: г. Казань, ул. Баумана, 12, кв. 7", "Баумана", "ADDRESS"),
    ("next visit prosp. Mira 45, kv. 8, Moskva", "Mira", "ADDRESS"),
    ("caller is at sixty two maple avenue apartment nine, Dayton", "maple", "ADDRESS"),
    ("lakcím: 1051 Budapest, Nádor u. 9. III/2.", "III/2", "ADDRESS"),
    # (version 46: digits said in more languages, and ids said as one large number; the words
    # for a hospital's record number in more languages)
    ("ΑΜΚΑ είναι επτά μηδέν τρία έξι οκτώ ένα δύο, ευχαριστώ", "μηδέν", "PHONE"),
    ("आधार नंबर चार आठ दो एक सात सात तीन शून्य नौ एक", "शून्य", "OTHER_ID"),
    ("el RUT es quince millones trescientos cuarenta y dos mil ochocientos diez", "millones",
     "OTHER_ID"),
    ("mgonjwa namba ya faili 25/0431/SC amelazwa", "0431", "MRN"),
    ("lambar asibiti 25-0431 ta", "0431", "MRN"),
    ("история болезни ИБ-4417/24, флаконы", "/24", "MRN"),
]


@pytest.mark.parametrize(("text", "pii", "tag"), POSITIVE)
def test_positive(text: str, pii: str, tag: str) -> None:
    res = scrub_text(text)
    assert pii not in res.text, res.text
    assert f"[{tag}]" in res.text
    assert res.counts.get(tag, 0) >= 1


def test_combined_screenshot_line() -> None:
    text = "Screenshot showed Patient: Kwame Núñez, DOB August 5, 1975, MRN 6614449295 - deleted."
    res = scrub_text(text)
    assert res.text == (
        "Screenshot showed Patient: [PATIENT_NAME], DOB [DOB], MRN [MRN] - deleted."
    )
    assert res.counts == {"PATIENT_NAME": 1, "DOB": 1, "MRN": 1}


def test_cue_is_kept_value_replaced() -> None:
    assert scrub_text("DOB: 03/14/1962").text == "DOB: [DOB]"
    assert scrub_text("pt. O'Brien complained").text == "pt. [PATIENT_NAME] complained"
    assert scrub_text("MRN 1234567.").text == "MRN [MRN]."


# --- hand-written negatives: engineering content must survive --------------------------------

NON_PII = [
    # (version 45) a volume before a capitalised word, a doctor after a number word, a unit
    # with no address beside it
    "aspirated 250 ul. Sample 2 ok",
    "seen by two nurses and dr on call, pump ok",
    "Unit 3, bay 2: Alaris 8015 ok",
    "replaced one drive belt, road test of the transport ventilator ok",
    # (version 44) dates from 1990 on, and numbers that only look like old dates
    "PM done 03/14/2019, next due 2020-03-14",
    "installed 12/01/1994, lamp hours 1840 h",
    "firmware 1.4.55 loaded, part 12-05-67A ordered",
    "ratio 3/12/1989.2 in the log",
    "PM 12 März 2024, Lampe 1840 h, Code E-12",
    "३ पंप २०१९ में बदले",
    "Alaris 8015 PC unit",
    "Philips Respironics V60 on BiPAP",
    "HAMILTON-C6 vent",
    "Replaced battery pack P/N 123-456.",
    "PN 1000-2345-01",
    "P/N 2070413-001",
    "part# 453564243681",
    "Philips 12NC 4535 642 43681",
    "P/N 123-456-7890",
    "PN: 123-45-6789",
    "S/N 555-201-3344",
    "asset tag 555-201-3344",
    "Model 123 456 7890",
    "E-203",
    "Err 45",
    "error code 11.1",
    "Error 255-10-005",
    "Malfunction 92.9 at 07:41",
    "INOP 123 SpO2",
    "Gantry error 8-002",
    "0x80040C21",
    "updated firmware to v4.2",
    "Updated firmware from v3.1.2 to v4.0.1.",
    "SW 3.1.2 build 1145",
    "SN US12345678",
    "S/N 4A123456",
    "SN: 1234567890",
    "serial 1042-88731",
    "serviced 03/14/2021",
    "PM due 2021-03-14",
    "next PM due 2025-03",
    "Date of install 03/14/2021",
    "calibration due 03/2025",
    "2021-03-14 02:11:05 chA ALARM E-203",
    "Room 412 Bed B",
    "Rm 4-120, bed 2",
    "ICU bed 12",
    "4 West rm 12",
    "NICU pod C bed 14",
    "12.5 psi",
    "120 mL/h",
    "Flow rate accuracy at 100 mL/h: 99.2 mL/h (spec +/-5%).",
    "leakage 45 uA",
    "protective earth 0.12 ohm",
    "tidal volume 500 mL",
    "tube at 120 kV, 300 mA",
    "120,000 lux at 1 m",
    "IP 10.120.203.87, VLAN 154",
    "EQ-012345",
    "WO-00001234",
    "ticket 4412",
    "case #1234567",
    "case AB-123456",
    "RMA-123456",
    "Lot 123456",
    "recall Z-1234-2021",
    "FSCA FSN-2021-005",
    "Patient Monitor cable replaced",
    "patient cable",
    "Patient: none attached",
    "Patient: N/A",
    "patient side occlusion",
    "Patient Data Module",
    "pt. The pump alarmed",
    "cleared discharged pt. Loaner defib from Zoll",
    "the pt. Happened twice",
    "PT-INR analyzer",
    "PT: Physical Therapy gym",
    "12 Lead ECG",
    "3-lead set",
    "Bowie-Dick test",
    "Fresenius 2008T",
    "IntelliVue MX450",
    "LIFEPAK 15",
    "call ext 4412 for biomed",
    "Call 4412",
    "Visit 2 of 3",
    "phone 2 has dead pixels",
    "cell voltage 3.7 V",
    "Dialysis station 22",
    "O2 cell 21%",
    "Replaced 2 casters",
    "newborn 2021 model",
    # scrubber v2
    "pt's AirSense 10 returned",
    "pt now post-op, pump moved",
    "pt got re-intubated overnight",
    "insurance billing asked about the loaner",
    "per policy 2021 update",
    "programmer CareLink 2090 SN PJN002211",
    "contact Stryker rep for the bed",
    "son of a gun",
    "Mother board replaced, P/N 453564-001",
    "Called vendor at 1400 for pickup",
    "acct manager visited",
    # version 4
    "unit in for repair, lid seal 077.0171. fix time 2d",
    "Model 123 456 7890",
    "part x555-0108",
    "the metal plate 4 screws",
    "heater plate P7900A01 swapped",
    "gas flowmeters Ohio Medical 6700-1257-901 x12",
    "Firmware below 7.9.2.1 must be upgraded",
    "Masimo Root 1.9.2.3 ok",
    "programmer CareLink 2090 PJN002211 ok, pt's own ICD fine",
    "his home concentrator (EverFlo s/n EF1234567) flow low",
    "strip chart 25 mm/s",
    "swapped to Hamilton C1 RT-0088 at bedside",
    "log export: pt [PATIENT_NAME], enc [ACCOUNT], adm 03/03/2024, vent ok",
    "Step 3 Valve Close then open",
    "home 3 times this week",
    "IP address 10.2.3.4 set on the gateway",
    "Medtronic Azure XT DR MRI SureScan checked",
    "10:32 Alarm: SpO2 probe off",
    "passport photo printer jammed",
    # (version 40)
    "alarm log shows Patient Disconnect x12",
    "Filter 0700-001-035 replaced, vacuum ok",
    "moniteur à domicile SmartMonitor 2 PSL SM3-QC-00511 (prêt)",
    # (version 41)
    "dictating ticket forty two one one nine seven for the bed motor",
    "vent 22191877301\tint 41% / ext 0%",
    "[08:18] ASFF-0152 ንብረት ቁ. AAH/BME/0771",
    "ORU^R01 message rejected by the interface",
    "the thermostat on la calle 3 side of the building was recalibrated",
]


@pytest.mark.parametrize("text", NON_PII)
def test_non_pii_survives(text: str) -> None:
    res = scrub_text(text)
    assert res.text == text
    assert res.counts == {}


@pytest.mark.parametrize(("text", "masked"), [
    ("device ID 8801235800086 reset", "device ID [OTHER_ID] reset"),
    # (a department's extension, "page Biomed ext 4412", was masked from version 56's training
    # to version 58's; version 59's, with heldout49, scores it below 0.4: kept again)
    # (a vendor's invoice, kept by the rules since version 8: the layer trained with heldout46,
    # whose hands marked the invoices patients are sent, scores it 0.58 since version 56)
    ("void invoice INV-771203 from the vendor", "void invoice [OTHER_ID] from the vendor"),
    # (a number in the 555 range the corpus's phones are written in; its capitals go with it)
    ("REF 555-201-3344", "[OTHER_ID]"),
])
def test_the_number_threshold_trades_look_alikes_for_identifiers(text: str, masked: str) -> None:
    """Version 51 lowered the number layer's threshold from 0.7 to 0.4 (docs/phi.md), and
    version 52's training (no dates) moved a few scores: three look-alikes written for these
    tests (p 0.4-0.7 since version 56's training: a patient's implant, a staff extension, a
    phone and an invoice as often as a hospital's unit, a department, a reference and a
    vendor's) are masked now; a site that wants them kept sets ``scrub.number_threshold``
    higher."""
    assert scrub_text(text).text == masked
    assert scrub_text(text).counts == {"OTHER_ID": 1}
    # (0.8: the invoice scores between 0.75 and 0.8 since version 59's training)
    assert scrub_text(text, ScrubPolicy(number_threshold=0.8)).text == text


# --- edge cases -------------------------------------------------------------------------------


def test_none_and_empty() -> None:
    assert scrub_text(None) == ScrubResult(None, {})
    assert scrub_text("") == ScrubResult("", {})
    arr, counts = scrub_array(pa.array([None, "", "MRN 1234567", None], pa.string()))
    assert arr.to_pylist() == [None, "", "MRN [MRN]", None]
    assert arr.null_count == 2
    assert counts == {"MRN": 1}


def test_chunked_and_large_string() -> None:
    chunked = pa.chunked_array([["DOB 01/02/1950", None], ["call 555-201-3344"]], pa.large_string())
    arr, counts = scrub_array(chunked)
    assert isinstance(arr, pa.Array)
    assert arr.type == pa.large_string()
    assert arr.to_pylist() == ["DOB [DOB]", None, "call [PHONE]"]
    assert counts == {"DOB": 1, "PHONE": 1}


def test_all_null_and_empty_arrays() -> None:
    arr, counts = scrub_array(pa.array([None, None], pa.string()))
    assert arr.to_pylist() == [None, None] and counts == {}
    arr, counts = scrub_array(pa.array([], pa.string()))
    assert len(arr) == 0 and counts == {}


def test_type_errors() -> None:
    with pytest.raises(TypeError):
        scrub_text(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        scrub_array(pa.array([1, 2]))


def test_nul_and_non_latin_do_not_crash() -> None:
    text = (
        "Replaced battery.\x00 夜勤スタッフより: アラームが鳴り続けていた。 pt John Smith "
        "تم استبدال البطارية Замена батареи 📟✅ MRN 1234567\x00 更换电池后设备正常。"
    )
    res = scrub_text(text)
    assert "John Smith" not in res.text and "1234567" not in res.text
    assert res.text.count("\x00") == 2
    assert "夜勤スタッフより" in res.text and "Замена батареи" in res.text and "📟✅" in res.text
    assert res.counts == {"PATIENT_NAME": 1, "MRN": 1}
    # NUL inside a value still leaves the pieces alone rather than crashing
    assert scrub_text("\x00" * 10).text == "\x00" * 10


def test_long_text() -> None:
    text = ("2021-03-14 02:11:05 chA INFO self-test pass\n" * 800) + "Callback: 555-201-3344"
    res = scrub_text(text)
    assert res.text.endswith("Callback: [PHONE]")
    assert res.counts == {"PHONE": 1}


@pytest.mark.parametrize(
    ("head", "unit", "repeat", "tail"),
    [
        ("", "1", 50_000, ""),
        ("+1 ", "2 ", 25_000, ""),
        ("", "12-", 16_000, ""),
        ("pt ", "Aaaa ", 10_000, ""),
        ("Patient: ", "AAAA, ", 8_000, ""),
        ("", "DOB 1/1/", 10_000, ""),
        ("a" * 25_000 + "@", "b.", 10_000, ""),
        ("pt Maria ", "de la ", 10_000, "Cruz"),
        ("", "Aaaa ", 10_000, "Okonkwo"),
        ("address 1", " Aaaa,", 10_000, " Bb"),
        ("home 12", " Co. Aa", 10_000, ""),
        ("[10:00] ", "a.", 10_000, ": x"),
        ("Aadhaar ", "12 ", 10_000, ""),
        ("ref ", "no:44190027) ", 5_000, ""),
        ("lives at 22 Rosebery Road, Leeds LS6 2AB, ref ", "1", 4_000, " z"),
        ("lives at 22 Rosebery Road ", "apt 1 ", 4_000, ""),
        # (version 46: a long text of short words that repeat, some of them a name a rule
        # masked: the name-words pass aligned the whole text, 19 KB took 18 s)
        ("", "Brgy., Phase, the, no, Mira, kv.,   , the, Dayton, ., int, oh, Lot, Баумана, d,   , "
             "Flat, zero, Purok, oh, apartment, calle, the, church, lives at 22 Rosebery Road, "
             "Leeds LS6 2AB, -, Dayton, 12, #, Phase, ul., vive en, RW, d, zero, 111111111, Flat, "
             "Flat, Flat, int, ලිපිනය:, lives at 22 Rosebery Road, ", 64, ""),
        # (version 54: a grid address's parts, words and commas without end)
        ("Blk 7 ", "Lot 1 San Jose, ", 4_000, "x"),
        ("Brgy. ", "San de la ", 8_000, "."),
    ],
    ids=["digits", "plus", "dashes", "pt-words", "caps", "dob", "email", "particles",
         "name-chain", "address-cue", "address-abbrev", "chat", "national-id",
         "numbers-on-a-line", "digits-beside-an-address", "units-after-an-address",
         "repeated-words-and-names", "grid-address-parts", "grid-address-words"],
)
def test_no_catastrophic_backtracking(head: str, unit: str, repeat: int, tail: str) -> None:
    """Time grows linearly with the input: four times the text takes about four times as
    long (a quadratic pattern takes 16 times, a catastrophic one far more). A ratio of two
    timings taken side by side, best of three, not a wall-clock limit: a loaded machine
    slows both alike."""
    def seconds(n: int) -> float:
        text = head + unit * n + tail
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            scrub_text(text)
            best = min(best, time.perf_counter() - t0)
        return best

    small, large = seconds(repeat // 4), seconds(repeat)
    assert large < 8 * small + 0.005, (small, large)


def test_idempotent(synthetic) -> None:
    for value in synthetic.table.column("TECHNICIAN_NOTES").to_pylist()[:500]:
        once = scrub_text(value)
        twice = scrub_text(once.text)
        assert twice.text == once.text
        assert twice.counts == {}


def test_counts_match_placeholders() -> None:
    res = scrub_text("pt John Smith, MRN 1234567, call 555-201-3344 or 555-201-3345.")
    assert res.counts == {"PATIENT_NAME": 1, "MRN": 1, "PHONE": 2}
    for tag, n in res.counts.items():
        assert len(re.findall(re.escape(f"[{tag}]"), res.text)) == n
    # (version 37's rules that merge or add placeholders after the others: a phone's
    # extension, an area code, Canada's postcode after an address)
    res = scrub_text("Adresse 88, rue des Érables, Laval (Québec) H7N 3K9, tél. 450 555 0199 "
                     "poste 214; Telp (022) 7301 664")
    assert "H7N" not in res.text and "7301" not in res.text
    found = {tag: len(re.findall(re.escape(f"[{tag}]"), res.text)) for tag in res.counts}
    assert found == res.counts and sum(found.values()) == res.text.count("[")


def test_site_policy_keeps_its_words_and_can_keep_unknown_words_and_public_ips() -> None:
    from backfill.scrub import ScrubPolicy

    text = "swapped the Zephyrion monitor for Okonkwo, home hub IP 73.152.41.209 offline"
    default = scrub_text(text).text
    assert default is not None
    assert "Zephyrion" not in default and "Okonkwo" not in default
    assert "73.152.41.209" not in default
    kept = scrub_text(text, ScrubPolicy(keep_words=("zephyrion",))).text
    assert kept is not None and "Zephyrion" in kept and "Okonkwo" not in kept
    lenient = scrub_text(text, ScrubPolicy(fail_closed_names=False,
                                           public_ip_addresses=False)).text
    assert lenient is not None and "Zephyrion" in lenient and "73.152.41.209" in lenient
    assert "Okonkwo" not in lenient  # a name the lists know goes either way


def test_csv_and_tab_tables_are_read_by_their_header() -> None:
    """An export pasted as CSV (quoted cells holding commas) or tab-separated: the columns
    whose header names an identifier are masked, the equipment's columns are kept."""
    csv_text = ("Loaner,Model,Serial,PatientName,MR No,Phone\n"
                'LN-7,Sapphire,SP4410982,"Quist, Ebba",Q5512,(555) 010-4488\n'
                "LN-8,Sapphire,SP4410990,Tor Quist,Q5519,555-0149\n")
    out = scrub_text(csv_text).text
    for value in ("Quist", "Ebba", "Q5512", "Q5519", "Tor", "4488", "0149"):
        assert value not in out, out
    for kept in ("SP4410982", "SP4410990", "LN-7", "Sapphire"):
        assert kept in out, out
    tsv = "Asset\tPt name\tAcct_No\nBME-118\tWren Halvorsen\t0077120349\n"
    out = scrub_text(tsv).text
    assert "Halvorsen" not in out and "0077120349" not in out and "BME-118" in out, out


def test_a_sentence_with_commas_is_no_table_header() -> None:
    text = ("Checked pt, MRN, DOB, allergy band.\n"
            "Replaced battery, ran self test, cal ok, returned to 4W.")
    assert scrub_text(text).text == text


def test_a_hospital_unit_with_commas_is_no_address() -> None:
    text = "Unit 4B, bay 2, Alaris channel A ok. Flat 3, bed 2, ok"
    assert scrub_text(text).text == text


# Version 7: written for this file by hand (values not in any corpus); each pair is a text and
# what must be gone from it, or what must stay.
V7_REMOVED = [
    ("pt Halvard Ostby MRN 66104428. Also on the list: - Ines Vatne 66104913", "66104913"),
    ("leads Tendril SN QLM208811 / QLM208874 both capped", "QLM208874"),
    ("Claim #: 2025-331-00918 denied, resubmitted", "2025-331-00918"),
    ("Patienten-Kontonr. 5512 3381 07 für März", "5512"),
    ("insurer ref NORDIC-7731-0082 pending", "NORDIC-7731-0082"),
    ("RAMQ OSTH 6204 1188 expires 2026", "6204"),
    ("tlf 622 48 19 07 (hija)", "622 48 19 07"),
    ("erreichbar unter 0170 3318 2290 ab 18 Uhr", "3318"),
    ("appeler la fille au 07 61 22 48 90", "07 61 22 48 90"),
    ("his MRN is 9930417 if you need it", "9930417"),
    ("SSN on file ends 8821, verified", "8821"),
    ("fecha nac. 02-11-1939, domicilio", "02-11-1939"),
    ("nat. ID 31877409 on the consent", "31877409"),
    ('{"subscriberId":"BLX-4471902231","status":"active"}', "BLX-4471902231"),
    ('"reference":"Patient/5521907"', "5521907"),
    ("moved to 9 rue des Acacias, app. 2C, Québec QC G1R 4P5", "Acacias"),
    ("home is Storgatan 31 B, 413 19 Göteborg", "Storgatan"),
    ("pickup from 4/19 Koala Cres, Mt Druitt NSW 2770", "Koala"),
    ("[chat] Wiebke (Draeger Support): can you send the log?", "Wiebke"),
]
V7_KEPT = [
    # a demo controller beside the patient's own shares only the model's prefix
    ("Family-owned controller SN PDM-5512-80431. Clinic demo controller PDM-5500-11920 paired",
     "PDM-5500-11920"),
    ("O2 cell 6850-0012-330 replaced, load cell 3100-210-040 ordered", "6850-0012-330"),
    ("O2 cell 6850-0012-330 replaced, load cell 3100-210-040 ordered", "3100-210-040"),
    ("Visit: 2025-02-17 gradient noise", "2025-02-17"),
    ("pH 7.41, ph 7.38 on the analyzer", "7.38"),
]


# Version 8: written for this file by hand (values not in any corpus), like version 7's.
V8_REMOVED = [
    ("Participant ლევან კაპანაძე reported a rash", "კაპანაძე"),  # Georgian has no case
    ("Patient அருண் குமார் (Arun Kumar) came in", "குமார்"),  # Tamil vowel signs
    ("환자: 박지훈 (PARK Ji-hoon) 등록번호", "박지훈"),  # the own-script name before the alias
    ("Пациент: Сергеева Ольга Ивановна, ИИН 650812300145", "Сергеева"),
    ("Инженер Тасмагамбетов К.Б., 12.04.2024.", "Тасмагамбетов"),
    ("battery swapped by tech R. Mahlangu, ok", "Mahlangu"),  # an initial ends no sentence
    ("Paciente Tomás Ríos, 94 años, en casa", "94"),  # an age over 89 before its word
    ("pt is a 97-year-old male, fell", "97"),
    ("Civil ID: 28804112233 on the form", "28804112233"),
    ("Cédula: 402-2291773-1 | tel", "2291773"),
    ("Omang 512884301, Plot 2231", "512884301"),
    ("r. č. 450212/0913 na žiadanke", "450212"),
    ("Serial (patient-owned): QX88-2210943 returned", "QX88-2210943"),
    ("Device serial 30110948LK (hers). Pads swapped", "30110948LK"),
    ("Núm. sèrie (propietat de la pacient) TX44-1192", "TX44-1192"),
    ("SS últimos 4 9912, verificado", "9912"),
    ("last 4 of SSN its 3381 she said", "3381"),
    ("nar. 7. 3. 1941, izba 4", "1941"),
    ("data de naixement 3 de maig de 1950", "1950"),
    ("né le 1er mars 1944 à Dakar", "1944"),
    ("Ахметова Динара (карта ГКБ4-0771203, 14.02.1958 г.р.)", "1958"),
    ("тел. 8 (702) 555 12 90, звонить вечером", "555 12 90"),
    ("email k mwangi at example dot org thanks", "mwangi"),
    ("morada Rua das Flores, 112, 1.º Dto., 4050-262 Porto, tlm 912", "Flores"),
    ("domicilio Calle Sucre 441, Zona Norte, Cochabamba. Equipo ok", "Sucre"),
    ("CIP MAGA1550301009, NHC 4471", "MAGA1550301009"),
    ("D0B O4/2l/1949 SSN XXX-XX-l180", "l180"),
    ("FR0M: biomed\nAttn: Inv. T. 0yelaran-Banks", "yelaran"),  # (an OCR'd cover sheet)
]
V8_KEPT = [
    ("sterilizer at 134.2 °C. Door gasket replaced", "Door"),  # a unit's dot, not an initial
    ("Handled by tech Mirela Dobre, 2024-05-30.", "2024-05-30"),  # a sign-off's date
    ("O2 cell 6850645 cal 21% OK", "6850645"),
    ("Pendant Austco Tacera TAC-PND-01 logged", "Austco Tacera"),
    ("rampa de Sala de Emergencia bahía 3", "Sala de Emergencia"),
]


# Version 9: written for this file by hand (values not in any corpus), like version 8's.
V9_REMOVED = [
    ("Τεχνικός: Σπύρος Αλεξίου 14/02/2024", "Αλεξίου"),  # a role word with a colon
    ("病房 3A-11 病人 周雅婷 體重 88 kg", "周雅婷"),  # no product after a caseless name
    ("家屬: 兒子 陳志豪 0933-555-018", "陳志豪"),
    ("联系人：女儿 刘晓燕 139-5550-2281", "刘晓燕"),
    ("রোগী মোঃ আবুল কালাম, বয়স ৭০", "কালাম"),
    ("annesi Zeynep Arslan 0533 555 01 22 aradı", "Arslan"),
    ("de M. Gwenaël Le Bihan (né le 02/09/1960)", "Bihan"),
    ("СНИЛС 118-442-901 77, полис ОМС 5512 8830 1192 4407", "5512"),
    ("dowód osobisty CKL 558102, adres", "558102"),
    ("Teudat Zehut 031447902, DOB", "031447902"),
    ("la cedula de mi mamá es 7.441.093 y", "7.441.093"),
    ("IBAN DE44 5001 0517 5407 3249 31, Miete", "5407"),
    ("KVNR T118820445, Fallnr. 1", "T118820445"),
    ("TSI GAPE 710203 11 8, episodio EP-2023-0047715", "710203"),
    ("ημ. γέννησης 02/11/1939", "1939"),
    ("Rua Professor Artur Ramos, 96, ap. 12, Pinheiros, São Paulo", "Artur"),
    ("Διεύθυνση: Ερμού 12, 2ος όροφος, 105 63 Αθήνα", "Ερμού"),
    ("bytem Nerudova 41/7, 118 00 Praha", "Nerudova"),
]
V9_KEPT = [
    ("Pads lot 4721098 exp 2026-08, battery ok", "2026-08"),  # an expiry, not a record
    ("IP address 10.20.4.17 set on the gateway", "10.20.4.17"),
    ("RN: E 1107 on the footboard", "1107"),  # a speaker's words, not a label's name
]


# Version 10: written for this file by hand (values not in any corpus), like version 9's.
V10_REMOVED = [
    ("Pt Okello Brian, TC 52918830716, oda 4", "52918830716"),  # initials opening an item
    ("Mw. Dijkstra, reg# QK-77120, bed 4", "QK-77120"),  # a label no rule knew, with #
    ("Dr. Ines Walter (ID 71-402-9913) signed", "71-402-9913"),
    ("pt Marta Souza, ficha MX-11-0452", "MX-11-0452"),  # a label word
    ("caller Hamid Rahimi, crew#  PX-880213, ward 3", "PX-880213"),
    ("Utente: Rui Manuel Tavares e Silva, nº", "Silva"),  # a particle left outside the name
    ("Father Saad al-Mutairi, mob 0555", "Mutairi"),
    ("Enf. Carme Vidal i Soler, técnico", "Soler"),
    ("ACK user=p.hendriks", "hendriks"),  # a login
    ("Printed 03/02/2025 by tvanleeuwen", "tvanleeuwen"),
    ("bel terug op 06-12 34 56 78 svp", "34 56 78"),  # a national number with its trunk 0
    ("telem. 936 555 210, morada", "936 555 210"),
    ("SSN last-4 7721 on file", "7721"),
    ("SSN l4 3308 confirmed", "3308"),
    ("Called family: she is 94 and lives alone", "94"),
    ("DOB: O4/l7/l95O on the form", "l95O"),  # a number read wrong throughout
    ("Processor Kanso 2 SN 4471209911 lost", "4471209911"),  # a hearing device is worn
    ("INSERT INTO pts (wo, pt_last, dob) VALUES (7, 'HOLLIS', '1950-03-04');", "1950"),
    ("laite\tpotilas\thetu\tmerkinta\nAirSense 10\tAino Virta\t150545-902R\tmaski",
     "150545-902R"),  # a header in Finnish
    ("Storgatan 8 lgh 1203, 113 27 Stockholm", "113 27"),
    ("delivered to 902 SW 41st Ave, Portland OR 97219", "902"),
]
V10_KEPT = [
    ("Pt Okello Brian, pump SN 441209883 swapped", "441209883"),  # engineering's label
    ("Pt Okello Brian: Parts: GB-BRK-0117 ordered", "GB-BRK-0117"),
    ("pt Ana Ruiz, OT 2024-00912 abierta", "2024-00912"),  # a work order's initials
    ("Ran user test - PASS", "test"),
    ("part 040-002819-00 on order", "040-002819-00"),  # dashes only: a part number
    ("Aspiratore Medela matr. 0912-5550177 guasto", "0912-5550177"),
]


# Version 11: written for this file by hand (values not in any corpus), like version 10's.
V11_REMOVED = [
    ("pt Selin Aydın TC 31846209574 gelmedi", "31846209574"),  # after a name, 11 digits
    ("child Min-jun Lee 130722-3108462 eye tracker", "130722-3108462"),  # Korea, no label
    ("Ilkka Rantanen 230761-552T pump", "230761-552T"),  # Finland's hetu, no label
    ("father 42101-7719204-3 cell", "42101-7719204-3"),  # Pakistan's CNIC by its shape
    ("IBAN for the refund ES91 2100 0418 4502 0005 1332", "0418"),  # an account, any label
    ("[patient]\nname = \"Ваня Орлов\"\ncode_melli = \"0049917226\"", "0049917226"),
    ("Name=Ирина Белова\nDOB=03.04.1977", "Белова"),  # an INI dump: no colon in it
    ("hub not syncing for pt Tamsin Rowe 14-11-1948 ABHA pending", "1948"),  # date after name
    ("Maccabi 0093-771204 card expired", "771204"),
    ("FONASA tramo C F-22819330 derivado", "22819330"),
    ("convênio Unimed 0 117 000093311200 4", "000093311200"),
    ("faxed GP 07 555 0162 the result", "0162"),  # a nine-digit landline, one-digit area code
    ("esposo (21) 98555-0176 ligou", "98555-0176"),
    ("nasc 17/10/1962 prontuário", "1962"),
    ("birthday? Caller: June 2, 1940. thanks", "1940"),  # an answer in a chat
    ("alamat Jl. Merdeka No. 7, Kel. Sukajadi, Bandung 40162", "Sukajadi"),
    ("moved to Mäntykuja 9 C 14, 40100 Jyväskylä", "Mäntykuja"),
    ("his car rego PQZ417 in the lot", "PQZ417"),
    ("IPG Medtronic Intellis SN NWQ7731552H battery low", "NWQ7731552H"),
    ("pat Åsa Nilsson pnr 19510203-4417 ringde", "Åsa"),  # "pat", a Nordic patient
    ("whose sample: רונית כהן ת.ז. 204518337 ok", "כהן"),  # a Hebrew name before its id
]
V11_KEPT = [
    ("Implant card: Abbott Assurity MRI PM2272", "Assurity"),  # a card key, not a plan's
    ("Técnico: Sérgio Antunes, 2024-06-11.", "2024-06-11"),
    ("Delivered by Rhea Santiago Nov 2, explained", "Nov 2"),  # a date, not a surname
    ("Cynosure and Lutronic lasers both in for PM", "Lutronic"),  # makers, not people
    ("warranty claim WC-PT-0031872 filed with the maker", "WC-PT-0031872"),
    ("tech Rhea Santiago 04/05/2023 replaced pads", "04/05/2023"),  # a later date: the day
]


# Version 12: written for this file by hand (values not in any corpus), like version 11's.
V12_REMOVED = [
    ('Jul 2 04:11:52 vent7 svc[88]: patient_id=KLH-2200417 name="Ossi, Marja" fw=2.1',
     "2200417"),  # key=value pairs inside a log line
    ('level=WARN pt_name="Odile Brassac" pt_dob=1950-07-08 err=E-12', "1950"),
    ("家属 王敏 310104196207154427 已登记", "310104196207154427"),  # China's id by its shape
    ("病人 陳美玲 A223419857 已核對", "A223419857"),  # Taiwan's
    ("card 3QW7UN2KA58 copied to the chart", "3QW7UN2KA58"),  # a US MBI by its shape
    ("Medicaid (Molina) MLN-4418220731 active", "4418220731"),
    ("ibu 880214-10-5527 disahkan", "880214-10-5527"),
    ("Versicherter 756.9921.4410.37 gemäss Formular", "9921"),
    ("VZP číslo pojištěnce 7311204471 platné", "7311204471"),
    ("SV-Nr. 4418 270551 laut e-card", "270551"),
    ("Pt Ragnheiður, f. 3. júní 1961, kom inn", "1961"),  # the Nordic "f." before a date
    ("Eila Koskinen s. 4.9.1938 Oulu", "1938"),
    ("пацієнтка, д.н. 11.02.1979, скарга", "1979"),
    ("生日 民國52年3月4日 病歷號 7730125", "7730125"),
    ("проверила Соколова Е. Н., аппарат исправен", "Соколова"),  # a surname, its initials
    ("συνδεδεμένος Δημήτρης Κωνσταντίνου, ΑΜΚΑ 03046102211", "Κωνσταντίνου"),
    ("lives at Kungsgatan 12, lgh 1101, Wolfgang Pucks Straße 8", "Pucks"),
    ("écrire à Chemin des Lilas 14, 1010 Lausanne", "Lilas"),
]
V12_KEPT = [
    ("ALARM code=E-203 device=PUMP-4412 room=ICU-12 user=system", "PUMP-4412"),
    ("replaced filter f. 12 pumps, see s. 3.2.1 of the manual", "3.2.1"),
    ("Route change: pump moved to Bay 4 after PM", "Bay 4"),
    ("담당 엔지니어 접수번호 RC-2207-114 처리", "RC-2207-114"),  # an intake number is a ticket
    ("Patient identifier: JQ   Wt 64 kg", "64 kg"),  # a form's line, not a record number
]

# version 13 (heldout19 read): labels in many languages on a line with the patient's
# identifiers, form keys in JSON/XML, FHIR identifiers, labeled persons in any script,
# addresses after a contact. Each REMOVED case leaks with version 12.
V13_REMOVED = [
    # a JSON key read as a form's
    ('{"patient": "[x]", "bill_no": "OPB/25/77120", "mob": "x"}', "77120"),
    ("<client>\n  <debiteurnr>DB-55018</debiteurnr>\n</client>", "55018"),
    ('{"system": "https://clinic.example.org/mrn", "value": "KV-330981"}', "330981"),  # FHIR
    ("pt Jonas Berg MRN 4471029, HC 3310457 duplicate", "3310457"),  # a label on a masked line
    ("Dina Haddad, DOB 02/03/1961, factuur FAC-25-330112", "330112"),
    ("Rui Matos, nº utente 712044318, fatura FT-2025-00417", "00417"),
    ("Mr Ola Nilsen (MRN 5520147), client invoice CI-25-0418", "0418"),
    ("Ann Moose, DOB 1990/02/11, status no. 7700331829", "7700331829"),  # "no" after whose
    ("患者: 田中 花子（昭和30年1月2日生）患者ID 0091-4471", "4471"),
    ("Medicaid (pending) 771044829", "771044829"),
    ("AccountNo: RNT-0098812", "0098812"),
    ("رقم الحساب AC-77-01845", "01845"),
    ("Rückruf bitte unter 0421 5550 7712", "7712"),
    ("Hausarzt (fax praxis 0621 555-0188)", "0188"),
    ("बेटा, मो. 98451 55017", "55017"),
    ("doğum 14 Mart 1962, dosya no 4471", "1962"),
    ("ur. 7 marca 1944, PESEL 44030712345", "1944"),
    ("alizaliwa 03/04/1990 Mombasa", "1990"),
    ('{"system":"urn:oid:1.2.268.1.1","value":"GE-01024087"}', "01024087"),
    ("Пациенты: Гульнара Абенова (ИИН 880101400123)", "Гульнара"),
    ("अभियंता: राकेश वर्मा; फ़िल्टर बदला", "राकेश"),
    ("Tæknimaður: Sigurður Örn Hallsson; skipt um rafhlöðu", "Sigurður"),
    ("Makazi: Kijiji cha Kilifi, karibu na soko la samaki", "soko la samaki"),
    ("Adresse : 4 bis rue des Roses, bât. B, 2e ét., 75011 Paris.", "75011"),
    ("NOK: gogo Thandi, 082 555 0193, Stand 4471, Mabopane Location, Pretoria 0190", "Mabopane"),
]
V13_KEPT = [
    ("vendor invoice INV-2025-0412 paid; pt Ana Lima MRN 3312045", "INV-2025-0412"),
    ("Aspirator seri no 0930-5550117 for pt Ali Kaya MRN 4471203", "0930-5550117"),
    ("Tech: replaced pump board", "replaced pump board"),
    ("Tech: Biomed on call", "Biomed on call"),
    ("pt Jo Ruiz, 555-0134, RMA RMA-US-22718, Dr. Chen notified", "RMA-US-22718"),
    ("cat-1045,+44 1970 555018,Signia Pure 7X,GD 8841-033,E4 on charger", "Signia Pure 7X"),
    ("Programador Renamic SN REN-70331 (hospital), domicilio Calle Luna 12, La Paz. Programador ok",
     "REN-70331"),
]

# version 14 (heldout20 read): table and SQL headers read as a form's keys, dotted-leader
# forms, DICOM dumps, FHIR systems of more kinds, card endings, numbers read out digit by digit,
# chat authors in Korean, Thai and Slack exports, labeled persons mid-line. Each REMOVED case
# leaks with version 13.
V14_REMOVED = [
    # a table's other headers read as a form's keys
    ("Patient\tMR#\tSehat Card\nMuhammad Arif\tDU-11872\tSC-PB-0518279", "0518279"),
    ("| Client | DOB | Chair (client-owned) SN |\n|---|---|---|\n"
     "| MacIsaac, Angus | 1939-04-02 | QTM-6-1120441 |", "1120441"),
    ("Pump SN\tSubject #\tPt name\nSG8-0104001\t221-0093\tOkafor, Ada", "221-0093"),
    ('{"system":"urn:example:fallnummer","value":"2024-0448123"}', "0448123"),
    ("Patient ............... Rosa Quispe\nDNI .................... 41288302", "41288302"),
    ("Hospital number ............... T2209931\nItem .......... TENS unit", "T2209931"),
    ("(0010,0020) LO [SJH0041187]                # 10, 1 PatientID", "SJH0041187"),
    (" (0010,1000) OtherIDs        77192201K", "77192201K"),
    ("I paid $120 by card ending 4471 yesterday", "4471"),
    ("MRN 7 7 1 0 4 2 9 3, she was fine", "7 7 1 0"),
    ("Факс (495) 555-02-17.", "555-02-17"),
    ("Fax audioloog 09 555 04 17.", "555 04 17"),
    ("patiënte Marie Claes (pat.nr 7081463, geboren 30/07/1948)", "7081463"),
    ("오전 7:41, 김서연 보호자: 선생님 알람이 나요", "김서연"),
    ("#kitchen (Slack export)\nmaria.lopes  6:48 AM\ndish machine on line 2", "maria.lopes"),
    ("Datum: 20/02/2024   Technieker: Wim Verhaegen", "Wim"),
]
V14_KEPT = [
    ("Pump SN\tAsset\tSubject #\nSG8-0104001\tRES-PMP-017\t221-0093", "RES-PMP-017"),
    ("work order number 4 4 7 1 0 9. unit is the Lokomat", "4 4 7 1 0 9"),
    ("(0018,1000) DeviceSerialNumber  SLX2-0187", "SLX2-0187"),
    ("(0010,1030) LO [72]   # PatientWeight", "[72]"),
    ("Tech: On Call", "On Call"),
    ("Serial ........................ NTP-22-018864    Trust asset NBT 000531", "NTP-22-018864"),
]

# version 15 (heldout21 read): receipt and payment words, more schemes and insurers, keys in
# Malay, Indonesian and Japanese, full-width colons, phone and birth-date words of more languages.
# Each REMOVED case leaks with version 14.
V15_REMOVED = [
    ("pt Ana Reyes MRN 4471902 paid deposit already, receipt RCT-0047291", "0047291"),
    ("押金收據 RC1130774 已收", "1130774"),
    ("Mutuelle MGEN n° adhérent 1844219370 à jour", "1844219370"),
    ("מטופל: נועה כהן   ת\"ז 038472951", "038472951"),
    ("بیمه تامین اجتماعی: 1298774013", "1298774013"),
    ("التأمين: بوبا، رقم العضوية 83201549-07", "83201549"),
    ("Med card 2935820K / VHI 3301 4478 29", "2935820K"),
    ("Southern Cross no. SC-53069284", "53069284"),
    ('{\n    "no_rm": "PKU-2024-00788",\n    "akaun_yuran": "UNI-STU-0072815"\n}', "00788"),
    ("\u3000患者ID：00874521\n\u3000被保険者証 記号・番号：4271・585", "00874521"),
    ("Tel. 0551 / 79 44 12, E-Mail", "79 44 12"),
    ("tél 76 552 10 84, quartier Boucotte", "552 10 84"),
    ("Samboer Magnus Vik ringte fra 948 17 202, pakken", "948 17 202"),
    ("工程師：黃建中\u3000傳真 (02)2258-6311", "2258-6311"),
    ("Trần Văn Lộc, sinh 3/1/1991, SĐT +84 93 772 4108", "1991"),
    ("(f. nac. 14-VII-1985)", "1985"),
    ("Pacient ................ Jan Novák\nDatum narození ........... 14. srpna 1956", "1956"),
    ("tel +372 5123 4481, poeg Rasmus 5551 9023", "Rasmus"),  # a relative in Estonian
    ("پسرش علی رضایی: +98 21 2284 1937", "رضایی"),
    ("[Пациентка] Асанова Айгерим Талантбековна", "Айгерим"),  # a bracketed label
    ("\u3000患者氏名：高橋 由美子（タカハシ ユミコ）様", "タカハシ"),  # the name's reading too
    ("Frá: Guðmundur Helgason <g@x.example>", "Guðmundur"),
]
V15_KEPT = [
    ("goods receipt GR-2024-0411 booked for the pump spares", "GR-2024-0411"),
    ("Tel. 0551 / Fax 0552", "Fax 0552"),
    ("Serial no. SLX2-0187 sinh hoạt", "SLX2-0187"),
    ("From: Biomed Helpdesk <h@x.example>", "Biomed Helpdesk"),
    ("poeg PM-2210 vahetatud, mõõtmine 4,2 l/min", "PM-2210"),
]

# version 16 (heldout22 read): label and key words of more languages (client, card-index, donor,
# receipts, deposits, PPSN, KV-Nr., CASS, PERKESO), birth dates after "n.", "lahir" and "f."
# with a two-digit year. Each REMOVED case leaks with version 15.
V16_REMOVED = [
    ("Versichert: Jonas Brandt, KV-Nr. K487302169, AOK", "K487302169"),
    ("Ana Oduya (BSN 123456782) cliëntnr CL-203679", "203679"),
    ('"system":"urn:plasma:donor","value":"PD-7402958"', "7402958"),
    ("<nr_kartoteki>KS-19/0848</nr_kartoteki>", "0848"),
    ("PPSN ................ 2860795TA\nMedical card ........ G40519837", "2860795TA"),
    ("Deposit (card) ...... receipt DEP-0331-78\nItem .......... walker", "DEP-0331-78"),
    ("شماره پرونده: SL-۴۴۰۱\nبیمه تکمیلی: ۶۶۰۲۱۸۸۴۱۷", "SL-۴۴۰۱"),
    ("Mr Omar Ali MRN 5520174, PERKESO PKS 7720-1148, invois INV/HD/2508/0178", "1148"),
    ("Card CASS 80642000138652907361", "80642000138652907361"),
    ("Munteanu (CNP 1490521045513, n. 21.05.1949, FO DZ-2025-1750)", "1949"),
    ("Arvid Helle, fnr 120456 33718, f. 12.04.56, levert", "12.04.56"),
    ("No. KP 610822-08-5514, lahir 22 Ogos 1961, MRN", "1961"),
    ("contacto:\n  nombre: Rosa Mamani\n  fono: \"55 255 4481\"", "4481"),
]
V16_KEPT = [
    ("Se reemplazó el cable de placa E7507, lote 23J077", "E7507"),
    ("firmware v. 2.05.2024 n. 3 installed", "2.05.2024"),
    ("f. 12.04 rev. 3 of the manual", "12.04"),
]

# Version 17 (heldout23): labeled persons with a title between ("MUDr.", "Դոկտ.", "ທ້າວ"), a
# role in brackets or a patronymic; Georgian names; address keys of forty languages; a
# number masked once and left inside another value; strong labels on a line of their own;
# a second phone; fax and birth-date words of more languages.
V17_REMOVED = [
    ("Ատամնաբույժ՝ Դոկտ. Անահիտ Պետրոսյան, հեռ. 010 55 12 34", "Պետրոսյան"),
    ("ຜູ້ຮັບ: ທ້າວ ບຸນມີ ສີສະຫວັດ, ເກີດ 1990", "ບຸນມີ"),
    ("მიმღები: ნინო ლომიძე, ტელ. 599 12 34 56", "ლომიძე"),
    ("Xəstə: Qəmbərli Vüqar Elman oğlu, d.t. 1970-01-02", "Qəmbərli"),
    ("Bemor: To‘xtayeva Dilnoza Anvarovna, tug‘ilgan 1980", "To‘xtayeva"),
    ("Sjúklingur (háseti): Guðbrandur Þorkelsson, kt. 120370-2279", "Guðbrandur"),
    ("የፊዚዮቴራፒ ባለሙያ ሲስተር መሰረት ደበበ፣ ስልክ 0911 234 567", "መሰረት"),
    ("Patsient: Kari Nurmi\nAadress: Raekoja plats 12-3, 10146 Tallinn", "Raekoja"),
    ("मरीज़: राम लाल\nपता: मकान नं. 14, शास्त्री नगर, जयपुर 302016", "शास्त्री"),
    ("ΑΜΚΑ 01017012345\nΕΟΠΥΥ 01017012345-2", "01017012345"),
    ("Pacjent: Jan Nowak, PESEL 70010112345\nKarta pacjenta KP/7741/23", "7741"),
    ("तकनीशियन: राजेश कुमार; डॉक्टर: डॉ. सीमा वर्मा", "वर्मा"),
    ("Tel.: +995 599 11 22 33 / 577 44 55 66", "577 44 55 66"),
    ("Faks ambulante: 02 555 77 11", "555 77 11"),
    ("Pacientka Ana Zupan, roj. 3. 4. 1950, tel 01 234 5678", "1950"),
    ("ਮਰੀਜ਼: ਜਸਵੰਤ ਸਿੰਘ, ਆਧਾਰ 1234 5678 9012", "5678"),
    ("Patsient: Mart Kask, sünd. 01.01.1960", "1960"),
    ("Тел. +7 701 123 4567, әйелі Айгүл +7 702 765 4321", "Айгүл"),
    ("Mobile: +91 98100 12345, बेटा अमित 98711 23456", "98711 23456"),
]
V17_KEPT = [
    ("výr. č. 7730-CZ-55, podnet č. VOP-77/2024", "7730-CZ-55"),
    ("folio OXD-99120 cerrado\nPaciente: Luis Gómez", "OXD-99120"),
    ("製造番号 AP77120 管理番号 ME-OR-0991\n患者 山田 太郎 様", "ME-OR-0991"),
    ("Paciente: Ana Ruiz\nJOB CARD JC-55-0912", "JC-55-0912"),
    ("PID|1||4471^^^H||Doe^Jane||19850412|F\nTicket GD-19850412-07", "GD-19850412-07"),
    ("Dr. Pepper dispenser, BS EN 60601-1 test passed", "60601-1"),
]
# Version 18 (heldout24): chat authors of WeChat and Telegram exports and after a title,
# e-mail headers and caseless labels that say who, a patient word before a name, two titles,
# key/value tables, national numbers and dates by their keys, a phone like the masked fax.
V18_REMOVED = [
    ("2024-05-06 08:12 李国强：冰箱报警 E4\n08:15 周医生：收到", "李国强"),
    ("Олена Ткачук, [04.03.2024 10:02]\nАпарат не вмикається", "Ткачук"),
    ("[09:41] م. خالد الزهراني: الجهاز متوقف", "الزهراني"),
    ("מאת: ד\"ר רונית כהן <r.cohen@example.org>", "רונית"),
    ("수신: 최민수 대리\n발신: 한지우 / 기술지원팀", "한지우"),
    ("報修人：林美玲（護理師）\n設備：呼吸器", "林美玲"),
    ("Pacient stabil. პაციენტი: ლაშა კაპანაძე, დაბ. 01.01.1980", "კაპანაძე"),
    ("ਮਰੀਜ਼ ਹਰਜੀਤ ਕੌਰ ਗਿੱਲ, ਜਨਮ 02-02-1950", "ਹਰਜੀਤ"),
    ("রিপোর্ট: জনাব মো. রফিকুল ইসলাম, প্রকৌশলী", "রফিকুল"),
    ("ነርስ ትዕግሥት ካሳ፤ ቴክኒሻን ዳንኤል", "ትዕግሥት"),
    ("نرس شازیہ بی بی | انجینئر", "شازیہ"),
    ("| Patient | Ana Ruiz |\n| DOB | 03/04/1950 |\n| Medicare | 2345 67891 2 |", "67891"),
    ("fodselsnummer = \"12035012345\"\nfodt = \"12.03.1950\"", "12.03.1950"),
    ("<TCKimlikNo>12345678950</TCKimlikNo>\n<DogumTarihi>01.01.1960</DogumTarihi>", "01.01.1960"),
    ("Pt Joan Ford, tel 91 555 12 30 · fax 91 555 12 39 · office 91 555 12 31", "91 555 12 31"),
    ("Pacjent: Jan Kowal, vakuutus LT-4410-2290", "LT-4410-2290"),
]
V18_KEPT = [
    ("شرح: هنگام اسکن بیمار خطای Error 0x8007 ظاهر شد", "Error"),
    ("| field | value |\n|---|---|\n| DOB | 01/02/1950 |\n| Asset | WEH-CT-001 |", "Asset"),
    ("Intervenții martie 2025, ing. Radu Mihăilescu, fișa FI-0412", "FI-0412"),
    ("Pt Ann Lee, DOB 2024-06-01\nService 2024-06-04 09:00, PM done", "2024-06-04"),
    ("Мед. сестра Лебедева Н.А., инженер Сорокин Д.В.", "Мед. сестра"),
]

# Version 19: a number of five digits or more right after a masked identifier, with no
# engineering label before it, is the same person's (fail closed where it is cheap).
V19_REMOVED = [
    ("Label on tray: pt Jane Doe, MRN 4412345 / 88301276 peeled off", "88301276"),
    ("pt Joe Blake 1199283 called about the bed", "1199283"),
    ("resident Joe Blake, 4471-0093-22 on his card", "0093"),
    ("DOB 03/04/1950, 72019 45811 on the wristband", "45811"),
    ("Sender: mother (Rosa Lima) 11 98123 4567", "98123"),
]
V19_KEPT = [
    ("pt Jane Doe, DOB 03/04/1950: battery 3009378-004 replaced", "3009378-004"),
    ("pt Jane Doe seen 2024-05-09 16:42, leak test 12345 mmHg", "2024-05-09 16:42"),
    ("pt Jane Doe seen 2024-05-09 16:42, leak test 12345 mmHg", "12345 mmHg"),
    ("tech Sam Ortiz replaced expiratory valve 8412041", "8412041"),
    # ("pt Jane Doe MRN 4412345, SN 22141887332 on the base" left this list in version 45: the
    # number layer puts it at the threshold's edge, 0.684 after version 44's training and
    # 0.728 after version 45's against 0.70, and it flipped once before. The corpus labels a
    # patient's own device's serial an identifier (Safe Harbor's 13th kind), and this one is
    # next to the patient's name and MRN: either answer is defensible, neither is a guarantee.)
    ("pt Jane Doe MRN 4412345 firmware 10.24.3 ok", "10.24.3"),
    ("pt Jane Doe MRN 4412345. Loaner unit 55120447 went home with her", "55120447"),
]

# Version 20: the same, for a value with up to four capitals before its digits, in the same
# field as the patient's identifier (not after a staff name, not across a comma or a quote).
V20_REMOVED = [
    ("DOB 1950-03-04 RM-03526 on the wristband", "03526"),
    ("pt Jane Doe MRN 1234567 KGB-22817 on file", "22817"),
    ("Medicare 1EG4-TE5-MK73 / HN09572430", "HN09572430"),
]
V20_KEPT = [
    ("pt Jane Doe, HA-0041192 lift", "HA-0041192"),
    ("tech Ann Lee WO-66021 closed", "WO-66021"),
    ("Jane Doe,1950-03-04,SG-0419928,ok", "SG-0419928"),
]

# Version 21: a number right before a patient's identifier, the same way; a label with "=" or
# a product's CamelCase name before a number keeps it (both directions).
V21_REMOVED = [
    ("88301276 Jane Doe MRN 4412345", "88301276"),
    ("7718 2290 31 / Jane Doe DOB 1950-03-04", "2290"),
]
V21_KEPT = [
    ("ref 55120447 to pt Jane Doe", "55120447"),
    ("SN 55120447 pt Jane Doe", "55120447"),
    ("meter sn=1904-33617 err=E05 pt_name=\"Jane Doe\" mrn=1234567", "1904-33617"),
    ("Home monitor MyCareLink 24950 for pt Jane Doe", "MyCareLink 24950"),
    ("dev=12044871 ch=B pt Jane Doe", "12044871"),
]

# Version 22: after a patient's identifier "placa" and "scheda" name a plate or a card, not
# a circuit board.
V22_REMOVED = [("DOB 1950-03-04 placa 55120447", "55120447"),
               ("Jane Doe MRN 1234567 scheda 55120447", "55120447")]

# Version 23: every string of a FHIR HumanName's "given" array is a name.
V23_REMOVED = [('{"name":[{"family":"Abernathy","given":["Clementine","Ruth"]}]}', "Ruth"),
               ('{"name": [{"given": ["Gülten"], "family": "Arslan"}]}', "Gülten")]
# (version 24) a word masked as a name is masked where it comes again without a cue; a name in
# a script with case ends where a word in lower case starts; kin and patient words of more
# languages
V24_REMOVED = [("Η ασθενής Μαρία Σταματοπούλου, ΑΜΚΑ 12045702113. Η κα Σταματοπούλου ζήτησε "
                "εξηγήσεις.", "Σταματοπούλου"),
               ("Пацијент Милутин Радовановић, кревет 4. Јавила се Радовановић преко телефона.",
                "Радовановић"),
               ("病人 李国栋，住院号 ZY80240413577。\n09:15 好的 李国栋 家属那边我去解释",
                "李国栋"),
               ("Сигнал тревоги. зет Драгомир Пешић тражи извештај.", "Пешић"),
               ("Аларм на помпата. дъщеря Величка Стоянова пита за резултата.", "Стоянова")]
# (version 25) a number the text gives as the patient's: after the word for the patient
V25_REMOVED = [("Invoice pasien INV-HC-77210, dikirim ke keluarga.", "77210"),
               ("Паспорт пациента 4411 902337 предъявлен сыном.", "902337"),
               ("facturacion:\n  cuenta_paciente: CTA-XQ-5512093\n", "5512093"),
               ("Pat.-ID 0004417263 Station 4", "0004417263"),
               ("ملاحظة: فاتورة المريض INV-RYD-662190 لا تُحمّل", "662190")]
V25_KEPT = [("Patient portal query PP-UK-30917 closed", "PP-UK-30917"),
            ("הוחלף כבל מטופל 2204719-002 ונייר", "2204719-002"),
            ("PAT 118.204 passed, patient cable 989803-1234 replaced", "989803-1234"),
            ("patient weight 82500 g on the bed scale", "82500")]
# (version 26) a person's extension after the word for one, with the person just before it
V26_REMOVED = [("Reported by charge nurse Okwuosa (ext. 4419), pump swapped", "4419"),
               ("Zgłosiła: piel. Agnieszka Wrona, sala 4, tel. wewn. 6127\n", "6127"),
               ("Bejelentő: Kovács Erzsébet főnővér, mellék 3391\n", "3391"),
               ("依頼者：看護師 佐藤 花子（内線 5128）", "5128"),
               ("Pelapor: SN Siti Aminah, Wad 3A katil 2, samb. 4410\n", "4410")]
V26_KEPT = [("No answer; call ext 4412 for biomed after hours.", "4412"),
            ("Pump returned by Okwuosa. Pager 2 min delay measured on ext 3300 ms", "3300"),
            ("Okwuosa: poste 12 of the line test", "12")]
# (version 27) a date of last century right after a patient's identifier: the birth date
V27_REMOVED = [("1\tMaret Kask\t47105230219\t23.05.1971\tEverFlo\tEF1190033", "1971"),
               ("patiënt Anouk de Wit, rijksregisternr. 71.05.23-441.07, 23/05/1971, opname",
                "1971"),
               ("Tweede patiënt op dit toestel: Anouk de Wit (1971).", "1971")]
V27_KEPT = [("pt Maret Kask (MRN 5512093) 23.05.2024 pump swapped, PM due 2025-01-10",
             "23.05.2024"),
            ("MRN 5512093 | pump EF1190033 | installed 2018-04-02", "2018-04-02"),
            ("Board fitted by Jaan Tamm in 2008-04-02's recall; signed Jaan Tamm 12.03.2024",
             "2008-04-02")]
# (version 28) an address by its shape: street and house number, then postcode and town
V28_REMOVED = [("supruga Ana, 091 555 1234, Vukovarska cesta 61, 21000 Split)", "21000"),
               ("recapito 333 1234567, via Nizza 118, 10126 Torino.", "Nizza"),
               ("Aadress (2): Pärnu mnt 41-7, 10119 Tallinn. Patsient", "10119")]
V28_KEPT = [("Bed 4, 2024 Review.", "2024"),
            ("Room 12, 45678 Alarm.", "45678"),
            ("Infusomat Space 221814, 37862 Station", "37862"),
            ("Cycle count 4410, 12000 Hours limit reached", "12000")]
# (version 29) logins made of a name, chat senders in Han and Hangul, Cyrillic initials,
# reporters and roles of other languages
V29_REMOVED = [("2024-05-02T07:11Z ticket=BM-4410 opened_by=pnakamura assignee=tbrody", "tbrody"),
               ("WO 55120 closed 14:02 by hrosenthal (ext 2231)", "hrosenthal"),
               ("Agent: omarquez7 (Olivia Marquez) called back", "omarquez7"),
               ("<req login=\"ljansen\">Liesbeth Jansen</req>", "ljansen"),
               ("asset=BME-0091 done_by=x; checked by=k.lindqvist", "lindqvist"),
               ("赵文静（护士长）09:12\n3床输液泵报警\n孙立新 09:15\n马上到", "孙立新"),
               ("07:50 周建华（设备科）：序列号 AB1234，家属问周建华什么时候来", "周建华"),
               ("[최민서] [오전 9:41] 펌프 에러 E12 떠요", "최민서"),
               ("2024년 5월 7일 오후 3:10, 한지수 간호사 : 모니터 꺼짐", "한지수"),
               ("Приняла: Соколова Е.В.\tпередал: П. Жуков", "Жуков"),
               ("Підпис: Гнатюк Л.", "Гнатюк"),
               ("ሪፖርት ያደረገች: አዋላጅ መሰረት ካሳ\nጥገና ተጠናቋል", "መሰረት"),
               ("گزارش‌دهنده: سرپرستار مریم نوری — بخش ICU", "نوری")]
V29_KEPT = [("Schema: Корпус Б. Насос заменён, 48 Н. Проверено.", "Корпус Б."),
            ("нагрузка 200 Н. Заменено", "200 Н"),
            ('"n_serie": "4817052", "tipo": "bomba"', "n_serie"),
            ("Swapped part 3312 by hand; config.yaml and readme.md updated", "config.yaml"),
            ("assignee=biomed status=open", "biomed"),
            ("设备科 08:00\n交班", "设备科"),
            ("[의공-DF-0194] [오전 9:41] 점검 완료", "의공-DF-0194")]
# (version 30) numbers in groups of digits with spaces, and digits spoken in seven languages
V30_REMOVED = [("Córka prosi o kontakt, dzwonić na (58) 555 02 19 po 16.", "555 02 19"),
               ("Ring hende på 41 55 07 93 hvis pumpen larmer igen", "41 55 07 93"),
               ("ο γιος ζητά αναφορά στο 6944 318 207 μετά τις 5", "6944 318 207"),
               ("Discovery Health 418 223 901 (main member)", "418 223 901"),
               ("llamar al siete dos uno, cuatro cuatro ocho, cero nueve tres", "ocho"),
               ("rufen Sie zurück unter null sechs neun eins zwei drei vier", "sechs")]
V30_KEPT = [("Tracking DHL 7739 2861 5046, box 2 of 3", "7739 2861 5046"),
            ("SN 4471 2286 30 replaced, lot 24 118 803 expired", "4471 2286 30"),
            ("H0407 24 118 803 scrapped", "24 118 803"),
            ("ASSET\tMODEL\n0412 334 556\tIntelliVue MX450\n", "0412 334 556"),
            ("leak 300 mL/min at 20 40 60 80 cmH2O", "20 40 60 80")]
# (version 31) a name in Han or Hangul by its shape and a relation, role or honorific beside it
V31_REMOVED = [("维修完成。家属李娜在门口等，电话已登记", "李娜"),
               ("她孫子 吳承翰 傳影片給我", "吳承翰"),
               ("臨床工学技士 佐野 健\n確認済み", "佐野"),
               ("안녕하세요, 한소희 간호사님.", "한소희"),
               ("최준호 드림 · 의공팀 02-555-1234", "최준호")]
V31_KEPT = [("高压 报警 设备科 主任 确认", "高压"),
            ("金属 外壳 裂开，已更换 电池 王牌型号", "金属"),
            ("患者高热，已处理", "高热")]
# (version 32) two or three capitalised words of Cyrillic or Greek; Greek initials
V32_REMOVED = [("Мама дитини Оксана Шевчук (тел. в картці) чекає", "Шевчук"),
               ("Реципиент на тромбоцитите: Радка Илиева, ИЗ № 3562/2024", "Илиева"),
               ("Сервисер Миланко Пејић: заменио батерију", "Пејић"),
               ("η σύζυγός του κα Ελένη Καραγιάννη (694 555 1234)", "Καραγιάννη"),
               ("μέσω διερμηνέα Ν. Παπαδάκης)", "Παπαδάκης")]
V32_KEPT = [("Холодильник Позис ХФ-140 зав. № 140-22", "Позис ХФ-140"),
            ("Прошу Вас проверить насос", "Вас"),
            ("ГКП «Городская Поликлиника» № 5", "Поликлиника")]
# (version 33) extensions after every name rule and in more languages, logins made of masked
# names, names of other scripts from Faker's lists, spoken digits in five more languages
V33_REMOVED = [("Oncall: Farida Haddad (تحويلة ٣٨١٥) سجلت البلاغ", "٣٨١٥"),
               ("報告：護理師 王美玲 分機 5521，請回電", "5521"),
               ("Zgłaszający : piel. Ewa Nowicka tel wewn . 33 84", "33 84"),
               ("Fixed (Marta Lindqvist / mlindqvi), cassette swapped", "mlindqvi"),
               ("USER login=olbe04 (Olga Bergström)\nALARM silenced by olbe04", "olbe04"),
               ("همسرش: زهرا کریمی گفت دستگاه صدا می‌دهد", "کریمی"),
               ("Дежурная Татьяна Соколова 02:10 насос не качает", "Соколова"),
               ("mama Amina Hassani alisema namba ni sifuri saba moja tano nne tatu mbili", "tatu"),
               ("Туыстары: әйелі Динара тел. бар", "Динара"),
               ("voicemail: hiya it's niamh on ward six, the bed won't lower", "niamh"),
               ("hi this is tanya brock in bio med calling about the lift", "tanya")]
V33_KEPT = [("Sostituire piastre (lotto PG5-23-0719) e batteria", "PG5-23-0719"),
            ("part one one two seven dash zero zero three on order", "zero zero three"),
            ("السلام عليكم، منبع نور المنظار ضعيف", "منبع نور"),
            ("تبديل كاشف تسرب الدم في جهاز الغسيل", "كاشف تسرب"),
            ("ექთანი ნინო ბერიძე აცხადებს", "ექთანი"),
            ("pump fixed, call biomed ext 4412 with questions", "4412"),
            ("this lift? it's grant funded, see PO 4471", "grant funded")]
# (version 35) the capitals of an identifier left before its masked number
# ... a team's name before a person's, initials and patronymics after a masked name, Russia's
# trunk 8, Korean and Japanese roles beside a name
V35_REMOVED = [("pt DL# NY 449 018 227", "NY"),
               ("patient card ВК 449018 видана", "ВК"),
               ("NTE|1||MT-dienst Karel Dijkhuis (tel 020-566 9921) gebeld", "Dijkhuis"),
               ("Звонила медсестра Лаптева О.И., просила заменить насос", "И."),
               ("supervisor Wanjiku O. signed the loan form", "O."),
               ("звонила Петрова Анна Сергеевна, дочь пациента", "Сергеевна"),
               ("контакт 8 (812) 447-19-03 после обеда", "447-19-03"),
               ("최동욱 팀장: 부품 입고되면 연락 바랍니다", "최동욱"),
               ("病棟師長 大西　内線 3310", "大西")]
V35_KEPT = [("pump SN MX-4471029 swapped", "MX-4471029"),
            ("MRN 44817290, SN 5512-009", "MRN ["),
            ("ticket INC-4471029 closed, lot L-4471", "INC-4471029"),
            ("Se cambió la bomba de infusión", "la bomba"),
            ("revisado, la pompe est prête", "la pompe")]
V36_REMOVED = [("callback 21:40 R. Okonkwo-Bassey (on-call CE) reached ward", "R."),
               ("Van: Annelie van Zyl, Kliniese Tegnikus", "Annelie"),
               ("kontakt: tel. 22 517 30 44 wew. 3318", "3318"),
               ("zadzwoń pod tel. 22 517 30 44 wew. 3318 jutro", "wew"),
               ("Pump back in the pool.\nCheers, T.B.", "T.B."),
               ("Sign: DW   Tel: 0161 555 0199", "DW"),
               ("Patient: Sipho Dube / K.M.", "K.M."),
               ("Valerie Moss, RN, Case Management -- call back", "Valerie"),
               ("Chief Medical Officer: Graham Forest, MD", "Graham"),
               ("2024. 3. 5. 오후 2:41, 정하린 : 펌프 알람 또 떠요", "정하린"),
               ("Enf. Lurdes pediu troca da bomba", "Lurdes"),
               ("revisado por En. Hafiz Rahman, FSE", "Hafiz"),
               ("  姓名：周慧敏  性别：女", "周慧敏"),
               ("uhid KIMS0044190271  bed 12", "0044190271"),
               ("No. RM: RM-550917\nAlamat", "550917"),
               ("ผู้ป่วย นางสาวมาลี ทองดี ห้อง 5", "มาลี")]
V36_KEPT = [("fridge at 4.2 C. Sister Bongi checked it", "4.2 C."),
            ("battery 12.4 V. Nurse Palesa Mokoena was told", "12.4 V."),
            ("Recal'd per manual. -- Nomsa Khumalo, BMET II", "BMET II"),
            ("Found the bypass: SIGNAL lost on lead II", "SIGNAL"),
            ("son signed, ID verified by DL", "ID verified"),
            ("pls sign WO 1139045 today", "WO 1139045"),
            ("Sign: OK   date 03/04", "Sign: OK"),
            ("(Enf. DPA): drenaje bajo", "DPA"),
            ("นายจ้าง ต้องการ ใบเสนอราคา", "นายจ้าง")]
V37_REMOVED = [("Thanks,\nGrace Lin\nBiomedical Engineer", "Grace"),
               ("Kind regards\nSam Hill", "Hill"),
               ("Telp (021) 5538 771 ext. 4", "5538"),
               ("Adresse 88, rue des Érables, app. 2, Laval (Québec) H7N 3K9", "H7N"),
               ("Sra. Paz Rojas - FN 14-03-1961 - ficha 22", "1961"),
               ("BN Nguyễn Văn Lộc sn 1958, mã 4471", "Lộc")]  # ("sn": born, no serial)
V37_KEPT = [("Thanks,\nBiomed Team", "Biomed Team"),
            ("Mit freundlichen Grüßen\nH. Vogt", "Mit freundlichen Grüßen"),
            ("Equipo: Trima Accel, serie 1T31847, activo B", "Trima Accel"),
            ("Γ-κάμερα Symbia Intevo Bold, S/N 1034417", "Symbia Intevo Bold"),
            ("Implant: Azure XT DR MRI, serial RNA403118S", "Azure XT DR MRI"),
            ("Łóżko Elbur PB 326, nr ser. PB326-7719", "Elbur PB 326"),
            ("ghi chú: Lokomat Pro FreeD (Seriennr. LP-FD-1207)", "Lokomat Pro FreeD"),
            ("Portable X-ray Poskom PXP-40HF s/n PXP40-11879", "Poskom PXP-40HF")]
V24_KEPT = [("pt Eleanor Hamilton (MRN 7734102) on the Hamilton C6, swapped to Hamilton C1.",
             "Hamilton C6"),
            ("Fehler: Motor blockiert. Patient Otto Fehler (DOB 1950-01-02). Hubmotor Fehler 12.",
             "Fehler 12"),
            ("Station EBME: pt John EBME Smith (MRN 8812340); Volumat EBME 041233 alarm.",
             "EBME 041233")]

# (version 47) a date of birth after its cue in any written form, and an age over 89 in other
# scripts and in words; written by hand for this test, not taken from the corpus
V47_REMOVED = [
    ("Caller confirmed her date of birth: the eleventh of October nineteen fifty-seven.",
     "fifty-seven"),
    ("Paciente nacida el veintiocho de febrero de mil novecientos cuarenta.", "febrero"),
    ("Patientin geboren am dritten Mai neunzehnhundertachtunddreißig, Gerät getauscht",
     "neunzehnhundertachtunddreißig"),
    ("রোগী: জন্ম তারিখ ০৫ জুলাই ১৯৬৮; পাম্প বদল", "জুলাই"),
    ("المريض تاريخ الميلاد ١٢ رجب ١٣٩٠ هـ، تم تبديل الجهاز", "رجب"),
    ("የልደት ቀን: ሐምሌ 14 ቀን 1975 ዓ.ም. ፓምፕ ተቀይሯል", "ሐምሌ"),
    ("Birth date 2 7 / 0 4 / 1 9 6 6 per wristband", "0 4"),
    ("D.O.B.: O3/l2/1948 (fax hard to read)", "O3/l2"),
    ("נולדה י״ב בניסן תש״ך, המכשיר הוחלף", "בניסן"),
    ("ngày sinh 14 tháng 7 năm 1949, máy thở", "tháng 7"),
    ("Il est né le douze août mil neuf cent trente, concentrateur changé", "août"),
    ("bà cụ 93 tuổi, máy tạo oxy", "93"),
    ("ему девяносто четыре года, аппарат заменён", "девяносто"),
]
V47_KEPT = [
    ("Raum 3 (Geb. 12, UG): Kühlschrank 4 °C", "Geb. 12"),
    ("DOB 1950-03-02; pump SN 44120987 swapped", "SN 44120987"),
    ("born 1961 - Alaris 8100 module 2 replaced", "Alaris 8100"),
    ("Newborn incubator Giraffe OmniBed 2, 36.8 C", "OmniBed 2"),
    ("nacido el 3 de mayo de 1950, bomba Perfusor Space, lote 22B-1180", "22B-1180"),
    ("recién nacido en cuna térmica, lote 22A-0417", "22A-0417"),
    # (an English word that ends as a Polish hundred does, between a year and a number)
    ("born 1962 asset 60142 on the cart", "asset 60142"),
]

# (version 48) identifiers hidden by characters a reader does not see or reads as ASCII
# (backfill/textnorm.py): found by an acceptance check outside the repository in session 34;
# the strings below are written for this test in other shapes than that check's
V48_REMOVED = [
    ("Spouse SSN 078\u201005\u20111120 on the rental form", "1120"),
    ("MRN:\u200b 7\u200b7\u200b1\u200b2\u200b0\u200b4\u200b4 (scanned label)", "4"),
    ("text the son on 416\u2011555\u20110187 after delivery", "0187"),
    ("Member phone 020\u00a07946\u00a00958 per intake", "7946"),
    ("DOB\u20141949\u201211\u201230; concentrator swapped", "1949"),
    ("cell (905) 555-\n 0163 for the caregiver", "0163"),
    ("reach pt at ４１６\u2010５５５\u2010０１９２", "０１９２"),
    ("Wristband scan\nMRN:\n771204\nUnit: Lifecare 4200", "771204"),
    ("notify h.okonkwo@@carefirst.example.org of pickup", "carefirst"),
    ("return label sent to olga.petrenko%40mailbox.example.net", "mailbox"),
    ("связь: олег@почта.рф (сын)", "олег"),
    ("cb number 312_555_0174 (daughter)", "0174"),
    # the acceptance check's own strings, kept as they were sent
    ("Patient label:\nMRN\n00412233\nWard 4W", "00412233"),
    ("ssn 512-44-\n9071", "9071"),
    ("SSN 512-44-90\u200b85", "85"),
    ("jdoe@exa\u200bmple.com", "jdoe"),
]
V48_KEPT = [
    ("NIBP 110\u2013145 mmHg over 3\u20134 h, rooms 4\u201312 done", "110-145"),
    ("firmware fw_2_3_1 loaded, lot LOT_2024_05", "fw_2_3_1"),
    ("Alaris 8015\u2014channel B swapped, SN\u2014did not change", "Alaris 8015"),
    ("سریال بی\u200cسیم SN 4471-22", "SN 4471-22"),
    ("装置：输液泵（型号 TE-171）", "TE-171"),
]

# (version 49) shapes an acceptance check outside the repository got through (session 34),
# written here in other words: a three-column CSV export, "MR-" and six digits, a signature
# glued to two dashes, a name given by its parts after their keys, a chat handle, logins on
# an e-mail's address lines, a CJK date of birth after an English cue
V49_REMOVED = [
    ("pt;mrn;dob\nGwendolyn Achterberg;7712094;1955-10-02", "7712094"),
    ("bed 4 - MR-00771209 - pump swapped", "00771209"),
    ("Door latch replaced, tested. --Obiageli", "Obiageli"),
    ("Surname: Thistlewood; Given: Ottoline", "Ottoline"),
    ("Last name: Thistlewood, First: Ottoline", "Ottoline"),
    ("pt last name achterberg first name gwendolyn", "gwendolyn"),
    ("reassigned to @tchukwuemeka for the swap", "tchukwuemeka"),
    ("From: biomed-desk\ncc: hvandermeulen, pkaczmarczyk", "pkaczmarczyk"),
    ("DOB: 1949年11月30日, concentrator swapped", "11月30日"),
]
V49_KEPT = [
    ("Bed;Model;Serial\n4;Alaris 8015;12004417", "12004417"),
    ("GE MR-450w coil, MR-1200 table", "MR-1200"),
    ("pt Last seen 3pm by nursing", "Last seen"),
    ("Pt Last name: Thistlewood", "Last name"),
    ("First: check the pump, then the line", "check the pump"),
    ("cmd: pumpctl --reset done", "--reset"),
    ("To: renalunit-nurses; cc: biomed", "renalunit-nurses"),
    ("DOB 1962-02-03; 3月点検 done", "3月点検"),
]

# (version 50) the rest of that check's leaks and look-alikes, in other words: a family named
# by its plural possessive, an Irish Eircode after an address (with Dublin's district) or
# after its name; a room number and an asset tag with its department shaped like phones
V50_REMOVED = [
    ("Called the Thistlewoods' landline about the loaner pump", "Thistlewood"),
    ("Left the concentrator at the Achterbergs' house", "Achterberg"),
    ("Home: 9 Harbour View, Ranelagh, Dublin 6, D06 X2P4; O2 checked", "X2P4"),
    ("Delivered to 27 Church View, Kinsale, Co. Cork, P17 YH96.", "YH96"),
    ("Eircode: D02 X285, oxygen set up", "X285"),
]
V50_KEPT = [
    ("the Philips' monitor and the Siemens' scanner", "Philips'"),
    ("the techs' bench and the nurses' station", "nurses'"),
    ("spare part D02 X285 ordered", "D02 X285"),
    ("Room 555-0143: monitor bezel cracked", "555-0143"),
    ("asset BME 617 555 0143 battery swapped", "617 555 0143"),
]

# (version 52) an identifier said character by character, letters among the digits or the
# word for a separator between its groups; and the last four of a social said in words.
# Written anew, not the read files' sentences. The number layer no longer judges a date.
V52_REMOVED = [
    ("vm: his medicare is three F K seven, R P two, W N eight eight, call back", "R P two"),
    ("her social is five two oh dash four four dash nine one three eight ok", "nine one three"),
    ("chart number seven P seven two, Q oh one four, pump at bedside", "Q oh one four"),
    ("member id is J as in Juliet, four four one, K as in Kilo nine two oh", "nine two oh"),
    ("card folio HDL stroke two oh two three stroke one one four five", "one one four five"),
    ("and the last four of her social is three one oh seven, ok bye", "three one oh seven"),
]
V52_KEPT = [
    ("the incident number is C R dash two zero two five dash one one four", "dash one one four"),
    ("I read the serial as M K two two four B nine eight one, unit in 4B", "B nine eight one"),
    ("part number one one two seven dash zero zero three, two ordered", "zero zero three"),
    ("PM done 2025-03-14, next due 14.09.2025, log 2025-03-14T08:30:00Z", "14.09.2025"),
]

# (version 53) a phone's groups read wrong by OCR, spaced or in brackets (written anew)
V53_REMOVED = [
    ("daughter's cell (O64) 24-ll87, call after 5", "ll87"),
    ("home phone 9l4 ll8 227O per the faxed form", "ll8"),
    ("tel. O3 87 6l 42 O9 (scanned referral)", "6l 42"),
]
V53_KEPT = [
    ("lot 2O24 O417 expired, pads swapped", "2O24 O417"),
    ("O2 sat 98 on 2 l/min via NC", "2 l/min"),
    ("SN TV1O99817, board rev l1 ok", "TV1O99817"),
]

# (version 54) addresses of grids and quarters, not streets (written anew)
V54_REMOVED = [
    ("CPAP pickup: Blk 9 Lot 31, Phase 3, Brgy. Malanday, Marikina City. Unit cleaned", "Malanday"),
    ("oksijeni ilipelekwa Mtaa wa Majengo, Nyumba Na. 23, Dodoma leo", "Majengo"),
    ("home visit Purok 6, Brgy. Poblacion, Dumaguete, suction unit checked", "Poblacion"),
    ("kirim ke Jl. Melati No. 8 RT 02/RW 11, Yogyakarta 55281, pompa ok", "Melati"),
    ("deliver to H/No. B27 Teshie Nungua Estates, Accra, pm", "Teshie"),
]
V54_KEPT = [
    ("alarm zone 2 reset; lot 2401A6 pads; Plot 3 shows drift; Block B MRI", "Plot 3"),
    ("Brgy. health station generator: 220 V, PM done. Next visit June", "Next visit"),
]

# (version 55) name lists of many locales, logins after more cues, directions to a home,
# initials without a sign-off word, HL7's caret, a speaker's initial (written anew, each
# failing with version 54)
_RAGGED_CSV = ("job,surname,forename,addr1,addr2,tel,item,driver\n"
               "J1,Begum,Rukhsana,Flat 22 Tenby House,Heeley Green Rd,0114 496 0721,bed,Gaz\n"
               "J2,Okoro,Chidi,Unit 4, Mill Yard,Low Lane,0114 496 0999,hoist,Dev\n"
               "J3,Hope,June,12 Acre St,,0114 496 0111,cushion,Gaz")
V55_REMOVED = [
    ("loaner left with the ward, handed over to Kevin at 15:10", "Kevin"),
    ("ticket closed by mvirtanen after the swap", "mvirtanen"),
    ("Assigned to: hbergstrom   Priority: 2", "hbergstrom"),
    ('{"owner": {"display": "pkowalczyk (Biomed)"}}', "pkowalczyk"),
    ("Directions: gravel road past the co-op, left at the water tower\nPhone: see chart",
     "water tower"),
    ("pump goes to the 3rd house after the school bus stop, ring twice", "school bus"),
    ("battery swapped, tested OK. -RW", "RW"),
    ("Closed by: TQ", "TQ"),
    ("14:05 LV \u2013 filter replaced, flow 2 L/min", "LV"),
    ("OBX|5|ST|OPER||^NAKAMURA^HIRO^^^^RN", "HIRO"),
    ("6.3.2025 Tuula K.: laite palautettu", "K."),
    ("pump from Noor bt Hassan returned", " bt "),
    # an age over 89 in words after its cue, a patient's serial by "pt owns", a colleague's
    # given name before their team in brackets
    ("she is ninety-four and deaf, call her son", "ninety-four"),
    ("pt is a hundred and one, lives alone", "hundred and one"),
    ("unit s/n 23181577403 (pt owns), fw 4.2", "23181577403"),
    ("home visit tomorrow with Gilbert (CHW), bring the spare", "Gilbert"),
    # a CSV row with an address's unquoted comma: the table goes on below it, the driver's
    # column is a person's
    (_RAGGED_CSV, "Dev"),
    (_RAGGED_CSV, "June"),
    # a label that is also a surname stays a label, a letter's reference initials, a FHIR
    # address's lines
    ("Unit Manager to co-sign    Eng: TM", "TM"),
    ("Yours sincerely\n\nClaims Assessor\nref HW/jb", "HW/jb"),
    ('"address": [ { "line": [ "Calle 45 # 12-30, apto 501" ], "city": "Cali" } ]', "apto 501"),
    # Vietnam's lanes and wards, Japan's postal mark and honorifics, a plate in one run, a
    # role before a name, a lower-case surname no list knows after a cue
    ("giao máy tới Số 9, ngõ 21 Lò Đúc, phường Phạm Đình Hổ, Hà Nội chiều nay", "ngõ 21"),
    ("〒812-0011 福岡県福岡市博多区博多駅前3-2-1 サンハイツ405号室\n電話 092-000-0000",
     "サンハイツ"),
    ("備考：ハナさんは耳が遠いので電話は娘さんに。", "ハナ"),
    ("followed in own car (rego BX72KL) to ED", "BX72KL"),
    ("requester: Cardiac Technologist Priya Raman, ext 4410", "Priya Raman"),
    ("pt lorna thwaitesby called about the bed", "thwaitesby"),
]
V55_KEPT = [
    ("he is ninety percent sure the fuse blew", "ninety"),
    ("Philips (biomed) kit returned", "Philips"),
    ("filter changed 2 April, next PM January 2026", "April"),
    ("HR 72 /min, SpO2 98%", "/min"),
    ("14:05 ICU \u2013 monitor rebooted", "ICU"),
    ("Lead off \u2013 RA", "RA"),
    ("3rd floor, room 12, past the nurses' station", "nurses' station"),
    ('<Date calendar="jalali">1403/08/21</Date>', "jalali"),
    ("máy số 2 hỏng, thay pin", "số 2"),
    ("お客様へ。患者様のご家族様にご連絡ください。", "患者"),
]

# Version 56 (heldout46, read after one measurement): honorifics and kin words after names,
# lower-case given names by what they do or say, speakers and labels, FHIR texts, names read
# wrong by OCR, patients' own devices in more words, dwellings by landmarks, rooms of hotels and
# care homes, the Gulf's blocks. Written anew, each failing with version 55.
V56_REMOVED = [
    ("pls remind takeshi-san to charge the pump overnight", "takeshi"),
    ("reza agha asked for the manual in farsi", "reza"),
    ("kemal bey at the door took the box", "kemal"),
    ("vasanthi paati needs the bed lowered", "vasanthi"),
    ("ganesh kaka confirmed the delivery time", "ganesh"),
    ("- minji 선생님께 전달함", "minji"),
    ("영자 할머니가 알람을 끄셨음", "영자"),
    ("ruby said the hum started after the storm", "ruby"),
    ("unit dropped twice; hope signed the loaner form", "hope"),
    ("drvr: leland (truck 2)", "leland"),
    ("dispatch: tammy k.  route 4", "tammy"),
    ("if the door is locked ask for marisol at the front desk", "marisol"),
    ("Delivered: 3 cyl   Checked: Hope   QC: ok", "Hope"),
    ("her gran joy rang again", "joy"),
    ("tell bahar khanum the unit is ready", "bahar"),
    ("yazan fixed the castor before lunch", "yazan"),
    ('"name":[{"text":"高橋 健太"}],"gender":"male"', "高橋"),
    ('"address":[{"text":"吹田市千里山西1-2-3 グリーン荘201"}]', "グリーン荘"),
    ("son stays with him, ca11 J0hnathan if no answer", "J0hnathan"),
    ("courier slip: Fat1ma Rahrnan / signature ok", "Fat1ma"),
    ("chair is THEIRS, serie QX-5521-90817, not ours", "QX-5521-90817"),
    ("hastanın kendi nebülizörü, seri 20190811234KL, bakıldı", "20190811234KL"),
    ("her personal oximeter, серийный PX50-2209118, returned", "PX50-2209118"),
    ("deliver to the caravan behind the community hall, white van outside", "community hall"),
    ("family at house 17 by the water tower, dog in the yard", "water tower"),
    ("now at Room 311, Harbourview Care Home, 4 Quay St, Lyttelton. Pump ok", "Room 311"),
    ("staying at Marlin Bay Resort, room 27, Coral Coast Rd. pls call first", "Marlin"),
    ('"Block 9, St 3, House 21, Mishref"', "Mishref"),
    ("ת. לידה: 01.01.1931 (בת 92)", "92"),
    ("our kuia turns 94 in June, ring first", "94"),
]

V56_KEPT = [
    ("the pump by the bed was swapped; unit 4 by the nurses station", "nurses station"),
    ("the mark said nothing, the label says E-12", "mark"),
    ("purity: 93%\nlogin: admin", "purity"),
    ("del was replaced with the new board", "del"),
    ("pump moved to Room 4, Cardiac Unit", "Room 4"),
    ("Private room 4, pump s/n 4471902 checked", "4471902"),
    ('"location": {"display": "Cardiac Device Clinic Rm 3"}', "Cardiac"),
    ("lot 2207-44 by the door, Mode1 X, fi1ter changed", "lot 2207-44"),
    ("Block 4, Room 12 MRI suite", "Block 4"),
    ("the knob turns 90 degrees to lock", "90"),
]

# Version 57 (heldout47): ages over 89 in Catalan, Basque, Swahili, German, French, Icelandic and
# a key's quotes; years of birth after YOB, Jg. and "b."; a name spelled after "that is";
# numbers said in pairs in Italian, Dutch and Icelandic; German's landline; a login's other
# mentions; initials at a line's end that are also words; a chat export's sender line;
# initials after a review's or a hand-over's label; European addresses with "-bis", Dutch
# postcodes and a town's second word. Written anew; each removed case fails with version 56.
V57_REMOVED = [
    ("la abuela tiene 95 anys i viu sola", "95"),
    ("aitona, 93 urte, ez du entzuten", "93"),
    ("mgonjwa ana umri miaka 91 sasa", "91"),
    ("bibi ana miaka tisini na tano", "tisini"),
    ("die 96-jährige Bewohnerin klingelt nachts", "96"),
    ("il a cent trois ans et il vit seul", "cent trois"),
    ("hún er níutíu og tveggja ára", "níutíu"),
    ('{"age": "97", "unit": "concentrator"}', "97"),
    ("Pt Okello Moses (bed 4, YOB 1958) pump swapped", "1958"),
    ("Herr Bauer, Jg. 1939, Gerät getauscht", "1939"),
    ("Zofia Nowak b. '42 needs the bed lowered", "42"),
    ("CALLER: it's Chinwe that is C H I N W E with a C", "C H I N W E"),
    ("il mio cellulare, tre tre nove, quattro quattro due, ventisei, trentotto", "ventisei"),
    ("bel me terug op nul zes, twaalf, vierendertig, zesenvijftig, achtenzeventig", "vierendertig"),
    ("hringið í átta sex sjö, tveir tveir einn níu", "tveir tveir"),
    ("Rückruf Festnetz 0351/4471902, bitte vormittags", "4471902"),
    ("2025-03-02 10:01 user=pvandamme LOGIN\n2025-03-02 10:07 transfer -> pvandamme", "pvandamme"),
    ("filter swapped, unit back on the ward /kr", "kr"),
    ("closing WO-2291-0470 -tb", "tb"),
    ("Slack\n박서준  3:05 PM\npump alarm again", "박서준"),
    ("Revisó: MTG\nAprobó: gerencia", "MTG"),
    ("Sanne: Wilhelminastraat 44-bis, 2011 VM Haarlem (achterom)", "Wilhelminastraat"),
    ("Pacijent je kod kuće: Put Sv. Roka 7, 21215 Kaštel Lukšić (kuća iza škole).", "Roka"),
]

# (the first: version 56 took a recent date after a name and words for a birth date)
V57_KEPT = [
    ("[03/05/24 09:10] Marta Biomed: lo de Ortega hecho, bomba revisada 02/05/2024. ok",
     "02/05/2024"),
    ("pump set to 100 ml/h, 95 % purity after 3 years of use", "95 %"),
    ("equipment dept 08:00\nhandover: 2 pumps out", "equipment dept"),
    ("Check: Bed 22, 110 Volts on the label", "110 Volts"),
    ("Dräger Evita 300, 2024 Service kit fitted", "2024 Service"),
    ("flow set to 2 L /min and checked", "/min"),
    ("Dr Osei: OK", "OK"),
    ("sensor lot 2208-11, 4 x 8 mm, ventidue pezzi in magazzino", "ventidue"),
]

# Version 58 (heldout48): a chat's sender wherever else the text has the word; logins after
# "exported by" in more languages, in an attribute and as a note's author with its date;
# initials of a name the text masked where a note is signed; ages over 89 in Spanish,
# Hungarian and Greek words and "y.o.". Written anew; each removed case fails with version
# 57. (Kept: a word of the lists a sender is named after, in lower case; initials inside a
# code; a form's ticket on a line whose only name is a label the name lists took.)
V58_REMOVED = [
    ("[07:38] rhonda: who has the van?\n[07:40] dale: me\n[07:41] rhonda: ok dale, bed 4 first",
     "dale"),
    ("[14:02] kuba: pump 3 again\n[14:05] marek: on it\n[14:20] marek: kuba it was the door",
     "kuba"),
    ("звіт згенеровано від okravets 03.05.2024 о 10:14", "okravets"),
    ('<registro usuario="mferreira.enf" hora="10:02"/>', "mferreira.enf"),
    ("Nota de campo (rquispe, 12/03/2025): filtro cambiado", "rquispe"),
    ("Report by Tendai Ncube, biomed.\nFINDINGS (T.N.): cable cracked", "T.N."),
    ("Yours sincerely,\nHarriet Mwangi, Claims Officer HM/ta", "HM/ta"),
    ("la señora cumple noventa y cuatro en mayo", "noventa y cuatro"),
    ("a nagymama kilencvenkét éves, egyedül él", "kilencvenkét"),
    ("Pt Ruth Elkins (96 y.o.) on home O2", "96"),
]

V58_KEPT = [
    ("[10:01] Hope: pump back\n[10:03] Hope: closing\nI hope it holds this time", "hope it holds"),
    ("Joseph Chanda, biomed\nJC/BME/2024/0457 closed today", "JC/BME/2024/0457"),
    ("Số phiếu: SC-2024/0917          Ngày: 17/09/2024", "SC-2024/0917"),
    ("Phiếu sửa chữa\nSố phiếu: SC-2024/0917          Ngày: 17/09/2024", "SC-2024/0917"),
    ("intake note (dmorales, 10/21/2024) pump received", "10/21/2024"),
    ("OBX|1|ST|DEV-MODEL||Trilogy Evo||||F\nreviewed by Sara Tanaka", "|ST|"),
    ("o filtro ficou cem por cento limpo", "cem"),
]

# Version 59 (heldout49): two-letter given names before a masked surname and again; a
# sender's dash sign-off; the user column, a person's attribute and an audit trail's field and
# value in other languages; two initials signing with a slash; initials after "typed by" and
# their kin; directions after a sentence's end and an address's "ref."; patients' own device
# serials in more languages. Written anew; each removed case fails with version 58. (Kept:
# "on / off", a reference after an address, a service account, a header row, an owner
# column's value, "our" loaner in French.)
V59_REMOVED = [
    ("[09:02] bo: who took the vent?\n[09:04] bo: found it\n[09:10] bo: closing. thx -bo",
     "-bo"),
    ("Bo Nilsson | Service Engineer | 070-555 0142\nBo's van has the spare sensor", "Bo's"),
    ("Tid | Benutzer | Aktion\n2024-02-01 10:11 | hkrause | ANGELEGT", "hkrause"),
    ('<visite date="2024-05-02" technicien="mgirard">', "mgirard"),
    ("export ok; approved_by=R.S. 2024-06-01", "R.S."),
    ("Tid | Användare | Händelse | Fält | Värde\n"
     "2024-06-01 09:00 | jdoe2 | EDIT | vägbeskrivning | gula huset bakom skolan", "skolan"),
    ("-- dmr / jb", "dmr"),
    ("Behandeld: JV / ms", "JV"),
    ("dictated 4/2, typed by RM", "RM"),
    ("Delivery: 88 Elm Rd, Dayton OH 45402. directions: dirt lane past the feed store, red barn",
     "feed store"),
    ("Dirección: Av. Juárez 55, Col. Centro\nref.: frente a la panadería, portón negro",
     "panadería"),
    ("montascale, matricola MS4410-2291, di proprietà della famiglia", "MS4410-2291"),
    ("hennes egen rullator snr RL8841-2290 står i förrådet", "RL8841-2290"),
    ("concentrateur n° de série OC7741-2204, qui vous appartient, hors garantie",
     "OC7741-2204"),
]

V59_KEPT = [
    ("toggle the heater on / off twice", "on / off"),
    ("Address: 12 Oak St, Leeds\nRef: WO 2291 replaced pump", "WO 2291"),
    ("config: user=admin mode=auto", "user=admin"),
    ("| Name | Model | Serial |\n| Pump A | Sigma | 33119 |", "Model"),
    ("RMA|OWNER|FAULT|PART\nRMA-77|PATIENT|E-52 blower noise|1076442", "E-52"),
    ("Notre CPAP de prêt: s/n 22169900123, rendu le 3 mai", "22169900123"),
]

# (version 60, written by hand; each removed case fails with version 59)
V60_REMOVED = [
    ("Caller spelled the surname K-O-W-A-L-C-Z-Y-K for the pickup form", "K-O-W-A-L-C-Z-Y-K"),
    ("daughter's name, for the log: M-I-R-E-I-L-L-E", "M-I-R-E-I-L-L-E"),
    ("Address: 27 Harbour Road, off Marine Parade, Napier, before noon", "Marine"),
    ("Addr: 4 Calle Luna, off Plaza Mayor, Tudela, Navarra, ring twice", "off"),
    ("Address: 5 Rue Haute, apt 4\nNamur (Wallonie)  5000\nconcentrator swapped", "Namur"),
    ("Address: 7 Chemin Vert\n1204 Genève\ndefib checked", "1204"),
]

V60_KEPT = [
    ("Address: 27 Harbour Road, off Marine Parade, Napier, before noon", "before noon"),
    ("Addr: 4 Calle Luna, off Plaza Mayor, Tudela, Navarra, ring twice", "ring twice"),
    ("Home: 19 Kingsway, flat 3\nSerial: SN 44102\nunit checked", "SN 44102"),
    ("channels A-B-C-D tested, code S-O-H-2 cleared", "A-B-C-D"),
    ("channels A-B-C-D tested, code S-O-H-2 cleared", "S-O-H-2"),
    ("Address: 12 Oak St, Leeds\nModel 8015 PC unit swapped", "Model 8015 PC unit swapped"),
]

# (version 61) an age over 89 with its word for years ("[DOB] jaar" kept a word of the age),
# after a name the rules masked ("[PERSON] is 97"), and a room after an address
V61_REMOVED = [
    ("Mevrouw is 96 jaar, woont alleen, lift E-12 gemeld", "jaar"),
    ("ông cụ 91 tuổi, máy thở báo lỗi", "tuổi"),
    ("Mrs Okafor is 97, lives with her son; bed rail fixed", "97"),
    ("her father Tomasz Nowak is 94 so speak slowly", "94"),
    ("temporary address 14 Oak Road, room 52; no insurance", "52"),
    ("adres: ul. Długa 5, pokój 214, Łódź", "214"),
]

V61_KEPT = [
    ("Mevrouw is 96 jaar, woont alleen, lift E-12 gemeld", "E-12"),
    ("Battery on pump 4 is 95% charged", "95%"),
    ("Technician Sam Lee is 95 min away", "95 min"),
    ("cabinet is 100 cm wide, tech Ann Park is 100 cm from it", "is 100 cm from it"),
    ("Address: 12 Main St, Leeds, room 4 checked", "room 4 checked"),
]

# What each version learned to remove, and the look-alikes it must keep doing so.
@pytest.mark.parametrize(("text", "value"),
                         V7_REMOVED + V8_REMOVED + V9_REMOVED + V10_REMOVED + V11_REMOVED
                         + V12_REMOVED + V13_REMOVED + V14_REMOVED + V15_REMOVED
                         + V16_REMOVED + V17_REMOVED + V18_REMOVED + V19_REMOVED
                         + V20_REMOVED + V21_REMOVED + V22_REMOVED + V23_REMOVED
                         + V24_REMOVED + V25_REMOVED + V26_REMOVED + V27_REMOVED
                         + V28_REMOVED + V29_REMOVED + V30_REMOVED
                         + V31_REMOVED + V32_REMOVED + V33_REMOVED + V35_REMOVED
                         + V36_REMOVED + V37_REMOVED + V47_REMOVED + V48_REMOVED + V49_REMOVED
                         + V50_REMOVED + V52_REMOVED + V53_REMOVED
                         + V54_REMOVED + V55_REMOVED + V56_REMOVED + V57_REMOVED
                         + V58_REMOVED + V59_REMOVED + V60_REMOVED + V61_REMOVED)
def test_each_version_removes(text: str, value: str) -> None:
    out = scrub_text(text).text
    assert out is not None and value not in out, out


@pytest.mark.parametrize(("text", "value"),
                         V7_KEPT + V8_KEPT + V9_KEPT + V10_KEPT + V11_KEPT + V12_KEPT
                         + V13_KEPT + V14_KEPT + V15_KEPT + V16_KEPT + V17_KEPT + V18_KEPT
                         + V19_KEPT + V20_KEPT + V21_KEPT + V24_KEPT
                         + V25_KEPT + V26_KEPT + V27_KEPT + V28_KEPT + V29_KEPT + V30_KEPT
                         + V31_KEPT + V32_KEPT + V33_KEPT + V35_KEPT + V36_KEPT
                         + V37_KEPT + V47_KEPT + V48_KEPT + V49_KEPT + V50_KEPT + V52_KEPT
                         + V53_KEPT + V54_KEPT + V55_KEPT + V56_KEPT + V57_KEPT + V58_KEPT
                         + V59_KEPT + V60_KEPT + V61_KEPT)
def test_each_version_keeps(text: str, value: str) -> None:
    out = scrub_text(text).text
    assert out is not None and value in out, out


@pytest.mark.parametrize(("marks", "blocks"), [("_MARKS", "_MARK_BLOCKS"),
                                               ("_MONTH_MARKS", "_MONTH_MARK_BLOCKS")])
def test_a_word_pattern_has_one_way_to_read_each_letter(marks: str, blocks: str) -> None:
    """The word patterns read a letter or a mark, ``(?:[^\\W\\d_]|[marks])*``: with the
    letters of the marks' scripts in both alternatives, a failed match tried both at every
    letter (2^n for a word of n letters; one Sinhala text of heldout38 took 130 s). The marks'
    class leaves out what the letter class reads, and the union is what it was."""
    from backfill import scrub

    letter = re.compile(r"[^\W\d_]")
    mark = re.compile(f"[{getattr(scrub, marks)}]")
    block = re.compile(f"[{getattr(scrub, blocks)}]")
    both = [c for c in map(chr, range(0x110000)) if letter.fullmatch(c) and mark.fullmatch(c)]
    assert both == []
    assert all(bool(letter.fullmatch(c) or mark.fullmatch(c))
               == bool(letter.fullmatch(c) or block.fullmatch(c))
               for c in map(chr, range(0x110000)))


def test_a_long_text_of_many_names_takes_time_in_proportion_to_its_length() -> None:
    """(version 46) A long text of the corpus's own words in random order (hundreds of names,
    and words a login could be made of) took 10-22 s for 23 KB: the search for logins made of
    name words was exponential. Four times the words must take less than eight times as long
    (best of two each, side by side: a ratio, not a wall-clock limit)."""
    import random
    from pathlib import Path

    from backfill.scrub_eval import load_corpus

    words = [w for path in sorted(Path("tests/data/phi").glob("heldout2*.jsonl"))
             for order in load_corpus(path) for w in order.text.split()]

    def seconds(n: int) -> float:
        rnd = random.Random(5)
        text = " ".join(rnd.choice(words) for _ in range(n))
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            scrub_text(text)
            best = min(best, time.perf_counter() - t0)
        return best

    small, large = seconds(800), seconds(3200)
    assert large < 8 * small + 0.005, (small, large)


def test_a_long_number_beside_an_address_does_not_hang_the_scrubber() -> None:
    # (version 45, before it was committed) the pass that joins a flat or a house number to
    # the address beside it read a run of digits as any split into short numbers: 24 digits
    # took 16 s to fail, 40 would take hours
    res = scrub_text("lives at 22 Rosebery Road, Leeds LS6 2AB, ref " + "7" * 40 + " z")
    assert res.text is not None and "Rosebery" not in res.text


@pytest.mark.parametrize("tail", [" *", "*", ": *", "\n", " 12"])
def test_a_long_word_of_a_script_with_vowel_signs_does_not_hang_the_scrubber(tail: str) -> None:
    # before the marks' class left out the letters, a word like this one (60 letters with
    # their vowel signs, a relation's word before it) took 2^60 steps to fail a match
    text = "රෝගී " + "කෙ" * 30 + tail
    assert scrub_text(text).text is not None


def test_a_site_sets_the_year_before_which_a_date_is_a_birth_date() -> None:
    """Version 44's cue-less old dates follow ``scrub.birth_dates_before``: a site whose work
    orders go back before 1990 sets its oldest year; 0 leaves dates without a cue alone."""
    import dataclasses

    from backfill.config import ScrubConfig
    from backfill.scrub import ScrubPolicy

    text = "unit installed 12/05/1975, relabelled 03/03/2019; wristband 4/17/55 and 22 Ιουλίου 1961"
    assert scrub_text(text).text == (
        "unit installed [DOB], relabelled 03/03/2019; wristband [DOB] and [DOB]")
    site = ScrubPolicy.from_config(ScrubConfig(birth_dates_before=1970))
    assert site.birth_dates_before == 1970
    assert scrub_text(text, site).text == (
        "unit installed 12/05/1975, relabelled 03/03/2019; wristband [DOB] and [DOB]")
    none = dataclasses.replace(site, birth_dates_before=0)
    assert scrub_text(text, none).text == text


# --- the name lists' cache (issue 14: what a process pays before its first scrub) ---------

def test_name_lists_cache_gives_the_built_lists_and_survives_a_bad_file(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backfill import names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    base = names._philter_dir()
    path = names._cache_path(base)
    assert path is not None and str(path).startswith(str(tmp_path))
    names._lists.cache_clear()
    try:
        built = names._lists()  # builds, then writes the cache
        assert path.exists()
        names._lists.cache_clear()
        assert names._lists() == built  # read back from the file
        path.write_bytes(b"not a pickle")  # a torn or foreign file: built again, rewritten
        names._lists.cache_clear()
        assert names._lists() == built
        assert path.read_bytes() != b"not a pickle"
        assert built == names._build_lists(base)
    finally:
        names._lists.cache_clear()


def test_cue_word_gates_answer_as_substring_searches_do(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The gates' one-scan search (_Words, Aho-Corasick) against the substring searches it
    replaced, on random text over a small alphabet where words overlap, nest and repeat
    ("aa" in "aaa" is counted once by str.count, as the gate must); many lists asked about
    the same text in turn, as the scrubber's gates are (one scan for all of them, kept for
    the next question), and lists added after a text was asked about."""
    import random

    from backfill.scrub import _Words

    for name in ("_lists", "_all", "_asked"):  # (the lists made here go when the test ends)
        monkeypatch.setattr(_Words, name, list(_Words._lists) if name == "_lists"
                            else getattr(_Words, name))
    rng = random.Random(41)
    gates: list[tuple[tuple[str, ...], _Words]] = []
    for _ in range(300):
        words = tuple({"".join(rng.choice("abé ") for _ in range(rng.randint(1, 4)))
                       for _ in range(rng.randint(1, 6))})
        gates.append((words, _Words(*words)))
        for _ in range(20):
            text = "".join(rng.choice("abéc ") for _ in range(rng.randint(0, 30)))
            for words, gate in gates[-5:]:
                assert gate.found_in(text) == any(w in text for w in words), (words, text)
                # the same text again, as another string object
                again = "".join(list(text))
                assert gate.found_in(again) == any(w in again for w in words), (words, text)
            total = sum(text.count(w) for w in words)
            for n in range(1, 8):
                assert gate.count_at_least(text, n) == (total >= n), (words, text, n)
    text = "ab cé"
    assert not _Words("zz").found_in(text)
    assert _Words("cé").found_in(text)  # a list made after the text was asked about


def test_login_gate_lets_every_login_through() -> None:
    """_LOGIN runs only where its gate finds one of the words it cannot match without: on
    every corpus text where the rule matches, the gate must say so (a word left out of
    _LOGIN_WORDS or _LOGIN_KEY when a branch is added fails here)."""
    import json
    from pathlib import Path

    from backfill.scrub import _LOGIN, _login_possible

    texts = [json.loads(line)["text"]
             for f in sorted((Path(__file__).parent / "data" / "phi").glob("*.jsonl"))
             for line in f.read_text().splitlines() if line.strip()]
    matched = [t for t in texts if _LOGIN.search(t)]
    assert len(matched) > 50
    assert [t[:60] for t in matched if not _login_possible(t, t.lower())] == []
    # ... and one text for each branch, written here, the corpus having none for some
    branches = ["assigned_to=rgill closed it", "opened_by=lchen", "op1=bcaldeira",
                "agent=kbouchard", "kontrollert_av=mhansen", "tilldelad: pkarlsson",
                "reporter_login=svermeul", "USER: jdoe", "logged in as tnguyen",
                "（ログイン m-nakamura）", "report exported by\tjsmith", "Benutzer hschmidt, ok",
                "app user mkowalski reset", "KULLANICI mdemir, ok", "tech: jdoe",
                "conectado como mrocha"]
    assert all(_LOGIN.search(t) for t in branches)
    assert [t for t in branches if not _login_possible(t, t.lower())] == []


def test_the_ocr_hint_finds_every_digit_beside_a_look_alike_letter() -> None:
    """_OCR_HINT (written for its scan's speed) says yes exactly where a digit stands beside
    an "O", "o" or "l", or a zero between two letters: random strings over those characters."""
    import random

    from backfill.scrub import _OCR_HINT

    def by_hand(text: str) -> bool:
        pairs = zip(text, text[1:], strict=False)
        return any(a.isdigit() and b in "Ool" or a in "Ool" and b.isdigit() for a, b in pairs) \
            or any(text[i] == "0" and text[i - 1].isascii() and text[i - 1].isalpha()
                   and text[i + 1].isascii() and text[i + 1].isalpha()
                   for i in range(1, len(text) - 1))

    rng = random.Random(53)
    for _ in range(20_000):
        text = "".join(rng.choice("0O1ol aZ-é٣") for _ in range(rng.randint(0, 8)))
        assert (_OCR_HINT.search(text) is not None) == by_hand(text), text
