"""How alike two papers read: TF-IDF cosine against example papers. Pure; no I/O.

Used by topics that name example papers (``like = [...]`` in topics.toml, see
:mod:`pipeline.topics`). The contract for the caller (the store, which holds the papers):

1. Corpus statistics. Build :class:`CorpusStats` from the stored papers:
   ``corpus_stats(paper_text(p.title, p.abstract) for p in papers)``, or keep it up to date at
   ingest: ``stats.add(paper_text(title, abstract))`` per new paper (it returns new stats), or
   persist ``documents`` and ``document_frequency`` (term -> number of papers containing it,
   terms from :func:`terms`) in a table and rebuild the dataclass from it.
2. Examples. Resolve each ``like`` reference of a topic (an arXiv id or an exact title) to a
   stored paper and give it as ``Example(ref, paper_text(title, abstract))``;
   :func:`build_index` turns a topic's examples into an :class:`ExampleIndex` once per run.
3. Candidates. ``index.nearest(paper_text(title, abstract))`` gives the cosine similarity to the
   nearest example and that example's reference (:class:`Nearest`), or None without examples.

Why TF-IDF cosine and not BM25 or embeddings: cosine lies in [0, 1] whatever the corpus size or
abstract length, so one per-topic threshold keeps its meaning as the store grows; BM25 scores
are unbounded and shift with the corpus. Embeddings need a model download. Why no scikit-learn:
its TfidfVectorizer does the same arithmetic but pulls in numpy and scipy (~100 MB, ~1 s import)
for a few hundred dot products of sparse dicts per run, which take milliseconds here.
The ``ai_keywords`` are left out of the text on purpose: the API omits them on some days
(2026-07-13 ... 2026-08-11 in shared/hf-api), and similarity must not depend on which day a
paper was listed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Words that carry no subject. Kept short on purpose: IDF already weighs down frequent words
# ("model", "method"); the list only drops function words and abstract boilerplate.
STOPWORDS = frozenset(
    """a about above across after again against all also am an and any are as at be because
    been before being below between both but by can could did do does doing done down during
    each either etc few for from further had has have having he her here hers him his how i if
    in into is it its itself just may me might more most much must my no nor not now of off on
    once only or other our ours out over own per same she should so some such than that the
    their theirs them then there these they this those through thus to too under until up upon
    us very via was we were what when where whether which while who whom why will with within
    without would yet you your paper propose proposed present introduce show shows demonstrate
    based using use used new novel approach method methods result results work""".split()
)
_WORD = re.compile(r"[a-z][a-z0-9]+")
# The title is the densest statement of a paper's subject: it counts this many times.
TITLE_REPEAT = 2


@dataclass(frozen=True)
class CorpusStats:
    """Document frequencies of :func:`terms` over a corpus of paper texts."""

    documents: int = 0
    document_frequency: Mapping[str, int] = field(default_factory=dict)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; an unseen term gets the largest weight."""
        df = self.document_frequency.get(term, 0)
        return math.log((1 + self.documents) / (1 + df)) + 1.0

    def add(self, text: str) -> CorpusStats:
        """These statistics with one more document (returns a new value)."""
        counts = Counter(self.document_frequency)
        counts.update(set(terms(text)))
        return CorpusStats(self.documents + 1, dict(counts))


@dataclass(frozen=True)
class Example:
    """An example paper of a topic: the reference the topic gives and the paper's text."""

    ref: str  # as written in ``like`` (an arXiv id or a title)
    text: str  # paper_text(title, abstract)


@dataclass(frozen=True)
class Nearest:
    """The example a candidate is most similar to, and the cosine similarity (0..1)."""

    ref: str
    score: float


def _stem(word: str) -> str:
    # Plural folding only ("agents" -> "agent", "policies" -> "policy"): a full stemmer would
    # merge words of different subjects ("generative"/"generation" are fine apart anyway).
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Lowercase word terms of ``text`` (stopwords and bare numbers dropped, plurals folded)."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is compared by: its title (weighted) and abstract."""
    return "\n".join([title] * TITLE_REPEAT + [abstract])


def corpus_stats(texts: Iterable[str]) -> CorpusStats:
    """Document frequencies over ``texts`` (one text per paper, from :func:`paper_text`)."""
    counts: Counter[str] = Counter()
    documents = 0
    for text in texts:
        documents += 1
        counts.update(set(terms(text)))
    return CorpusStats(documents, dict(counts))


def vectorize(text: str, stats: CorpusStats) -> dict[str, float]:
    """Unit-length TF-IDF vector of ``text`` (sublinear term frequency)."""
    weights = {
        term: (1.0 + math.log(count)) * stats.idf(term)
        for term, count in Counter(terms(text)).items()
    }
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {term: w / norm for term, w in weights.items()} if norm else {}


def cosine(left: Mapping[str, float], right: Mapping[str, float]) -> float:
    """Dot product of two unit vectors (iterates over the shorter one)."""
    if len(left) > len(right):
        left, right = right, left
    return sum(weight * right.get(term, 0.0) for term, weight in left.items())


@dataclass(frozen=True)
class ExampleIndex:
    """A topic's example papers as vectors under fixed corpus statistics."""

    stats: CorpusStats
    refs: tuple[str, ...]
    vectors: tuple[Mapping[str, float], ...]

    def nearest(self, text: str) -> Nearest | None:
        """The example most similar to ``text`` (ties: the first listed), or None if empty."""
        if not self.refs:
            return None
        candidate = vectorize(text, self.stats)
        scores = [cosine(candidate, vector) for vector in self.vectors]
        best = max(range(len(scores)), key=scores.__getitem__)
        return Nearest(self.refs[best], round(scores[best], 4))


def build_index(examples: Sequence[Example], stats: CorpusStats) -> ExampleIndex:
    """Vectorize a topic's examples once, for many :meth:`ExampleIndex.nearest` calls."""
    return ExampleIndex(
        stats=stats,
        refs=tuple(e.ref for e in examples),
        vectors=tuple(vectorize(e.text, stats) for e in examples),
    )


@dataclass(frozen=True)
class Likeness:
    """What ``like`` topics are scored with: an example index per topic slug."""

    indexes: Mapping[str, ExampleIndex] = field(default_factory=dict)

    def nearest(self, slug: str, text: str) -> Nearest | None:
        """The nearest example of topic ``slug`` to ``text``, or None without examples."""
        index = self.indexes.get(slug)
        return index.nearest(text) if index is not None else None


def build_likeness(
    examples: Mapping[str, Sequence[str]], *, stats: CorpusStats, texts: Mapping[str, str]
) -> Likeness:
    """Example indexes per topic slug. ``examples`` maps a slug to its ``like`` references
    (:func:`pipeline.topics.like_examples`); ``texts`` maps a reference to the stored paper's
    :func:`paper_text`. References ``texts`` lacks (papers not stored yet) are left out."""
    return Likeness(
        {
            slug: build_index([Example(ref, texts[ref]) for ref in refs if ref in texts], stats)
            for slug, refs in examples.items()
        }
    )


def missing_examples(
    examples: Mapping[str, Sequence[str]], texts: Mapping[str, str]
) -> dict[str, list[str]]:
    """The references ``texts`` cannot resolve, by topic slug (for a warning)."""
    missing = {slug: [ref for ref in refs if ref not in texts] for slug, refs in examples.items()}
    return {slug: refs for slug, refs in missing.items() if refs}
