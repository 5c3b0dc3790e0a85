"""Schema migrations with Alembic, configured in code. I/O edge: the database.

The migration scripts ship inside the package (``pipeline/store/migrations``), so an installed wheel
migrates its store without an alembic.ini. :func:`upgrade` is what ``paperboy init`` and every
command's start-up run: it takes a lock first (``BEGIN IMMEDIATE`` on SQLite, a transaction-level
advisory lock on PostgreSQL), so replicas starting together migrate once; a store at head costs
one query. An empty store, or one made before migrations existed (tables, no
``alembic_version``), gets the missing tables from the models and is stamped at head.

Developers add a revision after changing :mod:`pipeline.store.tables` with
``python -m pipeline.store.migrate revision "what changed"`` (autogenerate against a scratch
SQLite).
"""

from __future__ import annotations

import functools
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from pipeline.store import tables

SCRIPTS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x7061_7065_726D  # "paperm": one migration at a time across replicas


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts (and at ``connection`` if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    """The newest revision shipped with this version of paperboy."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts in {SCRIPTS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the store is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


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
    with engine.connect() as probe:
        if current_revision(probe) == target:
            return  # the common case: one query, no lock
    with _IN_PROCESS, engine.begin() as connection:
        _lock(connection)
        current = current_revision(connection)
        if current == target:
            return
        if current is None and target == head_revision() and not run_scripts:
            # An empty database, or one made by create_all before migrations existed: create
            # what is missing and stamp (Alembic cookbook "building an up to date database
            # from scratch"; tests prove the models equal the migrated schema).
            tables.metadata.create_all(connection)
            command.stamp(alembic_config(connection), "head")
            return
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (default: an empty database)."""
    with _IN_PROCESS, engine.begin() as connection:
        _lock(connection)
        command.downgrade(alembic_config(connection), revision)


def schema_diff(engine: Engine) -> list[Any]:
    """Differences between the migrated store and the models (empty when they agree)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))


def make_revision(message: str) -> None:
    """Autogenerate a revision script from the models against a scratch SQLite store."""
    from pipeline.store.engine import make_engine

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        upgrade(engine, run_scripts=True)  # the scripts, not create_all: else nothing differs
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":  # python -m pipeline.store.migrate revision "message"
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m pipeline.store.migrate revision "what changed"')
    make_revision(sys.argv[2])
