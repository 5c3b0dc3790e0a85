"""HTTP GET with retries, a total deadline, a size cap and conditional requests. I/O edge: network.

One :class:`httpx.Client` per run, built by :func:`make_client` (explicit timeouts, redirects
followed up to 5 hops, a User-Agent naming the project). :func:`fetch_url` adds what httpx lacks
(docs/reliability.md §4): retries with backoff on 408/429/5xx and transient transport errors,
honouring ``Retry-After`` and Hugging Face's ``RateLimit`` header; a wall-clock deadline on top of
httpx's per-operation timeouts (a server dripping one byte at a time never trips those), enforced
by a watchdog that shuts the socket down even while the headers are still arriving; a body size
cap; an SSRF guard on every hop (:mod:`pipeline.ingest.http_guard`);
``If-None-Match``/``If-Modified-Since``. Sleep and the monotonic clock are parameters, so tests
never wait.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pipeline import __version__
from pipeline.config import HttpConfig
from pipeline.errors import FetchError
from pipeline.ingest.http_guard import GuardedTransport, Resolver, resolve_host
from pipeline.records import Validators

USER_AGENT = f"paperboy/{__version__} (+https://github.com/paperboy-digest/paperboy)"
# The statuses huggingface_hub retries (utils/_http.py); other 4xx are permanent (400 = bad date).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A server asking for a longer pause defers the source to a later run instead of blocking cron.
MAX_WAIT_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
MAX_REDIRECTS = 5
# HF: RateLimit: "api";r=<remaining>;t=<seconds until the window resets>
_RATE_REMAINING = re.compile(r"(?:^|;)\s*r=(\d+)")
_RATE_RESET = re.compile(r"(?:^|;)\s*t=(\d+)")
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A complete response: 200 with its body, or 304 (not modified) without one."""

    url: str  # the final URL, after redirects
    status: int
    body: bytes
    media_type: str  # "application/json", "text/html", ... ("" when absent)
    charset: str | None  # from the Content-Type header only
    validators: Validators
    attempts: int

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional request."""
        return self.status == 304


@dataclass(frozen=True, slots=True)
class _Policy:
    timeout: float
    deadline: float
    max_bytes: int
    retries: int


class _Retry(Exception):
    """One attempt failed in a way worth retrying (internal)."""

    def __init__(
        self,
        detail: str,
        wait: float | None = None,
        status: int | None = None,
        *,
        transport: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.wait = wait  # what the server asked for, if it said
        self.status = status
        self.transport = transport  # no answer at all (timeout, refused, reset), not a status


def make_client(
    http: HttpConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    resolve: Resolver | None = None,
) -> httpx.Client:
    """The one HTTP client of a run: timeouts, redirects (max 5), User-Agent, SSRF guard."""
    # No keep-alive: every request opens its own connection, whose socket the deadline
    # watchdog can shut down (a few requests per run; the handshake cost does not matter).
    inner = transport or httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    guarded = GuardedTransport(
        inner, allow_private=http.allow_private_hosts, resolve=resolve or resolve_host
    )
    return httpx.Client(
        timeout=httpx.Timeout(http.timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT},
        transport=guarded,
    )


class _Watchdog:
    """Shuts the attempt's socket down when the deadline passes.

    httpx's timeouts are per read: a server dripping the status line and headers one byte at a
    time is never cut off by them (docs/reliability.md §0.5). The socket comes from httpcore's
    ``trace`` request extension (each new connection, after TLS); shutting it down wakes the
    blocked read, which then fails, and :func:`_attempt` reports the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.phase = "waiting for the response headers"
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore trace hook: remember the socket of each new connection."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sock = sock
                if self.fired:
                    _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` value asks for (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def rate_limit_seconds(value: str | None) -> float | None:
    """Seconds until an exhausted HF ``RateLimit`` window resets (``r=0;t=55`` -> 55), else None."""
    if not value:
        return None
    remaining, reset = _RATE_REMAINING.search(value), _RATE_RESET.search(value)
    if remaining is None or reset is None or int(remaining.group(1)) > 0:
        return None
    return float(reset.group(1))


def _server_wait(headers: Mapping[str, str], *, now: datetime) -> float | None:
    asked = retry_after_seconds(headers.get("retry-after"), now=now)
    return asked if asked is not None else rate_limit_seconds(headers.get("ratelimit"))


def _read_body(
    response: httpx.Response,
    *,
    url: str,
    max_bytes: int,
    ends_at: float,
    monotonic: Callable[[], float],
) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, f"response too large: {declared} bytes, limit {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():  # as data arrives, so the deadline check runs
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(url, f"response too large: over the {max_bytes}-byte limit")
        if monotonic() > ends_at:
            raise FetchError(
                url,
                f"deadline passed while reading the body ({total} bytes read)",
                source_unreachable=True,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _attempt(
    client: httpx.Client,
    url: str,
    *,
    headers: dict[str, str],
    policy: _Policy,
    ends_at: float,
    monotonic: Callable[[], float],
    now: datetime,
) -> Fetched:
    remaining = max(0.01, ends_at - monotonic())
    timeout = httpx.Timeout(min(policy.timeout, remaining))
    watchdog = _Watchdog(remaining)
    try:
        with (
            watchdog,
            client.stream(
                "GET", url, headers=headers, timeout=timeout, extensions={"trace": watchdog.trace}
            ) as response,
        ):
            status = response.status_code
            watchdog.phase = "reading the body"
            if status in RETRY_STATUSES:
                wait = _server_wait(response.headers, now=now)
                raise _Retry(f"HTTP {status} {response.reason_phrase}", wait, status)
            if status not in (200, 304):
                raise FetchError(url, f"HTTP {status} {response.reason_phrase}", status=status)
            body = b""
            if status == 200:
                body = _read_body(
                    response,
                    url=url,
                    max_bytes=policy.max_bytes,
                    ends_at=ends_at,
                    monotonic=monotonic,
                )
            if watchdog.fired:  # the shutdown ended a close-delimited body early: not complete
                raise FetchError(
                    url,
                    f"deadline passed while reading the body ({len(body)} bytes read, "
                    f"{policy.deadline:g} s budget)",
                    source_unreachable=True,
                )
            content_type = response.headers.get("content-type", "")
            return Fetched(
                url=str(response.url),
                status=status,
                body=body,
                media_type=content_type.split(";", 1)[0].strip().lower(),
                charset=response.charset_encoding,
                validators=Validators(
                    response.headers.get("etag"), response.headers.get("last-modified")
                ),
                attempts=0,
            )
    except httpx.HTTPError as exc:
        if watchdog.fired:
            raise FetchError(
                url,
                f"deadline passed while {watchdog.phase} ({policy.deadline:g} s budget)",
                source_unreachable=True,
            ) from exc
        if isinstance(exc, _TRANSIENT):
            raise _Retry(f"{type(exc).__name__}: {exc or 'no detail'}", transport=True) from exc
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc


def _backoff(attempt: int, rand: Callable[[], float]) -> float:
    """Exponential backoff with equal jitter: half fixed, half random."""
    ceiling: float = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
    return ceiling / 2 + rand() * ceiling / 2


def fetch_url(
    client: httpx.Client,
    url: str,
    *,
    http: HttpConfig,
    now: datetime,
    validators: Validators | None = None,
    accept: str = "*/*",
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
) -> Fetched:
    """GET ``url`` within ``http.deadline`` seconds, retrying transient failures."""
    policy = _Policy(http.timeout, http.deadline, http.max_response_bytes, http.retries)
    headers = {"Accept": accept, **(validators.headers() if validators else {})}
    start = monotonic()
    ends_at = start + policy.deadline
    for attempt in range(policy.retries + 1):
        elapsed = monotonic() - start
        try:
            fetched = _attempt(
                client, url, headers=headers, policy=policy, ends_at=ends_at, monotonic=monotonic,
                now=now + timedelta(seconds=elapsed),
            )  # fmt: skip
        except _Retry as failure:
            wait = failure.wait if failure.wait is not None else _backoff(attempt, rand)
            elapsed = monotonic() - start
            _check_wait(
                url,
                failure,
                wait=wait,
                now=now,
                elapsed=elapsed,
                policy=policy,
                last=attempt == policy.retries,
            )
            if attempt == policy.retries:
                raise FetchError(
                    url,
                    f"{failure.detail} (after {attempt + 1} attempts)",
                    status=failure.status,
                    source_unreachable=failure.transport,
                ) from failure
            sleep(wait)
            continue
        return dataclasses.replace(fetched, attempts=attempt + 1)
    raise AssertionError("unreachable: the loop returns or raises")


def _check_wait(
    url: str,
    failure: _Retry,
    *,
    wait: float,
    now: datetime,
    elapsed: float,
    policy: _Policy,
    last: bool,
) -> None:
    """Refuse a server-asked wait over the cap or the deadline (defer), or a backoff too long."""
    too_long = elapsed + wait > policy.deadline
    if failure.wait is not None and (wait > MAX_WAIT_SECONDS or too_long):
        until = now + timedelta(seconds=elapsed + wait)
        limit = "cap" if wait > MAX_WAIT_SECONDS else "deadline"
        raise FetchError(
            url,
            f"{failure.detail}: server asks to wait {wait:.0f} s (over the {limit}); "
            f"deferred until {until:%Y-%m-%d %H:%M:%S} UTC",
            status=failure.status,
            deferred_until=until,
        )
    if too_long and not last:
        raise FetchError(
            url,
            f"{failure.detail}: gave up, retrying would pass the {policy.deadline:g} s deadline",
            status=failure.status,
            source_unreachable=failure.transport,
        )
