"""Delivering messages. I/O edge: SMTP, and .eml files when no SMTP server is configured.

The SMTP client drives MAIL, RCPT, DATA and the message body as separate steps, so the phase of
a failure is known: anything before the server's 354 is safe to retry; a connection lost after
the body was sent is ``uncertain`` (RFC 1047: the server may hold the message). Replies are
classified by their code, not by smtplib's exception class (RCPT 450 and 550 both arrive as
``SMTPRecipientsRefused``). STARTTLS always verifies the certificate
(``ssl.create_default_context()``; smtplib's default does not: RELIABILITY.md 0.2). The password
comes from ``PAPERBOY_SMTP_PASSWORD`` only and never appears in messages.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.errors import ConfigError, DeliveryError
from pipeline.store.outbox import Outcome

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 60.0  # seconds per operation; a timeout after the body is "uncertain"
_TRUE = ("1", "true", "yes", "on")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect; ``password`` is never printed (repr hides it)."""

    host: str
    port: int
    user: str
    password: str
    starttls: bool
    implicit_tls: bool
    tls_verify: bool = True
    ca_file: str = ""  # extra CA bundle to trust (a private relay's CA)

    def __repr__(self) -> str:
        return f"SmtpTarget({self.describe()})"

    def describe(self) -> str:
        """``smtp://user@host:port`` for messages, without the password."""
        user = f"{self.user}@" if self.user else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str, *, password: str = "") -> SmtpTarget:
    """Parse ``smtp://user@host:587?starttls=true[&ca_file=PATH]`` or ``smtps://host``.

    A password in the URL is refused (it comes from ``PAPERBOY_SMTP_PASSWORD``);
    ``tls_verify=false`` exists for tests only and logs a warning.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "expected smtp://[user@]host[:port][?starttls=true]", key="email.smtp_url"
        )
    if parts.password:
        raise ConfigError(
            "put the password in PAPERBOY_SMTP_PASSWORD, not in the URL", key="email.smtp_url"
        )
    raw = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    query = {k: v.lower() for k, v in raw.items()}
    unknown = set(query) - {"starttls", "tls_verify", "ca_file"}
    if unknown:
        raise ConfigError(f"unknown options {sorted(unknown)}", key="email.smtp_url")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587),
        user=unquote(parts.username or ""),
        password=password,
        starttls=query.get("starttls", "false") in _TRUE and not implicit,
        implicit_tls=implicit,
        tls_verify=query.get("tls_verify", "true") in _TRUE,
        ca_file=raw.get("ca_file", ""),
    )


def _tls_context(target: SmtpTarget) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=target.ca_file or None)
    if not target.tls_verify:
        log.warning("TLS certificate verification is OFF for %s (tests only)", target.describe())
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def open_smtp(target: SmtpTarget, *, timeout: float = SMTP_TIMEOUT) -> smtplib.SMTP:
    """Connect, EHLO, STARTTLS (verified) and log in; failures raise :class:`DeliveryError`."""
    try:
        if target.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=timeout, context=_tls_context(target)
            )
        else:
            conn = smtplib.SMTP(target.host, target.port, timeout=timeout)
    except ssl.SSLError as exc:
        raise DeliveryError(target.describe(), f"TLS failed ({exc.reason or exc})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(target.describe(), f"cannot connect: {exc}") from None
    try:
        _handshake(conn, target)
    except BaseException:
        conn.close()
        raise
    return conn


def _handshake(conn: smtplib.SMTP, target: SmtpTarget) -> None:
    where = target.describe()
    try:
        conn.ehlo()
        if target.starttls:
            conn.starttls(context=_tls_context(target))
            conn.ehlo()
        if target.user:
            conn.login(target.user, target.password)
    except ssl.SSLError as exc:
        raise DeliveryError(
            where, f"TLS failed ({exc.reason or exc}): check the certificate"
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            where, f"login refused ({exc.smtp_code}): check PAPERBOY_SMTP_PASSWORD"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(where, f"cannot connect: {type(exc).__name__}: {exc}") from None


def classify_reply(code: int, text: str, *, phase: str) -> Outcome:
    """Map a negative reply to an outcome: 4xx retry (421 also stops), 5xx failed."""
    detail = f"{phase}: {code} {text}"[:300]
    if 400 <= code < 500:
        return Outcome("retry", code, detail, stop=code == 421)
    policy = bool(re.match(r"5\.7\.", text))  # auth/policy: not this address's fault (RFC 3463)
    if phase == "mail":  # MAIL FROM refused: our sender is wrong, not the recipient
        return Outcome("retry", code, detail, stop=True)
    bounce = not policy and (phase == "rcpt" or bool(re.match(r"5\.1\.", text)))
    return Outcome("failed", code, detail, stop=policy, bounce=bounce)


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


def _body(data: bytes) -> bytes:
    data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def send_one(conn: smtplib.SMTP, *, sender: str, recipient: str, data: bytes) -> Outcome:
    """Send one message on an open connection, phase by phase, and classify what happened."""
    phase = "mail"
    try:
        code, raw = conn.mail(sender)
        if code != 250:
            return classify_reply(code, _reply(raw), phase=phase)
        phase = "rcpt"
        code, raw = conn.rcpt(recipient)
        if code not in (250, 251):
            outcome = classify_reply(code, _reply(raw), phase=phase)
            if not outcome.stop:
                conn.rset()
            return outcome
        phase = "data"
        conn.putcmd("data")
        code, raw = conn.getreply()
        if code != 354:
            return classify_reply(code, _reply(raw), phase=phase)
        phase = "body"
        conn.send(_body(data))
        code, raw = conn.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        detail = f"{phase}: connection lost: {type(exc).__name__}: {exc}"[:300]
        if phase == "body":  # the server may have stored it (RFC 1047)
            return Outcome("uncertain", None, detail, stop=True)
        return Outcome("retry", None, detail, stop=True)
    if code == 250:
        return Outcome("sent", code, _reply(raw)[:300])
    return classify_reply(code, _reply(raw), phase="body")


def close_smtp(conn: smtplib.SMTP) -> None:
    """QUIT politely; a connection already gone is fine."""
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def write_eml(folder: Path, name: str, data: bytes) -> bool:
    """Write ``folder/name`` atomically and never twice; False when it already exists."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        return False
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, target)  # fails if target exists: no overwrite, no torn file
        except FileExistsError:
            return False
    except OSError as exc:
        raise DeliveryError(str(target), f"cannot write: {exc.strerror or exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return True
