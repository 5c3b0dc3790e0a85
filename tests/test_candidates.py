"""The pre-filter of bulk assignment (pipeline/store/candidates.py) never changes a verdict, and
the fast path of clean_text equals the full one. Pure; no store."""

from __future__ import annotations

import os
import random
import re
import sys
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import ParseError
from pipeline.identity import _DROP_CONTROL, clean_text
from pipeline.ingest.parse.hf_api import load_entries, parse_entries
from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.records import ParsedPaper
from pipeline.store.candidates import TopicFilter
from pipeline.topics import assign_topics, load_topics, parse_topics, score_topic, topics_file
from tests.conftest import DATA, SAMPLES

TOPICS = load_topics(topics_file(None))
DAY = date(2026, 1, 1)


def _papers(folder: Path) -> list[ParsedPaper]:
    found: list[ParsedPaper] = []
    for path in sorted(folder.rglob("*.json")):
        try:
            text = path.read_text()
            entries = load_entries(text, origin=str(path), listing_date=DAY, lenient=False)
            found += parse_entries(entries, origin=str(path))
        except ParseError:  # the malformed days of the archive
            continue
    return found


def _fixture_papers() -> list[ParsedPaper]:
    papers = _papers(DATA / "hf")
    for path in sorted(SAMPLES.glob("*.txt")):
        page = parse_text_page(
            path.read_text(), origin=str(path), source="s", today=date(2026, 11, 23)
        )
        papers += page.papers
    return papers


def _same_verdicts(topics, papers) -> None:  # type: ignore[no-untyped-def]
    pre = TopicFilter(topics)
    for paper in papers:
        fields = {"title": paper.title, "abstract": paper.abstract, "keywords": paper.keywords}
        fast = tuple(t.slug for t in pre.candidates(**fields) if score_topic(t, **fields).selected)
        assert fast == assign_topics(topics, **fields), paper.title


def test_prefilter_gives_the_rules_verdicts_on_every_fixture_paper():
    papers = _fixture_papers()
    assert len(papers) > 250
    _same_verdicts(TOPICS, papers)
    pre = TopicFilter(TOPICS)
    scored = sum(len(pre.candidates(title=p.title, abstract=p.abstract, keywords=p.keywords))
                 for p in papers)  # fmt: skip
    assert scored < 5 * len(papers)  # of 27 topics, a handful is scored exactly


@pytest.mark.skipif(
    not os.environ.get("PAPERBOY_HF_ARCHIVE"), reason="PAPERBOY_HF_ARCHIVE is unset"
)
def test_prefilter_gives_the_rules_verdicts_on_the_whole_archive():
    papers = _papers(Path(os.environ["PAPERBOY_HF_ARCHIVE"]))
    assert len(papers) > 1500
    _same_verdicts(TOPICS, papers)


EDGE_RULES = {
    "topics": [
        {"slug": "kv", "include": ["KV cache"], "threshold": 3},  # title alone selects
        {"slug": "agent", "include": ["agent* harness", "tool use | function calling"]},
        {"slug": "cpp", "include": ["C++ code", "2.5D maps"], "threshold": 1},  # unchecked words
        {"slug": "rx", "include_regex": [r"\bWan\s?2(\.\d)?\b"], "threshold": 1},
        {
            "slug": "abs",
            "include_abstract": ["sparse attention"],
            "abstract_weight": 2,
            "max_repeats": 2,
            "threshold": 4,
        },
        {"slug": "kw", "include": ["diffusion"], "keywords_weight": 3, "threshold": 3},
        {"slug": "zero", "include": ["zebra"], "title_weight": 0, "threshold": 0},
        {"slug": "ex", "include": ["robot*"], "exclude": ["survey"], "threshold": 1},
    ]
}
EDGE_TEXTS = [
    ("A KV Cache for Everyone", "", ()),
    ("A \u212aV cache (Kelvin sign)", "", ()),  # re.IGNORECASE equates K and k
    ("Ag\u0435nt harness", "", ()),  # a Cyrillic e: no ASCII word, no match
    ("Agentic harnesses", "agentic-harness and function-calling", ()),
    ("C++ code generation", "2.5D maps", ()),
    ("Wan2.1 video", "Wan 2 and wan2", ()),
    ("Title", "sparse attention, sparse-attention and Sparse Attention", ()),
    ("Title", "sparse attention", ()),
    ("Images", "", ("Diffusion",)),
    ("Zebra crossing", "", ()),
    ("Robots: a survey", "robotics", ()),
    ("Robots", "ROBOTIC arms", ()),
    ("", "", ()),
]


def test_prefilter_edge_cases_keep_the_rules_verdicts():
    topics = parse_topics(EDGE_RULES, origin="edge")
    papers = [ParsedPaper(title=t, abstract=a, rank=1, keywords=k) for t, a, k in EDGE_TEXTS]
    _same_verdicts(topics, papers)
    rng = random.Random(7)
    words = ["kv", "cache", "K\u212av", "agent", "agentic", "harness", "tool", "use", "function",
             "calling", "c++", "code", "2.5d", "maps", "wan2", "wan", "2.1", "sparse", "attention",
             "diffusion", "zebra", "robot", "robotics", "survey", "-", "  ", "\n"]  # fmt: skip
    for _ in range(2000):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(0, 6)))
        abstract = " ".join(rng.choice(words) for _ in range(rng.randint(0, 20)))
        keywords = tuple(rng.choice(words) for _ in range(rng.randint(0, 3)))
        _same_verdicts(
            topics, [ParsedPaper(title=title, abstract=abstract, rank=1, keywords=keywords)]
        )


def _clean_reference(text: str) -> str:
    text = text.translate(_DROP_CONTROL)
    if not text.isascii():
        text = re.sub(r"[\ud800-\udfff]", "", text)
    return " ".join(text.split())


def test_clean_text_fast_path_equals_the_full_cleaning_for_every_code_point():
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        for text in (c, f"a{c}b", f" {c}", f"{c} ", c + c, f"x  {c}"):
            assert clean_text(text) == _clean_reference(text), hex(code)
