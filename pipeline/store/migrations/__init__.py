"""The Alembic scripts of paperboy's store (``env.py``, ``versions/``).

Importing this package imports no Alembic: start-up compares the store's ``alembic_version``
with :data:`HEAD_REVISION` and loads Alembic only when a migration is due
(:mod:`pipeline.store.migrate`).
"""

# The newest revision in versions/. ADDING A REVISION? Set this to its id (the new script's
# ``revision``), else stores are not upgraded to it at start-up. tests/test_migrations.py
# checks it against Alembic's ScriptDirectory.get_current_head().
HEAD_REVISION = "0003"
