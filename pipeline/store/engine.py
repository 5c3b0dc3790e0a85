"""Database engine and transactions. I/O edge: the database.

SQLite gets WAL, a busy timeout and foreign keys on every connection, and write transactions
start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once
with "database is locked" when another connection committed in between, whatever the busy
timeout (docs/reliability.md §0.4 and 5.1). PostgreSQL needs none of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from pipeline.config import redact_url, sqlite_file
from pipeline.errors import StoreError

BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another writer before giving up
# SQLite's default page cache is 2 MiB; index look-ups in a store of 1M papers touch far more.
CACHE_KIB = 64 * 1024
_READ_ONLY = "paperboy_read_only"


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
    if engine_or_connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
