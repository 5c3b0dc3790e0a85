"""What the page templates see of papers, topics and editions. Pure; no I/O.

Every URL that reaches an ``href`` went through :func:`pipeline.mail.headers.safe_url`
(docs/reliability.md §6.1); text is cleaned of controls and bidi overrides and cut to a length,
and the templates autoescape the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.mail.headers import plain_text
from pipeline.mail.paper_view import paper_view as email_paper_view
from pipeline.records import StoredPaper
from pipeline.topics import Topic

ABSTRACT_CHARS = 400
QUERY_CHARS = 200  # longer search strings are cut, not refused


def paper_view(paper: StoredPaper, titles: Mapping[str, str]) -> dict[str, Any]:
    """One paper for a template: the email's per-paper block, with topic links."""
    topics = [{"slug": s, "title": titles.get(s, s)} for s in paper.topics]
    return email_paper_view(paper, topics=topics, abstract_chars=ABSTRACT_CHARS)


def papers_view(papers: Sequence[StoredPaper], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    """Many papers for a template."""
    return [paper_view(paper, titles) for paper in papers]


def topic_view(topic: Topic) -> dict[str, str]:
    """One topic for a template, with its feed paths."""
    return {
        "slug": topic.slug,
        "title": plain_text(topic.title),
        "description": plain_text(topic.description),
        "rss": f"/feeds/{topic.slug}.xml",
        "atom": f"/feeds/{topic.slug}.atom",
    }


def clean_query(raw: str | None) -> str:
    """A search string fit to search with and show back."""
    return plain_text(raw or "")[:QUERY_CHARS]
