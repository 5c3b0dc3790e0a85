"""Small values the store keeps for good: the feed GUID authority, the HMAC secret, marks.

I/O edge: a database ``Session`` or the engine. A value is written once and never updated, so
concurrent first uses agree (insert-or-ignore, then read back).
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pipeline.store.engine import insert_for, read_session, write_session
from pipeline.store.tables import Meta

SECRET_KEY = "email_secret"  # historical name: also signs web tokens


def ensure_meta(*, session: Session, key: str, value: str) -> str:
    """The stored value of ``key``; stores ``value`` first if the key is missing (never updates)."""
    session.execute(insert_for(session, Meta).values(key=key, value=value).on_conflict_do_nothing())
    stored: str = session.execute(select(col(Meta.value)).where(col(Meta.key) == key)).scalar_one()
    return stored


def get_meta(*, session: Session, key: str) -> str | None:
    """The stored value of ``key``, or None."""
    found: str | None = session.execute(
        select(col(Meta.value)).where(col(Meta.key) == key)
    ).scalar_one_or_none()
    return found


def stored_secret(engine: Engine) -> bytes:
    """The store's own HMAC secret, created at first use (when ``PAPERBOY_SECRET`` is unset)."""
    with read_session(engine) as session:
        found = get_meta(session=session, key=SECRET_KEY)
    if found is None:
        with write_session(engine) as session:
            found = ensure_meta(session=session, key=SECRET_KEY, value=secrets.token_hex(32))
    return found.encode()
