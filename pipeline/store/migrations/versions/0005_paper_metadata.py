"""paper metadata, upvote history, title lookups (issue 13 part 2)

Tables paper_meta (latest community values per paper), paper_votes (one row per distinct
upvote/comment observation) and title_lookup (Hugging Face search cache for text-page titles).

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-02 06:17:43.191606
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

import pipeline.store.tables

revision: str = "0005"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "title_lookup",
        sa.Column("title_key", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("arxiv_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("looked_up_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retry_after", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("title_key", name=op.f("pk_title_lookup")),
    )
    op.create_table(
        "paper_meta",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("upvotes", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.Column("github_stars", sa.Integer(), nullable=True),
        sa.Column("ai_summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("ai_summary_date", sa.Date(), nullable=True),
        sa.Column("github_repo", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("github_repo_date", sa.Date(), nullable=True),
        sa.Column("project_page", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("project_page_date", sa.Date(), nullable=True),
        sa.Column("hf_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_paper_meta_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_meta")),
    )
    op.create_table(
        "paper_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("listing_date", sa.Date(), nullable=False),
        sa.Column("upvotes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("observed_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_paper_votes_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_votes")),
        sa.UniqueConstraint(
            "paper_id", "listing_date", "upvotes", "comments", name="uq_paper_votes_observation"
        ),
    )


def downgrade() -> None:
    op.drop_table("paper_votes")
    op.drop_table("paper_meta")
    op.drop_table("title_lookup")
