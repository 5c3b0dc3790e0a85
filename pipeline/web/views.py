"""What the page templates see of papers, topics and editions. Pure; no I/O.

Every URL that reaches an ``href`` went through :func:`pipeline.mail.headers.safe_url`
(docs/reliability.md §6.1); text is cleaned of controls and bidi overrides and cut to a length,
and the templates autoescape the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pipeline.mail.headers import plain_text
from pipeline.mail.paper_view import paper_view as email_paper_view
from pipeline.records import StoredPaper, SubscriberRecord
from pipeline.topics import Topic

# How often a subscriber is mailed (issue 13): value, label, what it means.
FREQUENCY_CHOICES = (
    (
        "daily",
        "Daily",
        "Each day's papers the morning after, once the day's list is complete "
        '(papers added to a day later come in the next digest, marked "Added late").',
    ),
    ("weekly", "Weekly", "On Monday: the past week's top papers in each of your topics."),
)


def frequency_note(sub: SubscriberRecord, today: date) -> str:
    """While a change of frequency is pending: until when the old one holds."""
    since = sub.frequency_from
    if since is None or today >= since or not sub.previous_frequency:
        return ""
    last = since - timedelta(days=1)
    return (
        f"You get {sub.previous_frequency} digests until {last:%A %-d %B}; "
        f"{sub.frequency} digests start with the week of {since:%-d %B}."
    )


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
