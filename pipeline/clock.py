"""The one clock type. Pure: only :func:`system_clock` reads the real time.

Time is an input: pure code takes ``now: datetime`` (aware, UTC); code that runs long (a send
loop, the web face, the scheduler) takes a :data:`Clock` and calls it when it needs the time, so
claims and outcomes are stamped when they happen, not when the run started. Tests pass
:func:`fixed_clock`; processes started by tests pin it with ``PAPERBOY_NOW``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pipeline.errors import ConfigError

Clock = Callable[[], datetime]  # returns an aware UTC datetime
NOW_ENV = "PAPERBOY_NOW"  # tests and the fault harness only: pin the clock of a process


def system_clock() -> datetime:
    """The real time, aware UTC."""
    return datetime.now(UTC)


def fixed_clock(when: datetime) -> Clock:
    """A clock that always says ``when`` (made aware UTC)."""
    if when.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    pinned = when.astimezone(UTC)
    return lambda: pinned


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """``$PAPERBOY_NOW`` (ISO 8601 with offset) pinned, else the system clock."""
    pinned = env.get(NOW_ENV)
    if not pinned:
        return system_clock
    try:
        when = datetime.fromisoformat(pinned)
    except ValueError:
        raise ConfigError(f"{NOW_ENV}={pinned!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ConfigError(f"{NOW_ENV}={pinned!r} needs a UTC offset")
    return fixed_clock(when)
