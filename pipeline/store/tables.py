"""SQLModel tables of the store. Only modules of :mod:`pipeline.store` import them.

(No ``from __future__ import annotations`` here: SQLModel reads annotations at runtime.)

Identity is enforced by unique constraints, not by code: one paper per key, one digest per
(source, listing date), one appearance per (paper, digest). Timestamps are timezone-aware UTC on
every dialect (:class:`UTCDateTime`); SQLite would otherwise drop the zone.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    UniqueConstraint,
    column,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Explicit constraint names, so migrations (and SQLite batch mode) can find them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 (TypeDecorator API)
    ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class Paper(SQLModel, table=True):
    """A paper, whatever page or source it came from."""

    __tablename__ = "paper"
    # Newest first, then key: the order of feeds and of iter_papers_newest_first (keyset pages).
    __table_args__ = (Index("ix_paper_newest", column("first_seen").desc(), "key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=600)  # "arxiv:<id>" or "title:<folded>"; never changes
    arxiv_id: str | None = Field(default=None, unique=True, max_length=64)
    title: str
    abstract: str
    text_date: date  # listing date of the version whose title/abstract we keep (the earliest)
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    first_seen: date = Field(index=True)
    last_seen: date = Field(index=True)
    times_seen: int = 0  # distinct listing dates
    created_at: datetime = _utc_column(nullable=False)


class PaperAlias(SQLModel, table=True):
    """Every identity a paper was seen under (its key, its arXiv key, each folded title)."""

    __tablename__ = "paper_alias"

    alias: str = Field(primary_key=True, max_length=600)
    paper_id: int = Field(foreign_key="paper.id", index=True)


class Digest(SQLModel, table=True):
    """One page of one source for one listing date."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("source", "listing_date", name="uq_digest_source_date"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200)
    listing_date: date = Field(index=True)
    origin: str  # last file path or URL it was read from
    content_hash: str = Field(max_length=64)
    paper_count: int = 0
    ingested_at: datetime = _utc_column(nullable=False)


class Appearance(SQLModel, table=True):
    """A paper listed on a digest, at a rank. Every appearance is kept."""

    __tablename__ = "appearance"
    __table_args__ = (
        UniqueConstraint("paper_id", "digest_id", name="uq_appearance_paper_digest"),
        Index("ix_appearance_date_paper", "listing_date", "paper_id"),
        Index("ix_appearance_paper_date", "paper_id", "listing_date"),
        Index("ix_appearance_digest", "digest_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(foreign_key="paper.id")
    digest_id: int = Field(foreign_key="digest.id")
    listing_date: date  # copied from the digest, so date queries need no join
    rank: int


class Meta(SQLModel, table=True):
    """Small settings fixed at init (e.g. the feed GUID authority)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str


class FetchState(SQLModel, table=True):
    """Conditional-GET validators and rate-limit deferral, per fetched URL."""

    __tablename__ = "fetch_state"

    url: str = Field(primary_key=True, max_length=2000)
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = _utc_column(nullable=True)  # last ingested 200 response
    deferred_until: datetime | None = _utc_column(nullable=True)  # server asked to wait


class Subscriber(SQLModel, table=True):
    """An email subscriber and the topics they chose (issue 4)."""

    __tablename__ = "subscriber"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)  # as given, stripped, domain lowercased
    email_key: str = Field(unique=True, max_length=254)  # the whole address lowercased
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=20)  # active | unsubscribed | bouncing
    frequency: str = Field(  # daily | weekly (issue 13), from frequency_from on when set
        default="daily", max_length=10, sa_column_kwargs={"server_default": "daily"}
    )
    previous_frequency: str | None = Field(default=None, max_length=10)  # before frequency_from
    frequency_from: date | None = None  # the Monday a change of frequency takes effect
    # The unsubscribe token is HMAC(secret, token_nonce); only its sha256 is stored (lookup key).
    token_nonce: str = Field(max_length=64)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = _utc_column(nullable=False)
    updated_at: datetime = _utc_column(nullable=False)


class OutboxMessage(SQLModel, table=True):
    """One digest for one subscriber and one edition: the exactly-once delivery record."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id", "kind", "edition", name="uq_outbox_subscriber_kind_edition"
        ),
        Index("ix_outbox_edition_state", "edition", "state"),
        # rows by state (open, failed, uncertain) without scanning every edition's rows: the
        # health check (store/health.py) on every GET /health; bench/bench_health.py
        Index("ix_outbox_state_edition", "state", "edition"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id")
    kind: str = Field(  # daily | weekly: the edition's kind (issue 13)
        default="daily", max_length=10, sa_column_kwargs={"server_default": "daily"}
    )
    edition: date  # the listing date; for a weekly edition the Monday of its ISO week
    # The subscriber's topics when the row was planned: the message lists the frozen edition's
    # papers of these topics, also when sent again later (None: rows from before revision 0004).
    topics: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # pending | sending | sent | retry | failed | uncertain | skipped
    state: str = Field(default="pending", max_length=20)
    message_id: str = Field(max_length=200)
    attempts: int = 0
    next_attempt_at: datetime = _utc_column(nullable=False)
    claimed_at: datetime | None = _utc_column(nullable=True)
    sent_at: datetime | None = _utc_column(nullable=True)
    last_code: int | None = None
    last_error: str | None = None
    created_at: datetime = _utc_column(nullable=False)


class SubscribeRequest(SQLModel, table=True):
    """A web subscribe request awaiting (or past) its double opt-in confirmation (issue 7).

    Also the rate-limit ledger: rows are counted per address and per client IP, so limits
    survive restarts. Nothing here is mailed digests; only confirmed requests become (or update)
    a :class:`Subscriber`.
    """

    __tablename__ = "subscribe_request"
    __table_args__ = (
        Index("ix_subscribe_request_email_created", "email_key", "created_at"),
        Index("ix_subscribe_request_ip_created", "client_ip", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    client_ip: str = Field(max_length=64)
    frequency: str = Field(
        default="daily", max_length=10, sa_column_kwargs={"server_default": "daily"}
    )
    mailed: bool = False  # False: refused by a limit or the honeypot (no mail went out)
    created_at: datetime = _utc_column(nullable=False)
    confirmed_at: datetime | None = _utc_column(nullable=True)


class PaperTopic(SQLModel, table=True):
    """A topic a paper belongs to, assigned once when the paper is stored or changes, or when
    the topic's rules change (:mod:`pipeline.store.assignments`); read by feeds, emails and the
    web through ``ix_paper_topic_newest``."""

    __tablename__ = "paper_topic"
    __table_args__ = (
        # paper_id too: a feed reads its ids from the index alone (a covering index)
        Index(
            "ix_paper_topic_newest", "topic", column("first_seen").desc(), "paper_key", "paper_id"
        ),
    )

    paper_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    topic: str = Field(primary_key=True, max_length=63)  # a topic slug
    # Copies of the paper's first_seen and key (the key never changes; first_seen is rewritten
    # whenever the paper is reassigned, which every change of the paper triggers), so that a
    # topic's newest papers are one index range: no join, no sort over the whole topic.
    first_seen: date
    paper_key: str = Field(max_length=600)


class TopicPending(SQLModel, table=True):
    """Papers whose topics must be (re)assigned: filled by database triggers on every write to
    ``paper`` or ``appearance`` (so in the transaction that stores a page, whatever code wrote
    it), emptied by :func:`pipeline.store.assignments.assign_pending`."""

    __tablename__ = "topic_pending"

    paper_id: int = Field(primary_key=True)  # no foreign key: a deleted paper is pending too
    inserted: bool = False  # the paper was created since: count it in the corpus statistics


class CorpusTerm(SQLModel, table=True):
    """Document frequencies of similarity terms (:mod:`pipeline.similarity`) over the stored
    papers, for ``like`` topics (:mod:`pipeline.store.corpus`): ``papers`` is kept up to date,
    ``frozen`` is the snapshot topics are scored with."""

    __tablename__ = "corpus_term"

    term: str = Field(primary_key=True, max_length=64)
    papers: int = 0
    frozen: int = 0


class FeedEntryCache(SQLModel, table=True):
    """A paper's feed item as the feeds stage last built it (:mod:`pipeline.store.feed_cache`),
    so a render reads it instead of rebuilding it. ``version`` names the rendering code and the
    GUID tagging entity it was built with; a change of the paper (it becomes pending) deletes
    the row when the paper is next assigned, which every render does first."""

    __tablename__ = "feed_entry"

    paper_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    version: str = Field(max_length=64)
    guid: str
    title: str
    link: str
    summary_html: str
    published: datetime = _utc_column(nullable=False)
    last_seen: date


# Triggers that mark papers pending (TopicPending), as plain SQL per dialect; migration 0003 runs
# the same statements, and tests/test_assignments.py checks both ways of building a store end
# with the same triggers. Every write to a paper, its appearances or its community values
# (what feeds, emails and pages show) marks the paper; an UPDATE only if a value changed, since
# some writers update unconditionally (upsert_metadata rewrites a page's paper_meta rows on every
# ingest, also of an unchanged page). A column added to one of these tables must be added here
# (and in a migration). Both dialects upsert the mark: on PostgreSQL, DO UPDATE (unlike DO
# NOTHING) waits for an assigner that holds the pending row (SELECT ... FOR UPDATE), so a change
# committed while the assigner scored the old text leaves the paper pending instead of lost.
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
        for op, row, when in (("insert", "NEW", ""), ("update", "NEW", f" WHEN {changed}"),
                              ("delete", "OLD", "")):  # fmt: skip
            mark = _MARK.format(id=f"{row}.{ref}", fresh=fresh if op == "insert" else "0")
            found.append(
                f"CREATE TRIGGER IF NOT EXISTS topic_pending_{table}_{op} AFTER {op.upper()}"
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


PENDING_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": _sqlite_triggers(),
    "postgresql": _postgresql_triggers(),
}


@event.listens_for(metadata, "after_create")
def _create_pending_triggers(_target: MetaData, connection: Any, **_kw: Any) -> None:
    """``create_all`` (a store built from the models) gets the triggers too."""
    for statement in PENDING_TRIGGERS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


class RunLog(SQLModel, table=True):
    """One ``paperboy run`` (issue 13): when it started and ended and how it went.

    A row without ``finished_at`` is a run still going, or one that died (kill, power loss).
    """

    __tablename__ = "run_log"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = _utc_column(nullable=False)
    finished_at: datetime | None = _utc_column(nullable=True)
    ok: bool | None = None  # None until the run finished
    pages: int = 0
    new_papers: int = 0
    failures: int = 0


class SourceState(SQLModel, table=True):
    """How each source fared in the runs: the last success and the failures in a row."""

    __tablename__ = "source_state"

    source: str = Field(primary_key=True, max_length=200)
    last_attempt_at: datetime | None = _utc_column(nullable=True)
    last_success_at: datetime | None = _utc_column(nullable=True)
    consecutive_failures: int = 0
    last_error: str | None = None


class AlertLog(SQLModel, table=True):
    """An operator alert claimed for one problem on one day: at most one mail per key."""

    __tablename__ = "alert_log"

    key: str = Field(primary_key=True, max_length=400)  # problem key, "@<day>" if daily
    summary: str  # the problem as the mail stated it
    state: str = Field(default="sending", max_length=20)  # sending | sent | failed | uncertain
    message_id: str = Field(max_length=200)
    created_at: datetime = _utc_column(nullable=False)


class PaperMeta(SQLModel, table=True):
    """The community's latest word on a paper (Hugging Face API entries, docs/hf-formats.md §2).

    Merged monotonically by :mod:`pipeline.store.paper_meta`: counts keep their largest value,
    texts the value of the latest listing date (each with the date it came from).
    """

    __tablename__ = "paper_meta"

    paper_id: int = Field(primary_key=True, foreign_key="paper.id")
    upvotes: int | None = None
    comments: int | None = None
    github_stars: int | None = None
    ai_summary: str | None = None
    ai_summary_date: date | None = None
    github_repo: str | None = Field(default=None, max_length=2000)
    github_repo_date: date | None = None
    project_page: str | None = Field(default=None, max_length=2000)
    project_page_date: date | None = None
    hf_id: str | None = Field(default=None, max_length=100)  # id of a paper without arXiv id


class PaperVotes(SQLModel, table=True):
    """Upvote history: each distinct (upvotes, comments) seen for a paper on a listing date."""

    __tablename__ = "paper_votes"
    __table_args__ = (
        UniqueConstraint(
            "paper_id", "listing_date", "upvotes", "comments", name="uq_paper_votes_observation"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(foreign_key="paper.id")
    listing_date: date
    upvotes: int
    comments: int
    observed_at: datetime = _utc_column(nullable=False)  # the first ingest that saw these counts


class TitleLookup(SQLModel, table=True):
    """What the Hugging Face papers search answered for a text page's title (cache)."""

    __tablename__ = "title_lookup"

    title_key: str = Field(primary_key=True, max_length=600)  # identity.title_key of the title
    arxiv_id: str | None = Field(default=None, max_length=64)  # None: no exact match
    looked_up_at: datetime = _utc_column(nullable=False)
    retry_after: datetime | None = _utc_column(nullable=True)  # a miss is asked again after this


class MailEdition(SQLModel, table=True):
    """An email edition, frozen once: its papers are fixed in :class:`MailEditionPaper` in the
    transaction that plans its outbox rows (pipeline/mail/plan.py says why)."""

    __tablename__ = "mail_edition"
    __table_args__ = (UniqueConstraint("kind", "day", name="uq_mail_edition_kind_day"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # daily | weekly
    day: date  # the listing date; for a weekly edition the Monday of its ISO week
    last_day: date  # the last listing date it covers (= day for a daily edition)
    frozen_at: datetime = _utc_column(nullable=False)


class MailEditionPaper(SQLModel, table=True):
    """A paper's listing on one date, as carried by one edition of one kind.

    Unique per (kind, listing date, paper): each listing belongs to at most one edition of a
    kind, on time (``late`` false: listed within the edition's days) or added late.
    """

    __tablename__ = "mail_edition_paper"
    __table_args__ = (
        UniqueConstraint("kind", "listing_date", "paper_id", name="uq_mail_edition_paper_listing"),
        Index("ix_mail_edition_paper_edition", "edition_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="mail_edition.id")
    kind: str = Field(max_length=10)  # copied from the edition, for the unique constraint
    listing_date: date
    paper_id: int = Field(foreign_key="paper.id")
    rank: int  # best rank on that date's pages
    recurring: bool  # listed before that date too (shown as "Back again")
    late: bool  # reached its date after that date's edition was frozen
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
