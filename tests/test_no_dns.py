"""The suite never asks DNS for a host name: the conftest guard fails any test that does."""

from __future__ import annotations

import socket

import httpx
import pytest

from pipeline.config import HttpConfig
from pipeline.ingest.fetch import fetch_url, make_client
from pipeline.ingest.http_guard import check_url, resolve_host
from tests.conftest import NOW, HostLookupError, is_local_host
from tests.hf_support import PUBLIC_ADDRESS, Recorder, fake_resolver, mock_client

NAME = "paperboy-dns-guard.invalid"  # .invalid never resolves (RFC 6761), guard or not


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: socket.getaddrinfo(NAME, 443),
        lambda: socket.gethostbyname(NAME),
        lambda: socket.gethostbyname_ex(NAME),
        lambda: resolve_host(NAME),  # the SSRF guard's real resolver: its except OSError
    ],
)
def test_host_name_lookup_fails_loudly(lookup, no_host_name_lookups: list[str]) -> None:
    with pytest.raises(HostLookupError, match="inject a resolver"):
        lookup()
    assert no_host_name_lookups == [repr(NAME)]  # teardown would fail the test on this
    no_host_name_lookups.clear()


def test_guarded_client_without_fake_resolver_fails_loudly(no_host_name_lookups) -> None:
    http = HttpConfig(retries=0)
    client = make_client(http, transport=httpx.MockTransport(Recorder([httpx.Response(200)])))
    with client, pytest.raises(HostLookupError):
        fetch_url(client, f"https://{NAME}/api/daily_papers", http=http, now=NOW)
    no_host_name_lookups.clear()


@pytest.mark.parametrize(
    "host", [None, "localhost", "LOCALHOST", "127.0.0.1", "::1", "fe80::1%lo", b"10.0.0.1"]
)
def test_ip_literals_and_localhost_are_allowed(host) -> None:
    assert is_local_host(host)


def test_loopback_literals_still_resolve() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)[0][4][0] == "127.0.0.1"
    assert socket.gethostbyname("127.0.0.1") == "127.0.0.1"


def test_names_are_not_local() -> None:
    assert not is_local_host("huggingface.co")
    assert not is_local_host("hf.test")


def test_fake_resolver_answers_public_address() -> None:
    resolve = fake_resolver({"private.test": ["10.0.0.1"]})
    assert resolve("huggingface.co") == [PUBLIC_ADDRESS]
    check_url(httpx.URL("https://huggingface.co/api/daily_papers"), resolve=resolve)
    recorder = Recorder([httpx.Response(200, json=[])])
    with mock_client(recorder) as client:
        fetched = fetch_url(client, "https://hf.test/api/daily_papers", http=HttpConfig(), now=NOW)
    assert fetched.body == b"[]"
