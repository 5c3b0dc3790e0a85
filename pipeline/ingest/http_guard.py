"""Refuse requests to private hosts (SSRF) on every hop. I/O edge: DNS look-ups.

Source URLs (``[http] hf_base_url``, ``PAPERBOY_HF_BASE_URL``) are operator input, and a public
host may redirect anywhere. :class:`GuardedTransport` wraps the client's transport, so the check
runs for the first request and for every redirect hop (httpx sends each hop through the
transport): the scheme must be https, and every address the host resolves to must be public -
not loopback, RFC 1918/ULA private, link-local (169.254.169.254, the cloud metadata service),
CGNAT, multicast, reserved or unspecified (docs/reliability.md §6.4, OWASP SSRF cheat sheet).
``[http] allow_private_hosts = true`` (tests, local mirrors) turns the check off and allows http.
A name that does not resolve is let through: the connection then fails on its own.
Known limit: the address is resolved again when connecting (DNS rebinding is not prevented).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx

from pipeline.errors import FetchError

Resolver = Callable[[str], list[str]]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """True when ``address`` is a globally routable unicast IP address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
    )


def check_url(url: httpx.URL, *, resolve: Resolver = resolve_host) -> None:
    """Raise :class:`FetchError` unless ``url`` is https on a public host."""
    shown = str(url)
    if url.scheme != "https":
        raise FetchError(
            shown,
            f"refused: {url.scheme}:// is allowed only with [http] allow_private_hosts",
            source_unreachable=True,  # the same for every date of the source
        )
    host = url.host
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host)
    private = [a for a in addresses if not is_public_address(a)]
    if private or host.lower() == "localhost" or host.lower().endswith(".localhost"):
        where = ", ".join(private) or host
        raise FetchError(
            shown,
            f"refused: host {host} is private, loopback or link-local ({where}); "
            "set [http] allow_private_hosts = true for a local mirror",
            source_unreachable=True,
        )


class GuardedTransport(httpx.BaseTransport):
    """A transport that checks each request's URL (each redirect hop) before sending it."""

    def __init__(
        self, inner: httpx.BaseTransport, *, allow_private: bool, resolve: Resolver = resolve_host
    ) -> None:
        self._inner = inner
        self._allow_private = allow_private
        self._resolve = resolve

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check, then send through the wrapped transport."""
        if not self._allow_private:
            check_url(request.url, resolve=self._resolve)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
