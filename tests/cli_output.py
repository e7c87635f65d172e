"""The JSON document a command printed, as a test reads it from captured standard output.

A test that runs a command in the process that also ran the job shares its stdout with
Ray's log forwarding: a line such as "(raylet) Task QuotaActor.next_pause failed ..." from
the job's actors, printed while the command ran, lands before the document (seen once in CI
in `backfill report --format json`). An operator's `backfill report` runs in a process of
its own, without Ray; the test skips lines until the document starts.
"""

from __future__ import annotations

import json
from typing import Any


def json_document(out: str) -> Any:
    """The first JSON object or array in ``out`` that starts at the beginning of a line."""
    for at in [0] + [i + 1 for i, c in enumerate(out) if c == "\n"]:
        if out[at:at + 1] in ("{", "["):
            return json.JSONDecoder().raw_decode(out, at)[0]
    raise AssertionError(f"no JSON document in the output ({len(out)} characters)")
