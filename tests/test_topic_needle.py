"""The needle pre-filter of topic phrases never changes what a rule matches."""

from __future__ import annotations

import pytest

from pipeline.topics import parse_topics, score_topic


@pytest.mark.parametrize(
    ("phrase", "title", "hit"),
    [
        ("KV cache", "Tiny \u212av-Cache tricks", True),  # Kelvin sign K
        ("skip", "\u017fkip connections", True),  # long s
        ("in context", "\u0130n-Context Learning", True),  # dotted capital I
        ("long context", "Longer contexts", False),
        ("RAG", "rag-time music", True),
    ],
)
def test_score_topic_needle_agrees_with_regex(phrase, title, hit):
    (topic,) = parse_topics({"topics": [{"slug": "t", "include": [phrase]}]}, origin="t")
    assert topic.include[0].needle is not None
    assert score_topic(topic, title=title, abstract="").selected is hit
    assert (topic.include[0].pattern.search(title) is not None) is hit


@pytest.mark.parametrize(
    ("phrase", "title", "hit"),
    [
        ("agent*", "\u0130nter-\u212agent Agents", True),  # a wildcard stem is a needle too
        ("supervised fine-tuning | \u017fFT", "Our SFT recipe", True),  # any alternative's needle
        ("kv cache | rope", "\u212aV-Cache", True),
        ("kv cache | rope", "Ropey", False),
    ],
)
def test_needles_of_wildcards_and_alternatives_agree_with_regex(phrase, title, hit):
    (topic,) = parse_topics({"topics": [{"slug": "t", "include": [phrase]}]}, origin="t")
    assert score_topic(topic, title=title, abstract="").selected is hit
    assert (topic.include[0].pattern.search(title) is not None) is hit
