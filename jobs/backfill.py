"""Entry point for ``ray job submit -- python jobs/backfill.py ARGS`` (= ``backfill run ARGS``).

The first argument may also name another command (``status``, ``report``, ...).
"""

import os
import sys

# This file is named like the package: take its own folder off the path, and put the
# repository root on it (``ray job submit --working-dir .`` ships the root, not an install).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

from backfill.cli import COMMANDS, main  # noqa: E402

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] not in COMMANDS:
        argv = ["run", *argv]
    sys.exit(main(argv))
