"""Reading local files with a size cap, regular files only. A helper without I/O libraries.

Every file paperboy reads from a path it was given (saved pages, config and topics files,
subscriber CSVs) goes through :func:`read_regular_file`. Checking ``stat().st_size`` first was
not enough (issue 15.6): ``/dev/zero`` reports size 0 and grew the process to 7.6 GB in 12 s,
and opening a FIFO blocks until a writer comes. So the file is opened without blocking
(``O_NONBLOCK``: a FIFO opens at once), refused unless ``fstat`` says it is a regular file, and
read up to the cap plus one byte, whatever its size said.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

_READ_CHUNK = 1 << 20
_UTF16_SNIFF = 512  # bytes looked at to tell UTF-16 without a byte-order mark
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(Exception):
    """A file that is not read: not a regular file, too large, or unreadable (``detail``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages (``a FIFO``, ``a character device``...)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def too_large(size: int, max_bytes: int) -> str:
    """The message for a file over the limit."""
    return f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit"


def read_regular_file(path: Path, *, max_bytes: int, hint: str = "") -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes`` bytes.

    Raises :class:`FileRefused` otherwise; ``hint`` ends the not-a-regular-file message.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FileRefused(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"not a regular file ({file_kind(info.st_mode)}){hint}")
        if info.st_size > max_bytes:
            raise FileRefused(too_large(info.st_size, max_bytes))
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > max_bytes:  # it grew while we read it (a log, a file being copied)
                raise FileRefused(f"file grew over the {max_bytes / 1e6:g} MB limit while read")
            chunks.append(chunk)
    except OSError as exc:
        raise FileRefused(f"cannot read file: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def _looks_like_utf16(data: bytes) -> bool:
    """Mostly-ASCII UTF-16 without a BOM: NUL in every other byte (one parity, not the other)."""
    sample = data[:_UTF16_SNIFF]
    if len(sample) < 8:
        return False
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    return max(even, odd) > 0.6 and min(even, odd) < 0.1


def decode_text(data: bytes) -> str:
    """Text of a file: UTF-8 (a BOM tolerated), or UTF-16 announced by its byte-order mark.

    Anything else raises :class:`FileRefused` naming the cause (issue 15.11: a UTF-16 page was
    called binary, a Latin-1 CSV ended in a traceback): UTF-16 without a BOM, the first byte
    that is not UTF-8 with its line, or NUL bytes (binary).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileRefused(f"invalid UTF-16 text (at offset {exc.start})") from None
    if _looks_like_utf16(data):
        raise FileRefused("UTF-16 text without a byte-order mark: save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileRefused(f"binary file (NUL byte at offset {nul}), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        line = data.count(b"\n", 0, exc.start) + 1
        guess = "; Latin-1 or Windows-1252?" if data[exc.start] >= 0x80 else ""
        raise FileRefused(
            f"not UTF-8 text (byte 0x{bad} on line {line}, at offset {exc.start}{guess}): "
            "save the file as UTF-8"
        ) from None
