"""Shared CLI plumbing: the lazily built config, clock and store of one invocation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlalchemy import Engine

from pipeline.config import Config, load_config
from pipeline.store.engine import init_db, make_engine

NOW_ENV = "PAPERBOY_NOW"  # tests and the fault harness only: pin the clock


@dataclass
class App:
    """Resources of one CLI invocation, built on first use and closed with the context."""

    config_path: Path | None
    _config: Config | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)

    @property
    def config(self) -> Config:
        """The loaded configuration."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def now(self) -> datetime:
        """The current time (aware UTC): the one place commands read the clock.

        ``$PAPERBOY_NOW`` (ISO 8601 with offset) pins it, for the fault harness and tests only.
        """
        pinned = os.environ.get(NOW_ENV)
        if pinned:
            try:
                when = datetime.fromisoformat(pinned)
            except ValueError:
                raise click.UsageError(f"{NOW_ENV}={pinned!r} is not an ISO 8601 time") from None
            if when.tzinfo is None:
                raise click.UsageError(f"{NOW_ENV}={pinned!r} needs a UTC offset")
            return when.astimezone(UTC)
        return datetime.now(UTC)

    def engine(self) -> Engine:
        """The store's engine, with its tables created; disposed when the command ends."""
        if self._engine is None:
            engine = make_engine(self.config.database_url)
            init_db(engine)
            click.get_current_context().call_on_close(engine.dispose)
            self._engine = engine
        return self._engine


pass_app = click.make_pass_decorator(App)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Click callback for YYYY-MM-DD options."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-14") from None
