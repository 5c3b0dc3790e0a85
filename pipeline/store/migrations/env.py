"""Alembic environment for paperboy's store. I/O edge: the database.

Run through :mod:`pipeline.store.migrate` (no alembic.ini needed): the caller passes an open
connection in ``config.attributes["connection"]``. SQLite gets batch mode ("move and copy"),
because it has almost no ALTER TABLE (docs/reliability.md §5.4).
"""

from __future__ import annotations

from alembic import context

from pipeline.store.tables import metadata


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through pipeline.store.migrate (it passes a connection)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
