"""SSRF guard (X4) and the total deadline against headers dripping slowly.

docs/reliability.md X4, §6.4 and §0.5.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import HttpConfig
from pipeline.errors import FetchError
from pipeline.ingest.fetch import fetch_url, make_client
from pipeline.ingest.http_guard import check_url, is_public_address
from tests.hf_support import Recorder, raw_server

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
PUBLIC = "93.184.216.34"


def _resolver(table: dict[str, list[str]]):
    return lambda host: table.get(host, [])


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://127.0.0.1:22/",
        "https://10.1.2.3/",
        "https://192.168.0.1/",
        "https://172.16.5.4/",
        "https://100.64.0.1/",  # CGNAT
        "https://0.0.0.0/",
        "https://[::1]/",
        "https://[fc00::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost/",
        "https://internal.example/",  # resolves to a private address
    ],
)
def test_check_url_refuses_private_hosts(url: str) -> None:  # X4
    resolve = _resolver({"internal.example": [PUBLIC, "10.0.0.5"], "localhost": ["127.0.0.1"]})
    with pytest.raises(FetchError) as info:
        check_url(httpx.URL(url), resolve=resolve)
    assert "refused: host" in info.value.detail
    assert "allow_private_hosts" in info.value.detail


def test_check_url_allows_public_https_and_refuses_plain_http() -> None:  # X4
    resolve = _resolver({"huggingface.co": [PUBLIC]})
    check_url(httpx.URL("https://huggingface.co/api/daily_papers"), resolve=resolve)
    check_url(httpx.URL(f"https://{PUBLIC}/"), resolve=resolve)
    with pytest.raises(FetchError, match=r"http:// is allowed only with \[http\] allow_private"):
        check_url(httpx.URL("http://huggingface.co/"), resolve=resolve)
    assert is_public_address(PUBLIC) and not is_public_address("not an address")


def test_redirect_to_loopback_is_refused_before_it_is_sent() -> None:  # X4, every hop
    recorder = Recorder(
        [httpx.Response(302, headers={"Location": "https://127.0.0.1:22/"}), httpx.Response(200)]
    )
    http = HttpConfig(retries=0)
    client = make_client(
        http, transport=httpx.MockTransport(recorder), resolve=_resolver({"hf.test": [PUBLIC]})
    )
    with client, pytest.raises(FetchError) as info:
        fetch_url(client, "https://hf.test/api/daily_papers", http=http, now=NOW)
    assert info.value.detail.startswith("refused: host 127.0.0.1 is private")
    assert [str(r.url) for r in recorder.requests] == ["https://hf.test/api/daily_papers"]


def test_allow_private_hosts_lets_local_mirrors_through() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
    with raw_server(lambda conn: conn.sendall(reply)) as url:
        refused = HttpConfig(retries=0)
        with make_client(refused) as client, pytest.raises(FetchError, match="refused"):
            fetch_url(client, url, http=refused, now=NOW)
        allowed = HttpConfig(retries=0, allow_private_hosts=True)
        with make_client(allowed) as client:
            assert fetch_url(client, url, http=allowed, now=NOW).body == b"[]"


def test_cli_fetch_refuses_metadata_address(tmp_path: Path, monkeypatch) -> None:  # X4
    monkeypatch.setenv("PAPERBOY_HF_BASE_URL", "http://169.254.169.254/")
    monkeypatch.delenv("PAPERBOY_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["fetch", "hf-api", "--date", "2026-08-21"])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "refused: http:// is allowed only" in result.stderr
    monkeypatch.setenv("PAPERBOY_HF_BASE_URL", "https://169.254.169.254/")
    result = CliRunner().invoke(cli, ["fetch", "hf-api", "--date", "2026-08-21"])
    assert result.exit_code == 1
    assert "refused: host 169.254.169.254 is private, loopback or link-local" in result.stderr


@pytest.mark.timeout(30)
def test_headers_dripping_slowly_stop_at_the_deadline() -> None:  # H5, docs/reliability.md §0.5
    """Per-read timeouts never fire on a drip; the watchdog ends the request at the deadline."""

    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(100):  # 10 s of headers if nobody cuts it
            time.sleep(0.1)
            conn.sendall(b"a")

    http = HttpConfig(timeout=1.0, deadline=1.5, retries=2, allow_private_hosts=True)
    with raw_server(drip, limit=15) as url, make_client(http) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            fetch_url(client, url, http=http, now=NOW)
        took = time.monotonic() - started
    assert "deadline passed while waiting for the response headers" in info.value.detail
    assert took <= http.deadline + 1.0
