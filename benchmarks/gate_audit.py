"""Does a gate hide its rule? Open each gate of the scrubber's main function in turn.

    python benchmarks/gate_audit.py            # ~15 s a gate, ~20 min on one core

Every rule of ``backfill.scrub._scrub_rules`` runs behind a gate: a cheap test that the text
could hold what the rule looks for ("@" before the e-mail rules, a list of cue words before
the foreign MRN rule). A gate that asks for more than its rule needs hides the rule from texts
it was written for (version 42's login gate, version 43's spoken dates of birth: docs/phi.md).
This loads a copy of the scrubber in which gate *i* is ``_AUDIT == i or <its test>``, scrubs
every corpus text with each gate open in turn, and for each gate that changes an output
scores the files concerned against their labels: identifiers found and look-alikes kept,
read files (``DEFAULT_CORPUS``) apart from unread ones (counted, not to be tuned on). Not a
speed benchmark; it lives here with the other evaluations (``ner_eval.py``).
"""

from __future__ import annotations

import ast
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backfill import scrub  # noqa: E402
from backfill.scrub_eval import DEFAULT_CORPUS, load_corpus, score  # noqa: E402

CORPUS = DEFAULT_CORPUS[0].parent


def audited_scrubber() -> tuple[types.ModuleType, list[tuple[int, str]]]:
    """A copy of backfill.scrub whose gates open one at a time (``module._AUDIT = i``)."""
    tree = ast.parse(Path(scrub.__file__).read_text(encoding="utf-8"))
    rules = next(n for n in tree.body
                 if isinstance(n, ast.FunctionDef) and n.name == "_scrub_rules")
    gates: list[tuple[int, str]] = []
    for node in rules.body:
        # the gates: not the early returns, not the policy's switches
        if not isinstance(node, ast.If) or "policy" in ast.unparse(node.test) or any(
                isinstance(x, (ast.Return, ast.Raise)) for x in ast.walk(node)):
            continue
        gates.append((node.lineno, ast.unparse(node.test)))
        opened = ast.Compare(ast.Name("_AUDIT", ast.Load()), [ast.Eq()],
                             [ast.Constant(len(gates) - 1)])
        node.test = ast.BoolOp(ast.Or(), [opened, node.test])
    ast.fix_missing_locations(tree)
    name = "backfill._scrub_audited"
    module = types.ModuleType(name)
    module.__dict__["_AUDIT"] = -1
    sys.modules[name] = module  # (dataclasses look their module up)
    exec(compile(tree, name, "exec"), module.__dict__)  # noqa: S102
    return module, gates


def main() -> None:
    module, gates = audited_scrubber()
    read = {p.stem for p in DEFAULT_CORPUS}
    files = sorted(CORPUS.glob("*.jsonl"))
    texts = [(f.stem, o.text) for f in files for o in load_corpus(f)]

    def outputs() -> list[Any]:
        return [module.scrub_text(t).text for _, t in texts]

    def totals(stem: str) -> tuple[int, int]:
        """(identifiers found, look-alikes kept) in one file with the gates as they are set."""
        s = score(load_corpus(CORPUS / f"{stem}.jsonl"),
                  lambda t: module.scrub_text(t).text or "", stem)
        return (sum(k.good for k in s.recall.values()),
                sum(k.good for k in s.precision.values()))

    closed: dict[str, tuple[int, int]] = {}  # every gate as written: scored once a file

    base = outputs()
    print(f"{len(gates)} gates, {len(texts)} corpus texts")
    for i, (line, test) in enumerate(gates):
        t0 = time.monotonic()
        module.__dict__["_AUDIT"] = i
        changed = {stem for (stem, _), a, b in zip(texts, base, outputs(), strict=True)
                   if a != b}
        verdict = "no output changes"
        if changed:
            opened = {s: totals(s) for s in changed}
            module.__dict__["_AUDIT"] = -1
            for s in changed - closed.keys():
                closed[s] = totals(s)
            delta = {s: (opened[s][0] - closed[s][0], opened[s][1] - closed[s][1])
                     for s in changed}
            r = [d for s, d in delta.items() if s in read]
            u = [d for s, d in delta.items() if s not in read]
            verdict = (f"{len(changed)} files change: read ids {sum(d[0] for d in r):+d}, "
                       f"look-alikes {sum(d[1] for d in r):+d}; unread ids "
                       f"{sum(d[0] for d in u):+d}, look-alikes {sum(d[1] for d in u):+d}")
        print(f"gate {i} (line {line}, {time.monotonic() - t0:.0f} s): {verdict}  | {test[:80]}",
              flush=True)
    print(json.dumps({"gates": len(gates)}))


if __name__ == "__main__":
    main()
