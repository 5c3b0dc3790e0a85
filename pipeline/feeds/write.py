"""Deliver rendered outputs. I/O edge: the file system.

Feed files are replaced atomically (docs/reliability.md §1.6): the bytes go to a dot-prefixed temp
file in the same folder (``os.replace`` is atomic only within one file system), are fsynced,
made world-readable (``mkstemp`` creates 0600, which a web server user cannot read), renamed
over the target, and the folder is fsynced so the rename survives a power loss. A reader
therefore sees the old file or the new one, never half of one. Identical bytes are not
rewritten, so mtime, ETag and Last-Modified stay put and readers are not made to re-download.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from pipeline.errors import DeliveryError
from pipeline.failpoints import failpoint

FILE_MODE = 0o644
TEMP_PREFIX = ".paperboy-"  # dot files: never served as feeds, never listed in the OPML index
TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 3600  # a temp file this old is a crash leftover, not a write in progress


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_feed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` (mode 0644); False when it already held them."""
    try:
        if _same_bytes(path, data):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, FILE_MODE)
            failpoint("mid_feed_write")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)
    except OSError as exc:
        raise DeliveryError(str(path), f"cannot write feed file: {exc.strerror or exc}") from exc
    return True


def remove_stale_temp_files(folder: Path, *, now: datetime) -> int:
    """Delete crash leftovers (our temp files older than an hour); return how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for leftover in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if now.timestamp() - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                leftover.unlink()
                removed += 1
    return removed
