"""Schema migrations with Alembic, configured in code. I/O edge: the database.

The migration scripts ship inside the package (``pipeline/store/migrations``), so an installed wheel
migrates its store without an alembic.ini. :func:`upgrade` is what ``paperboy init`` and every
command's start-up run: it takes a lock first (``BEGIN IMMEDIATE`` on SQLite, a transaction-level
advisory lock on PostgreSQL), so replicas starting together migrate once; a store at head costs
one read-only query and no Alembic: the store's revision is read from ``alembic_version`` with
plain SQL and compared with :data:`~pipeline.store.migrations.HEAD_REVISION`, and Alembic is
imported only when a stamp, an upgrade or a downgrade is due. An empty store, or one made
before migrations existed (tables, no ``alembic_version``), gets the missing tables from the
models and is stamped at head.

Developers add a revision after changing :mod:`pipeline.store.tables` with
``python -m pipeline.store.migrate revision "what changed"`` (autogenerate against a scratch
SQLite), then set ``HEAD_REVISION`` in ``pipeline/store/migrations/__init__.py`` to it.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from pipeline.errors import StoreError
from pipeline.store.engine import read_only
from pipeline.store.migrations import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x7061_7065_726D  # "paperm": one migration at a time across replicas
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts (and at ``connection`` if given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of paperboy (no Alembic import)."""
    return HEAD_REVISION


def script_head() -> str:
    """The newest revision according to Alembic's scripts (tests compare it with the constant)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts in {SCRIPTS}")
    return head


def _has_version_table(connection: Connection) -> bool:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"
        return bool(connection.execute(text(query), {"name": VERSION_TABLE}).scalar())
    if dialect == "postgresql":  # the table Alembic would use: the first on the search_path
        found = connection.execute(text("SELECT to_regclass(:name)"), {"name": VERSION_TABLE})
        return found.scalar() is not None
    return inspect(connection).has_table(VERSION_TABLE)


def current_revision(connection: Connection) -> str | None:
    """The revision the store is at (None: never migrated), read with plain SQL."""
    if not _has_version_table(connection):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise StoreError(f"{VERSION_TABLE} holds several revisions {sorted(rows)}; expected one")
    return str(rows[0]) if rows else None


# Alembic commands go through module-global proxies (alembic.context, alembic.op), so two
# threads migrating at once break each other (KeyError: 'script', seen in the fault harness,
# which runs scenarios in threads). The database lock below orders processes; this orders threads.
_IN_PROCESS = threading.RLock()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    # SQLite: engine.begin() already issued BEGIN IMMEDIATE (pipeline.store.engine): one writer.


def upgrade(engine: Engine, revision: str = "head", *, run_scripts: bool = False) -> None:
    """Bring the store to ``revision`` (default head).

    An unversioned store is built from the models and stamped, unless ``run_scripts``.
    """
    target = head_revision() if revision == "head" else revision
    with read_only(engine).connect() as probe:  # SQLite: plain BEGIN, never waits for a writer
        if current_revision(probe) == target:
            return  # the common case: one query, no lock, no Alembic
    from alembic import command

    with _IN_PROCESS, engine.begin() as connection:
        _lock(connection)
        current = current_revision(connection)
        if current == target:
            return
        if current is None and target == head_revision() and not run_scripts:
            # An empty database, or one made by create_all before migrations existed: create
            # what is missing and stamp (Alembic cookbook "building an up to date database
            # from scratch"; tests prove the models equal the migrated schema).
            from pipeline.store import tables

            tables.metadata.create_all(connection)
            command.stamp(alembic_config(connection), "head")
            return
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (default: an empty database)."""
    from alembic import command

    with _IN_PROCESS, engine.begin() as connection:
        _lock(connection)
        command.downgrade(alembic_config(connection), revision)


def schema_diff(engine: Engine) -> list[Any]:
    """Differences between the migrated store and the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store import tables

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))


def make_revision(message: str) -> None:
    """Autogenerate a revision script from the models against a scratch SQLite store."""
    from alembic import command

    from pipeline.store.engine import make_engine

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        upgrade(engine, run_scripts=True)  # the scripts, not create_all: else nothing differs
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=message, autogenerate=True)
        engine.dispose()
    sys.stderr.write(f"now set HEAD_REVISION in {SCRIPTS / '__init__.py'} to the new revision\n")


if __name__ == "__main__":  # python -m pipeline.store.migrate revision "message"
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m pipeline.store.migrate revision "what changed"')
    make_revision(sys.argv[2])
