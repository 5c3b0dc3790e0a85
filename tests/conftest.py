"""Shared fixtures: a real store (SQLite file, and PostgreSQL when a server answers), a fixed
clock, page builders.

No test resolves a host name: the autouse fixture :func:`no_host_name_lookups` makes
``socket.getaddrinfo``/``gethostbyname`` fail for anything but ``localhost`` and IP literals
(inject a resolver instead, e.g. ``make_client(..., resolve=...)``; see ``tests/hf_support.py``).

The ``engine`` fixture runs each test on SQLite and on PostgreSQL. PostgreSQL comes from
``PAPERBOY_TEST_POSTGRES_URL`` or a server at 127.0.0.1:5432 (user postgres); without one the
PostgreSQL variants are skipped with the reason. One database per test session, one fresh
schema per test (``search_path`` in the URL, so subprocesses given ``engine.url`` see it too).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pipeline.config import Config, config_from_mapping
from pipeline.store.engine import init_db, make_engine

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
# The three saved text pages the README's first command ingests; the tests count on their exact
# content (tests/test_store.py hand-counts new and recurring papers), so there is one copy.
SAMPLES = REPO / "examples" / "pages"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


class HostLookupError(AssertionError):
    """A test asked the system resolver for a host name (tests must not depend on DNS)."""


# smtplib.SMTP looks up the machine's own name for its EHLO greeting when getfqdn() has no dot
# (smtplib.py: gethostbyname(gethostname())): that name is the machine's, never a remote host.
_OWN_NAME = socket.gethostname().lower()


def is_local_host(host: object) -> bool:
    """True for what needs no remote DNS: None, ``localhost``, this machine's name, IP literals."""
    if host is None:
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.lower() in ("", "localhost", _OWN_NAME):
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])  # fe80::1%eth0 is a literal too
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_host_name_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make every host-name look-up in this test fail loudly (IP literals and localhost pass).

    The look-up raises :class:`HostLookupError` (an AssertionError, so ``except OSError`` in the
    code under test does not swallow it), and the test errors at teardown even if a thread or a
    broad ``except`` hid the exception. Yields the list of names looked up (a test of this guard
    clears it).
    """
    looked_up: list[str] = []

    def guarded(real: Callable[..., object]) -> Callable[..., object]:
        def lookup(host: object, *args: object, **kwargs: object) -> object:
            if not is_local_host(host):
                looked_up.append(repr(host))
                raise HostLookupError(
                    f"a test resolved the host name {host!r} through {real.__name__}: "
                    "inject a resolver (make_client(..., resolve=...)) or use an IP literal"
                )
            return real(host, *args, **kwargs)

        return lookup

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, guarded(getattr(socket, name)))
    yield looked_up
    if looked_up:
        pytest.fail(f"host names resolved during the test: {', '.join(looked_up)}")


@pytest.fixture
def now() -> datetime:
    """The fixed 'now' every pure call gets (2026-11-23 06:00 UTC)."""
    return NOW


DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_schemas = itertools.count(1)


def postgres_admin_url() -> tuple[str | None, str]:
    """The server's URL to create test databases with, or None and why there is none."""
    url = os.environ.get("PAPERBOY_TEST_POSTGRES_URL")
    if url:
        return url, ""
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return None, "PostgreSQL tests skipped: no server at 127.0.0.1:5432"
    return DEFAULT_POSTGRES, ""


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A scratch database for this test session (dropped at the end); skips without a server."""
    admin_url, reason = postgres_admin_url()
    if admin_url is None:
        pytest.skip(reason)
    name = f"paperboy_test_{os.getpid()}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # Commits need not survive a crash of the test server: skip the WAL flush wait.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # noqa: BLE001 (any failure here means: no usable server)
        admin.dispose()
        pytest.skip(f"PostgreSQL tests skipped: cannot create a database ({exc})")
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema of the session's database."""
    schema = f"t{next(_schemas)}"
    admin = make_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(postgres_database).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A real store with the schema migrated: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'paperboy.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = make_engine(url)
    init_db(eng)
    yield eng
    eng.dispose()


def make_config(
    tmp_path: Path, *, env: dict[str, str] | None = None, **sections: dict[str, object]
) -> Config:
    """A Config rooted at tmp_path (data/ and out/ inside it), with section overrides."""
    return config_from_mapping(dict(sections), base_dir=tmp_path, env=env or {})


def text_page(listing: str, papers: list[tuple[str, str]], *, header: str | None = None) -> str:
    """A saved text page in the samples' layout: header, date line, title/abstract blocks."""
    head = (
        header
        if header is not None
        else (
            "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
            "byAK and the research community\n\n"
        )
    )
    body = "".join(f"{title}\n\n{abstract}\n\n" for title, abstract in papers)
    return f"{head}{listing}\n\n{body}"


def as_date(text: str) -> date:
    return date.fromisoformat(text)
