"""Entry point for ``ray job submit -- python jobs/backfill.py ARGS`` (same as ``backfill run ARGS``).

The first argument may also name another command (``status``, ``report``, ...).
"""

import sys

from backfill.cli import COMMANDS, main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] not in COMMANDS:
        argv = ["run", *argv]
    sys.exit(main(argv))
