"""The SMTP client. I/O edge: SMTP.

The SMTP client drives MAIL, RCPT, DATA and the message body as separate steps, so the phase of
a failure is known: anything before the server's 354 is safe to retry; a connection lost after
the body was sent is ``uncertain`` (RFC 1047: the server may hold the message). Replies are
classified by their code, not by smtplib's exception class (RCPT 450 and 550 both arrive as
``SMTPRecipientsRefused``). STARTTLS always verifies the certificate
(``ssl.create_default_context()``; smtplib's default does not: docs/reliability.md §0.2). The
password comes from ``PAPERBOY_SMTP_PASSWORD`` only and never appears in messages.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl

from pipeline.config import SmtpTarget, is_loopback_host
from pipeline.errors import DeliveryError
from pipeline.records import Outcome

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 60.0  # seconds per operation; a timeout after the body is "uncertain"


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
            if not conn.has_extn("starttls"):
                raise DeliveryError(
                    where,
                    "the server does not offer STARTTLS: use smtps:// (port 465), or "
                    "?starttls=false for a relay that needs no password",
                )
            conn.starttls(context=_tls_context(target))
            conn.ehlo()
        if target.user:
            _check_plaintext_auth(target)
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


def _check_plaintext_auth(target: SmtpTarget) -> None:
    """Refuse AUTH without TLS unless the target allows it (loopback or explicit opt-in)."""
    if target.implicit_tls or target.starttls:
        return
    if not target.allow_plaintext_auth:
        raise DeliveryError(
            target.describe(),
            "refusing to send the password unencrypted: use STARTTLS (the default) or smtps://",
        )
    if not is_loopback_host(target.host):
        log.warning(
            "sending the SMTP password unencrypted to %s (allow_plaintext_auth=true)",
            target.describe(),
        )


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
    """Dot-stuffed (RFC 5321 4.5.2: a line starting with "." gets another) and terminated."""
    data = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
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
