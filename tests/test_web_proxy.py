"""``paperboy serve`` behind a proxy and under trouble (issue 15.9).

The client address comes from ``X-Forwarded-For`` only when the peer is a configured trusted
proxy; redirects never take their host from the request; token pages are never cached; a busy or
vanished store answers our own 503 page; a store file replaced under a running server is
followed, and a deleted one is an error, never a fresh empty store.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from starlette.testclient import TestClient

from pipeline.addresses import unsubscribe_token
from pipeline.errors import StoreError
from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.subscribers import add_subscriber, select_subscribers
from tests.email_support import SECRET, free_port
from tests.web_support import SITE, Clock, build_app, csrf_of, subscribe_form, web_config


@contextmanager
def serving(tmp_path: Path, extra: str = "") -> Iterator[str]:
    """``paperboy serve`` as a real process (uvicorn as the CLI configures it)."""
    port = free_port()
    config = tmp_path / "paperboy.toml"
    config.write_text(
        f'[output]\nsite_url = "http://127.0.0.1:{port}/"\n'
        '[store]\ndatabase_url = "sqlite:///data/paperboy.db"\n' + extra
    )
    env = {**os.environ, "PAPERBOY_SECRET": "proxy-test"}
    env.pop("PAPERBOY_CONFIG", None)
    command = [sys.executable, "-m", "pipeline", "--config", str(config), "serve",
               "--port", str(port)]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/site.css")
                break
            except httpx.ConnectError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _subscribe(client: httpx.Client, n: int, forwarded: str) -> int:
    page = client.get("/subscribe").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page
    form = subscribe_form(csrf.group(1), f"p{n}@example.org", "long-context")
    return client.post("/subscribe", data=form, headers={"X-Forwarded-For": forwarded}).status_code


def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_ip_limit(tmp_path: Path) -> None:
    """Issue 15.9: uvicorn believed X-Forwarded-For from 127.0.0.1, so a client on the host (or
    behind a proxy that appends) got a fresh limit per forged address."""
    with serving(tmp_path) as base, httpx.Client(base_url=base) as client:
        codes = [_subscribe(client, n, f"198.51.100.{n}") for n in range(11)]
    assert codes == [200] * 10 + [429]  # 10 per client IP and hour (RateLimits)


def test_trusted_proxy_gives_each_visitor_their_own_limit(tmp_path: Path) -> None:
    extra = '[web]\ntrusted_proxies = "127.0.0.1"\n'
    with serving(tmp_path, extra) as base, httpx.Client(base_url=base) as client:
        spoofed = "203.0.113.99, 198.51.100.7"  # the proxy appended the real peer last
        codes = [_subscribe(client, n, spoofed) for n in range(11)]
        other = _subscribe(client, 99, "198.51.100.8")
    assert codes == [200] * 10 + [429]
    assert other == 200  # another visitor behind the same proxy


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.1", ["203.0.113.9"], "", "198.51.100.1"),  # nobody trusted
        ("127.0.0.1", ["203.0.113.9"], "", "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.9"], "127.0.0.1", "203.0.113.9"),
        ("127.0.0.1", ["1.2.3.4, 203.0.113.9"], "127.0.0.1", "203.0.113.9"),  # forged left part
        ("127.0.0.1", ["203.0.113.9", "10.0.0.2"], "127.0.0.1, 10.0.0.0/8", "203.0.113.9"),
        ("127.0.0.1", ["garbage"], "127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", [], "127.0.0.1", "127.0.0.1"),
        ("::ffff:198.51.100.3", [], "", "198.51.100.3"),
        ("2001:db8:1:2:aaaa::1", [], "", "2001:db8:1:2::/64"),  # one limit per IPv6 /64
        (None, [], "", "unknown"),
    ],
)
def test_client_address(
    peer: str | None, forwarded: list[str], trusted: str, expected: str
) -> None:
    from pipeline.web.forms import client_address, trusted_networks

    assert client_address(peer, forwarded, trusted_networks(trusted)) == expected


@pytest.fixture
def client(tmp_path: Path, engine: Any, now: Any) -> TestClient:
    return TestClient(build_app(web_config(tmp_path), engine, Clock(now)), base_url=SITE)


def test_trailing_slash_redirect_never_uses_the_host_header(client: TestClient) -> None:
    response = client.get(
        "/editions/?x=1", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code in (301, 307, 308)
    assert response.headers["Location"] == SITE + "/editions?x=1"


def test_token_pages_are_never_cached(client: TestClient, engine: Any, now: Any) -> None:
    with write_session(engine) as session:
        record, _ = add_subscriber(
            session=session, email="ann@example.org", topics=["long-context"], secret=SECRET,
            now=now,
        )  # fmt: skip
    token = unsubscribe_token(SECRET, record.token_nonce)
    for path in (f"/unsubscribe/{token}", f"/preferences/{token}", "/confirm/bogus", "/subscribe"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    posted = client.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )  # one-click
    assert posted.headers["Cache-Control"] == "no-store"
    assert client.get("/site.css").headers["Cache-Control"] == "public, max-age=3600"


def test_locked_store_is_a_503_page_with_security_headers(tmp_path: Path, now: Any) -> None:
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")  # after make_engine's: fail at once, not in 30 s
    def _no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    init_db(engine)
    client = TestClient(build_app(web_config(tmp_path), engine, Clock(now)), base_url=SITE)
    csrf = csrf_of(client, "/subscribe")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(
            "/subscribe", data=subscribe_form(csrf, "ann@example.org", "long-context")
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "busy" in response.text
    engine.dispose()


def _subscriber(engine: Any, email: str, now: Any) -> None:
    with write_session(engine) as session:
        add_subscriber(session=session, email=email, topics=["long-context"], secret=SECRET,
                       now=now)  # fmt: skip


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_store_file_replaced_under_a_running_server_is_followed(tmp_path: Path, now: Any) -> None:
    """Issue 15.9: deleting the SQLite file under ``serve`` split the brain: the server kept
    writing unsubscribes into the deleted file while ``run`` made a new one."""
    path = tmp_path / "paperboy.db"
    serve_engine = make_engine(f"sqlite:///{path}")
    init_db(serve_engine)
    _subscriber(serve_engine, "old@example.org", now)
    _remove_store(path)
    run_engine = make_engine(f"sqlite:///{path}")  # the next `paperboy run` makes a new store
    init_db(run_engine)
    _subscriber(run_engine, "new@example.org", now)
    _subscriber(serve_engine, "web@example.org", now)  # an unsubscribe-like write from the web
    with read_session(run_engine) as session:
        emails = {s.email for s in select_subscribers(session=session)}
    assert emails == {"new@example.org", "web@example.org"}
    serve_engine.dispose()
    run_engine.dispose()


def test_store_file_deleted_under_a_running_server_is_an_error_not_a_new_store(
    tmp_path: Path, now: Any
) -> None:
    path = tmp_path / "paperboy.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    client = TestClient(build_app(web_config(tmp_path), engine, Clock(now)), base_url=SITE)
    assert client.get("/editions").status_code == 200
    _remove_store(path)
    with pytest.raises(StoreError, match="is gone"), read_session(engine) as session:
        session.execute(text("SELECT 1"))
    response = client.get("/editions")
    assert response.status_code == 503
    assert response.headers["X-Frame-Options"] == "DENY"
    assert not path.exists()  # no empty store made behind the operator's back
    engine.dispose()
