"""Form plumbing: capped body reading (urlencoded or multipart), CSRF, client identity.

I/O edge: reads HTTP request bodies. Bodies are capped before parsing, so a 10 MB post costs
nothing; file parts are refused (no form here takes a file, and none takes a URL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

from pipeline.web.context import CSRF_COOKIE, CSRF_FIELD, Web

MAX_BODY = 64 * 1024  # bytes; the largest honest form here is well under 2 KB
MAX_FIELD = 1024  # characters kept of any one field (longer values are cut, then validated)


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


def client_ip(request: Request) -> str:
    """The peer address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else "unknown"
