"""One paper as the digest and archive templates show it (email and web). Pure; no I/O.

The per-paper block of issue 13: title, the community's counts, a one-line TL;DR (the AI summary
where the source has one, else the abstract's first sentence), the rest of the abstract, and
labelled links (Hugging Face, arXiv, PDF, code with its stars, project page). Every URL that
reaches an ``href`` went through :func:`~pipeline.mail.headers.safe_url` (docs/reliability.md
§6.1); text is plain and cut to a length, and the templates autoescape the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.mail.headers import excerpt, plain_text, safe_url
from pipeline.records import StoredPaper

TITLE_CHARS = 300  # a 100 KB "title" must not blow the size budget
# Every real AI summary fits (at most 437 characters, docs/hf-formats.md §2.2); 7 of 1,762 real
# abstracts open with a longer sentence.
TLDR_CHARS = 450


def paper_links(paper: StoredPaper) -> list[dict[str, Any]]:
    """The paper's links that are safe in an href: ``{label, url, stars}`` (stars: of the
    repository the source names, on its code link only)."""
    links = []
    for label, url in paper.labelled_links:
        checked = safe_url(url)
        if checked is None:
            continue
        stars = paper.github_stars if label == "Code" and url == paper.github_repo else None
        links.append({"label": label, "url": checked, "stars": stars})
    return links


def tldr_and_rest(paper: StoredPaper) -> tuple[str, str]:
    """The TL;DR line and the abstract text shown after it. An opening sentence too long for the
    line is cut there and the abstract goes on from the cut ("…"), so no text is lost."""
    tldr, rest = plain_text(paper.tldr), paper.abstract_rest
    if len(tldr) <= TLDR_CHARS:
        return tldr, rest
    if paper.ai_summary:  # the abstract follows whole
        return excerpt(tldr, TLDR_CHARS), rest
    cut = tldr[:TLDR_CHARS].rsplit(" ", 1)[0]
    return cut + "…", f"…{tldr[len(cut) :].lstrip()} {rest}".rstrip()


def paper_view(paper: StoredPaper, *, topics: Sequence[Any], abstract_chars: int) -> dict[str, Any]:
    """One paper for a template (``topics`` as the template wants them)."""
    tldr, rest = tldr_and_rest(paper)
    return {
        "title": excerpt(paper.title, TITLE_CHARS) or paper.key,
        "url": safe_url(paper.url),
        "tldr": tldr,
        "abstract": excerpt(rest, abstract_chars),
        "topics": list(topics),
        "upvotes": paper.upvotes,
        "comments": paper.comments,
        "links": paper_links(paper),
        "times_seen": paper.times_seen,
        "first_seen": paper.first_seen.isoformat(),
    }
