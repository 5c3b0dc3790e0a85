"""Test helpers for live sources: a fake clock, a fake resolver, recording mock transports, a raw
socket server. No helper resolves a host name (tests/conftest.py forbids it)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from pipeline.config import HttpConfig
from pipeline.ingest.fetch import make_client


@dataclass
class FakeClock:
    """Monotonic clock and sleep for tests: sleeping advances the clock and is recorded."""

    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


Handler = Callable[[httpx.Request], httpx.Response]

# A public address (not private, loopback, link-local, reserved...) that nothing ever connects to:
# the mock transports answer instead. Every name resolves to it, so the SSRF guard lets it through.
PUBLIC_ADDRESS = "93.184.216.34"


def fake_resolver(table: dict[str, list[str]] | None = None) -> Callable[[str], list[str]]:
    """A resolver for the SSRF guard: ``table[host]``, else :data:`PUBLIC_ADDRESS` for any name."""
    answers = table or {}
    return lambda host: answers.get(host, [PUBLIC_ADDRESS])


@dataclass
class Recorder:
    """A MockTransport handler that answers from a list (the last answer repeats)."""

    answers: list[httpx.Response | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def mock_client(handler: Handler, http: HttpConfig | None = None) -> httpx.Client:
    """The real client factory (SSRF guard included) with a MockTransport and a fake resolver."""
    return make_client(
        http or HttpConfig(), transport=httpx.MockTransport(handler), resolve=fake_resolver()
    )


@contextmanager
def raw_server(serve: Callable[[socket.socket], None], *, limit: float = 10.0) -> Iterator[str]:
    """A one-thread TCP server on 127.0.0.1 running ``serve(conn)`` per connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(limit)
                try:
                    conn.recv(65536)
                    serve(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(limit)
