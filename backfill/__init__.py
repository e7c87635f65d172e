"""Backfill of medical-equipment work orders from Snowflake into PostgreSQL with pgvector."""

from backfill.logs import quiet_libraries

__version__ = "0.1.0"

# Here, because every process that runs the job's code imports the package first: the
# driver, and each Ray worker, whose logging Ray sets up (at DEBUG with -v in JSON mode).
quiet_libraries()
