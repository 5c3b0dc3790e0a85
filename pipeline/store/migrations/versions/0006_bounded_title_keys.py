"""bounded title keys: long legacy title keys gain their bounded alias

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00

Title keys are at most 600 characters since issue 15.3 (``pipeline.identity.bounded_key``).
A SQLite store made before may hold longer ``title:`` aliases (SQLite ignores VARCHAR lengths;
PostgreSQL never stored one). Keys never change (feed GUIDs derive from them), so each such
alias keeps its paper and the paper gains the bounded alias the ingest now looks up. Data only;
the downgrade removes nothing (the extra alias is harmless to older code).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.identity import KEY_MAX, bounded_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "title:"


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT alias, paper_id FROM paper_alias WHERE length(alias) > :n AND alias LIKE :p"
        ),
        {"n": KEY_MAX, "p": PREFIX + "%"},
    ).all()
    for alias, paper_id in rows:
        bounded = bounded_key(PREFIX, alias[len(PREFIX) :])
        taken = conn.execute(
            sa.text("SELECT 1 FROM paper_alias WHERE alias = :a"), {"a": bounded}
        ).first()
        if taken is None:
            conn.execute(
                sa.text("INSERT INTO paper_alias (alias, paper_id) VALUES (:a, :p)"),
                {"a": bounded, "p": paper_id},
            )


def downgrade() -> None:
    """Nothing to undo: older code never looks the bounded aliases up."""
