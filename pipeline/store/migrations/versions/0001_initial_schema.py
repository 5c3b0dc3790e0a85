"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import pipeline.store.tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("listing_date", sa.Date(), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paper_count", sa.Integer(), nullable=False),
        sa.Column("ingested_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest")),
        sa.UniqueConstraint("source", "listing_date", name="uq_digest_source_date"),
    )
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_listing_date"), ["listing_date"], unique=False)

    op.create_table(
        "fetch_state",
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_modified", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("fetched_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "deferred_until", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_fetch_state")),
    )
    op.create_table(
        "meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("arxiv_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("abstract", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text_date", sa.Date(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("created_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper")),
        sa.UniqueConstraint("arxiv_id", name=op.f("uq_paper_arxiv_id")),
        sa.UniqueConstraint("key", name=op.f("uq_paper_key")),
    )
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_first_seen"), ["first_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_paper_last_seen"), ["last_seen"], unique=False)

    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("email_key", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("token_nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber")),
        sa.UniqueConstraint("email_key", name=op.f("uq_subscriber_email_key")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subscriber_token_hash")),
    )
    op.create_table(
        "appearance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("listing_date", sa.Date(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digest.id"], name=op.f("fk_appearance_digest_id_digest")
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_appearance_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appearance")),
        sa.UniqueConstraint("paper_id", "digest_id", name="uq_appearance_paper_digest"),
    )
    with op.batch_alter_table("appearance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appearance_date_paper", ["listing_date", "paper_id"], unique=False
        )
        batch_op.create_index("ix_appearance_digest", ["digest_id"], unique=False)
        batch_op.create_index(
            "ix_appearance_paper_date", ["paper_id", "listing_date"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("edition", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("claimed_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscriber.id"], name=op.f("fk_outbox_subscriber_id_subscriber")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("subscriber_id", "edition", name="uq_outbox_subscriber_edition"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_edition_state", ["edition", "state"], unique=False)

    op.create_table(
        "paper_alias",
        sa.Column("alias", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_paper_alias_paper_id_paper")
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_paper_alias")),
    )
    with op.batch_alter_table("paper_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_alias_paper_id"), ["paper_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_alias_paper_id"))

    op.drop_table("paper_alias")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_edition_state")

    op.drop_table("outbox")
    with op.batch_alter_table("appearance", schema=None) as batch_op:
        batch_op.drop_index("ix_appearance_paper_date")
        batch_op.drop_index("ix_appearance_digest")
        batch_op.drop_index("ix_appearance_date_paper")

    op.drop_table("appearance")
    op.drop_table("subscriber")
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_last_seen"))
        batch_op.drop_index(batch_op.f("ix_paper_first_seen"))

    op.drop_table("paper")
    op.drop_table("meta")
    op.drop_table("fetch_state")
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_listing_date"))

    op.drop_table("digest")
