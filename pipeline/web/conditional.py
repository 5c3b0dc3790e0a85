"""Conditional GET for the served feed files (RFC 9110 13.1). Pure; no I/O.

``If-None-Match`` takes precedence: when it is present, ``If-Modified-Since`` is ignored
(RFC 9110 13.1.3), so a stale ETag with a future date still gets the full body (docs/reliability.md
§1.5, F10). ETags come from the bytes, not the file's mtime, so a no-op rewrite keeps them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

# Feed types: RSS as application/rss+xml (not the generic application/xml Starlette guesses),
# OPML as text/x-opml (Starlette guesses application/octet-stream: docs/reliability.md §1.5).
MEDIA_TYPES: Mapping[str, str] = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}


def etag_for(data: bytes) -> str:
    """A strong ETag derived from the content."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    # Weak comparison (RFC 9110 8.8.3.2) is what If-None-Match uses.
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def is_not_modified(headers: Mapping[str, str], *, etag: str, modified: datetime) -> bool:
    """True when the request's validators say the client's copy is current (answer 304)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    since = headers.get("if-modified-since")
    if since is None:
        return False
    moment = _parse_http_date(since)
    return moment is not None and modified.replace(microsecond=0) <= moment
