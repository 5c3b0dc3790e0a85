from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pipeline.errors import LockedError
from pipeline.store.lock import lock_path_for, run_lock


def test_lock_path_for_sqlite_only() -> None:
    assert lock_path_for("sqlite:////srv/data/p.db") == Path("/srv/data/p.db.lock")
    assert lock_path_for("sqlite:///:memory:") is None
    assert lock_path_for("postgresql+psycopg://u@h/db") is None


def test_second_holder_is_refused_with_a_clear_message(engine: Engine) -> None:
    expected = {
        "sqlite": r"another paperboy run holds the lock .*paperboy\.db\.lock",
        "postgresql": r"another paperboy run holds the PostgreSQL advisory lock; try again later",
    }[engine.dialect.name]
    with run_lock(engine):
        with pytest.raises(LockedError, match=expected):
            with run_lock(engine):
                pass  # pragma: no cover
    with run_lock(engine):  # released after the block
        pass


def test_lock_is_released_when_the_holder_is_killed(engine: Engine, tmp_path: Path) -> None:
    """S4 (SQLite file lock) and S5 (PostgreSQL advisory lock): another process holds the
    lock, this one is refused; after SIGKILL of the holder the lock is free within 2 s."""
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from pipeline.store.engine import make_engine
            from pipeline.store.lock import run_lock
            with run_lock(make_engine({url!r})):
                print("locked", flush=True)
                time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError):
            with run_lock(engine):
                pass  # pragma: no cover
        holder.kill()
        holder.wait(timeout=10)
        started = time.monotonic()
        with run_lock(engine, wait=5):
            waited = time.monotonic() - started
        assert waited < 2
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
