"""Which topics a paper could join: a sound pre-filter for assigning many papers. Pure; no I/O.

Scoring one paper against the 27 shipped topics runs about 500 include rules (12 ms on the
project's machine); assigning 1M papers would take hours. Most topics cannot select a given
paper, and that is cheap to prove: a phrase rule can only match a field whose words (lowercase
ASCII letters and digits, from :func:`pipeline.topics.fold_for_needle`) contain every word of
one of its alternatives (``agent*`` as a prefix). Summing, per topic, the best weight each
possible rule could add gives an upper bound of its score; topics whose bound stays under the
threshold are skipped, the others are scored exactly by :func:`pipeline.topics.score_topic`.
So the result is exactly :func:`pipeline.topics.assign_topics`'s (tests compare them on every
paper of the fixtures and of the real days), only faster.

Why the word test never rejects a real match: a phrase's regex matches a word only between
non-word characters, whitespace or hyphens, and ``fold_for_needle`` maps every character that
``re.IGNORECASE`` equates with an ASCII letter to that letter; so each ASCII word of a matched
phrase is a whole token of the folded field (a ``*`` stem the start of one). Words that are not
ASCII letters and digits (``C++``, ``2.5D``) are not checked, and rules without such words
(``include_regex``) are always possible.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.topics import Rule, Topic, fold_for_needle

_TOKEN = re.compile(r"[a-z0-9]+")
_SPLIT = re.compile(r"[\s\-]+")
FIELDS = ("title", "abstract", "keywords")


@dataclass(frozen=True)
class _Alternative:
    """The checkable words of one alternative of a phrase rule."""

    rule: int  # index into TopicFilter._plans
    words: tuple[str, ...]  # whole tokens
    stems: tuple[str, ...]  # token prefixes (``word*``)
    single: bool  # one checkable word: finding the key is the whole check


@dataclass(frozen=True)
class _Plan:
    """One include rule: which fields it may count in, and what it can add there."""

    rule: Rule
    topic: int
    allowed: tuple[bool, bool, bool]  # the fields its scope looks at: title, abstract, keywords
    weights: tuple[float, float, float]  # the most it adds in each of them


def _alternatives(rule: Rule, index: int) -> list[_Alternative] | None:
    """The alternatives of a phrase rule, or None when one of them cannot be checked."""
    if not rule.needles:  # a regex rule, or a phrase with an alternative of no ASCII word
        return None
    found = []
    for alternative in rule.text.split("|"):
        words: list[str] = []
        stems: list[str] = []
        for word in _SPLIT.split(alternative.strip()):
            stem = word.removesuffix("*")
            if stem and stem.isascii() and stem.isalnum():
                (stems if word.endswith("*") else words).append(stem.lower())
        if not words and not stems:
            return None
        found.append(_Alternative(index, tuple(words), tuple(stems), len(words + stems) == 1))
    return found


def _plan(rule: Rule, topic: Topic, index: int) -> _Plan:
    title, elsewhere = rule.scope != "abstract", rule.scope != "title"
    weights = (topic.title_weight, topic.abstract_weight * topic.max_repeats, topic.keywords_weight)
    return _Plan(rule, index, (title, elsewhere, elsewhere), weights)


class _Tokens:
    """The tokens of one folded field, with prefix look-ups."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold_for_needle(text)
        self.words = set(_TOKEN.findall(self.folded))
        self._sorted: list[str] | None = None

    def has_prefix(self, stem: str) -> bool:
        if self._sorted is None:
            self._sorted = sorted(self.words)
        at = bisect_left(self._sorted, stem)
        return at < len(self._sorted) and self._sorted[at].startswith(stem)

    def has(self, alternative: _Alternative) -> bool:
        return all(w in self.words for w in alternative.words) and all(
            self.has_prefix(s) for s in alternative.stems
        )


class TopicFilter:
    """The topics a paper could join, for many papers against one list of topics."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.topics = tuple(topics)
        self._plans: list[_Plan] = []
        # Rules without checkable words (include_regex mostly), per topic, and the most they
        # may add together: they are run only when they decide a topic.
        self._unchecked: list[list[_Plan]] = [[] for _ in self.topics]
        self._unchecked_bound = [0.0] * len(self.topics)
        # Alternatives keyed by their longest checkable word; stems by their first 3 letters
        # (a stem has at least 3, pipeline.topics._MIN_STEM), so a token costs one look-up each.
        self._by_word: dict[str, list[_Alternative]] = {}
        self._by_stem: dict[str, list[tuple[str, _Alternative]]] = {}
        for t, topic in enumerate(self.topics):
            for rule in topic.include:
                index = len(self._plans)
                plan = _plan(rule, topic, t)
                self._plans.append(plan)
                alternatives = _alternatives(rule, index)
                if alternatives is None:
                    self._unchecked[t].append(plan)
                    self._unchecked_bound[t] += max(
                        w for w, a in zip(plan.weights, plan.allowed, strict=True) if a
                    )
                    continue
                for alternative in alternatives:
                    key = max((*alternative.words, *alternative.stems), key=len)
                    if key in alternative.words:
                        self._by_word.setdefault(key, []).append(alternative)
                    else:
                        self._by_stem.setdefault(key[:3], []).append((key, alternative))

    def _possible(self, field: _Tokens) -> set[int]:
        """Indexes of the rules that may match this field."""
        found: set[int] = set()
        for word in field.words:
            for alternative in self._by_word.get(word, ()):
                if alternative.single or field.has(alternative):
                    found.add(alternative.rule)
            for stem, alternative in self._by_stem.get(word[:3], ()):
                if word.startswith(stem) and (alternative.single or field.has(alternative)):
                    found.add(alternative.rule)
        return found

    def candidates(self, *, title: str, abstract: str, keywords: Sequence[str]) -> list[Topic]:
        """The topics whose score could reach their threshold, and every ``like`` topic, in
        configured order; the others provably do not select the paper."""
        fields = (_Tokens(title), _Tokens(abstract), _Tokens(" | ".join(keywords)))
        possible = [self._possible(field) for field in fields]
        if not keywords:
            possible[2] = set()  # score_topic ignores the keywords field when there are none
        bound = [0.0] * len(self.topics)
        matched = [False] * len(self.topics)
        for index in set().union(*possible):
            plan = self._plans[index]
            where = zip(plan.weights, plan.allowed, possible, strict=True)
            weights = [weight for weight, allowed, p in where if allowed and index in p]
            if weights:
                bound[plan.topic] += max(weights)
                matched[plan.topic] = True
        found = []
        for t, topic in enumerate(self.topics):
            if topic.like or (matched[t] and bound[t] >= topic.threshold):
                found.append(topic)
            elif self._unchecked[t] and bound[t] + self._unchecked_bound[t] >= topic.threshold:
                if self._unchecked_decide(t, bound[t], matched[t], fields, bool(keywords)):
                    found.append(topic)
        return found

    def _unchecked_decide(
        self, t: int, bound: float, matched: bool, fields: Sequence[_Tokens], keywords: bool
    ) -> bool:
        """Run the unchecked rules of topic ``t`` (searches, as score_topic would) until the
        bound reaches the threshold; False when it cannot."""
        threshold = self.topics[t].threshold
        for plan in self._unchecked[t]:
            weights = [
                weight
                for weight, allowed, field, used in zip(
                    plan.weights, plan.allowed, fields, (True, True, keywords), strict=True
                )
                if allowed and used and plan.rule.search(field.text, field.folded)
            ]
            if weights:
                bound += max(weights)
                matched = True
                if bound >= threshold:
                    return True
        return matched and bound >= threshold
