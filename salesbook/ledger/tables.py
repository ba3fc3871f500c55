"""The ledger's tables as SQLAlchemy Core objects: what the code queries.

The schema itself is created and changed only by the Alembic migrations in `migrations/`; a test
checks that a freshly migrated database matches these definitions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# A bigint id where a table grows by thousands of rows a run (SQLite's rowid is 64-bit already).
BIG_ID = BigInteger().with_variant(Integer, "sqlite")

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("book", String(200), nullable=False),  # the master's name in a shared ledger (setting ledger_book)
    Column("kind", String(20), nullable=False),  # consolidate | export-hr | close
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("os_user", String(200), nullable=False),
    Column("host", String(255), nullable=False),
    Column("program_version", String(50), nullable=False),
    Column("period", String(20), nullable=False),
    Column("as_of", Date, nullable=True),
    Column("master_file", Text, nullable=False),
    Column("master_sha256", String(64), nullable=False),
    Column("settings", Text, nullable=False),  # JSON: every setting as used
    Column("quality", Text, nullable=False),  # JSON: files, error counts by code
    Column("source_set_id", Integer, ForeignKey("source_sets.id"), nullable=True),
    Index("ix_runs_book_period", "book", "period"),
)

# The fingerprints of a run's source rows, shared by runs whose fingerprints are all the same (a
# consolidate, then the export and the close of the same files store them once).
source_sets = Table(
    "source_sets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, index=True),  # SHA-256 of the whole list
    Column("rows", Integer, nullable=False),
)

run_files = Table(
    "run_files", metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("label", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("rows", Integer, nullable=False),
)

scorecard_figures = Table(
    "scorecard_figures", metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rep_id", String(100), nullable=False),
    Column("position", Integer, nullable=False),  # the rep's place in the scorecards
    Column("figure", String(60), nullable=False),
    Column("value", Text, nullable=True),  # exact text of the value; NULL = blank
)

source_rows = Table(
    "source_rows", metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("set_id", Integer, ForeignKey("source_sets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rep_id", String(100), nullable=False),
    Column("figure", String(60), nullable=False),
    Column("file", Text, nullable=False),
    Column("sheet_kind", String(40), nullable=False),
    Column("sheet", Text, nullable=False),
    Column("row", Integer, nullable=False),
    Column("key", Text, nullable=False),
    Column("sha256", String(64), nullable=False),  # of the row's parsed values
)

closes = Table(
    "closes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("book", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("accepted_errors", Integer, nullable=False),
    Column("reopened_at", DateTime(timezone=True), nullable=True),
    Column("reopened_by", String(200), nullable=True),
    Column("reopen_reason", Text, nullable=True),
    # At most one live close per book and period: the database, not a file check, makes one of two
    # simultaneous closes fail.
    Index("uq_closes_live", "book", "period", unique=True,
          sqlite_where=text("reopened_at IS NULL"), postgresql_where=text("reopened_at IS NULL")),
)

close_files = Table(
    "close_files", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("close_id", Integer, ForeignKey("closes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
