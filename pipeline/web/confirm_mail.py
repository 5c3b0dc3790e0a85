"""The double opt-in confirmation message. Pure; no I/O.

Plain text only; every header value made from data goes through
:func:`pipeline.mail.headers.header_text` (CVE-2024-6923, docs/reliability.md §6.3) and the
recipient is a validated address, so nothing a form carries can add a header.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import jinja2

from pipeline.addresses import normalize_email
from pipeline.mail.headers import header_text
from pipeline.mail.render import EmailSettings
from pipeline.records import FREQUENCIES, OutboxItem

TEMPLATE = "web/confirm.txt"


def confirmation_item(recipient: str, *, domain: str) -> OutboxItem:
    """A one-off delivery record for a transport (random Message-ID: not a digest)."""
    address, _key = normalize_email(recipient)
    msgid = f"<{secrets.token_hex(16)}@{domain}>"
    return OutboxItem(0, 0, address, (), "pending", "", msgid, 0)


def confirmation_message(
    item: OutboxItem,
    *,
    link: str,
    topics: Sequence[str],
    settings: EmailSettings,
    env: jinja2.Environment,
    now: datetime,
    frequency: str = "daily",
) -> bytes:
    """The wire form (CRLF) of the confirmation mail holding ``link``."""
    body = env.get_template(TEMPLATE).render(
        list_title=settings.list_title,
        link=link,
        topics=[header_text(t, limit=80) for t in topics],
        expires_hours=48,
        frequency=frequency if frequency in FREQUENCIES else "daily",
    )
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(settings.sender_name, addr_spec=settings.sender_address)
    msg["To"] = item.email
    msg["Subject"] = header_text(f"Confirm your {settings.list_title} subscription")
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = item.message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(body, charset="utf-8")
    return msg.as_bytes()
