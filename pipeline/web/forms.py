"""Form plumbing: capped body reading (urlencoded or multipart), CSRF, client identity (behind
configured trusted proxies only, docs/web.md).

I/O edge: reads HTTP request bodies. Bodies are capped before parsing, so a 10 MB post costs
nothing; file parts are refused (no form here takes a file, and none takes a URL).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

from pipeline.config import parse_networks
from pipeline.web.context import CSRF_COOKIE, CSRF_FIELD, Web

MAX_BODY = 64 * 1024  # bytes; the largest honest form here is well under 2 KB
MAX_FIELD = 1024  # characters kept of any one field (longer values are cut, then validated)
IPV6_PREFIX = 64  # per-client limits count an IPv6 client by its /64 (RFC 6177: one site)


class FormError(Exception):
    """A body that is too large or not a form."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Form:
    """The fields of a posted form (text only)."""

    fields: Mapping[str, Sequence[str]]

    def one(self, name: str) -> str:
        """The first value of ``name`` ('' when absent), cut to :data:`MAX_FIELD`."""
        values = self.fields.get(name, ())
        return values[0][:MAX_FIELD] if values else ""

    def all(self, name: str) -> list[str]:
        """Every value of ``name``, each cut to :data:`MAX_FIELD`."""
        return [value[:MAX_FIELD] for value in self.fields.get(name, ())][:100]


async def _capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise FormError(413, "This form submission is too large.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise FormError(413, "This form submission is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> Form:
    """The posted form; raises :class:`FormError` for an oversized or unparsable body."""
    body = await _capped_body(request)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(
            max_files=0, max_fields=200, max_part_size=MAX_BODY
        )
    except (HTTPException, ValueError, UnicodeDecodeError):
        raise FormError(400, "This form submission could not be read.") from None
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            raise FormError(400, "This form takes no files.")
        fields.setdefault(key, []).append(value)
    await form.close()
    return Form(fields)


def csrf_ok(web: Web, request: Request, form: Form) -> bool:
    """True when the form's hidden token is signed by us for this browser's cookie."""
    return web.tokens.check_csrf(form.one(CSRF_FIELD), request.cookies.get(CSRF_COOKIE))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(text: str) -> tuple[Network, ...]:
    """The ``[web] trusted_proxies`` setting, parsed (validated at config load)."""
    return parse_networks(text)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        found = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _limit_key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The key rate limits count by: the address, or its /64 for IPv6 (one host owns a /64)."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def client_address(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """Who sent a request, for per-client limits (issue 15.9).

    ``X-Forwarded-For`` is read only when the peer is a trusted proxy, right to left: each
    trusted hop passes the address it saw, and the first untrusted one is the client (what a
    client wrote itself sits to the left and is never reached).
    """
    if peer is None:
        return "unknown"
    current = _address(peer)
    if current is None:
        return peer[:64]

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    if is_trusted(current):
        hops = [hop for header in forwarded for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            found = _address(hop)
            if found is None:  # a proxy wrote something unreadable: stop at the last hop known
                break
            current = found
            if not is_trusted(found):
                break
    return _limit_key(current)


def client_ip(request: Request) -> str:
    """The client of ``request`` (see :func:`client_address`; uvicorn's proxy headers are off)."""
    web: Web = request.app.state.web
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, web.trusted_proxies)
