"""Subscriber addresses, topic choices and unsubscribe tokens. Pure; no I/O.

Addresses are stripped, their domain lowercased (IDNA-encoded when not ASCII); the unique key is
the whole address lowercased, so ``Ann@Example.org`` and ``ann@example.org`` are one subscriber.
Only plain dot-atom addresses are accepted: no quotes, comments, display names or controls,
and no ``=?`` (an RFC 2047 encoded word, which the email package decodes even inside an
address: ``=?UTF-8?Q?a=0A?=@example.org`` became a line feed, issue 15.2), so an address can
never carry anything into a ``To:`` header. Unsubscribe tokens are
``HMAC(secret, nonce)`` with a random 128-bit nonce; the store keeps the nonce and the token's
sha256 (the lookup key), never the token.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Sequence
from datetime import date, timedelta

from pipeline.errors import ConfigError
from pipeline.records import ALL_TOPICS, FREQUENCIES

MAX_ADDRESS = 254  # RFC 5321 path limit
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class AddressError(ConfigError):
    """An email address that paperboy will not store."""


def normalize_email(raw: str, *, local_domain_ok: bool = False) -> tuple[str, str]:
    """``(address, key)``: the address stripped with its domain lowercased, and its unique key.

    ``local_domain_ok`` admits a one-label domain (``paperboy@localhost``, for the sender).
    """
    text = raw.strip()
    if text.count("@") != 1:
        raise AddressError(f"{raw!r} is not an email address (expected local@domain)")
    local, domain = text.split("@")
    if not _LOCAL.match(local) or len(local) > 64:
        raise AddressError(f"{raw!r}: invalid local part {local!r}")
    if "=?" in local:  # RFC 2047 §5(3): no encoded word in an addr-spec; Python decodes one
        raise AddressError(f"{raw!r}: the local part holds an RFC 2047 encoded word ('=?')")
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressError(f"{raw!r}: invalid domain {domain!r}") from None
    labels = domain.split(".")
    if len(labels) < (1 if local_domain_ok else 2) or not all(
        _LABEL.match(label) for label in labels
    ):
        raise AddressError(f"{raw!r}: invalid domain {domain!r}")
    address = f"{local}@{domain}"
    if len(address) > MAX_ADDRESS:
        raise AddressError(f"{raw!r}: longer than {MAX_ADDRESS} characters")
    return address, address.lower()


def check_topics(chosen: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """The chosen slugs, de-duplicated in configured order; unknown slugs raise a clear error.

    ``all`` (:data:`~pipeline.records.ALL_TOPICS`) is every paper, so it stands alone.
    """
    wanted = [slug.strip() for slug in chosen if slug.strip()]
    valid = ", ".join([ALL_TOPICS, *known])
    unknown = sorted(set(wanted) - set(known) - {ALL_TOPICS})
    if unknown:
        raise ConfigError(f"unknown topic(s) {', '.join(unknown)}; valid: {valid}")
    if not wanted:
        raise ConfigError(f"choose at least one topic; valid: {valid}")
    if ALL_TOPICS in wanted:
        return (ALL_TOPICS,)
    return tuple(slug for slug in known if slug in wanted)


def check_frequency(value: str) -> str:
    """``daily`` or ``weekly`` (any case, spaces ignored); ConfigError listing both otherwise."""
    chosen = value.strip().lower()
    if chosen not in FREQUENCIES:
        raise ConfigError(f"unknown frequency {value.strip()!r}; valid: {', '.join(FREQUENCIES)}")
    return chosen


def change_frequency(
    current: tuple[str, str | None, date | None], new: str, *, today: date
) -> tuple[str, str | None, date | None]:
    """``(frequency, previous_frequency, frequency_from)`` after asking for ``new`` today.

    The frequency of the running ISO week stays (its daily or weekly digests are what this
    subscriber gets for its days); ``new`` starts on the next Monday. Asking again for the
    running week's frequency cancels a pending change. So every listing date belongs to one
    frequency: nothing is mailed twice (daily, then again weekly) or never (issue 13).
    """
    frequency, previous, since = current
    monday = today - timedelta(days=today.weekday())
    running = previous if since is not None and monday < since and previous else frequency
    if new == running:
        return new, None, None
    return new, running, monday + timedelta(days=7)


def unsubscribe_token(secret: bytes, nonce: str) -> str:
    """The subscriber's unsubscribe token (URL-safe, 128 bits)."""
    return hmac.new(secret, f"unsubscribe|{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def token_hash(token: str) -> str:
    """The stored look-up form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_subscriber_csv(text: str) -> list[tuple[int, str, list[str], str | None]]:
    """``(line, email, topics, frequency)`` rows of a CSV with ``email`` and ``topics`` columns
    and an optional ``frequency`` one (None where it is absent or empty: keep / daily)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip().lower() for name in reader.fieldnames or ()}
    if not {"email", "topics"} <= columns:
        raise ConfigError("CSV needs a header line with 'email' and 'topics' columns")
    rows = []
    for row in reader:
        values = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k}
        topics = [t for t in re.split(r"[,;\s]+", values.get("topics", "")) if t]
        frequency = values.get("frequency", "").strip() or None
        rows.append((reader.line_num, values.get("email", ""), topics, frequency))
    return rows


def address_digest(email_key: str) -> str:
    """A short digest binding a confirmation token to one address (URLs leak into logs)."""
    return hashlib.sha256(email_key.encode()).hexdigest()[:16]
