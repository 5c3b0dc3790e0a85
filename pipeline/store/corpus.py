"""Corpus statistics and example papers for ``like`` topics (the contract of
:mod:`pipeline.similarity`). I/O edge: a database ``Session``.

Document frequencies live in ``corpus_term``: ``papers`` counts, per term, the stored papers
whose :func:`~pipeline.similarity.paper_text` contains it, kept up to date as new papers are
assigned; ``frozen`` is a snapshot of it, and that snapshot is what topics are scored with.
Why a snapshot: a paper's similarity is computed once, when it is assigned, and must not
depend on the day that happened; with one snapshot every paper is scored under the same
statistics, so ``paperboy topics explain`` recomputes exactly the stored verdict. The snapshot
is renewed when the corpus has grown by half (:data:`REFRESH_GROWTH`), which changes the
fingerprint of every ``like`` topic and so reassigns them (about log1.5(N) times in a store's
life: 17 times on the way to 1M papers).

Why persisted at all: counting terms costs ~170 us a paper (measured on the 1,723 papers of the
saved API days), 3 minutes for 1M papers on every run; reading the terms a batch needs from the
table costs milliseconds (docs/benchmarks.md). The table is built once, when a ``like`` topic
first needs it, and then only grows with new papers (text changes of stored papers and removed
papers are not subtracted: a document frequency off by one in a large corpus moves no cosine
measurably; ``paperboy topics reassign --full`` rebuilds it).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from pipeline.similarity import CorpusStats, Likeness, build_likeness, paper_text, terms
from pipeline.store.engine import insert_for
from pipeline.store.meta import get_meta
from pipeline.store.papers import CHUNK, select_paper
from pipeline.store.tables import CorpusTerm, Meta, Paper, TopicPending

LIVE_KEY = "corpus_documents"  # papers counted in corpus_term.papers (absent: not built yet)
FROZEN_KEY = "corpus_frozen_documents"  # papers counted in the snapshot, corpus_term.frozen
REFRESH_GROWTH = 1.5  # renew the snapshot when the corpus has grown by half since
TERM_CHARS = 64  # longer "terms" (glued URLs, identifiers) are not counted, so never found


def put_meta(session: Session, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing what was there (meta.ensure_meta never does)."""
    stmt = insert_for(session, Meta).values(key=key, value=value)
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def count_terms(texts: Iterable[str]) -> Counter[str]:
    """Document frequencies of ``texts`` (each term once per text; over-long terms left out)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(term for term in set(terms(text)) if len(term) <= TERM_CHARS)
    return counts


def _add_counts(session: Session, counts: Mapping[str, int], *, frozen: bool) -> None:
    rows = [{"term": t, "papers": n, "frozen": n if frozen else 0} for t, n in counts.items()]
    stmt = insert_for(session, CorpusTerm)
    stmt = stmt.on_conflict_do_update(
        index_elements=["term"], set_={"papers": col(CorpusTerm.papers) + stmt.excluded.papers}
    )
    for start in range(0, len(rows), CHUNK):
        session.execute(stmt, rows[start : start + CHUNK])


def documents(session: Session) -> tuple[int | None, int]:
    """Papers counted live (None: the table is not built) and in the snapshot."""
    live, frozen = (
        get_meta(session=session, key=LIVE_KEY),
        get_meta(session=session, key=FROZEN_KEY),
    )
    return (int(live) if live is not None else None), int(frozen or 0)


def build_corpus(session: Session, counts: Mapping[str, int], ids: Sequence[int]) -> int:
    """Store ``counts`` (of the papers ``ids``, counted beforehand) as the live counts and the
    snapshot, and clear those papers' new-paper marks; returns how many papers."""
    session.execute(delete(CorpusTerm))
    _add_counts(session, counts, frozen=True)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(
            update(TopicPending).where(col(TopicPending.paper_id).in_(chunk)).values(inserted=False)
        )
    put_meta(session, LIVE_KEY, str(len(ids)))
    put_meta(session, FROZEN_KEY, str(len(ids)))
    return len(ids)


def count_new(session: Session, texts: Sequence[str]) -> None:
    """Add new papers' terms to the live counts (the snapshot is left alone)."""
    live, _frozen = documents(session)
    if live is None or not texts:
        return
    _add_counts(session, count_terms(texts), frozen=False)
    put_meta(session, LIVE_KEY, str(live + len(texts)))


def refresh_due(session: Session) -> bool:
    """True when the corpus has grown enough since the snapshot to renew it."""
    live, frozen = documents(session)
    return live is not None and live > 0 and live >= frozen * REFRESH_GROWTH


def refresh_snapshot(session: Session) -> None:
    """Make the live counts the snapshot."""
    live, _frozen = documents(session)
    session.execute(update(CorpusTerm).values(frozen=col(CorpusTerm.papers)))
    put_meta(session, FROZEN_KEY, str(live or 0))


@dataclass
class FrozenFrequencies:
    """Snapshot document frequencies, read from the table as terms are needed and kept for the
    run (a Mapping for :class:`~pipeline.similarity.CorpusStats`)."""

    cache: dict[str, int] = field(default_factory=dict)

    def prefetch(self, session: Session, texts: Iterable[str]) -> None:
        """Read the snapshot counts of every term of ``texts`` not read yet."""
        wanted = sorted({t for text in texts for t in terms(text)} - self.cache.keys())
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = session.execute(
                select(col(CorpusTerm.term), col(CorpusTerm.frozen)).where(
                    col(CorpusTerm.term).in_(chunk), col(CorpusTerm.frozen) > 0
                )
            )
            self.cache.update({term: int(n) for term, n in rows})
            self.cache.update({term: 0 for term in chunk if term not in self.cache})


def example_texts(session: Session, refs: Iterable[str]) -> dict[str, str]:
    """The paper_text of each ``like`` reference stored (an arXiv id or an exact title)."""
    found = {}
    for ref in sorted(set(refs)):
        paper = select_paper(session=session, ref=ref)
        if paper is not None:
            found[ref] = paper_text(paper.title, paper.abstract)
    return found


def texts_digest(texts: Mapping[str, str], refs: Sequence[str]) -> str:
    """A short digest of a topic's resolved examples (a missing one counts as missing)."""
    data = json.dumps([[ref, texts.get(ref)] for ref in refs], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def likeness(
    session: Session,
    examples: Mapping[str, Sequence[str]],
    texts: Mapping[str, str],
    frequencies: FrozenFrequencies,
) -> Likeness:
    """The example indexes of the ``like`` topics under the snapshot statistics."""
    frequencies.prefetch(session, texts.values())
    _live, frozen = documents(session)
    stats = CorpusStats(frozen, frequencies.cache)
    return build_likeness(examples, stats=stats, texts=texts)


def all_paper_texts(session: Session, *, after: int, limit: int) -> list[tuple[int, str]]:
    """A page of (paper id, paper_text) in id order, to count for :func:`build_corpus`."""
    rows = session.execute(
        select(col(Paper.id), col(Paper.title), col(Paper.abstract))
        .where(col(Paper.id) > after)
        .order_by(col(Paper.id))
        .limit(limit)
    )
    return [(int(i), paper_text(title, abstract)) for i, title, abstract in rows]


def paper_count(session: Session) -> int:
    """How many papers the store holds."""
    return int(session.execute(select(func.count()).select_from(Paper)).scalar_one())
