"""TF-IDF similarity and topics by example (``like``)."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.similarity import (
    CorpusStats,
    Example,
    Likeness,
    build_index,
    build_likeness,
    corpus_stats,
    cosine,
    missing_examples,
    paper_text,
    terms,
    vectorize,
)
from pipeline.topics import LIKE_THRESHOLD, like_examples, parse_topics, score_topic
from tests.test_topic_taxonomy import PAPERS

HARNESS_ID = "2608.07545"  # DarwinX: Evolving Agent Harnesses Through Natural Selection
HARNESS_TITLE = "AutoDesign: Meta-Harness Optimization for Long-Horizon Agentic Design"
SIMILAR = "2608.11350"  # Self-Evolving Embodied Agents via Skill-Harness Evolution
UNRELATED = "2608.19863"  # Listening Forward: ... Scalable Audio Learners

TEXTS = {p.arxiv_id: paper_text(p.title, p.abstract) for p in PAPERS.values() if p.arxiv_id}
TEXTS[HARNESS_TITLE] = TEXTS["2608.13560"]  # a like reference may be an exact title
STATS = corpus_stats(paper_text(p.title, p.abstract) for p in PAPERS.values())
TOML_LIKE = {"slug": "harness", "like": [HARNESS_ID, HARNESS_TITLE]}


def _topics(*tables: dict[str, object]):
    return parse_topics({"topics": list(tables)}, origin="topics.toml")


def _score(topic, arxiv_id: str, likeness: Likeness | None):
    paper = PAPERS[arxiv_id]
    return score_topic(
        topic,
        title=paper.title,
        abstract=paper.abstract,
        keywords=paper.keywords,
        likeness=likeness,
    )


def test_terms_drop_stopwords_and_fold_plurals():
    assert terms("We propose Agents and policies for the 2 tasks") == ["agent", "policy", "task"]
    assert terms("corpus analysis") == ["corpus", "analysis"]  # not plurals


def test_corpus_stats_add_matches_a_rebuild():
    texts = ["agent harness", "audio learner", "agent memory"]
    grown = CorpusStats()
    for text in texts:
        grown = grown.add(text)
    assert grown == corpus_stats(texts)
    assert grown.document_frequency["agent"] == 2 and grown.documents == 3
    assert grown.idf("agent") < grown.idf("audio") < grown.idf("never-seen")


def test_cosine_is_one_for_the_same_text_and_zero_without_shared_terms():
    same = vectorize(TEXTS[HARNESS_ID], STATS)
    assert cosine(same, same) == pytest.approx(1.0)
    assert cosine(vectorize("agent harness", STATS), vectorize("audio spectrogram", STATS)) == 0
    assert vectorize("the and of", STATS) == {}


def test_example_index_names_the_nearest_example():
    index = build_index([Example(HARNESS_ID, TEXTS[HARNESS_ID]), Example("other", "audio")], STATS)
    nearest = index.nearest(TEXTS[SIMILAR])
    assert nearest is not None and nearest.ref == HARNESS_ID and nearest.score > 0.3
    assert build_index([], STATS).nearest(TEXTS[SIMILAR]) is None


def test_like_topic_selects_a_similar_paper_and_not_an_unrelated_one():
    (topic,) = _topics(TOML_LIKE)
    assert topic.like == (HARNESS_ID, HARNESS_TITLE) and topic.like_threshold == LIKE_THRESHOLD
    likeness = build_likeness(like_examples([topic]), stats=STATS, texts=TEXTS)
    similar, unrelated = _score(topic, SIMILAR, likeness), _score(topic, UNRELATED, likeness)
    assert similar.selected and similar.nearest is not None
    assert similar.nearest.score >= LIKE_THRESHOLD > 0.1 > unrelated.nearest.score
    assert not unrelated.selected


def test_explain_entry_names_the_nearest_example_and_its_similarity():
    (topic,) = _topics({**TOML_LIKE, "include": ["speech"]})
    likeness = build_likeness(like_examples([topic]), stats=STATS, texts=TEXTS)
    result = _score(topic, SIMILAR, likeness)
    assert result.score == 0  # the similarity is reported, not added to the rule score
    (match,) = result.matches
    assert (match.rule, match.field) == (f"like {HARNESS_ID}", "similarity")
    assert match.score == result.nearest.score and 0.3 < match.score < 1


def test_like_threshold_is_per_topic_and_exclude_still_vetoes():
    strict, vetoed = _topics(
        {**TOML_LIKE, "like_threshold": 0.9},
        {"slug": "vetoed", "like": [HARNESS_ID], "exclude": ["embodied"]},
    )
    likeness = build_likeness(like_examples([strict, vetoed]), stats=STATS, texts=TEXTS)
    assert not _score(strict, SIMILAR, likeness).selected
    assert _score(vetoed, SIMILAR, likeness).excluded_by == "embodied"
    assert not _score(vetoed, SIMILAR, likeness).selected


def test_without_likeness_a_like_topic_uses_its_rules_only():
    with_rules, like_only = _topics(
        {"slug": "a", "like": [HARNESS_ID], "include": ["harness*"]},
        {"slug": "b", "like": [HARNESS_ID]},
    )
    assert _score(with_rules, SIMILAR, None).selected  # "Harness" in the title
    result = _score(like_only, SIMILAR, None)
    assert not result.selected and result.nearest is None and result.matches == ()


def test_examples_not_stored_yet_are_left_out_and_reported():
    (topic,) = _topics({"slug": "t", "like": [HARNESS_ID, "2401.00001"]})
    texts = {HARNESS_ID: TEXTS[HARNESS_ID]}
    assert missing_examples(like_examples([topic]), texts) == {"t": ["2401.00001"]}
    likeness = build_likeness(like_examples([topic]), stats=STATS, texts=texts)
    assert likeness.indexes["t"].refs == (HARNESS_ID,)


def test_like_references_are_normalised():
    (topic,) = _topics(
        {
            "slug": "t",
            "like": [
                "https://arxiv.org/abs/2406.12345v2",
                "  A  Paper\nTitle ",
                "arXiv:2401.00001",
            ],
        }
    )
    assert topic.like == ("2406.12345", "A Paper Title", "2401.00001")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"like": "2406.12345"}, "like must be a list of arXiv ids or paper titles"),
        ({"like": [""]}, "like: like must list arXiv ids or paper titles, got ''"),
        ({"like": [42]}, "like: like must list arXiv ids or paper titles, got 42"),
        ({"like": ["2406.123"]}, "like: '2406.123' is not a valid arXiv id"),
        ({"like": ["arXiv:2413.12345"]}, "like: 'arXiv:2413.12345' is not a valid arXiv id"),
        ({"like": ["https://example.org/p"]}, "is not a valid arXiv id"),
        ({"like": ["?!"]}, "like: '?!' is neither an arXiv id nor a title"),
        ({"like": ["2406.12345", "arXiv:2406.12345v3"]}, "like: examples listed twice"),
        ({"like": ["2406.12345"], "like_threshold": 0}, "like_threshold must be a cosine"),
        ({"like": ["2406.12345"], "like_threshold": 1.5}, "like_threshold must be a cosine"),
        ({}, "needs at least one include*, include_title* or like entry"),
    ],
)
def test_bad_like_values_are_config_errors_naming_file_and_topic(table, message):
    with pytest.raises(ConfigError) as caught:
        _topics({"slug": "mine", **table})
    assert str(caught.value).startswith("topics.toml: topic 'mine': ")
    assert message in str(caught.value)
