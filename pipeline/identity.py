"""Paper identity and text hygiene. Pure; no I/O.

A paper's key is ``arxiv:<id>`` when a page gives its arXiv id, else ``title:<folded title>``.
Once stored, a key never changes (feed GUIDs derive from it); a paper first seen by title and
later by arXiv id keeps its title key and gains the arXiv id (see :mod:`pipeline.store.papers`).
Rules follow docs/hf-formats.md §5.2.

Keys are at most :data:`KEY_MAX` characters (the store's ``VARCHAR(600)``): a longer title key
keeps its first characters and ends in ``#`` and 16 hex digits of the folded title's sha256.
PostgreSQL refused such keys while SQLite took them (issue 15.3); keys that fit are unchanged.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata

# C0/C1 controls (except TAB, LF, CR), DEL, lone surrogates and non-characters: XML 1.0
# forbids them and feedgen raises on them (docs/reliability.md §1.3), so they go at ingest.
_DROP_CONTROL = dict.fromkeys([*range(9), 11, 12, *range(14, 32), *range(127, 160), 65534, 65535])
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Identity ignores everything but letters and digits: "Multi-Head", "Multi Head" and
# "MultiHead" are one title, as are "SWIFT:A" and "SWIFT: A" (seen in the samples).
_NON_WORD = re.compile(r"[\W_]+")

# paper.key and paper_alias.alias are VARCHAR(600) (pipeline/store/tables.py; a test ties them).
KEY_MAX = 600
_KEY_HASH_CHARS = 16  # 64 bits of sha256: no collision among a store's few long titles
_NEW_ID = re.compile(r"^(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v(?P<version>[1-9]\d*))?$")
_OLD_ID = re.compile(
    # archives: "hep-th", "cond-mat", "q-alg", "solv-int"... (bounded: arxiv_id is VARCHAR(64))
    r"^(?P<archive>[a-z]{1,10}(?:-[a-z]{2,10})?)(?:\.[A-Za-z-]{2,})?/(?P<num>\d{7})(?:v[1-9]\d*)?$"
)
_ID_PREFIX = re.compile(r"^(?:arxiv:|oai:arxiv\.org:)", re.IGNORECASE)
_ID_IN_URL = re.compile(
    r"^https?://(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/"
    r"(?P<id>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# URLs in running text. Trailing sentence punctuation is not part of the link.
_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"'`{}|\\^]+")  # no IGNORECASE: 3x faster
_URL_TRAILER = ".,;:!?)]}'\""
_HTTP = frozenset(map("".join, itertools.product(*zip("http", "HTTP", strict=True))))
_HTTPS = frozenset(map("".join, itertools.product(*zip("https", "HTTPS", strict=True))))


def clean_text(text: str) -> str:
    """Drop control characters and fold every whitespace run (incl. arXiv wraps) to one space."""
    if text.isprintable():
        # Most texts: no control character, surrogate or non-character (none is printable)
        # and no whitespace but spaces (every other is unprintable), found at C speed; feeds
        # clean every abstract on every render (docs/benchmarks.md, issue 12).
        if "  " in text or text[:1] == " " or text[-1:] == " ":
            return " ".join(text.split())
        return text
    text = text.translate(_DROP_CONTROL)  # str.translate/split: ~10x faster than re.sub here
    if not text.isascii():
        text = _SURROGATE.sub("", text)
    return " ".join(text.split())


def fold_title(title: str) -> str:
    """Fold a title for identity: NFKC, casefold, punctuation and whitespace removed."""
    text = unicodedata.normalize("NFKC", clean_text(title)).casefold()
    return _NON_WORD.sub("", text)


def title_key(title: str) -> str:
    """The identity key of a paper known only by its title."""
    folded = fold_title(title)
    if not folded:
        raise ValueError(f"title {title[:80]!r} has no letters or digits")
    return bounded_key("title:", folded)


def bounded_key(prefix: str, folded: str) -> str:
    """``prefix + folded``, or when longer than :data:`KEY_MAX` its head plus ``#<sha256>``.

    ``#`` never occurs in a folded title (letters and digits only), so a cut key cannot equal
    a key that fits.
    """
    key = prefix + folded
    if len(key) <= KEY_MAX:
        return key
    digest = hashlib.sha256(folded.encode()).hexdigest()[:_KEY_HASH_CHARS]
    return f"{key[: KEY_MAX - _KEY_HASH_CHARS - 1]}#{digest}"


def arxiv_key(arxiv_id: str) -> str:
    """The identity key of a paper with an arXiv id (already normalised)."""
    return f"arxiv:{arxiv_id}"


def normalize_arxiv_id(raw: str) -> str | None:
    """Return the bare, unversioned arXiv id in ``raw`` (an id or an abs/pdf/HF URL), else None.

    Ids stay strings end to end: ``2503.02130`` must never pass through a float.
    """
    text = raw.strip()
    match = _ID_IN_URL.match(text)
    if match:
        text = match.group("id")
    text = _ID_PREFIX.sub("", text)
    new = _NEW_ID.match(text)
    if new:
        yymm, num = new.group("yymm"), new.group("num")
        month = int(yymm[2:])
        if not 1 <= month <= 12:
            return None
        # 4-digit sequence numbers until 1412, 5 digits from 1501 (arXiv identifier rules).
        if (len(num) == 4) != (int(yymm) <= 1412):
            return None
        return f"{yymm}.{num}"
    old = _OLD_ID.match(text)
    if old:
        return f"{old.group('archive').lower()}/{old.group('num')}"
    return None


def extract_links(text: str) -> tuple[str, ...]:
    """HTTP(S) links in running text, in order of appearance, without duplicates."""
    seen: dict[str, None] = {}
    # Every link has a "://": find those at C speed and try the pattern only where an http(s)
    # scheme ends there. The same matches as _URL.finditer, which tries every character (a
    # search resumes at the end of the last match, where no scheme can have begun).
    colon = text.find("://")
    while colon >= 0:
        match = _url_at(text, colon)
        if match is None:
            colon = text.find("://", colon + 1)
            continue
        url = match.group(0).rstrip(_URL_TRAILER)
        # keep a closing parenthesis that belongs to the URL: "…/Foo_(bar)"
        if url.count("(") > url.count(")") and match.group(0)[len(url) :].startswith(")"):
            url += ")"
        if "." in url.split("//", 1)[1]:
            seen.setdefault(url, None)
        colon = text.find("://", match.end())
    return tuple(seen)


def _url_at(text: str, colon: int) -> re.Match[str] | None:
    """The :data:`_URL` match whose scheme ends where ``"://"`` starts at ``colon``, else None."""
    if colon >= 5 and text[colon - 5 : colon] in _HTTPS:
        return _URL.match(text, colon - 5)
    if colon >= 4 and text[colon - 4 : colon] in _HTTP:
        return _URL.match(text, colon - 4)
    return None


# A period after these words (abstracts: "e.g.", "et al.", "Fig. 3") does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "al", "etc", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "no", "approx",
     "resp", "ref", "refs", "incl", "ca", "dr", "prof", "st", "viz", "w.r.t"}
)  # fmt: skip
# A sentence ends at . ! or ? (maybe closing a quote or bracket), then space and a capital or
# digit: "3.5x" and "e.g. the" are not ends.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z0-9\"'(\[])")


def first_sentence(text: str) -> tuple[str, str]:
    """``text`` (cleaned) split after its first sentence: ``(first, rest)``; rest may be ``""``."""
    text = clean_text(text)
    for match in _SENTENCE_END.finditer(text):
        if text[match.start()] == ".":
            word = text[: match.start()].rsplit(" ", 1)[-1].lstrip("(['\"").casefold()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue  # "e.g." or an initial ("J. Smith")
        return text[: match.end()].rstrip(), text[match.end() :]
    return text, ""
