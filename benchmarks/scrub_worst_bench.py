"""The scrubber's and the guard's CPU on long, repetitive text: does any rule grow faster than
the text (issue 14: a record must cost the job in proportion to its length, never hours)?

    python benchmarks/scrub_worst_bench.py                 # 8,000 and 32,000 characters
    python benchmarks/scrub_worst_bench.py --sizes 32000,128000 --only "digit groups,spaces"

Each shape (runs of blanks, spaced digit groups, dotted tokens, form labels, scripts ...) is
written between three lines that open the scrubber's gates (a name, an MRN, a date of birth,
a phone, an e-mail, a placeholder) and scrubbed once per size with ``scrub_text``; the shape
alone is checked once with the guard's ``find_identifiers`` (with the lines, their e-mail
address would end its search). CPU of this process. A rule that scans back and forth over a
long stretch grows with the square of its length: four times the text, sixteen times the
time. The output flags a shape whose time grew more than twice as fast as its text between
the two largest sizes (the box's spread on one run is well within that). Figures in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backfill.guard import find_identifiers  # noqa: E402
from backfill.scrub import scrub_text  # noqa: E402

GATES = ("pt John Smith MRN 1234567, DOB 01/02/1960 (Ana López, bed 3) tel 555-123-4567 "
         "jsmith@example.com acct #88812345 [PERSON] \n")


def shapes(rng: random.Random) -> dict[str, Callable[[int], str]]:
    def pick(words: list[str], n: int, sep: str = " ") -> str:
        return sep.join(rng.choice(words) for _ in range(n))

    return {
        "spaces": lambda n: "a" + " " * n + "b",
        "tabs": lambda n: "a" + "\t" * n + "b",
        "ideographic spaces": lambda n: "a" + "\u3000" * n + "b",
        "mixed blanks": lambda n: "".join(rng.choice(" \t\u3000") for _ in range(n)),
        "newlines": lambda n: "\n" * n,
        "digits": lambda n: "".join(rng.choice("0123456789") for _ in range(n)),
        "digit groups": lambda n: " ".join(str(rng.randint(0, 99999)) for _ in range(n // 6)),
        "dashed digits": lambda n: "-".join(str(rng.randint(0, 999)) for _ in range(n // 4)),
        "slashed digits": lambda n: "/".join(str(rng.randint(0, 99)) for _ in range(n // 3)),
        "arabic-indic digits": lambda n: "".join(rng.choice("٠١٢٣٤٥٦٧٨٩ ") for _ in range(n)),
        "phones": lambda n: " ".join(f"{rng.randint(200, 999)}-{rng.randint(100, 999)}-"
                                     f"{rng.randint(1000, 9999)}" for _ in range(n // 13)),
        "dates": lambda n: " ".join(f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/19"
                                    f"{rng.randint(10, 99)}" for _ in range(n // 10)),
        "csv rows": lambda n: "\n".join(",".join(str(rng.randint(0, 10**6)) for _ in range(8))
                                        for _ in range(n // 50)),
        "key: value lines": lambda n: "\n".join(f"key{i}: {rng.randint(0, 10**8)}"
                                                for i in range(n // 16)),
        "form labels": lambda n: "  ".join("Tech: " for _ in range(n // 8)),
        "name labels": lambda n: "  ".join("Patient: Ana Li" for _ in range(n // 17)),
        "placeholders and numbers": lambda n: pick(["[MRN]", "12 34", "5678"], n // 5),
        "Mr. Mr.": lambda n: "Mr. " * (n // 4),
        "pt pt": lambda n: "pt " * (n // 3),
        "capitalised words": lambda n: pick(["Smith", "John", "Maria", "Lopez", "Pump"], n // 6),
        "lower-case words": lambda n: pick(["pump", "maria", "lopez", "the", "pt", "mr"], n // 5),
        "names and commas": lambda n: pick(["Smith", "John", "Lopez"], n // 7, ", "),
        "initials": lambda n: " ".join(rng.choice("ABCDEFG") + "." for _ in range(n // 3)),
        "capitals": lambda n: "".join(rng.choice("ABCDEFGHIJ ") for _ in range(n)),
        "dotted token": lambda n: pick(["com", "foo", "Bar", "x1"], n // 4, "."),
        "dotted token and @": lambda n: "a.b" * (n // 3) + "@",
        "spelled address": lambda n: "a.b" * (n // 3) + " at gmail dot com",
        "long token": lambda n: "".join(rng.choice("abcdefghij.-_") for _ in range(n)),
        "at signs": lambda n: "@" * n,
        "dots": lambda n: "." * n,
        "pipes": lambda n: "|".join("x" for _ in range(n // 2)),
        "HL7-like": lambda n: pick(["PID", "^", "Smith^John", "123"], n // 4, "|"),
        "JSON-like": lambda n: '"a": "' * (n // 6),
        "k=v without blanks": lambda n: "".join(rng.choice(["ext", "DOB", "=", ",", ")"])
                                                for _ in range(n // 3)),
        "codes without blanks": lambda n: "".join(rng.choice(["-", "acct", ":", "E-12", "("])
                                                  for _ in range(n // 3)),
        "ids without blanks": lambda n: "".join(rng.choice([".", "[MRN]", "ext", "SSN", "6789"])
                                                for _ in range(n // 4)),
        "one-line JSON": lambda n: "{" + ", ".join(
            f'"k{i}": "{rng.choice(["ok", "Pump", "lot"])} {rng.randint(1000, 10**7)}"'
            for i in range(n // 22)) + "}",
        "HTML-like": lambda n: "<td>x</td>" * (n // 10),
        "brackets": lambda n: "(" * (n // 2) + ")" * (n // 2),
        "Cyrillic": lambda n: pick(["Иван", "Петров", "насос", "пациент:"], n // 7),
        "Arabic": lambda n: pick(["محمد", "المريض", "٠١٢٣", "جهاز"], n // 5),
        "CJK": lambda n: "".join(rng.choice("王李张刘陈杨 病人電話") for _ in range(n)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="8000,32000", help="text lengths, comma-separated")
    ap.add_argument("--only", default="", help="shapes to run, comma-separated")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    scrub_text(GATES)  # the name lists and the number layer load once, outside the timings
    print(f"{'shape':26s}" + "".join(f"{'scrub ' + str(n):>14s}" for n in sizes)
          + "".join(f"{'guard ' + str(n):>14s}" for n in sizes) + "  growth")
    flagged = []
    for name, make in shapes(random.Random(1)).items():
        if only and name not in only:
            continue
        scrub_s, guard_s = [], []
        for n in sizes:
            body = make(n)
            text = GATES + body[: n // 2] + "\n" + GATES + body[n // 2:] + "\n" + GATES
            t = time.process_time()
            scrub_text(text)
            scrub_s.append(time.process_time() - t)
            t = time.process_time()
            find_identifiers(body)  # (alone: the gates' e-mail would end the guard's search)
            guard_s.append(time.process_time() - t)
        # (between the two largest sizes: at the smallest, fewer of a shape's rules have
        # anything to do, and a ratio to it says more about that than about growth)
        text_growth = sizes[-1] / sizes[-2]
        growth = max(scrub_s[-1] / max(scrub_s[-2], 1e-3), guard_s[-1] / max(guard_s[-2], 1e-3))
        flag = growth > 2 * text_growth and max(scrub_s[-1], guard_s[-1]) > 0.2
        if flag:
            flagged.append(name)
        print(f"{name:26s}" + "".join(f"{s * 1000:11.1f} ms" for s in scrub_s)
              + "".join(f"{s * 1000:11.1f} ms" for s in guard_s)
              + f"  x{growth:.1f}" + ("  <- faster than the text" if flag else ""), flush=True)
    print(f"text x{sizes[-1] / sizes[-2]:.0f}; shapes growing faster than twice that: "
          f"{', '.join(flagged) or 'none'}")
    return 1 if flagged else 0


if __name__ == "__main__":
    raise SystemExit(main())
