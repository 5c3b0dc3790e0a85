"""Parser for Hugging Face papers search answers (``/api/papers/search?q=…``). Pure; no I/O.

The endpoint ``huggingface_hub``'s ``HfApi.list_papers`` calls answers a JSON array of entries
shaped like the daily papers ones, ``[{paper: {id, title, …}, title, …}]`` (docs/hf-formats.md
§1); a bare paper object per item is accepted too. Only hits with an arXiv id count, and a title
resolves only when exactly one arXiv id carries exactly the same title after folding
(:func:`pipeline.identity.fold_title`): a near miss is no match.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipeline.errors import ParseError
from pipeline.identity import clean_text, fold_title, normalize_arxiv_id

Hit = tuple[str, str]  # (title, arXiv id)


def _hit(item: Any) -> Hit | None:
    if not isinstance(item, dict):
        return None
    paper = item["paper"] if isinstance(item.get("paper"), dict) else item
    raw_id, title = paper.get("id"), item.get("title") or paper.get("title")
    if not isinstance(raw_id, str) or not isinstance(title, str):
        return None
    arxiv_id = normalize_arxiv_id(raw_id)
    return (clean_text(title), arxiv_id) if arxiv_id else None


def parse_search_results(text: str, *, origin: str) -> tuple[Hit, ...]:
    """The (title, arXiv id) hits of a search answer; ParseError if it is not a JSON list."""
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("<"):
        raise ParseError(origin, f"HTML served instead of JSON (starts with {body[:40]!r})")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError(origin, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, list):
        raise ParseError(origin, f"expected a JSON list of papers, got {type(data).__name__}")
    return tuple(hit for hit in map(_hit, data) if hit is not None)


def exact_match(title: str, hits: Sequence[Hit]) -> str | None:
    """The arXiv id of the one paper whose title folds to the same as ``title``, else None
    (no such hit, or several papers with that title)."""
    wanted = fold_title(title)
    ids = {arxiv_id for found, arxiv_id in hits if wanted and fold_title(found) == wanted}
    return ids.pop() if len(ids) == 1 else None
