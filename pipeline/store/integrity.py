"""Store invariants, checked by ``paperboy check`` and by the fault-injection tests.

I/O edge: reads the database. Each check is one SQL query that returns offending rows; a healthy
store returns none.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlmodel import Session

from pipeline.store.tables import PENDING_TRIGGERS

# (what must hold, query returning rows that break it)
CHECKS: tuple[tuple[str, str], ...] = (
    (
        "every paper has at least one appearance",
        "SELECT p.key FROM paper p WHERE NOT EXISTS"
        " (SELECT 1 FROM appearance a WHERE a.paper_id = p.id)",
    ),
    (
        "first_seen/last_seen/times_seen agree with appearances",
        "SELECT p.key FROM paper p JOIN (SELECT paper_id, min(listing_date) AS f,"
        " max(listing_date) AS l, count(DISTINCT listing_date) AS n FROM appearance"
        " GROUP BY paper_id) s ON s.paper_id = p.id"
        " WHERE p.first_seen <> s.f OR p.last_seen <> s.l OR p.times_seen <> s.n",
    ),
    (
        "every paper's key is one of its aliases",
        "SELECT p.key FROM paper p LEFT JOIN paper_alias a ON a.alias = p.key"
        " WHERE a.paper_id IS NULL OR a.paper_id <> p.id",
    ),
    (
        "a paper with an arXiv id owns its arxiv: alias",
        "SELECT p.key FROM paper p WHERE p.arxiv_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM paper_alias a WHERE a.alias = 'arxiv:' || p.arxiv_id"
        " AND a.paper_id = p.id)",
    ),
    (
        "appearances carry their digest's listing date",
        "SELECT a.id FROM appearance a JOIN digest d ON d.id = a.digest_id"
        " WHERE a.listing_date <> d.listing_date",
    ),
    (
        "digest paper_count matches its appearances",
        "SELECT d.source FROM digest d WHERE d.paper_count <>"
        " (SELECT count(*) FROM appearance a WHERE a.digest_id = d.id)",
    ),
    (
        "a paper's latest upvotes are at least every count in its upvote history",
        "SELECT v.paper_id FROM paper_votes v LEFT JOIN paper_meta m ON m.paper_id = v.paper_id"
        " WHERE m.upvotes IS NULL OR v.upvotes > m.upvotes",
    ),
    (
        "a frozen edition's listings are of its kind, on time within its days, late before them",
        "SELECT e.kind || ' ' || e.day FROM mail_edition_paper p"
        " JOIN mail_edition e ON e.id = p.edition_id WHERE p.kind <> e.kind"
        " OR (NOT p.late AND (p.listing_date < e.day OR p.listing_date > e.last_day))"
        " OR (p.late AND p.listing_date >= e.day)",
    ),
    (
        "every frozen listing is a listing of the store",
        "SELECT p.listing_date FROM mail_edition_paper p WHERE NOT EXISTS"
        " (SELECT 1 FROM appearance a WHERE a.paper_id = p.paper_id"
        " AND a.listing_date = p.listing_date)",
    ),
)


def check_store(*, session: Session, limit: int = 5) -> list[str]:
    """Problems found (empty when every invariant holds), with up to ``limit`` examples each."""
    problems: list[str] = []
    if session.get_bind().dialect.name == "sqlite":
        result = [row[0] for row in session.execute(text("PRAGMA integrity_check"))]
        if result != ["ok"]:
            problems.append(f"SQLite integrity_check: {'; '.join(map(str, result[:limit]))}")
    for rule, query in CHECKS:
        rows = [str(row[0]) for row in session.execute(text(f"{query} LIMIT {limit + 1}"))]
        if rows:
            more = " ..." if len(rows) > limit else ""
            problems.append(f"{rule}: broken for {', '.join(rows[:limit])}{more}")
    missing = missing_triggers(session=session)
    if missing:  # e.g. a SQLite migration that rebuilt a table (batch mode) dropped them
        problems.append(
            f"topic triggers missing: {', '.join(missing)} (changed papers would keep stale "
            "topics; recreate them as in pipeline/store/tables.py PENDING_TRIGGERS)"
        )
    return problems


def missing_triggers(*, session: Session) -> list[str]:
    """The pending-topics triggers (pipeline.store.tables.PENDING_TRIGGERS) not in the store."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    elif dialect == "postgresql":  # in the schema the store's tables are in (search_path)
        query = (
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND c.oid IN"
            " (to_regclass('paper'), to_regclass('appearance'), to_regclass('paper_meta'))"
        )
    else:
        return []
    found = {str(name) for (name,) in session.execute(text(query))}
    wanted = [re.search(r"TRIGGER (?:IF NOT EXISTS )?(\w+)", statement) for statement in
              PENDING_TRIGGERS.get(dialect, ())]  # fmt: skip
    return sorted({m.group(1) for m in wanted if m} - found)
