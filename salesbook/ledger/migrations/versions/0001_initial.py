"""The first ledger schema: runs, their files, scorecards and source-row fingerprints; closes and their files.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "source_sets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    op.create_index("ix_source_sets_digest", "source_sets", ["digest"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("book", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("os_user", sa.String(200), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("program_version", sa.String(50), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("master_file", sa.Text, nullable=False),
        sa.Column("master_sha256", sa.String(64), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("quality", sa.Text, nullable=False),
        sa.Column("source_set_id", sa.Integer, sa.ForeignKey("source_sets.id"), nullable=True),
    )
    op.create_index("ix_runs_book_period", "runs", ["book", "period"])
    op.create_table(
        "run_files",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    op.create_index("ix_run_files_run_id", "run_files", ["run_id"])
    op.create_table(
        "scorecard_figures",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rep_id", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("figure", sa.String(60), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_index("ix_scorecard_figures_run_id", "scorecard_figures", ["run_id"])
    op.create_table(
        "source_rows",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("source_sets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rep_id", sa.String(100), nullable=False),
        sa.Column("figure", sa.String(60), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("sheet_kind", sa.String(40), nullable=False),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_source_rows_set_id", "source_rows", ["set_id"])
    op.create_table(
        "closes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("book", sa.String(200), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("accepted_errors", sa.Integer, nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(200), nullable=True),
        sa.Column("reopen_reason", sa.Text, nullable=True),
    )
    # One live close per book and period (the guarantee behind "exactly one of two closes wins").
    op.create_index("uq_closes_live", "closes", ["book", "period"], unique=True,
                    sqlite_where=sa.text("reopened_at IS NULL"), postgresql_where=sa.text("reopened_at IS NULL"))
    op.create_table(
        "close_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("close_id", sa.Integer, sa.ForeignKey("closes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_close_files_close_id", "close_files", ["close_id"])


def downgrade() -> None:
    for name in ("close_files", "closes", "source_rows", "scorecard_figures", "run_files", "runs", "source_sets"):
        op.drop_table(name)
