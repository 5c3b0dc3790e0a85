"""Where messages go: one SMTP connection per batch, or ``.eml`` files when no SMTP is set.

I/O edge: SMTP (through :mod:`pipeline.mail.smtp`) and the file system. A transport is opened
once, sends each message's bytes and reports an :class:`~pipeline.records.Outcome`.
"""

from __future__ import annotations

import os
import smtplib
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from pipeline.config import Config, SmtpTarget
from pipeline.errors import DeliveryError
from pipeline.mail.smtp import SMTP_TIMEOUT, close_smtp, open_smtp, send_one
from pipeline.records import EditionRef, OutboxItem, Outcome

# <output>/outbox/<edition>/<message-id>.eml when no SMTP is configured; <edition> is the date,
# or the ISO week (2026-W34) of a weekly edition
OUTBOX_DIR = "outbox"


class Transport(Protocol):
    """Delivers one message's bytes; opened once per run."""

    def open(self) -> None: ...
    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome: ...
    def close(self) -> None: ...


@dataclass
class SmtpTransport:
    """Delivery over one SMTP connection per run."""

    target: SmtpTarget
    timeout: float = SMTP_TIMEOUT
    _conn: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect (raises DeliveryError)."""
        self._conn = open_smtp(self.target, timeout=self.timeout)

    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome:
        """Send over the open connection."""
        if self._conn is None:
            raise RuntimeError("transport not open")
        return send_one(self._conn, sender=sender, recipient=item.email, data=data)

    def close(self) -> None:
        """Quit."""
        if self._conn is not None:
            close_smtp(self._conn)
        self._conn = None


@dataclass
class EmlTransport:
    """Writes ``<folder>/<message-id>.eml`` (atomically, never twice) instead of sending."""

    folder: Path

    def open(self) -> None:
        """Nothing to open."""

    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome:  # noqa: ARG002
        """Write the file; an existing file means it was delivered before."""
        name = item.message_id.strip("<>").partition("@")[0] + ".eml"
        written = write_eml(self.folder, name, data)
        return Outcome("sent", None, "written" if written else "already written")

    def close(self) -> None:
        """Nothing to close."""


def transport_for(cfg: Config, day: date | EditionRef) -> Transport:
    """SMTP when configured, else .eml files under ``<output>/outbox/<edition>/``."""
    if cfg.smtp is not None:
        return SmtpTransport(cfg.smtp)
    label = day.label if isinstance(day, EditionRef) else day.isoformat()
    return EmlTransport(cfg.output_dir / OUTBOX_DIR / label)


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
