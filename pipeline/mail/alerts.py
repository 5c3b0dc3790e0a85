"""Operator alert mail: what needs a person, at most once per problem per day.

I/O edge: the store (alert claims) and a :class:`~pipeline.mail.transports.Transport` (the
digests' SMTP server, or ``.eml`` files in ``<output>/outbox/alerts/``). The message is plain
text; header values made from data go through :func:`~pipeline.mail.headers.header_text`
(CVE-2024-6923, docs/reliability.md §6.3) and the Message-ID is random (unguessable, 128 bits).
Claims are committed before the mail goes out (like digests, docs/reliability.md §2.2): a
problem claimed today is not mailed again today, even if the process dies while sending; a mail
that did not go out at all (connection refused, 4xx) releases its claims for the next check.
"""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import TYPE_CHECKING

from pipeline.config import Config
from pipeline.errors import DeliveryError
from pipeline.health import status_lines
from pipeline.mail.headers import header_text, plain_text
from pipeline.mail.render import EmailSettings, email_settings
from pipeline.mail.transports import OUTBOX_DIR, EmlTransport, SmtpTransport, Transport
from pipeline.records import HealthReport, OutboxItem, Problem
from pipeline.store.engine import write_session
from pipeline.store.health import claim_alerts, settle_alerts

if TYPE_CHECKING:
    from sqlalchemy import Engine

ALERTS_DIR = "alerts"  # <output>/outbox/alerts/<message-id>.eml when no SMTP is configured
_WORST = ("sent", "failed", "uncertain")  # the alert's state is its worst recipient's
WIDTH = 76  # text lines stay short enough for 7bit transfer (RFC 5322 2.1.1: 78)


@dataclass(frozen=True)
class AlertReport:
    """What one alert check did."""

    mailed: tuple[Problem, ...] = ()  # problems in the mail sent now
    already: tuple[Problem, ...] = ()  # problems mailed before (not mailed again)
    recipients: int = 0
    state: str | None = None  # sent | failed | uncertain | deferred (4xx: claims released)
    message_id: str | None = None
    detail: str = ""  # the server's words when not sent

    @property
    def ok(self) -> bool:
        """False when a mail was due and did not (surely) reach every recipient."""
        return self.state in (None, "sent")

    def summary(self) -> str:
        """One line for the CLI."""
        if not self.mailed:
            return (
                f"alerts: nothing new to mail ({len(self.already)} open problem(s) mailed before)"
            )
        return (
            f"alerts: {len(self.mailed)} problem(s) mailed to {self.recipients} address(es): "
            f"{self.state}{f' ({self.detail})' if self.detail else ''}"
        )


def alert_transport(cfg: Config) -> Transport:
    """The digests' SMTP server, else ``.eml`` files in ``<output>/outbox/alerts/``."""
    if cfg.smtp is not None:
        return SmtpTransport(cfg.smtp)
    return EmlTransport(cfg.output_dir / OUTBOX_DIR / ALERTS_DIR)


def alert_key(problem: Problem, report: HealthReport) -> str:
    """The claim of ``problem``: a lasting condition (a source failing, no runs) is claimed
    per (UTC) day, so it is mailed again each day it lasts; an event (an empty weekday, a
    delivery count) once."""
    return f"{problem.key}@{report.snapshot.today.isoformat()}" if problem.daily else problem.key


def alert_subject(mailed: Sequence[Problem], settings: EmailSettings) -> str:
    """``[<list>] needs a person: <first problem's title> (+N more)``, sanitised."""
    more = f" (+{len(mailed) - 1} more)" if len(mailed) > 1 else ""
    return header_text(f"[{settings.list_title}] needs a person: {mailed[0].title}{more}")


def _wrapped(text: str, *, first: str = "", rest: str = "") -> list[str]:
    """``text`` as plain text (no controls) in lines of at most :data:`WIDTH` characters."""
    lines = textwrap.wrap(plain_text(text), WIDTH, initial_indent=first, subsequent_indent=rest,
                          break_long_words=False, break_on_hyphens=False)  # fmt: skip
    return lines or [first.rstrip()]


def alert_body(
    mailed: Sequence[Problem], already: Sequence[Problem], report: HealthReport, site: str
) -> str:
    """The plain-text body: the new problems with what to do, the rest, the whole status."""
    day = report.snapshot.today.isoformat()
    lines = _wrapped(f"paperboy at {site} needs a person: {len(mailed)} new problem(s) on {day}.")
    lines.append("")
    for number, problem in enumerate(mailed, 1):
        lines += _wrapped(problem.message, first=f"{number}. ", rest="   ")
        lines += _wrapped(problem.hint, first="   What to do: ", rest="   ")
        lines.append("")
    if already:
        lines.append("Still open, mailed before:")
        for problem in already:
            lines += _wrapped(problem.message, first="- ", rest="  ")
        lines.append("")
    lines += ["Status now (`paperboy status`):", ""]
    for line in status_lines(report, problems=False):
        indent = line[: len(line) - len(line.lstrip())]
        lines += _wrapped(line, first=indent, rest=indent + "    ")
    lines += [
        "",
        "-- ",
        "You get this because [alerts] to names this address in paperboy's",
        "configuration. At most one mail per problem per day; `paperboy status`",
        "(or GET /health of `paperboy serve`) shows the current state at any time.",
    ]
    return "\n".join(lines) + "\n"


def alert_message(
    mailed: Sequence[Problem],
    already: Sequence[Problem],
    report: HealthReport,
    *,
    recipients: Sequence[str],
    settings: EmailSettings,
    message_id: str,
    now: datetime,
) -> bytes:
    """The wire form (CRLF) of the alert mail to ``recipients`` (validated addresses)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(settings.sender_name, addr_spec=settings.sender_address)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = alert_subject(mailed, settings)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    site = settings.site_url or settings.domain
    msg.set_content(alert_body(mailed, already, report, site), charset="utf-8")
    return msg.as_bytes()


def _deliver(transport: Transport, recipients: Sequence[str], sender: str, data: bytes,
             message_id: str) -> tuple[str, str]:  # fmt: skip
    """Send to each recipient: (the worst state, the servers' words); ``deferred`` when no
    recipient got it (4xx only)."""
    outcomes = []
    transport.open()
    try:
        for address in recipients:
            item = OutboxItem(0, 0, address, (), "active", "", message_id, 0)
            outcomes.append(transport.send(item, sender, data))
    finally:
        transport.close()
    detail = "; ".join(o.detail for o in outcomes if o.state != "sent")
    reached = [o.state for o in outcomes if o.state in _WORST]
    if not reached:  # every recipient deferred (4xx): nothing went out
        return "deferred", detail
    return max(reached, key=_WORST.index), detail


def send_alerts(
    *, engine: Engine, cfg: Config, report: HealthReport, transport: Transport, now: datetime
) -> AlertReport:
    """Mail ``[alerts] to`` the problems not mailed yet (daily ones: not today); none: no mail.

    Raises :class:`DeliveryError` when the server cannot be reached (claims released).
    """
    recipients = cfg.alert_recipients
    if not recipients or report.ok:
        return AlertReport(recipients=len(recipients))
    settings = email_settings(cfg)
    message_id = f"<{secrets.token_hex(16)}@{settings.domain}>"
    keys = {alert_key(p, report): p for p in report.problems}
    with write_session(engine) as session:
        claimed = claim_alerts(
            session=session,
            problems=[(key, p.message[:500]) for key, p in keys.items()],
            message_id=message_id,
            now=now,
        )
    mailed = tuple(keys[key] for key in claimed)
    already = tuple(p for key, p in keys.items() if key not in claimed)
    if not mailed:
        return AlertReport(already=already, recipients=len(recipients))
    data = alert_message(mailed, already, report, recipients=recipients, settings=settings,
                         message_id=message_id, now=now)  # fmt: skip
    try:
        state, detail = _deliver(transport, recipients, settings.sender_address, data, message_id)
    except DeliveryError:
        with write_session(engine) as session:
            settle_alerts(session=session, keys=claimed, state=None)
        raise
    with write_session(engine) as session:
        settle_alerts(session=session, keys=claimed, state=None if state == "deferred" else state)
    return AlertReport(mailed, already, len(recipients), state, message_id, detail)
