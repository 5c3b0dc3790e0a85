"""Core statements compiled once, run on the DB-API cursor of a SQLAlchemy connection.

For the hot write path of ingest (:mod:`pipeline.store.page_writer`): SQLAlchemy's execution of
a compiled statement costs tens of microseconds per statement and several per row (cache key,
parameter construction, one bind processor per value, ``insertmanyvalues`` rendering), which
made ingest 2.7x a raw ``executemany`` of the same rows. Here a statement built with Core is
compiled once per dialect into the driver's SQL (named parameters: ``:name`` for sqlite3,
``%(name)s`` for psycopg) and runs on the cursor of the session's own connection, inside its
transaction; values are given in the form the dialect stores (:class:`Values`), and driver
errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), as
``execute`` would raise them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, column, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True)
class Prepared:
    """A statement in the driver's SQL and the parameter names it takes."""

    sql: str
    names: frozenset[str]


def prepare(statement: Any, dialect: Dialect, columns: Sequence[str] | None = None) -> Prepared:
    """``statement`` compiled for ``dialect`` with named parameters; ``columns``: the columns an
    INSERT or UPDATE sets (every value must then be given, defaults included)."""
    target = dialect
    if dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        target = sqlite.dialect(paramstyle="named")
    compiled = statement.compile(dialect=target, column_keys=list(columns or ()) or None)
    return Prepared(compiled.string, frozenset(compiled.binds))


def in_list(item: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[Any]:
    """``item IN (the list given as parameter name)``, one parameter whatever its length: an
    array on PostgreSQL (``= ANY``), a JSON array on SQLite (``json_each``)."""
    from sqlalchemy import any_, bindparam

    if dialect == "postgresql":
        return item == any_(bindparam(name))
    listed: Any = select(column("value")).select_from(func.json_each(bindparam(name)))
    return item.in_(listed)


class Values:
    """Values as the store's dialect holds them (what SQLAlchemy's types would bind and read)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def stamp(self, value: datetime) -> Any:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else value

    def json(self, value: Any) -> str:
        return json.dumps(value)

    def id_list(self, values: Iterable[Any]) -> Any:
        return json.dumps(list(values)) if self.sqlite else list(values)

    def read_day(self, value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    def read_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class Cursor:
    """Runs prepared statements on the DB-API cursor of ``connection`` (in its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        raw = connection.connection.dbapi_connection
        if raw is None:  # a connection inside a transaction always has one
            raise AssertionError("connection without a DB-API connection")
        self._cursor: Any = raw.cursor()

    @contextmanager
    def _errors(self, prepared: Prepared, params: Any) -> Iterator[None]:
        try:
            yield
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                prepared.sql, params, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from exc

    def rows(self, prepared: Prepared, params: Mapping[str, Any]) -> list[Any]:
        """Execute once; the rows it returns."""
        with self._errors(prepared, params):
            self._cursor.execute(prepared.sql, params)
            return list(self._cursor.fetchall()) if self._cursor.description else []

    def many(self, prepared: Prepared, params: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set (executemany)."""
        if params:
            with self._errors(prepared, params):
                self._cursor.executemany(prepared.sql, params)

    def many_returning(self, prepared: Prepared, params: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Execute once per parameter set; every row the executions return."""
        found: list[Any] = []
        if not params:
            return found
        with self._errors(prepared, params):
            if self.dialect.driver == "psycopg":
                self._cursor.executemany(prepared.sql, params, returning=True)
                while True:
                    found += self._cursor.fetchall()
                    if not self._cursor.nextset():
                        break
            else:  # sqlite3's (and psycopg2's) executemany return no rows
                for one in params:
                    self._cursor.execute(prepared.sql, one)
                    found += self._cursor.fetchall()
        return found
