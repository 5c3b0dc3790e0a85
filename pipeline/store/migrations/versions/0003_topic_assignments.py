"""topic assignments: paper_topic, topic_pending (+ triggers), corpus_term, feed_entry,
ix_paper_newest

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:06:54.091434

The triggers mark every paper written (paper or appearance rows) as pending, in the writer's
transaction; the statements are frozen here as they were at this revision
(pipeline/store/tables.py PENDING_TRIGGERS holds the current ones; a test compares them).
Existing papers are not marked: the first assignment finds no stamped rules and assigns every
paper (pipeline/store/assignments.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

import pipeline.store.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = (
    "INSERT INTO topic_pending (paper_id, inserted) VALUES ({id}, {fresh}) ON CONFLICT (paper_id)"
    " DO UPDATE SET inserted = topic_pending.inserted OR excluded.inserted"
)
_SQLITE_EVENTS = (
    ("paper", "INSERT", "NEW.id", "1"),
    ("paper", "UPDATE", "NEW.id", "0"),
    ("paper", "DELETE", "OLD.id", "0"),
    ("appearance", "INSERT", "NEW.paper_id", "0"),
    ("appearance", "UPDATE", "NEW.paper_id", "0"),
    ("appearance", "DELETE", "OLD.paper_id", "0"),
)
TRIGGERS = {
    "sqlite": tuple(
        f"CREATE TRIGGER IF NOT EXISTS topic_pending_{table}_{op_.lower()} AFTER {op_} ON {table}"
        f" BEGIN {_MARK.format(id=ref, fresh=fresh)}; END"
        for table, op_, ref, fresh in _SQLITE_EVENTS
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION topic_pending_mark() RETURNS trigger LANGUAGE plpgsql AS $$"
        " DECLARE pid integer; fresh boolean := false; BEGIN"
        " IF TG_TABLE_NAME = 'paper' THEN"
        " IF TG_OP = 'DELETE' THEN pid := OLD.id; ELSE pid := NEW.id; END IF;"
        " fresh := TG_OP = 'INSERT';"
        " ELSIF TG_OP = 'DELETE' THEN pid := OLD.paper_id; ELSE pid := NEW.paper_id; END IF; "
        + _MARK.format(id="pid", fresh="fresh")
        + "; RETURN NULL; END $$",
        "CREATE OR REPLACE TRIGGER topic_pending_paper AFTER INSERT OR UPDATE OR DELETE ON paper"
        " FOR EACH ROW EXECUTE FUNCTION topic_pending_mark()",
        "CREATE OR REPLACE TRIGGER topic_pending_appearance"
        " AFTER INSERT OR UPDATE OR DELETE ON appearance"
        " FOR EACH ROW EXECUTE FUNCTION topic_pending_mark()",
    ),
}
DROP_TRIGGERS = {
    "sqlite": tuple(
        f"DROP TRIGGER IF EXISTS topic_pending_{table}_{op_.lower()}"
        for table, op_, _ref, _fresh in _SQLITE_EVENTS
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS topic_pending_paper ON paper",
        "DROP TRIGGER IF EXISTS topic_pending_appearance ON appearance",
        "DROP FUNCTION IF EXISTS topic_pending_mark()",
    ),
}


def upgrade() -> None:
    op.create_table(
        "corpus_term",
        sa.Column("term", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("papers", sa.Integer(), nullable=False),
        sa.Column("frozen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_corpus_term")),
    )
    op.create_table(
        "topic_pending",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_topic_pending")),
    )
    op.create_table(
        "paper_topic",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("paper_key", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_paper_topic_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "topic", name=op.f("pk_paper_topic")),
    )
    op.create_table(
        "feed_entry",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("guid", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("summary_html", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("published", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_feed_entry_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_feed_entry")),
    )
    with op.batch_alter_table("paper_topic", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_topic_newest",
            ["topic", sa.literal_column("first_seen DESC"), "paper_key", "paper_id"],
            unique=False,
        )
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_newest", [sa.literal_column("first_seen DESC"), "key"], unique=False
        )
    for statement in TRIGGERS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_newest")
    with op.batch_alter_table("paper_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_topic_newest")
    op.drop_table("feed_entry")
    op.drop_table("paper_topic")
    op.drop_table("topic_pending")
    op.drop_table("corpus_term")
