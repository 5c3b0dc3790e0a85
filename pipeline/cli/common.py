"""Shared CLI plumbing: the :class:`~pipeline.app.Paperboy` of one invocation, built on first use
and closed with the command; the date option. Commands print around one facade call each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import click

from pipeline.app import Paperboy, open_paperboy
from pipeline.clock import Clock, clock_from_env
from pipeline.config import Config


@dataclass
class App:
    """Resources of one CLI invocation, built on first use and closed with the context."""

    config_path: Path | None
    _pb: Paperboy | None = field(default=None, init=False)
    _clock: Clock | None = field(default=None, init=False)

    @property
    def pb(self) -> Paperboy:
        """The installation (config loaded and validated; store opened on first use)."""
        if self._pb is None:
            self._pb = open_paperboy(self.config_path, clock=self.clock)
            click.get_current_context().call_on_close(self._pb.close)
        return self._pb

    @property
    def config(self) -> Config:
        """The loaded configuration."""
        return self.pb.config

    @property
    def clock(self) -> Clock:
        """The one clock of the process: the system clock, or ``$PAPERBOY_NOW`` (tests only)."""
        if self._clock is None:
            self._clock = clock_from_env(os.environ)
        return self._clock

    def now(self) -> datetime:
        """The current time (aware UTC)."""
        return self.clock()


pass_app = click.make_pass_decorator(App)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Click callback for YYYY-MM-DD options."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-14") from None


def progress_printer(every: float = 2.0) -> Callable[[str, int, int], None]:
    """A progress callback for topic assignments: quiet for a stage that takes less than
    ``every`` seconds; else a line on stderr every ``every`` seconds and one at its end."""
    started: dict[str, float] = {}
    last = [0.0]
    words = {
        "corpus": "counting corpus terms",
        "papers": "assigning new papers",
        "rescan": "reassigning edited topics",
    }

    def report(what: str, done: int, total: int) -> None:
        now = time.monotonic()
        started.setdefault(what, now)
        if now - started[what] < every or (done < total and now - last[0] < every):
            return
        last[0] = now
        click.echo(f"{words.get(what, what)}: {done}/{total} paper(s)", err=True)

    return report
