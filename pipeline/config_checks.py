"""Value checks of the configuration: every setting is valid when it loads. Pure; no I/O.

Unknown keys were errors already; unknown or impossible values were not (issue 15.11): a zero
feed limit, a crontab line or time zone that failed only when ``paperboy schedule`` started, a
sender address that failed only when the first digest was rendered. Each check returns a
problem (a sentence saying what is wrong and what is expected) or None; :mod:`pipeline.config`
turns problems into a :class:`~pipeline.errors.ConfigError` naming the file and the key.

The crontab grammar is APScheduler 3.x's ``CronTrigger.from_crontab`` (tests compare the two on
a corpus), so a line that loads here also starts the scheduler: five fields (minute, hour, day
of month, month, day of week), each a comma list of ``*``, ``N``, ``N-M`` with an optional
``/STEP`` no larger than the range, month names ``jan``..``dec``, weekday names ``mon``..``sun``
(APScheduler numbers weekdays 0 = Monday to 6 = Sunday), ``last`` as a day of month.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from pipeline.addresses import AddressError, normalize_email

# (lowest, highest, names) per crontab field, as APScheduler 3.x reads them
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)
_CRON_PART = re.compile(r"^(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$")
# Source names go into the store (digest.source VARCHAR(200)) and into messages.
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _cron_value(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    lowered = text.lower()
    return names.index(lowered) + (1 if names is _MONTHS else low) if lowered in names else None


def _cron_part(part: str, field: tuple[str, int, int, tuple[str, ...]]) -> str | None:
    name, low, high, names = field
    if name == "day of month" and part.lower() == "last":
        return None
    match = _CRON_PART.match(part.lower())
    if match is None:
        return f"{name} {part!r} is not *, N, N-M or one of those with /STEP"
    if match["range"] == "*":
        first, last = low, high
    else:
        values = [_cron_value(bound, low, names) for bound in match["range"].split("-")]
        known = [value for value in values if value is not None]
        if len(known) != len(values):
            expected = f"{low}-{high}" + (" or a name" if names else "")
            return f"{name} {part!r}: unknown value (expected {expected})"
        first = known[0]
        last = known[-1] if len(known) == 2 else (high if match["step"] else first)
        if not low <= first <= high or not low <= last <= high:
            return f"{name} {part!r} is out of range {low}-{high}"
        if first > last:
            return f"{name} {part!r}: the range runs backwards"
    if match["step"] is not None:
        step = int(match["step"])
        if step == 0 or step > max(last - first, 0):
            return f"{name} {part!r}: step {step} must be 1 to {last - first}"
    return None


def crontab_problem(line: str) -> str | None:
    """Why ``line`` is not a crontab line APScheduler accepts (None when it is one)."""
    fields = line.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
    for text, field in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            problem = _cron_part(part, field)
            if problem is not None:
                return problem
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone (None when it is one)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name like Europe/Berlin or UTC)"
    return None


def at_least(minimum: float) -> Callable[[Any], str | None]:
    """A check that a number is at least ``minimum``."""

    def check(value: Any) -> str | None:
        return None if value >= minimum else f"must be at least {minimum:g}, got {value!r}"

    return check


def positive(value: Any) -> str | None:
    """A number above zero (durations)."""
    return None if value > 0 else f"must be above 0, got {value!r}"


def not_blank(value: Any) -> str | None:
    """A text with something in it."""
    return None if str(value).strip() else "must not be empty"


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is not a store paperboy supports (SQLite or PostgreSQL with psycopg 3)."""
    scheme = url.partition("://")[0]
    if "://" not in url or scheme not in DATABASE_SCHEMES:
        return (
            f"{url.partition('://')[0] or url!r} is not a supported database: use "
            "sqlite:///path/to/paperboy.db or postgresql+psycopg://user@host/db"
        )
    return None


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL without query or fragment."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return f"{url!r} is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        return f"{url!r} is not an absolute http(s) URL like https://huggingface.co"
    if parts.query or parts.fragment or parts.username:
        return f"{url!r}: no query, fragment or user name, please"
    return None


def sender_problem(value: str) -> str | None:
    """Why ``value`` is not ``Name <address>`` or a bare address paperboy can send from."""
    _name, address = parseaddr(value)
    try:
        normalize_email(address, local_domain_ok=True)
    except AddressError as exc:
        return f"{value!r} is not 'Name <address@domain>': {exc}"
    return None


def address_problem(value: str) -> str | None:
    """Why a non-empty ``value`` is not a bare email address (empty: allowed, a default)."""
    if not value:
        return None
    try:
        normalize_email(value, local_domain_ok=True)
    except AddressError as exc:
        return str(exc)
    return None


def source_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a source (it is stored, up to 100 characters)."""
    if _SOURCE_NAME.match(name):
        return None
    return (
        f"{name[:40]!r} is not a source name: letters, digits, '.', '_' or '-', "
        "starting with a letter or digit, at most 100 characters"
    )


# section.key -> check; keys not listed need no check beyond their type
CHECKS: dict[str, Callable[[Any], str | None]] = {
    "store.database_url": database_url_problem,
    "output.title": not_blank,
    "output.feed_item_limit": at_least(1),
    "ingest.max_page_bytes": at_least(1),
    "ingest.catch_up_max_days": at_least(1),
    "http.hf_base_url": http_url_problem,
    "http.timeout": positive,
    "http.deadline": positive,
    "http.max_response_bytes": at_least(1),
    "http.retries": at_least(0),
    "email.sender": sender_problem,
    "email.unsubscribe_address": address_problem,
    "email.max_papers_per_section": at_least(1),
    "email.abstract_chars": at_least(1),
    "email.retry_minutes": at_least(0),
    "email.lease_minutes": at_least(1),
    "email.batch": at_least(1),
    "schedule.cron": crontab_problem,
    "schedule.timezone": timezone_problem,
}
