"""Safe values for email headers and links from untrusted text. Pure; no I/O.

Every header value that contains data (titles, topic names, the list title) goes through
:func:`header_text`. Python 3.11.7/3.12.1 serialise an RFC 2047 encoded newline
(``=?UTF-8?Q?=0A?=``) or a trailing newline into a real header line (CVE-2024-6923,
python/cpython#121650; docs/reliability.md §6.3), so we do not rely on the stdlib to refuse them.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

SUBJECT_MAX = 200  # characters; long subjects are truncated by clients anyway
# C0 and C1 controls, DEL, and the Unicode line/paragraph separators (incl. NEL U+0085).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embedding/override/isolate controls
_ZERO_WIDTH_SPACE = "\u200b"


def plain_text(value: str) -> str:
    """Text without controls, bidi overrides or runs of whitespace (for bodies and headers)."""
    text = _CONTROLS.sub(" ", value)
    text = _BIDI.sub("", text)
    return _SPACES.sub(" ", text).strip()


def excerpt(text: str, limit: int) -> str:
    """``text`` as plain text, cut at a word boundary to ``limit`` characters."""
    text = plain_text(text)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def header_text(value: str, *, limit: int = SUBJECT_MAX) -> str:
    """One line of plain text, safe in any unstructured header (controls out, ``=?`` broken)."""
    text = _CONTROLS.sub(" ", value)
    # Bidi overrides and other format characters would let a title reorder the subject line.
    text = "".join(" " if unicodedata.category(ch) == "Cf" else ch for ch in text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    # An encoded word can only start with "=?": break it so no decoder sees one.
    return text.replace("=?", "=" + _ZERO_WIDTH_SPACE + "?")


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL without whitespace or controls, else None."""
    if not url or _CONTROLS.search(url) or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
