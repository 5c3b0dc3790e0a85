"""SQLite settings that keep concurrent runs from failing (docs/reliability.md §0.4, §5.1; D2).

SQLite only (these are its traps; PostgreSQL runs several writers). A deferred transaction that
reads and later writes fails at once with "database is locked" when another connection committed in
between, whatever the busy timeout; write sessions must start with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.tables import Meta


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file store (overrides the conftest fixture, which also runs PostgreSQL)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'paperboy.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_read_then_write_survives_a_writer_in_between(engine: Engine) -> None:
    """A reads, B wants to write, A writes: with BEGIN IMMEDIATE, B waits and both succeed."""
    a_has_read = threading.Event()
    errors: list[BaseException] = []

    def writer_a() -> None:
        try:
            with write_session(engine) as session:
                session.execute(text("SELECT count(*) FROM meta")).scalar()
                a_has_read.set()
                time.sleep(0.4)  # B tries to write now
                session.add(Meta(key="a", value="1"))
        except BaseException as exc:  # noqa: BLE001 (reported to the main thread)
            errors.append(exc)
            a_has_read.set()

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert a_has_read.wait(5)
    started = time.monotonic()
    with write_session(engine) as session:  # blocks on A's write lock, then proceeds
        session.add(Meta(key="b", value="1"))
    waited = time.monotonic() - started
    thread.join(5)
    assert errors == []
    assert waited >= 0.2  # B really waited for A (a deferred BEGIN would not have)
    with read_session(engine) as session:
        keys = session.execute(text("SELECT key FROM meta WHERE key IN ('a', 'b')")).scalars()
        assert sorted(keys) == ["a", "b"]


def test_read_session_does_not_wait_for_a_writer(engine: Engine) -> None:
    holding = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with write_session(engine) as session:
            session.add(Meta(key="w", value="1"))
            session.flush()
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(5)
    started = time.monotonic()
    with read_session(engine) as session:
        seen = session.execute(text("SELECT count(*) FROM meta WHERE key = 'w'")).scalar()
    took = time.monotonic() - started
    release.set()
    thread.join(5)
    assert seen == 0 and took < 0.5  # the uncommitted row is invisible; no lock wait
