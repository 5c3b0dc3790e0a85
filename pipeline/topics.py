"""Topic rules and topic assignment. Pure (``load_topics`` reads one TOML file at the edge).

A topic has include rules (phrases, optionally regexes) and exclude rules. Each include rule
that matches adds its weight once, for the best field it matches: ``title_weight`` in the
title, else the larger of ``keywords_weight`` in the source's keywords (Hugging Face
``ai_keywords``) and ``abstract_weight`` per occurrence in the abstract (up to ``max_repeats``
occurrences). A paper belongs to a topic when its score reaches the topic's threshold and no
exclude rule matches (title or abstract; keywords never veto). Phrases match on word
boundaries, any case, with spaces and hyphens interchangeable ("long context" matches
"Long-Context"); a word may end in ``*`` to match any ending ("agent*" matches "agentic"), and
``|`` separates alternatives of one rule ("supervised fine-tuning | SFT" counts once).
``include_title``/``exclude_title`` rules look at the title only, ``include_abstract`` rules at
the abstract and keywords only. A ``[defaults]`` table sets weights and thresholds for every
topic. docs/topics.md documents the shipped taxonomy and how it was measured.

A topic may also name example papers (``like``: arXiv ids or exact titles). A paper whose
TF-IDF cosine similarity to the nearest example reaches ``like_threshold`` joins the topic even
when no rule matches. The caller resolves the examples and passes them in as a
:class:`~pipeline.similarity.Likeness` (contract in :mod:`pipeline.similarity`); without one,
topics select by rules only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.config import read_toml
from pipeline.errors import ConfigError
from pipeline.identity import clean_text, normalize_arxiv_id
from pipeline.similarity import Likeness, Nearest, paper_text

TITLE_WEIGHT = 3.0
ABSTRACT_WEIGHT = 1.0
# Calibrated on 82 real days (docs/topics.md, "Topics by example"): papers on the subject of the
# examples score 0.15-0.30, while 99% of all papers stay under 0.11-0.16; from 0.18 up, every
# paper of five example sets was on the subject (precision first; lower it per topic for recall).
LIKE_THRESHOLD = 0.18
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Keys a [defaults] table may set for every topic (a topic's own value wins).
_DEFAULT_KEYS = {
    "threshold",
    "title_weight",
    "abstract_weight",
    "keywords_weight",
    "like_threshold",
    "max_repeats",
}
_TOPIC_KEYS = {
    "slug",
    "title",
    "description",
    "include",
    "include_regex",
    "include_title",
    "include_title_regex",
    "include_abstract",
    "exclude",
    "exclude_regex",
    "exclude_title",
    "like",
} | _DEFAULT_KEYS
# Looks like someone meant an arXiv id (then it must be a valid one), not a title.
_ID_LIKE = re.compile(r"^(arxiv:)?\d{4}\.\d+(v\d+)?$|^https?://", re.IGNORECASE)
# "a*" would match nearly every word: a wildcard needs a real stem.
_MIN_STEM = 3
RESERVED_SLUGS = ("all",)  # "all" is the feed of every paper
Scope = Literal["any", "title", "abstract"]


@dataclass(frozen=True)
class Rule:
    """One include/exclude rule: its text as written and its compiled pattern."""

    text: str
    pattern: re.Pattern[str]
    # Lowercase ASCII words, one per alternative of a phrase, checked with ``in`` on
    # fold_for_needle(text) before the regex runs: every match contains one of them, so this is
    # a cheap pre-filter (feeds score 50 topics x many papers). Empty: no pre-filter.
    needles: tuple[str, ...] = ()
    # Where the rule looks: "any" field, the "title" only (include_title*, exclude_title) or the
    # "abstract" and keywords only (include_abstract).
    scope: Scope = "any"

    @property
    def needle(self) -> str | None:
        """The pre-filter word of a one-alternative phrase, else None."""
        return self.needles[0] if len(self.needles) == 1 else None

    def search(self, text: str, folded: str) -> bool:
        """True when the rule matches ``text`` (``folded`` = fold_for_needle(text))."""
        if self.needles and not any(needle in folded for needle in self.needles):
            return False
        return self.pattern.search(text) is not None

    def count(self, text: str, folded: str, limit: int) -> int:
        """How many times the rule matches ``text``, counting at most ``limit``."""
        if not self.search(text, folded):
            return 0
        if limit == 1:
            return 1
        return min(limit, sum(1 for _ in self.pattern.finditer(text)))


# Characters that re.IGNORECASE matches to an ASCII letter but str.lower() does not map to it
# (checked over every code point), so the needle pre-filter never rejects a real match.
_NEEDLE_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})


def fold_for_needle(text: str) -> str:
    """Lowercased text for the needle pre-filter."""
    return text.translate(_NEEDLE_FOLD).lower()


def _phrase_words(phrase: str) -> list[str]:
    return [word for word in re.split(r"[\s\-]+", phrase.strip()) if word]


def _alternatives(phrase: str) -> list[str]:
    # "supervised fine-tuning | SFT": one rule (one concept) that any alternative matches
    return [alternative.strip() for alternative in phrase.split("|")]


def _needles(phrase: str) -> tuple[str, ...]:
    # A wildcard word's stem is in every match too ("agent*" -> "agent" is in "agentic").
    needles = []
    for alternative in _alternatives(phrase):
        stems = (w.removesuffix("*") for w in _phrase_words(alternative))
        words = [w for w in stems if w.isascii() and w.isalnum()]
        if not words:
            return ()  # an alternative without a usable word: no pre-filter at all
        needles.append(max(words, key=len).lower())
    return tuple(needles)


@dataclass(frozen=True)
class Topic:
    """A topic and its rules."""

    slug: str
    title: str
    description: str
    include: tuple[Rule, ...]
    exclude: tuple[Rule, ...]
    threshold: float = TITLE_WEIGHT
    title_weight: float = TITLE_WEIGHT
    abstract_weight: float = ABSTRACT_WEIGHT
    keywords_weight: float = ABSTRACT_WEIGHT
    max_repeats: int = 1  # an abstract phrase found n times scores n x abstract_weight, n <= this
    like: tuple[str, ...] = ()  # example papers: normalised arXiv ids or cleaned titles
    like_threshold: float = LIKE_THRESHOLD


@dataclass(frozen=True)
class RuleMatch:
    """An include rule that matched, where, and what it scored.

    For a ``like`` topic one extra entry names the nearest example: rule ``"like <ref>"``,
    field ``"similarity"`` and score the cosine similarity (not added to the rule score).
    """

    rule: str
    field: str  # "title", "abstract", "keywords" or "similarity"
    score: float
    count: int = 1  # abstract occurrences counted (up to the topic's max_repeats)


@dataclass(frozen=True)
class TopicScore:
    """How a paper scores against one topic."""

    slug: str
    score: float  # the sum of the include rules that matched (similarity not included)
    matches: tuple[RuleMatch, ...]
    excluded_by: str | None
    selected: bool
    nearest: Nearest | None = None  # for a like topic given a Likeness


def _phrase_body(phrase: str) -> str:
    words = _phrase_words(phrase)
    if not words:
        raise ValueError("empty phrase")
    parts = []
    for word in words:
        stem = word.removesuffix("*")
        if "*" in stem:
            raise ValueError(f"'*' may only end a word, in {phrase!r}")
        if stem != word and len(stem) < _MIN_STEM:
            raise ValueError(f"'*' needs at least {_MIN_STEM} characters before it, in {phrase!r}")
        parts.append(re.escape(stem) + (r"\w*" if stem != word else ""))
    return r"[\s\-]+".join(parts)


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A case-insensitive, word-bounded pattern; spaces/hyphens in the phrase match either.

    A word ending in ``*`` matches that stem with any ending ("agent*": "agents", "agentic").
    Alternatives separated by ``|`` make one rule ("supervised fine-tuning | SFT"), so a term
    and its abbreviation count once.
    """
    bodies = "|".join(_phrase_body(alternative) for alternative in _alternatives(phrase))
    return re.compile(r"(?<!\w)(?:" + bodies + r")(?!\w)", re.IGNORECASE)


def _rules(
    topic: dict[str, Any], key: str, *, regex: bool, where: str, scope: Scope = "any"
) -> tuple[Rule, ...]:
    values = topic.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{key} must be a list of non-empty strings", path=where)
    rules = []
    for value in values:
        try:
            pattern = re.compile(value, re.IGNORECASE) if regex else phrase_pattern(value)
        except re.error as exc:
            raise ConfigError(f"{key}: invalid regex {value!r}: {exc}", path=where) from exc
        except ValueError as exc:
            raise ConfigError(f"{key}: invalid phrase {value!r}: {exc}", path=where) from exc
        needles = () if regex else _needles(value)
        rules.append(Rule(value, pattern, needles=needles, scope=scope))
    return tuple(rules)


def _number(topic: Mapping[str, Any], key: str, default: float, *, where: str) -> float:
    value = topic.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key} must be a number >= 0, got {value!r}", path=where)
    return float(value)


def _repeats(table: Mapping[str, Any], *, where: str) -> int:
    value = table.get("max_repeats", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"max_repeats must be a whole number >= 1, got {value!r}", path=where)
    return value


def _like_ref(value: Any, *, where: str) -> str:
    if not isinstance(value, str) or not clean_text(value):
        raise ConfigError(
            f"like must list arXiv ids or paper titles, got {value!r}", path=where, key="like"
        )
    text = clean_text(value)
    arxiv_id = normalize_arxiv_id(text)
    if arxiv_id is not None:
        return arxiv_id
    if _ID_LIKE.match(text):
        raise ConfigError(f"{value!r} is not a valid arXiv id", path=where, key="like")
    if not any(c.isalnum() for c in text):
        raise ConfigError(f"{value!r} is neither an arXiv id nor a title", path=where, key="like")
    return text


def _like(table: Mapping[str, Any], *, where: str) -> tuple[str, ...]:
    values = table.get("like", [])
    if not isinstance(values, list):
        raise ConfigError("like must be a list of arXiv ids or paper titles", path=where)
    refs = [_like_ref(value, where=where) for value in values]
    repeated = sorted({ref for ref in refs if refs.count(ref) > 1})
    if repeated:
        raise ConfigError(f"examples listed twice: {repeated}", path=where, key="like")
    return tuple(refs)


def _like_threshold(table: Mapping[str, Any], default: float, *, where: str) -> float:
    value = _number(table, "like_threshold", default, where=where)
    if not 0 < value <= 1:
        raise ConfigError(
            f"like_threshold must be a cosine similarity in (0, 1], got {value!r}", path=where
        )
    return value


def _where(table: Mapping[str, Any], origin: str, index: int) -> str:
    slug = table.get("slug")
    return f"{origin}: topic {slug!r}" if isinstance(slug, str) else f"{origin}: topics[{index}]"


def topic_from_table(
    table: Any, *, origin: str, index: int, defaults: Mapping[str, Any] | None = None
) -> Topic:
    """Validate one ``[[topics]]`` table; errors name the file and the topic."""
    if not isinstance(table, dict):
        raise ConfigError(f"topics[{index}] must be a table", path=origin)
    where, slug = _where(table, origin, index), table.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ConfigError(
            "slug must be lowercase letters, digits and '-' (and not 'all')", path=where
        )
    unknown = set(table) - _TOPIC_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", path=where)
    include = (
        _rules(table, "include", regex=False, where=where)
        + _rules(table, "include_regex", regex=True, where=where)
        + _rules(table, "include_title", regex=False, where=where, scope="title")
        + _rules(table, "include_title_regex", regex=True, where=where, scope="title")
        + _rules(table, "include_abstract", regex=False, where=where, scope="abstract")
    )
    like = _like(table, where=where)
    if not include and not like:
        raise ConfigError("needs at least one include*, include_title* or like entry", path=where)
    title = table.get("title", slug)
    description = table.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        raise ConfigError("title and description must be strings", path=where)
    merged = {**(defaults or {}), **table}
    abstract_weight = _number(merged, "abstract_weight", ABSTRACT_WEIGHT, where=where)
    return Topic(
        slug=slug,
        title=title,
        description=description,
        include=include,
        exclude=_rules(table, "exclude", regex=False, where=where)
        + _rules(table, "exclude_regex", regex=True, where=where)
        + _rules(table, "exclude_title", regex=False, where=where, scope="title"),
        threshold=_number(merged, "threshold", TITLE_WEIGHT, where=where),
        title_weight=_number(merged, "title_weight", TITLE_WEIGHT, where=where),
        abstract_weight=abstract_weight,
        # keywords weighed like the abstract before keywords_weight existed: keep that default
        keywords_weight=_number(merged, "keywords_weight", abstract_weight, where=where),
        max_repeats=_repeats(merged, where=where),
        like=like,
        like_threshold=_like_threshold(merged, LIKE_THRESHOLD, where=where),
    )


def _defaults(data: Mapping[str, Any], *, origin: str) -> dict[str, Any]:
    defaults = data.get("defaults", {})
    where = f"{origin}: [defaults]"
    if not isinstance(defaults, dict):
        raise ConfigError("defaults must be a table", path=where)
    unknown = set(defaults) - _DEFAULT_KEYS
    if unknown:
        raise ConfigError(
            f"unknown keys {sorted(unknown)} (known: {sorted(_DEFAULT_KEYS)})", path=where
        )
    for key in defaults.keys() - {"max_repeats"}:  # reported once, against [defaults]
        _number(defaults, key, 0.0, where=where)
    _repeats(defaults, where=where)
    if "like_threshold" in defaults:
        _like_threshold(defaults, LIKE_THRESHOLD, where=where)
    return dict(defaults)


def parse_topics(data: dict[str, Any], *, origin: str) -> tuple[Topic, ...]:
    """Topics from parsed TOML (``[[topics]]`` tables, optional ``[defaults]``). Unique slugs."""
    tables = data.get("topics", [])
    if not isinstance(tables, list):
        raise ConfigError("expected [[topics]] tables", path=origin)
    defaults = _defaults(data, origin=origin)
    topics = tuple(
        topic_from_table(t, origin=origin, index=i, defaults=defaults) for i, t in enumerate(tables)
    )
    slugs = [t.slug for t in topics]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ConfigError(f"duplicate topic slugs {duplicates}", path=origin)
    return topics


def load_topics(path: Path) -> tuple[Topic, ...]:
    """Read and validate a topics file."""
    return parse_topics(read_toml(path, what="topics file"), origin=str(path))


def like_examples(topics: Sequence[Topic]) -> dict[str, tuple[str, ...]]:
    """The ``like`` references of the topics that have some, by slug (for build_likeness)."""
    return {topic.slug: topic.like for topic in topics if topic.like}


_Field = tuple[str, str, str]  # name, text, fold_for_needle(text)


def _fields(title: str, abstract: str, keywords: Sequence[str]) -> list[_Field]:
    keyword_text = " | ".join(keywords)
    return [
        ("title", title, fold_for_needle(title)),
        ("abstract", abstract, fold_for_needle(abstract)),
        ("keywords", keyword_text, fold_for_needle(keyword_text)),
    ]


def _match(rule: Rule, topic: Topic, fields: Sequence[_Field]) -> RuleMatch | None:
    """Where the rule scores best: the title if it matches there, else the better of the
    abstract (weight x occurrences, up to max_repeats) and the keywords (ties: abstract)."""
    (_, title, folded_title), (_, abstract, folded_abstract), (_, words, folded_words) = fields
    if rule.scope != "abstract" and rule.search(title, folded_title):
        return RuleMatch(rule.text, "title", topic.title_weight)
    if rule.scope == "title":
        return None
    count = rule.count(abstract, folded_abstract, topic.max_repeats)
    in_abstract = RuleMatch(rule.text, "abstract", topic.abstract_weight * count, count)
    if words and topic.keywords_weight > in_abstract.score and rule.search(words, folded_words):
        return RuleMatch(rule.text, "keywords", topic.keywords_weight)
    return in_abstract if count else None


def _excluded_by(topic: Topic, fields: Sequence[_Field]) -> str | None:
    """The first exclude rule found in the title or the abstract (keywords never veto;
    exclude_title rules look at the title only)."""
    (_, title, folded_title), (_, abstract, folded_abstract) = fields[:2]
    for rule in topic.exclude:
        if rule.search(title, folded_title) or (
            rule.scope == "any" and rule.search(abstract, folded_abstract)
        ):
            return rule.text
    return None


def _nearest(topic: Topic, likeness: Likeness | None, title: str, abstract: str) -> Nearest | None:
    if likeness is None or not topic.like:
        return None
    return likeness.nearest(topic.slug, paper_text(title, abstract))


def score_topic(
    topic: Topic,
    *,
    title: str,
    abstract: str,
    keywords: Sequence[str] = (),
    likeness: Likeness | None = None,
) -> TopicScore:
    """Score one paper's text against one topic, keeping which rules matched (for explain)."""
    fields = _fields(title, abstract, keywords)
    matches = [m for m in (_match(r, topic, fields) for r in topic.include) if m is not None]
    score = sum(m.score for m in matches)
    by_rules = bool(matches) and score >= topic.threshold
    nearest = _nearest(topic, likeness, title, abstract)
    if nearest is not None:
        matches.append(RuleMatch(f"like {nearest.ref}", "similarity", nearest.score))
    by_example = nearest is not None and nearest.score >= topic.like_threshold
    excluded_by = _excluded_by(topic, fields)
    return TopicScore(
        slug=topic.slug,
        score=score,
        matches=tuple(matches),
        excluded_by=excluded_by,
        selected=(by_rules or by_example) and excluded_by is None,
        nearest=nearest,
    )


def assign_topics(
    topics: Sequence[Topic],
    *,
    title: str,
    abstract: str,
    keywords: Sequence[str] = (),
    likeness: Likeness | None = None,
) -> tuple[str, ...]:
    """Slugs of the topics a paper belongs to, in the order topics are configured."""
    return tuple(
        topic.slug
        for topic in topics
        if score_topic(
            topic, title=title, abstract=abstract, keywords=keywords, likeness=likeness
        ).selected
    )


def topics_file(configured: Path | None) -> Path:
    """The configured topics file, else the shipped ``config/topics.toml``."""
    if configured is not None:
        return configured
    from pipeline.resources import resource_path

    return resource_path("config/topics.toml")
