"""Topic rules and topic assignment. Pure (``load_topics`` reads one TOML file at the edge).

A topic has include rules (phrases, optionally regexes) and exclude rules. Each include rule
that matches adds its weight: ``title_weight`` when it matches the title, ``abstract_weight``
when it matches only the abstract or the source's keywords. A paper belongs to a topic when its
score reaches the topic's threshold and no exclude rule matches. Phrases match on word
boundaries, any case, with spaces and hyphens interchangeable ("long context" matches
"Long-Context").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import read_toml
from pipeline.errors import ConfigError

TITLE_WEIGHT = 3.0
ABSTRACT_WEIGHT = 1.0
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TOPIC_KEYS = {
    "slug",
    "title",
    "description",
    "include",
    "include_regex",
    "exclude",
    "exclude_regex",
    "threshold",
    "title_weight",
    "abstract_weight",
}
RESERVED_SLUGS = ("all",)  # "all" is the feed of every paper


@dataclass(frozen=True)
class Rule:
    """One include/exclude rule: its text as written and its compiled pattern."""

    text: str
    pattern: re.Pattern[str]
    # A lowercase ASCII word every match contains, checked with ``in`` on fold_for_needle(text)
    # before the regex runs: a cheap pre-filter (feeds score 50 topics x many papers).
    needle: str | None = None

    def search(self, text: str, folded: str) -> bool:
        """True when the rule matches ``text`` (``folded`` = fold_for_needle(text))."""
        if self.needle is not None and self.needle not in folded:
            return False
        return self.pattern.search(text) is not None


# Characters that re.IGNORECASE matches to an ASCII letter but str.lower() does not map to it
# (checked over every code point), so the needle pre-filter never rejects a real match.
_NEEDLE_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})


def fold_for_needle(text: str) -> str:
    """Lowercased text for the needle pre-filter."""
    return text.translate(_NEEDLE_FOLD).lower()


def _needle(phrase: str) -> str | None:
    words = [w for w in re.split(r"[\s\-]+", phrase.strip()) if w.isascii() and w.isalnum()]
    return max(words, key=len).lower() if words else None


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


@dataclass(frozen=True)
class RuleMatch:
    """An include rule that matched, where, and what it scored."""

    rule: str
    field: str  # "title", "abstract" or "keywords"
    score: float


@dataclass(frozen=True)
class TopicScore:
    """How a paper scores against one topic."""

    slug: str
    score: float
    matches: tuple[RuleMatch, ...]
    excluded_by: str | None
    selected: bool


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A case-insensitive, word-bounded pattern; spaces/hyphens in the phrase match either."""
    words = [re.escape(word) for word in re.split(r"[\s\-]+", phrase.strip()) if word]
    if not words:
        raise ValueError("empty phrase")
    return re.compile(r"(?<!\w)" + r"[\s\-]+".join(words) + r"(?!\w)", re.IGNORECASE)


def _rules(topic: dict[str, Any], key: str, *, regex: bool, where: str) -> tuple[Rule, ...]:
    values = topic.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{key} must be a list of non-empty strings", path=where)
    rules = []
    for value in values:
        try:
            pattern = re.compile(value, re.IGNORECASE) if regex else phrase_pattern(value)
        except re.error as exc:
            raise ConfigError(f"{key}: invalid regex {value!r}: {exc}", path=where) from exc
        rules.append(Rule(text=value, pattern=pattern, needle=None if regex else _needle(value)))
    return tuple(rules)


def _number(topic: dict[str, Any], key: str, default: float, *, where: str) -> float:
    value = topic.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key} must be a number >= 0, got {value!r}", path=where)
    return float(value)


def topic_from_table(table: Any, *, origin: str, index: int) -> Topic:
    """Validate one ``[[topics]]`` table; errors name the file and the topic."""
    if not isinstance(table, dict):
        raise ConfigError(f"topics[{index}] must be a table", path=origin)
    slug = table.get("slug")
    where = f"{origin}: topic {slug!r}" if isinstance(slug, str) else f"{origin}: topics[{index}]"
    if not isinstance(slug, str) or not _SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ConfigError(
            "slug must be lowercase letters, digits and '-' (and not 'all')", path=where
        )
    unknown = set(table) - _TOPIC_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", path=where)
    include = _rules(table, "include", regex=False, where=where) + _rules(
        table, "include_regex", regex=True, where=where
    )
    if not include:
        raise ConfigError("needs at least one include or include_regex rule", path=where)
    title = table.get("title", slug)
    description = table.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        raise ConfigError("title and description must be strings", path=where)
    return Topic(
        slug=slug,
        title=title,
        description=description,
        include=include,
        exclude=_rules(table, "exclude", regex=False, where=where)
        + _rules(table, "exclude_regex", regex=True, where=where),
        threshold=_number(table, "threshold", TITLE_WEIGHT, where=where),
        title_weight=_number(table, "title_weight", TITLE_WEIGHT, where=where),
        abstract_weight=_number(table, "abstract_weight", ABSTRACT_WEIGHT, where=where),
    )


def parse_topics(data: dict[str, Any], *, origin: str) -> tuple[Topic, ...]:
    """Topics from parsed TOML (``[[topics]]`` tables). Slugs must be unique."""
    tables = data.get("topics", [])
    if not isinstance(tables, list):
        raise ConfigError("expected [[topics]] tables", path=origin)
    topics = tuple(topic_from_table(t, origin=origin, index=i) for i, t in enumerate(tables))
    slugs = [t.slug for t in topics]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ConfigError(f"duplicate topic slugs {duplicates}", path=origin)
    return topics


def load_topics(path: Path) -> tuple[Topic, ...]:
    """Read and validate a topics file."""
    return parse_topics(read_toml(path, what="topics file"), origin=str(path))


def score_topic(
    topic: Topic, *, title: str, abstract: str, keywords: Sequence[str] = ()
) -> TopicScore:
    """Score one paper's text against one topic, keeping which rules matched (for explain)."""
    keyword_text = " | ".join(keywords)
    folded_title, folded_abstract = fold_for_needle(title), fold_for_needle(abstract)
    folded_keywords = fold_for_needle(keyword_text)
    matches = []
    for rule in topic.include:
        if rule.search(title, folded_title):
            matches.append(RuleMatch(rule.text, "title", topic.title_weight))
        elif rule.search(abstract, folded_abstract):
            matches.append(RuleMatch(rule.text, "abstract", topic.abstract_weight))
        elif keyword_text and rule.search(keyword_text, folded_keywords):
            matches.append(RuleMatch(rule.text, "keywords", topic.abstract_weight))
    excluded_by = next(
        (
            r.text
            for r in topic.exclude
            if r.search(title, folded_title) or r.search(abstract, folded_abstract)
        ),
        None,
    )
    score = sum(m.score for m in matches)
    return TopicScore(
        slug=topic.slug,
        score=score,
        matches=tuple(matches),
        excluded_by=excluded_by,
        selected=bool(matches) and score >= topic.threshold and excluded_by is None,
    )


def assign_topics(
    topics: Sequence[Topic], *, title: str, abstract: str, keywords: Sequence[str] = ()
) -> tuple[str, ...]:
    """Slugs of the topics a paper belongs to, in the order topics are configured."""
    return tuple(
        topic.slug
        for topic in topics
        if score_topic(topic, title=title, abstract=abstract, keywords=keywords).selected
    )


def topics_file(configured: Path | None) -> Path:
    """The configured topics file, else the shipped ``config/topics.toml``."""
    if configured is not None:
        return configured
    from pipeline.resources import resource_path

    return resource_path("config/topics.toml")
