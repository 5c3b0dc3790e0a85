"""Reading saved pages from disk. I/O edge: the file system.

Every problem becomes a :class:`~pipeline.errors.ParseError` naming the file and what is wrong
(not a regular file, too large, empty, binary, not UTF-8), so one bad file never stops a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.bounded import FileRefused, decode_text, read_regular_file
from pipeline.errors import ParseError

PAGE_SUFFIXES = (".txt", ".html", ".htm", ".json")


def read_page_file(path: Path, *, max_bytes: int) -> str:
    """The text of a saved page, checked for kind, size, binary content and encoding.

    Only regular files are read, and never more than ``max_bytes`` (issue 15.6).
    """
    try:
        data = read_regular_file(path, max_bytes=max_bytes, hint=": give a saved page file")
    except FileRefused as exc:
        raise ParseError(str(path), exc.detail) from None
    if not data.strip():
        raise ParseError(str(path), "empty file" if not data else "file holds only whitespace")
    try:
        return decode_text(data)
    except FileRefused as exc:
        # "binary file (...), not a text file" -> say what a page is
        raise ParseError(str(path), exc.detail.replace("a text file", "a text page")) from None


def is_page_name(path: Path) -> bool:
    """A page file by its name: a page suffix, not hidden, not a folder.

    FIFOs and devices with such a name are listed too, so reading refuses them with a clear
    error instead of skipping them in silence.
    """
    return (
        path.suffix.lower() in PAGE_SUFFIXES and not path.name.startswith(".") and not path.is_dir()
    )


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the page files inside named folders (sorted, recursive)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if is_page_name(p)))
        else:
            found.append(path)
    return found
