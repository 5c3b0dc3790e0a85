"""Database engine and transactions. I/O edge: the database.

SQLite gets WAL, a busy timeout and foreign keys on every connection, and write transactions
start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once
with "database is locked" when another connection committed in between, whatever the busy
timeout (docs/reliability.md §0.4 and 5.1). PostgreSQL needs none of this.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from pipeline.config import redact_url, sqlite_file
from pipeline.errors import StoreError

BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another writer before giving up
# SQLite's default page cache is 2 MiB; index look-ups in a store of 1M papers touch far more.
CACHE_KIB = 64 * 1024
_READ_ONLY = "paperboy_read_only"
_FILE_KEY = "paperboy_file"  # connection record info: (device, inode) of the file it opened


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


def _gone(path: Path) -> StoreError:
    return StoreError(
        f"the store file {path} is gone (deleted or moved while paperboy ran): restore it, or "
        "restart this process to start a new store; nothing was read or written"
    )


def _follow_the_file(engine: Engine, path: Path) -> None:
    """Pooled connections follow the store's path, not a deleted file (issue 15.9).

    A connection keeps the file it opened: after the file was deleted and a new store made at
    the same path, a long-running ``serve`` kept writing (web unsubscribes) into the deleted
    file. Each checkout compares the path's (device, inode) with the connection's: a replaced
    file invalidates the connection (the pool reconnects to the new file); a missing file is a
    StoreError, and no new connection may create an empty store in its place.
    """
    opened = {"once": False}

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        if opened["once"] and _file_identity(path) is None:
            raise _gone(path)

    @event.listens_for(engine, "connect")
    def _remember(_dbapi_connection: Any, record: Any) -> None:
        record.info[_FILE_KEY] = _file_identity(path)
        opened["once"] = True

    @event.listens_for(engine, "checkout")
    def _check(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        now = _file_identity(path)
        if now is None:
            raise _gone(path)
        if now != record.info.get(_FILE_KEY):
            raise DisconnectionError(f"store file {path} was replaced: reconnecting")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the store cannot answer now (busy, locked, unreachable), or None for other errors.

    The web face answers 503 with ``Retry-After`` for these instead of a bare 500 (issue 15.9).
    """
    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, OperationalError):
        detail = " ".join(str(exc.orig or exc).split())[:200]
        return f"the store is busy or unreachable ({detail})"
    return None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url``; a SQLite file's folder is created if missing."""
    database_file = sqlite_file(url)
    if database_file is not None:
        database_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database URL {redact_url(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
        if database_file is not None:
            _follow_the_file(engine, database_file)
    return engine


def init_db(engine: Engine) -> None:
    """Migrate the store to the newest schema (idempotent; a store already there costs a read of
    ``alembic_version`` and no Alembic import)."""
    from pipeline.store.migrate import upgrade

    try:
        upgrade(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot create tables in {redact_url(str(engine.url))}: {exc}") from exc


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite): commit on success, else roll back."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def scratch_session(engine: Engine) -> Iterator[Session]:
    """A write transaction that is always rolled back: compute what a change would do (dry
    runs) with the code that makes it, and keep nothing."""
    with Session(engine, expire_on_commit=False) as session:
        session.begin()
        try:
            yield session
        finally:
            session.rollback()


def read_only(engine: Engine) -> Engine:
    """The engine whose transactions only read: on SQLite a plain ``BEGIN``, so they never take
    (or wait for) the write lock."""
    return engine.execution_options(**{_READ_ONLY: True})


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only transaction that never takes SQLite's write lock."""
    with Session(read_only(engine)) as session, session.begin():
        yield session


def insert_for(bind: OrmSession | Connection | Engine, table: Any) -> Any:
    """An INSERT into ``table`` in the dialect of ``bind``'s database, with its
    ``on_conflict_do_nothing``/``on_conflict_do_update``.

    ``sqlalchemy.dialects.postgresql`` is imported only for a PostgreSQL store (a SQLite store
    loads neither it nor psycopg).
    """
    engine_or_connection = bind.get_bind() if isinstance(bind, OrmSession) else bind
    return insert_for_dialect(engine_or_connection.dialect.name, table)


def insert_for_dialect(dialect: str, table: Any) -> Any:
    """:func:`insert_for` by dialect name (``postgresql`` or ``sqlite``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
