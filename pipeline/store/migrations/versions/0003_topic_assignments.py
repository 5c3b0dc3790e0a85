"""topic assignments: paper_topic, topic_pending (+ triggers), corpus_term, feed_entry,
ix_paper_newest

Revision ID: 0003
Revises: 0004 (written on 0002; re-chained after editions, metadata, trust, health)
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
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = (
    "INSERT INTO topic_pending (paper_id, inserted) VALUES ({id}, {fresh}) ON CONFLICT (paper_id)"
    " DO UPDATE SET inserted = topic_pending.inserted OR excluded.inserted"
)
# table: (its paper id column, the columns whose change matters, those stored as JSON)
_MARKED = {
    "paper": (
        "id",
        ("key", "arxiv_id", "title", "abstract", "text_date", "links", "authors", "keywords",
         "first_seen", "last_seen", "times_seen"),
        ("links", "authors", "keywords"),
    ),
    "appearance": ("paper_id", ("paper_id", "digest_id", "listing_date", "rank"), ()),
    "paper_meta": (
        "paper_id",
        ("upvotes", "comments", "github_stars", "ai_summary", "ai_summary_date", "github_repo",
         "github_repo_date", "project_page", "project_page_date", "hf_id"),
        (),
    ),
}  # fmt: skip


def _sqlite_triggers() -> tuple[str, ...]:
    found = []
    for table, (ref, columns, _json) in _MARKED.items():
        fresh = "1" if table == "paper" else "0"
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        for event, row, when in (("insert", "NEW", ""), ("update", "NEW", f" WHEN {changed}"),
                                 ("delete", "OLD", "")):  # fmt: skip
            mark = _MARK.format(id=f"{row}.{ref}", fresh=fresh if event == "insert" else "0")
            found.append(
                f"CREATE TRIGGER IF NOT EXISTS topic_pending_{table}_{event} AFTER {event.upper()}"
                f" ON {table}{when} BEGIN {mark}; END"
            )
    return tuple(found)


def _postgresql_triggers() -> tuple[str, ...]:
    # One function per table, the change test in its body: a WHEN clause would tie the trigger
    # to the columns it names, and PostgreSQL then refuses to ALTER them.
    found = []
    for table, (ref, columns, json) in _MARKED.items():
        cast = {c: "::text" if c in json else "" for c in columns}  # json has no equality
        changed = " OR ".join(
            f"OLD.{c}{cast[c]} IS DISTINCT FROM NEW.{c}{cast[c]}" for c in columns
        )
        fresh = "TG_OP = 'INSERT'" if table == "paper" else "false"
        found += [
            f"CREATE OR REPLACE FUNCTION topic_pending_{table}() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ DECLARE pid integer; BEGIN"
            f" IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN RETURN NULL; END IF;"
            f" IF TG_OP = 'DELETE' THEN pid := OLD.{ref}; ELSE pid := NEW.{ref}; END IF; "
            + _MARK.format(id="pid", fresh=fresh)
            + "; RETURN NULL; END $$",
            f"CREATE OR REPLACE TRIGGER topic_pending_{table} AFTER INSERT OR UPDATE OR DELETE"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION topic_pending_{table}()",
        ]
    return tuple(found)


TRIGGERS = {"sqlite": _sqlite_triggers(), "postgresql": _postgresql_triggers()}
DROP_TRIGGERS = {
    "sqlite": tuple(
        f"DROP TRIGGER IF EXISTS topic_pending_{table}_{event}"
        for table in _MARKED
        for event in ("insert", "update", "delete")
    ),
    "postgresql": tuple(
        statement
        for table in _MARKED
        for statement in (f"DROP TRIGGER IF EXISTS topic_pending_{table} ON {table}",
                          f"DROP FUNCTION IF EXISTS topic_pending_{table}()")
    ),
}  # fmt: skip


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
