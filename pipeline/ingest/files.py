"""Reading saved pages from disk. I/O edge: the file system.

Every problem becomes a :class:`~pipeline.errors.ParseError` naming the file and what is wrong
(too large, empty, binary, not UTF-8), so one bad file never stops a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import ParseError

PAGE_SUFFIXES = (".txt", ".html", ".htm", ".json")


def read_page_file(path: Path, *, max_bytes: int) -> str:
    """The text of a saved page, checked for size, binary content and encoding."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(
                str(path), f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ParseError(str(path), "empty file" if not data else "file holds only whitespace")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError(str(path), f"binary file (NUL byte at offset {nul}), not a text page")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise ParseError(
            str(path), f"not UTF-8 text (byte 0x{bad} at offset {exc.start}): binary or mis-encoded"
        ) from None


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the page files inside named folders (sorted, recursive)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in PAGE_SUFFIXES
                    and not p.name.startswith(".")
                )
            )
        else:
            found.append(path)
    return found
