"""Topic assignments: computed once per paper and per rules, stored, read by index (issue 12).

I/O edge: the database, through an ``Engine`` (every batch is its own write transaction, so a
kill loses at most the batch in progress and the next call carries on).

What is stored: ``paper_topic`` rows (a paper, a topic slug, copies of the paper's first_seen and
key for ``ix_paper_topic_newest``), and in ``meta``:

- ``topics_assigned``: ``{slug: fingerprint}`` of the topics whose rows are complete;
- ``topics_rescan``: ``{"topics": {slug: fingerprint}, "after": id}``: topics being assigned
  over every paper (new or edited topics), and the last paper id done;
- ``topics_generation``: a counter that every batch that changed rows increments: the feeds
  stage compares it to what it last rendered (:mod:`pipeline.feeds.publish`).

A topic's fingerprint hashes its rules (not its title or description), the scoring code
(``pipeline/topics.py``, ``similarity.py``, ``store/candidates.py``: a change of the engine
reassigns too) and, for a ``like`` topic, its resolved examples and the corpus snapshot
(:mod:`pipeline.store.corpus`). Editing a topic therefore reassigns that topic over every paper
on the next call, in batches with progress, while other topics keep their rows.

What is pending: ``topic_pending`` rows, written by triggers in the transaction of every write
to ``paper`` or ``appearance`` (:data:`pipeline.store.tables.PENDING_TRIGGERS`): a new paper, a
changed text, first_seen or rank, a removed paper. A kill between storing a page and assigning
leaves its papers pending, and the next call assigns them; calling again changes nothing.
On PostgreSQL, pending rows are claimed with ``FOR UPDATE SKIP LOCKED`` (two assigners share
the work), and scheduling and rescans hold an advisory lock.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, String, cast, delete, func, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col

from pipeline import similarity
from pipeline import topics as topics_module
from pipeline.errors import StoreError
from pipeline.failpoints import failpoint
from pipeline.resources import code_digest
from pipeline.similarity import Likeness, paper_text
from pipeline.store import candidates as candidates_module
from pipeline.store.candidates import TopicFilter
from pipeline.store.corpus import (
    FrozenFrequencies,
    all_paper_texts,
    build_corpus,
    count_new,
    count_terms,
    documents,
    example_texts,
    likeness,
    put_meta,
    refresh_due,
    refresh_snapshot,
    texts_digest,
)
from pipeline.store.engine import insert_for, read_session, write_session
from pipeline.store.feed_cache import forget_entries
from pipeline.store.meta import get_meta
from pipeline.store.tables import Meta, Paper, PaperTopic, TopicPending
from pipeline.topics import Topic, like_examples, score_topic

if TYPE_CHECKING:
    from sqlalchemy import Engine

ASSIGNED_KEY = "topics_assigned"
RESCAN_KEY = "topics_rescan"
GENERATION_KEY = "topics_generation"
BATCH = 100  # papers per write transaction: ~0.1-0.4 s of scoring, so a writer waits little
LOCK_KEY = 0x7061_7065_7274  # "papert": one scheduler/rescanner at a time (PostgreSQL)
Progress = Callable[[str, int, int], None]  # (what, done, total): "corpus", "papers", "rescan"


# The scoring code's digest: a change to how topics score reassigns every topic.
ENGINE_DIGEST = code_digest(topics_module, similarity, candidates_module)


def _rules(rules: Iterable[topics_module.Rule]) -> list[list[Any]]:
    return [[r.text, r.pattern.pattern, r.pattern.flags, r.scope] for r in rules]


def fingerprint(topic: Topic, *, examples: str = "", corpus: int = 0) -> str:
    """What a topic's assignments depend on, hashed: rules, weights, scoring code and, for a
    ``like`` topic, the digest of its resolved examples and the corpus snapshot's size."""
    data = [
        ENGINE_DIGEST,
        _rules(topic.include),
        _rules(topic.exclude),
        [topic.threshold, topic.title_weight, topic.abstract_weight, topic.keywords_weight],
        topic.max_repeats,
        list(topic.like),
        topic.like_threshold,
        [examples, corpus] if topic.like else [],
    ]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AssignReport:
    """What one :func:`assign_pending` call did."""

    papers: int = 0  # pending papers (new or changed) assigned
    rescanned: tuple[str, ...] = ()  # topics (re)assigned over every paper, finished
    rescan_papers: int = 0  # papers read by that rescan in this call
    removed: tuple[str, ...] = ()  # topics no longer configured, their rows deleted
    corpus: int | None = None  # papers counted when the corpus statistics were built

    @property
    def changed(self) -> bool:
        """True when any stored assignment changed."""
        return bool(self.papers or self.rescan_papers or self.removed)


@dataclass
class Scorer:
    """Assigns papers to a list of topics: the pre-filter, then exact scoring."""

    topics: Sequence[Topic]
    likeness: Likeness | None = None
    frequencies: FrozenFrequencies = field(default_factory=FrozenFrequencies)

    def __post_init__(self) -> None:
        self.filter = TopicFilter(self.topics)
        self.uses_corpus = any(t.like for t in self.topics)

    def prepare(self, session: Session, texts: Sequence[str]) -> None:
        """Read the corpus statistics the similarity of these paper_texts needs."""
        if self.uses_corpus and self.likeness is not None:
            self.frequencies.prefetch(session, texts)

    def slugs(self, *, title: str, abstract: str, keywords: Sequence[str]) -> list[str]:
        """The slugs of the topics that select the paper (as assign_topics would say)."""
        return [
            topic.slug
            for topic in self.filter.candidates(title=title, abstract=abstract, keywords=keywords)
            if score_topic(
                topic, title=title, abstract=abstract, keywords=keywords, likeness=self.likeness
            ).selected
        ]


def _json(session: Session, key: str) -> Any:
    raw = get_meta(session=session, key=key)
    return json.loads(raw) if raw else None


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    # SQLite: write_session began with BEGIN IMMEDIATE: one writer at a time already.


def bump_generation(session: Session) -> None:
    """Count one more change of the stored assignments (atomic on both dialects)."""
    stmt = insert_for(session, Meta).values(key=GENERATION_KEY, value="1")
    bumped = cast(cast(col(Meta.value), Integer) + 1, String)
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": bumped}))


def generation(session: Session) -> int:
    """How many times the stored assignments changed (0: never)."""
    return int(get_meta(session=session, key=GENERATION_KEY) or 0)


_COLUMNS = tuple(
    col(column)
    for column in (
        Paper.id,
        Paper.key,
        Paper.title,
        Paper.abstract,
        Paper.keywords,
        Paper.first_seen,
    )
)


def _write(session: Session, rows: Sequence[Any], scorer: Scorer, slugs: Sequence[str]) -> int:
    """Replace the rows of ``slugs`` for these papers with what the scorer says; how many."""
    scorer.prepare(session, [paper_text(r.title, r.abstract) for r in rows])
    new = [
        {"paper_id": r.id, "topic": slug, "first_seen": r.first_seen, "paper_key": r.key}
        for r in rows
        for slug in scorer.slugs(title=r.title, abstract=r.abstract, keywords=r.keywords)
    ]
    ids = [r.id for r in rows]
    session.execute(
        delete(PaperTopic).where(
            col(PaperTopic.paper_id).in_(ids), col(PaperTopic.topic).in_(slugs)
        )
    )
    if new:
        session.execute(insert_for(session, PaperTopic).on_conflict_do_nothing(), new)
    return len(new)


def _pending_batch(engine: Engine, scorer: Scorer, batch: int) -> int:
    """Assign one batch of pending papers (all topics); how many were pending."""
    with write_session(engine) as session:
        claimed = session.execute(
            select(col(TopicPending.paper_id), col(TopicPending.inserted))
            .order_by(col(TopicPending.paper_id))
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not claimed:
            return 0
        ids = [paper_id for paper_id, _ in claimed]
        rows = session.execute(select(*_COLUMNS).where(col(Paper.id).in_(ids))).all()
        fresh = {paper_id for paper_id, inserted in claimed if inserted}
        count_new(session, [paper_text(r.title, r.abstract) for r in rows if r.id in fresh])
        # a deleted paper has no row: its paper_topic rows went with it (ON DELETE CASCADE)
        _write(session, rows, scorer, [t.slug for t in scorer.topics])
        session.execute(delete(TopicPending).where(col(TopicPending.paper_id).in_(ids)))
        forget_entries(session=session, ids=ids)  # their feed items changed too
        bump_generation(session)
    failpoint("after_assign_batch")
    return len(ids)


def _rescan_batch(engine: Engine, scorer: Scorer, batch: int) -> tuple[int, bool]:
    """Assign the rescanned topics to the next batch of papers; (papers read, finished)."""
    with write_session(engine) as session:
        _lock(session)
        state = _json(session, RESCAN_KEY)
        if not state or set(state["topics"]) != {t.slug for t in scorer.topics}:
            return 0, True  # finished or rescheduled by another process meanwhile
        rows = session.execute(
            select(*_COLUMNS)
            .where(col(Paper.id) > state["after"])
            .order_by(col(Paper.id))
            .limit(batch)
        ).all()
        if rows:
            _write(session, rows, scorer, list(state["topics"]))
            state["after"] = rows[-1].id
        finished = len(rows) < batch
        if finished:
            assigned = _json(session, ASSIGNED_KEY) or {}
            put_meta(session, ASSIGNED_KEY, json.dumps({**assigned, **state["topics"]}))
            session.execute(delete(Meta).where(col(Meta.key) == RESCAN_KEY))
        else:
            put_meta(session, RESCAN_KEY, json.dumps(state))
        bump_generation(session)
    failpoint("after_assign_batch")
    return len(rows), finished


def _schedule(session: Session, prints: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """Compare fingerprints with what is stored: delete the rows of topics no longer
    configured, and (re)start a rescan for new or edited topics. Returns (removed, rescan)."""
    assigned: dict[str, str] = _json(session, ASSIGNED_KEY) or {}
    state = _json(session, RESCAN_KEY) or {"topics": {}, "after": 0}
    running: dict[str, str] = state["topics"]
    removed = sorted((assigned.keys() | running.keys()) - prints.keys())
    if removed:
        session.execute(delete(PaperTopic).where(col(PaperTopic.topic).in_(removed)))
        bump_generation(session)
    stale = {s: fp for s, fp in prints.items() if fp not in (assigned.get(s), running.get(s))}
    kept = {s: fp for s, fp in running.items() if prints.get(s) == fp}
    assigned = {s: fp for s, fp in assigned.items() if prints.get(s) == fp and s not in stale}
    rescan = {**kept, **stale}
    if stale:  # restart at the first paper: simpler than a cursor per topic, and rare
        state = {"topics": rescan, "after": 0}
        if rescan.keys() == prints.keys():
            _drop_pending_covered(session)
    if removed or stale:
        put_meta(session, ASSIGNED_KEY, json.dumps(assigned))
        if rescan:
            put_meta(session, RESCAN_KEY, json.dumps(state))
        else:
            session.execute(delete(Meta).where(col(Meta.key) == RESCAN_KEY))
    return removed, rescan


def _drop_pending_covered(session: Session) -> None:
    """A rescan of every topic from the first paper will read every paper stored now: their
    pending marks are redundant (a change after this transaction marks a paper again). New
    papers keep theirs while the corpus is counted, so their terms get counted."""
    newest = session.execute(select(func.max(col(Paper.id)))).scalar_one()
    if newest is None:
        return
    query = delete(TopicPending).where(col(TopicPending.paper_id) <= newest)
    if documents(session)[0] is not None:
        query = query.where(col(TopicPending.inserted).is_(False))
    session.execute(query)


def _corpus_ready(engine: Engine, on_progress: Progress | None) -> int | None:
    """Build the corpus statistics if a like topic needs them and they are missing (one read
    pass, one write); renew the snapshot when due. Returns the papers counted by a build."""
    with read_session(engine) as session:
        live, _frozen = documents(session)
    built = None
    if live is None:
        counts: Counter[str] = Counter()
        ids: list[int] = []
        with read_session(engine) as session:
            total = int(session.execute(select(func.count()).select_from(Paper)).scalar_one())
            while page := all_paper_texts(session, after=ids[-1] if ids else 0, limit=2000):
                ids += [paper_id for paper_id, _ in page]
                counts.update(count_terms(text for _, text in page))
                if on_progress:
                    on_progress("corpus", len(ids), total)
        with write_session(engine) as session:
            if documents(session)[0] is None:  # not built by another process meanwhile
                built = build_corpus(session, counts, ids)
    with write_session(engine) as session:
        if refresh_due(session):
            refresh_snapshot(session)
    return built


def fingerprints_of(
    session: Session, topics: Sequence[Topic]
) -> tuple[dict[str, str], dict[str, str]]:
    """The topics' fingerprints, and the stored paper_text of their ``like`` examples."""
    examples = like_examples(topics)
    texts = example_texts(session, [ref for refs in examples.values() for ref in refs])
    frozen = documents(session)[1]
    prints = {
        t.slug: fingerprint(t, examples=texts_digest(texts, t.like), corpus=frozen) for t in topics
    }
    return prints, texts


def _up_to_date(session: Session, prints: Mapping[str, str]) -> bool:
    """True when every topic is assigned under these fingerprints and no other topic is."""
    return _json(session, ASSIGNED_KEY) == prints and _json(session, RESCAN_KEY) is None


def _pending_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(TopicPending)).scalar_one())


def assign_pending(
    engine: Engine,
    topics: Sequence[Topic],
    *,
    batch: int = BATCH,
    on_progress: Progress | None = None,
) -> AssignReport:
    """Assign every paper that lacks a current assignment: pending papers (new, changed,
    removed) against all topics, and every paper against topics that are new or changed since
    they were assigned. Idempotent; when nothing is pending it only reads (a few queries).
    A database error becomes a :class:`~pipeline.errors.StoreError` (what was committed stays:
    the next call goes on from there)."""
    try:
        return _assign(engine, topics, batch=batch, on_progress=on_progress)
    except SQLAlchemyError as exc:
        detail = " ".join(str(exc.orig if isinstance(exc, DBAPIError) else exc).split())
        raise StoreError(f"assigning topics: store error: {detail[:300]}") from exc


def _assign(
    engine: Engine, topics: Sequence[Topic], *, batch: int, on_progress: Progress | None
) -> AssignReport:
    failpoint("before_assign")
    corpus = _corpus_ready(engine, on_progress) if any(t.like for t in topics) else None
    with read_session(engine) as session:
        prints, _texts = fingerprints_of(session, topics)
        if _up_to_date(session, prints) and not _pending_count(session):
            return AssignReport(corpus=corpus)
    frequencies = FrozenFrequencies()
    with write_session(engine) as session:
        _lock(session)
        prints, texts = fingerprints_of(session, topics)  # again, under the lock
        removed, rescan = _schedule(session, prints)
        examples = like_examples(topics)
        found = likeness(session, examples, texts, frequencies) if examples else None
        pending_total = _pending_count(session)
    scorer = Scorer(topics, found, frequencies)
    papers = 0
    while pending_total and (done := _pending_batch(engine, scorer, batch)):
        papers += done
        if on_progress:
            on_progress("papers", papers, max(papers, pending_total))
    rescanned: tuple[str, ...] = ()
    rescan_papers = 0
    if rescan:
        subset = Scorer([t for t in topics if t.slug in rescan], found, frequencies)
        with read_session(engine) as session:
            total = int(session.execute(select(func.count()).select_from(Paper)).scalar_one())
        finished = False
        while not finished:
            done, finished = _rescan_batch(engine, subset, batch)
            rescan_papers += done
            if on_progress:
                on_progress("rescan", rescan_papers, max(rescan_papers, total))
        rescanned = tuple(sorted(rescan))
    return AssignReport(papers, rescanned, rescan_papers, tuple(removed), corpus)


def reset_assignments(engine: Engine) -> None:
    """Forget every fingerprint and the corpus statistics: the next :func:`assign_pending`
    rebuilds the statistics (if a like topic needs them) and reassigns every topic."""
    from pipeline.store.corpus import FROZEN_KEY, LIVE_KEY

    with write_session(engine) as session:
        _lock(session)
        keys = [ASSIGNED_KEY, RESCAN_KEY, LIVE_KEY, FROZEN_KEY]
        session.execute(delete(Meta).where(col(Meta.key).in_(keys)))
        bump_generation(session)


def scorer_for(session: Session, topics: Sequence[Topic]) -> Scorer:
    """A scorer as :func:`assign_pending` builds it (the ``like`` topics' examples and corpus
    snapshot from the store), for explaining and previewing; call its ``prepare`` with the
    paper_texts to score first."""
    examples = like_examples(topics)
    frequencies = FrozenFrequencies()
    found = None
    if examples:
        texts = example_texts(session, [ref for refs in examples.values() for ref in refs])
        found = likeness(session, examples, texts, frequencies)
    return Scorer(topics, found, frequencies)


def reassigning(session: Session) -> set[str]:
    """The topics being reassigned over every paper (a rules change not applied to all yet)."""
    state = _json(session, RESCAN_KEY)
    return set(state["topics"]) if state else set()


def stale_topics(session: Session, topics: Sequence[Topic]) -> list[str]:
    """The topics whose stored assignments are not those of their current rules (edited,
    new, or never assigned: the next run or `paperboy topics reassign` assigns them)."""
    prints, _texts = fingerprints_of(session, topics)
    assigned: dict[str, str] = _json(session, ASSIGNED_KEY) or {}
    return [slug for slug, fp in prints.items() if assigned.get(slug) != fp]
