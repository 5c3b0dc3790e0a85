"""Test helpers for live sources: a fake clock, recording mock transports, a raw socket server."""

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
    """The real client factory with a MockTransport underneath."""
    return make_client(http or HttpConfig(), transport=httpx.MockTransport(handler))


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
