"""Backfill of medical-equipment work orders from Snowflake into PostgreSQL with pgvector."""

__version__ = "0.1.0"
