"""Bytes to text for fetched pages, with explicit charsets. Pure; no I/O.

httpx decodes a body without a charset as UTF-8 with replacement characters, so a cp1252 page
comes back as ``'R�sum�'`` (docs/reliability.md §0.5). JSON is UTF-8 (RFC 8259; a BOM is tolerated);
HTML follows the WHATWG order: byte-order mark, then the Content-Type charset, then a
``<meta charset>`` in the first bytes, else UTF-8.
"""

from __future__ import annotations

import codecs
import re

from pipeline.errors import ParseError

# The HTML standard looks for <meta charset> in the first 1024 bytes; real pages put it early.
META_SNIFF_BYTES = 4096
# A few replacement characters are tolerated (one stray byte); more means a wrong charset.
MAX_REPLACEMENT_SHARE = 0.01
_META = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE | re.DOTALL
)
# WHATWG Encoding: these labels mean windows-1252 in browsers, and servers rely on it.
_LABEL_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _LABEL_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_json_bytes(body: bytes, *, origin: str) -> str:
    """JSON body as text: UTF-8, a leading BOM tolerated; anything else is refused."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.start + 1].hex()
        raise ParseError(
            origin, f"JSON is not UTF-8 (byte 0x{bad} at offset {exc.start})"
        ) from None


def html_charset(body: bytes, *, header_charset: str | None) -> tuple[str, int]:
    """The codec for an HTML body and how many leading BOM bytes to skip."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    declared = _codec(header_charset)
    if declared:
        return declared, 0
    match = _META.search(body[:META_SNIFF_BYTES])
    sniffed = _codec(match.group(1).decode("ascii", "replace")) if match else None
    return sniffed or "utf-8", 0


def decode_html_bytes(body: bytes, *, header_charset: str | None, origin: str) -> str:
    """HTML body as text, decoded by BOM, header charset or ``<meta charset>``."""
    codec, skip = html_charset(body, header_charset=header_charset)
    text = body[skip:].decode(codec, errors="replace")
    bad = text.count("\ufffd")
    if bad > 10 and bad > MAX_REPLACEMENT_SHARE * len(text):
        raise ParseError(
            origin, f"page is not valid {codec}: {bad} undecodable characters (wrong charset?)"
        )
    return text
