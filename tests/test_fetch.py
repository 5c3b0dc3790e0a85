"""fetch_url: retries, Retry-After/RateLimit, deferral, size cap, conditional GET, User-Agent."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline import __version__
from pipeline.config import HttpConfig
from pipeline.errors import FetchError
from pipeline.ingest.fetch import USER_AGENT, fetch_url, rate_limit_seconds, retry_after_seconds
from pipeline.records import Validators
from tests.hf_support import FakeClock, Recorder, mock_client, raw_server

URL = "https://hf.test/api/daily_papers?date=2026-08-21&limit=100"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def _fetch(recorder: Recorder, clock: FakeClock, http: HttpConfig | None = None, **kwargs: object):
    http = http or HttpConfig()
    with mock_client(recorder, http) as client:
        return fetch_url(
            client,
            URL,
            http=http,
            now=NOW,
            sleep=clock.sleep,
            monotonic=clock,
            rand=lambda: 0.5,
            **kwargs,
        )


def test_fetch_retries_500_then_succeeds() -> None:  # H1
    recorder = Recorder([httpx.Response(500), httpx.Response(200, json=[])])
    clock = FakeClock()
    fetched = _fetch(recorder, clock)
    assert (fetched.status, fetched.body, fetched.attempts) == (200, b"[]", 2)
    assert len(recorder.requests) == 2
    assert clock.sleeps == [0.75]  # backoff 1 s with equal jitter at rand=0.5


def test_fetch_honours_retry_after() -> None:  # H2 (short)
    recorder = Recorder([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200)])
    clock = FakeClock()
    assert _fetch(recorder, clock).status == 200
    assert clock.sleeps == [2.0]


def test_fetch_defers_over_cap_without_sleeping() -> None:  # H2 (over cap)
    recorder = Recorder([httpx.Response(429, headers={"Retry-After": "3600"})])
    clock = FakeClock()
    with pytest.raises(FetchError, match="server asks to wait 3600 s") as info:
        _fetch(recorder, clock)
    assert clock.sleeps == []
    assert info.value.status == 429
    assert info.value.deferred_until == NOW + timedelta(hours=1)
    assert len(recorder.requests) == 1


def test_fetch_reads_hf_ratelimit_header() -> None:  # H3
    limited = httpx.Response(429, headers={"RateLimit": '"api";r=0;t=7'})
    clock = FakeClock()
    assert _fetch(Recorder([limited, httpx.Response(200)]), clock).status == 200
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("status", [400, 404, 403])
def test_fetch_does_not_retry_client_errors(status: int) -> None:  # H4
    recorder = Recorder([httpx.Response(status)])
    with pytest.raises(FetchError) as info:
        _fetch(recorder, FakeClock())
    assert len(recorder.requests) == 1
    assert info.value.status == status
    assert str(info.value) == f"{URL}: HTTP {status} {httpx.codes.get_reason_phrase(status)}"


def test_fetch_gives_up_after_retries() -> None:
    recorder = Recorder([httpx.Response(503)])
    clock = FakeClock()
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable \(after 4 attempts\)"):
        _fetch(recorder, clock)
    assert len(recorder.requests) == 4
    assert clock.sleeps == [0.75, 1.5, 3.0]


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_fetch_retries_transport_errors(exc: Exception) -> None:  # H5 (unit)
    recorder = Recorder([exc, httpx.Response(200, content=b"[]")])
    assert _fetch(recorder, FakeClock()).body == b"[]"
    assert len(recorder.requests) == 2


def test_fetch_backoff_stops_at_deadline() -> None:
    recorder = Recorder([httpx.ConnectTimeout("slow")])
    clock = FakeClock()
    with pytest.raises(FetchError, match="would pass the 2 s deadline"):
        _fetch(recorder, clock, HttpConfig(deadline=2.0))
    assert sum(clock.sleeps) <= 2.0


def test_fetch_size_cap_by_header_and_stream() -> None:  # H6
    cap = 5_000_000
    http = HttpConfig(max_response_bytes=cap)
    big = httpx.Response(200, content=b"x" * 20_000_000)
    with pytest.raises(FetchError, match="response too large: 20000000 bytes"):
        _fetch(Recorder([big]), FakeClock(), http)

    seen: list[int] = []

    def stream() -> object:
        for _ in range(320):  # 20 MB in 64 KiB chunks, no Content-Length
            seen.append(1)
            yield b"y" * 65_536

    streamed = httpx.Response(200, content=stream())
    with pytest.raises(FetchError, match="response too large: over the 5000000-byte limit"):
        _fetch(Recorder([streamed]), FakeClock(), http)
    assert len(seen) * 65_536 <= cap + 65_536


def test_fetch_sends_validators_and_reports_304() -> None:  # H9 (unit)
    recorder = Recorder([httpx.Response(304)])
    fetched = _fetch(
        recorder, FakeClock(), validators=Validators('"abc"', "Fri, 21 Aug 2026 08:00:00 GMT")
    )
    assert fetched.not_modified
    sent = recorder.requests[0].headers
    assert sent["If-None-Match"] == '"abc"'
    assert sent["If-Modified-Since"] == "Fri, 21 Aug 2026 08:00:00 GMT"


def test_fetch_returns_validators_and_charset() -> None:
    headers = {"ETag": 'W/"v1"', "Content-Type": "text/html; charset=windows-1252"}
    fetched = _fetch(Recorder([httpx.Response(200, headers=headers, content=b"<p>")]), FakeClock())
    assert fetched.validators == Validators('W/"v1"', None)
    assert (fetched.media_type, fetched.charset) == ("text/html", "windows-1252")


def test_every_request_carries_user_agent() -> None:  # H12
    recorder = Recorder([httpx.Response(500), httpx.Response(200)])
    _fetch(recorder, FakeClock())
    assert USER_AGENT == f"paperboy/{__version__} (+https://github.com/paperboy-digest/paperboy)"
    pattern = re.compile(r"^paperboy/\d+\.\d+\.\d+ \(\+https://[^)]+\)$")
    assert all(pattern.match(r.headers["User-Agent"]) for r in recorder.requests)


def test_fetch_follows_redirects_up_to_five() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hop = int(request.url.params.get("hop", "0"))
        return httpx.Response(302, headers={"Location": f"https://hf.test/r?hop={hop + 1}"})

    with mock_client(handler) as client, pytest.raises(FetchError, match="TooManyRedirects"):
        fetch_url(client, URL, http=HttpConfig(), now=NOW, sleep=FakeClock().sleep)


def test_retry_after_and_ratelimit_parsing() -> None:
    assert retry_after_seconds("120", now=NOW) == 120.0
    assert retry_after_seconds("Mon, 23 Nov 2026 06:01:30 GMT", now=NOW) == 90.0
    assert retry_after_seconds("garbage", now=NOW) is None
    assert rate_limit_seconds('"api";r=0;t=55') == 55.0
    assert rate_limit_seconds('"api";r=12;t=55') is None
    assert rate_limit_seconds(None) is None


# --- protocol-level faults against a real socket on 127.0.0.1 (H5) ---------------------------


def _real(url: str, http: HttpConfig) -> tuple[float, FetchError]:
    started = time.monotonic()
    with pytest.raises(FetchError) as info, mock_client_real(http) as client:
        fetch_url(client, url, http=http, now=NOW, sleep=time.sleep)
    return time.monotonic() - started, info.value


def mock_client_real(http: HttpConfig) -> httpx.Client:
    import dataclasses

    from pipeline.ingest.fetch import make_client

    return make_client(dataclasses.replace(http, allow_private_hosts=True))  # 127.0.0.1 server


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def test_fetch_drip_stops_at_deadline() -> None:
    def drip(conn) -> None:
        conn.sendall(HEAD + b"Content-Length: 1000\r\n\r\n[")
        for _ in range(100):
            time.sleep(0.1)
            conn.sendall(b" ")

    http = HttpConfig(timeout=1.0, deadline=1.5, retries=0)
    with raw_server(drip) as url:
        took, error = _real(url, http)
    assert "deadline passed while reading the body" in error.detail
    assert took <= http.deadline + 1.0


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (HEAD + b"Content-Length: 100\r\n\r\n[1, 2", "peer closed connection"),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n[1, 2\r\n", "peer closed connection"),
        (b"", "Server disconnected without sending a response"),
    ],
)
def test_fetch_truncated_or_dropped_is_an_error(reply: bytes, expected: str) -> None:
    with raw_server(lambda conn: conn.sendall(reply)) as url:
        took, error = _real(url, HttpConfig(timeout=1.0, deadline=5.0, retries=1))
    assert expected in error.detail
    assert "after 2 attempts" in error.detail
    assert took < 5.0


def test_fetch_read_timeout_within_budget() -> None:
    with raw_server(lambda _conn: time.sleep(1.5)) as url:
        took, error = _real(url, HttpConfig(timeout=0.3, deadline=3.0, retries=1))
    assert "ReadTimeout" in error.detail
    assert took < 3.0


def test_headers_then_silence_is_the_deadline_not_an_empty_body() -> None:
    """Issue 15.7: a close-delimited body cut by the deadline watchdog read as complete, and the
    parser then blamed an "empty response" instead of the deadline."""

    def headers_then_silence(conn) -> None:
        conn.sendall(HEAD + b"Connection: close\r\n\r\n")
        time.sleep(4)

    http = HttpConfig(timeout=3.0, deadline=1.0, retries=0)
    with raw_server(headers_then_silence) as url:
        took, error = _real(url, http)
    assert "deadline passed while reading the body" in error.detail
    assert error.source_unreachable
    assert took <= http.deadline + 1.0


@pytest.mark.parametrize(
    ("serve", "cause"),
    [
        (lambda _conn: time.sleep(3), "deadline passed while waiting for the response headers"),
        (None, "ConnectError"),  # nothing listens: connection refused
    ],
)
def test_deadline_and_refused_connection_mark_the_source_unreachable(serve, cause) -> None:
    http = HttpConfig(timeout=2.0, deadline=1.0, retries=1)
    if serve is None:
        with raw_server(lambda _conn: None) as url:
            pass  # closed again: the port refuses connections now
        took, error = _real(url, http)
    else:
        with raw_server(serve) as url:
            took, error = _real(url, http)
    assert cause in error.detail, error.detail
    assert error.source_unreachable
    assert took <= http.deadline + 3.0  # one budget, not one per attempt (slack for a busy host)


def test_http_errors_are_per_date_not_unreachable() -> None:
    clock = FakeClock()
    with pytest.raises(FetchError) as info:
        _fetch(Recorder([httpx.Response(404)]), clock)
    assert not info.value.source_unreachable
