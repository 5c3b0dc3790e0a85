"""Confirm a subscription, change topics, unsubscribe (RFC 8058 one-click).

I/O edge: HTTP handlers over the store. Confirmation and unsubscribe links are opened with GET
by mail scanners, so GET never changes anything: it shows a button that POSTs. The one-click
POST (``List-Unsubscribe=One-Click``, urlencoded or multipart) unsubscribes at once, answers
200 with no redirect and no cookie, and its only credential is the token in the URL (RFC 8058
section 3). A forged confirmation token gets 400, an expired one 410; neither changes anything.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pipeline.addresses import check_frequency, check_topics, unsubscribe_token
from pipeline.errors import ConfigError
from pipeline.records import SubscriberRecord
from pipeline.store.engine import read_session, write_session
from pipeline.store.subscribe_requests import change_topics, confirm_request, subscriber_by_token
from pipeline.store.subscribers import unsubscribe_by_token
from pipeline.web.context import Web, web_of
from pipeline.web.forms import FormError, csrf_ok, read_form
from pipeline.web.tokens import TokenError
from pipeline.web.views import FREQUENCY_CHOICES, frequency_note, topic_view

ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058 section 3.1: the POST body
_BAD_LINK = "This link is not valid. Please use the most recent link we sent you."


def _token_problem(web: Web, exc: TokenError) -> Response:
    if exc.expired:
        return web.message(
            "Link expired",
            "This confirmation link has expired (links last 48 hours). Please subscribe again.",
            status=410,
        )
    return web.message("Invalid link", _BAD_LINK, status=400)


async def confirm_page(request: Request) -> Response:
    """Check a confirmation link and show the button that confirms it (GET changes nothing)."""
    web = web_of(request)
    token = str(request.path_params["token"])
    try:
        web.tokens.read_confirm(token)
    except TokenError as exc:
        return _token_problem(web, exc)
    return web.page("confirm", {"token": token})


def _apply_confirm(web: Web, request_id: int, key: str) -> tuple[str, SubscriberRecord | None]:
    with write_session(web.engine) as session:
        return confirm_request(
            session=session, request_id=request_id, digest=key, secret=web.secret, now=web.now()
        )


async def confirm(request: Request) -> Response:
    """Apply a confirmation (once: a replayed link changes nothing)."""
    web = web_of(request)
    try:
        request_id, key = web.tokens.read_confirm(str(request.path_params["token"]))
    except TokenError as exc:
        return _token_problem(web, exc)
    outcome, record = await run_in_threadpool(_apply_confirm, web, request_id, key)
    if outcome == "used":
        return web.message(
            "Already used",
            "This confirmation link was already used; it changes nothing now.",
            status=410,
        )
    if record is None:
        return web.message("Invalid link", _BAD_LINK, status=400)
    token = unsubscribe_token(web.secret, record.token_nonce)
    topics = [{"title": web.titles[s]} for s in record.topics if s in web.titles]
    context = {"topics": topics, "token": token, "frequency": record.frequency}
    return web.page("confirmed", context)


def _lookup(web: Web, token: str) -> SubscriberRecord | None:
    with read_session(web.engine) as session:
        return subscriber_by_token(session=session, token=token)


async def unsubscribe_page(request: Request) -> Response:
    """Show the unsubscribe button (GET never unsubscribes: scanners prefetch links)."""
    web = web_of(request)
    token = str(request.path_params["token"])
    sub = await run_in_threadpool(_lookup, web, token)
    if sub is None:
        return web.message("Invalid link", _BAD_LINK, status=400)
    return web.page("unsubscribe", {"token": token, "email": sub.email, "status": sub.status})


def _unsubscribe(web: Web, token: str) -> bool:
    with write_session(web.engine) as session:
        return unsubscribe_by_token(session=session, token=token, now=web.now())


async def unsubscribe(request: Request) -> Response:
    """RFC 8058 one-click: unsubscribe now, 200, no redirect, no cookie needed."""
    web = web_of(request)
    token = str(request.path_params["token"])
    try:
        form = await read_form(request)
    except FormError as exc:
        return web.message("Not accepted", exc.text, status=exc.status)
    if form.one(ONE_CLICK[0]) != ONE_CLICK[1]:
        return web.message("Not accepted", "Expected List-Unsubscribe=One-Click.", status=400)
    sub = await run_in_threadpool(_lookup, web, token)
    if sub is None or not await run_in_threadpool(_unsubscribe, web, token):
        return web.message("Invalid link", _BAD_LINK, status=400)
    return web.message(
        "Unsubscribed",
        "You are unsubscribed and will get no more digests. You can subscribe again at any time.",
    )


def _preferences_page(
    web: Web,
    request: Request,
    token: str,
    sub: SubscriberRecord,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "token": token,
        "email": sub.email,
        "status": sub.status,
        "topics": [topic_view(t) for t in web.topics],
        "chosen": list(sub.topics),
        "frequencies": FREQUENCY_CHOICES,
        "frequency": sub.frequency,
        "frequency_note": frequency_note(sub, web.now().date()),
        "notice": notice,
        "error": error,
    }
    return web.page("preferences", context, status=status, request=request)


async def preferences_page(request: Request) -> Response:
    """The topic choice of the link's subscriber."""
    web = web_of(request)
    token = str(request.path_params["token"])
    sub = await run_in_threadpool(_lookup, web, token)
    if sub is None:
        return web.message("Invalid link", _BAD_LINK, status=400)
    return _preferences_page(web, request, token, sub)


def _change(
    web: Web, token: str, topics: tuple[str, ...], frequency: str | None
) -> SubscriberRecord | None:
    with write_session(web.engine) as session:
        change_topics(
            session=session, token=token, topics=topics, now=web.now(), frequency=frequency
        )
        return subscriber_by_token(session=session, token=token)


async def preferences(request: Request) -> Response:
    """Save a new topic choice and frequency (CSRF-checked; no frequency field: unchanged)."""
    web = web_of(request)
    token = str(request.path_params["token"])
    sub = await run_in_threadpool(_lookup, web, token)
    if sub is None:
        return web.message("Invalid link", _BAD_LINK, status=400)
    try:
        form = await read_form(request)
    except FormError as exc:
        return web.message("Not accepted", exc.text, status=exc.status)
    if not csrf_ok(web, request, form):
        return _preferences_page(
            web,
            request,
            token,
            sub,
            status=403,
            error="This form has expired. Please reload the page and try again.",
        )
    try:
        topics = check_topics(form.all("topics"), [t.slug for t in web.topics])
    except ConfigError:
        return _preferences_page(
            web,
            request,
            token,
            sub,
            status=400,
            error="Please choose one or more of the topics listed.",
        )
    try:
        frequency = check_frequency(form.one("frequency")) if form.one("frequency") else None
    except ConfigError:
        return _preferences_page(
            web, request, token, sub, status=400, error="Please choose daily or weekly."
        )
    updated = await run_in_threadpool(_change, web, token, topics, frequency)
    return _preferences_page(web, request, token, updated or sub, notice="Your choices are saved.")
