"""Subscribe (double opt-in), confirm, change topics, unsubscribe (RFC 8058 one-click).

I/O edge: HTTP handlers over the store and the mail transport. Unsubscribe links are the
digests' own ``/unsubscribe/<token>`` URLs (:func:`pipeline.mail.render.unsubscribe_urls`):
GET only shows a button (mail scanners prefetch links), POST with ``List-Unsubscribe=One-Click``
unsubscribes at once, answers 200 (never a redirect) and needs no cookie. The token in the URL
is the capability there, so that POST takes no CSRF token; the subscribe and preferences forms
do (a signed token bound to a cookie).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pipeline.addresses import AddressError, check_frequency, check_topics, normalize_email
from pipeline.errors import ConfigError, DeliveryError
from pipeline.store.engine import write_session
from pipeline.store.subscribe_requests import (
    limit_verdict,
    mark_unmailed,
    record_request,
)
from pipeline.web.confirm_mail import confirmation_item, confirmation_message
from pipeline.web.context import Web, web_of
from pipeline.web.forms import Form, FormError, client_ip, csrf_ok, read_form
from pipeline.web.views import FREQUENCY_CHOICES, topic_view

HONEYPOT = "website"  # hidden from people; bots fill it
_STALE_FORM = "This form has expired. Please reload the page and submit it again."


def _subscribe_page(
    web: Web,
    request: Request,
    *,
    email: str = "",
    chosen: Sequence[str] = (),
    frequency: str = "daily",
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "topics": [topic_view(t) for t in web.topics],
        "email": email[:254],
        "chosen": list(chosen),
        "frequencies": FREQUENCY_CHOICES,
        "frequency": frequency,
        "error": error,
    }
    return web.page("subscribe", context, status=status, request=request)


async def subscribe_form(request: Request) -> Response:
    """The subscribe form (``?topic=`` pre-ticks a topic)."""
    web = web_of(request)
    return _subscribe_page(web, request, chosen=[request.query_params.get("topic", "")])


def _validated(web: Web, form: Form) -> tuple[str, str, tuple[str, ...], str]:
    try:
        address, key = normalize_email(form.one("email"))
    except AddressError:
        raise ValueError("Please enter a valid email address, like name@example.org.") from None
    try:
        topics = check_topics(form.all("topics"), [t.slug for t in web.topics])
    except ConfigError:
        raise ValueError("Please choose one or more of the topics listed.") from None
    try:
        frequency = check_frequency(form.one("frequency") or "daily")
    except ConfigError:
        raise ValueError("Please choose daily or weekly.") from None
    return address, key, topics, frequency


def _send_confirmation(
    web: Web,
    *,
    request_id: int,
    address: str,
    key: str,
    topics: Sequence[str],
    frequency: str,
    now: datetime,
) -> None:
    link = web.cfg.url_for(f"confirm/{web.tokens.confirm_token(request_id, key)}")
    item = confirmation_item(address, domain=web.settings.domain)
    titles = [web.titles.get(slug, slug) for slug in topics]
    data = confirmation_message(
        item, link=link, topics=titles, settings=web.settings, env=web.envs.text, now=now,
        frequency=frequency,
    )  # fmt: skip
    transport = web.transport(now)
    transport.open()
    try:
        outcome = transport.send(item, web.settings.sender_address, data)
    finally:
        transport.close()
    if outcome.state != "sent":
        raise DeliveryError(address, outcome.detail or outcome.state)


def _request_and_mail(
    web: Web, address: str, key: str, topics: Sequence[str], frequency: str, ip: str
) -> str:
    now = web.now()
    with write_session(web.engine) as session:
        verdict = limit_verdict(
            session=session, email_key=key, client_ip=ip, now=now, limits=web.limits
        )
        if verdict is not None:
            return verdict
        request_id = record_request(
            session=session,
            email=address,
            email_key=key,
            topics=topics,
            client_ip=ip,
            mailed=True,
            now=now,
            frequency=frequency,
        )
    try:
        _send_confirmation(
            web, request_id=request_id, address=address, key=key, topics=topics,
            frequency=frequency, now=now,
        )  # fmt: skip
    except BaseException as exc:
        # Whatever stopped the mail (a refused delivery, or a bug building it: issue 15.2), the
        # request must not count as mailed: it was recorded as mailed only to reserve the limit.
        with write_session(web.engine) as session:
            mark_unmailed(session=session, request_id=request_id)
        if isinstance(exc, DeliveryError):
            return "delivery"
        raise
    return "sent"


async def subscribe(request: Request) -> Response:
    """Validate, rate-limit and mail a confirmation link (nothing is subscribed yet)."""
    web = web_of(request)
    try:
        form = await read_form(request)
    except FormError as exc:
        return web.message("Form not accepted", exc.text, status=exc.status)
    if not csrf_ok(web, request, form):
        return _subscribe_page(web, request, error=_STALE_FORM, status=403)
    sent = web.message(
        "Check your inbox",
        "If the address is valid, a confirmation link is on "
        "its way. Nothing is sent to you until you follow it.",
    )
    if form.one(HONEYPOT):
        return sent
    try:
        address, key, topics, frequency = _validated(web, form)
    except ValueError as exc:
        chosen = [slug for slug in form.all("topics") if web.topic(slug)]
        return _subscribe_page(
            web, request, email=form.one("email"), chosen=chosen, error=str(exc), status=400
        )
    verdict = await run_in_threadpool(
        _request_and_mail, web, address, key, topics, frequency, client_ip(request)
    )
    if verdict == "ip":
        return web.message(
            "Too many requests",
            "Too many subscribe requests came from your "
            "network in the last hour. Please try again later.",
            status=429,
        )
    if verdict == "address":
        return web.message(
            "Already sent",
            "A confirmation link was sent to this address "
            "recently. Please check your inbox and spam folder, or try again "
            "later.",
            status=429,
        )
    if verdict == "delivery":
        return web.message(
            "Not sent",
            "The confirmation mail could not be sent just now. Please try again later.",
            status=503,
        )
    return sent
