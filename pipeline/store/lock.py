"""One run at a time. I/O edge: a lock file (SQLite) or a PostgreSQL advisory lock.

SQLite deployments lock a separate file next to the database with ``flock`` (via filelock);
the kernel drops it when the process dies, unlike a PID file, and it never touches SQLite's own
POSIX locks (docs/reliability.md §3.3). PostgreSQL deployments (several replicas) take a session
advisory lock on one dedicated connection held for the whole run; it is released when that
connection closes, also when the process is killed. Use a direct connection or session pooling:
under PgBouncer transaction pooling a session lock is not safe.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Engine, text

from pipeline.config import sqlite_file
from pipeline.errors import LockedError

ADVISORY_KEY = 0x7061_7065_7262  # "paperb": one key for the daily job


def lock_path_for(database_url: str) -> Path | None:
    """The lock file for a SQLite URL (``<db>.lock``); None for other databases."""
    found = sqlite_file(database_url)
    return found.with_name(found.name + ".lock") if found is not None else None


@contextmanager
def run_lock(engine: Engine, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the job lock for the block, or raise :class:`LockedError` after ``wait`` seconds."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, wait=wait):
            yield
        return
    path = lock_path_for(engine.url.render_as_string(hide_password=False))
    if path is None:  # an in-memory database is private to this process anyway
        yield
        return
    lock = FileLock(path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(f"another paperboy run holds the lock {path}; try again later") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory_lock(engine: Engine, *, wait: float) -> Iterator[None]:
    with engine.connect() as conn:
        deadline = time.monotonic() + wait
        while not conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
        ).scalar():
            conn.commit()
            if time.monotonic() >= deadline:
                raise LockedError(
                    "another paperboy run holds the PostgreSQL advisory lock; try again later"
                )
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
