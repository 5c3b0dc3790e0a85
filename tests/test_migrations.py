"""Migrations and models agree on SQLite and PostgreSQL; start-up migrates.

docs/reliability.md D4, §5.4.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, text

from pipeline.errors import StoreError
from pipeline.store import tables
from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    schema_diff,
    script_head,
    upgrade,
)
from pipeline.store.migrations import HEAD_REVISION
from pipeline.store.papers import store_counts, upsert_page
from tests.conftest import NOW
from tests.email_support import PAPERS_DAY1, page

TABLES = {"paper", "paper_alias", "digest", "appearance", "meta", "fetch_state", "subscriber"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (no tables, nothing migrated)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def test_migration_scripts_build_exactly_the_models(empty: Engine) -> None:
    upgrade(empty, run_scripts=True)
    assert _revision(empty) == head_revision()
    assert schema_diff(empty) == []  # the equivalent of `alembic check`


def test_upgrade_downgrade_upgrade_on_empty_database(empty: Engine) -> None:
    upgrade(empty, run_scripts=True)
    assert TABLES <= set(inspect(empty).get_table_names())
    downgrade(empty, "base")
    assert set(inspect(empty).get_table_names()) <= {"alembic_version"}
    assert _revision(empty) is None
    upgrade(empty, run_scripts=True)
    assert schema_diff(empty) == []
    with write_session(empty) as session:  # and the store works
        upsert_page(session=session, page=page(date(2026, 11, 20), PAPERS_DAY1), now=NOW)


def test_init_db_on_empty_database_is_at_head_and_matches_models(empty: Engine) -> None:
    init_db(empty)
    init_db(empty)  # idempotent
    assert _revision(empty) == head_revision()
    assert schema_diff(empty) == []


def test_store_made_by_create_all_is_stamped_and_keeps_its_rows(empty: Engine) -> None:
    tables.metadata.create_all(empty)  # a store from before migrations existed
    with write_session(empty) as session:
        upsert_page(session=session, page=page(date(2026, 11, 20), PAPERS_DAY1), now=NOW)
    assert not inspect(empty).has_table("alembic_version")
    init_db(empty)
    assert _revision(empty) == head_revision()
    with read_session(empty) as session:
        assert store_counts(session=session)["papers"] == len(PAPERS_DAY1)


def test_replicas_starting_together_migrate_once(empty: Engine) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            init_db(empty)
        except BaseException as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with empty.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == [head_revision()]


def test_threads_migrating_separate_stores_at_once(tmp_path: Path) -> None:
    """Alembic's global proxies are not thread-safe; init_db serialises them in-process."""
    errors: list[BaseException] = []
    engines = [make_engine(f"sqlite:///{tmp_path / f's{n}.db'}") for n in range(6)]
    start = threading.Barrier(len(engines))

    def migrate(engine: Engine) -> None:
        start.wait()
        try:
            init_db(engine)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for engine in engines:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        engine.dispose()


def test_head_revision_constant_is_alembics_head() -> None:
    """Adding a revision without bumping HEAD_REVISION (pipeline/store/migrations) fails here."""
    assert HEAD_REVISION == head_revision() == script_head()


def _alembic_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_plain_sql_revision_agrees_with_alembic(empty: Engine) -> None:
    assert _revision(empty) is None is _alembic_revision(empty)  # no alembic_version table
    upgrade(empty, "0001", run_scripts=True)
    assert _revision(empty) == "0001" == _alembic_revision(empty)
    upgrade(empty, run_scripts=True)
    assert _revision(empty) == head_revision() == _alembic_revision(empty)
    downgrade(empty, "base")  # the table stays, empty
    assert inspect(empty).has_table("alembic_version")
    assert _revision(empty) is None is _alembic_revision(empty)


def test_several_revisions_in_the_version_table_is_a_store_error(empty: Engine) -> None:
    init_db(empty)
    with empty.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    with pytest.raises(StoreError, match="several revisions"):
        init_db(empty)


def test_store_at_head_starts_while_another_process_writes(tmp_path: Path) -> None:
    """The at-head check only reads (plain BEGIN on SQLite): a writer holding the lock does not
    make it wait (it would wait the busy timeout, then fail with "database is locked")."""
    import sqlite3

    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        engine = make_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")  # after make_engine's: fail at once, not in 30 s
        def _no_wait(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout = 0")

        init_db(engine)  # raises StoreError (database is locked) if it asked for the lock
        engine.dispose()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_legacy_long_title_key_gains_its_bounded_alias(tmp_path: Path) -> None:
    """Issue 15.3: SQLite stores may hold title keys over 600 characters from before keys were
    bounded. Migration 0006 keeps such a key (feed GUIDs derive from it) and adds the bounded
    alias, so the next page listing the paper finds it instead of making a duplicate."""
    from pipeline.identity import fold_title, title_key
    from pipeline.store.integrity import check_store
    from tests.test_store import LONG_TITLE
    from tests.test_store import page as store_page_of

    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    upgrade(engine, "0002", run_scripts=True)
    legacy_key = "title:" + fold_title(LONG_TITLE)
    assert len(legacy_key) > 600
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO paper (id, key, title, abstract, text_date, links, authors, keywords,"
                " first_seen, last_seen, times_seen, created_at) VALUES (1, :key, :title, 'a',"
                " '2026-03-11', '[]', '[]', '[]', '2026-03-11', '2026-03-11', 1,"
                " '2026-03-11 00:00:00')"
            ),
            {"key": legacy_key, "title": LONG_TITLE},
        )
        conn.execute(text("INSERT INTO paper_alias VALUES (:key, 1)"), {"key": legacy_key})
        conn.execute(
            text(
                "INSERT INTO digest VALUES (1, 'test', '2026-03-11', 'old', 'h', 1,"
                " '2026-03-11 00:00:00')"
            )
        )
        conn.execute(text("INSERT INTO appearance VALUES (1, 1, 1, '2026-03-11', 1)"))
    init_db(engine)
    with write_session(engine) as session:
        report = upsert_page(
            session=session, page=store_page_of(date(2026, 3, 14), (LONG_TITLE, "a")), now=NOW
        )
    assert (report.new, report.recurring) == (0, 1)
    with read_session(engine) as session:
        assert store_counts(session=session)["papers"] == 1
        assert check_store(session=session) == []
        aliases = {a for (a,) in session.execute(text("SELECT alias FROM paper_alias"))}
        key = session.execute(text("SELECT key FROM paper")).scalar_one()
    assert key == legacy_key  # unchanged
    assert aliases == {legacy_key, title_key(LONG_TITLE)}
    engine.dispose()


def test_upgrade_to_0004_keeps_outbox_rows_as_daily_and_drops_the_old_marks(
    empty: Engine,
) -> None:
    """A store mailed by the previous version: its rows stay daily and unique, its subscribers
    daily; the ``email_pending:`` marks of the old run are gone (due editions are recomputed)."""
    upgrade(empty, "0002", run_scripts=True)
    at = NOW.replace(tzinfo=None)
    with empty.begin() as conn:
        conn.execute(text(
            "INSERT INTO subscriber (id, email, email_key, topics, status, token_nonce,"
            " token_hash, created_at, updated_at) VALUES (1, 'a@example.org', 'a@example.org',"
            " '[\"long-context\"]', 'active', 'n', 'h', :at, :at)"), {"at": at})  # fmt: skip
        conn.execute(text(
            "INSERT INTO outbox (subscriber_id, edition, state, message_id, attempts,"
            " next_attempt_at, created_at) VALUES (1, '2026-11-20', 'sent', '<m@x>', 1, :at, :at)"
        ), {"at": at})  # fmt: skip
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('email_pending:2026-11-20', '1')"))
    upgrade(empty, run_scripts=True)
    with empty.connect() as conn:
        rows = conn.execute(text("SELECT kind, edition, topics FROM outbox")).all()
        subscriber = conn.execute(
            text("SELECT frequency, previous_frequency, frequency_from FROM subscriber")
        ).one()
        marks = conn.execute(text("SELECT count(*) FROM meta WHERE key LIKE 'email_pending:%'"))
        assert [(kind, str(day), topics) for kind, day, topics in rows] == [
            ("daily", "2026-11-20", None)
        ]
        assert tuple(subscriber) == ("daily", None, None)
        assert marks.scalar_one() == 0
    assert schema_diff(empty) == []
    downgrade(empty, "0002")  # and back
    assert _revision(empty) == "0002"
