"""Failpoints for the fault-injection harness: crash the process at a named point. I/O edge: exit.

``PAPERBOY_FAILPOINT=after_claim`` makes the first ``failpoint("after_claim")`` call end the
process at once with ``os._exit(137)`` (what a SIGKILL looks like to the parent: no ``finally``,
no atexit, no flush); ``after_claim:3`` does it at the third hit. Unset, a failpoint costs one
dict lookup. Points placed in the code (see ``POINTS``) are the places where a crash must not
lose or duplicate work; ``scripts/fault_harness.py`` and ``tests/test_faults.py`` crash at each.
"""

from __future__ import annotations

import os

ENV = "PAPERBOY_FAILPOINT"
EXIT_CODE = 137  # 128 + SIGKILL, as a shell reports a kill -9
POINTS = (
    "before_ingest_commit",  # a page's rows written, transaction not committed
    "before_plan_commit",  # an edition frozen and its outbox rows planned, not committed
    "after_claim",  # outbox row committed 'sending', nothing sent yet
    "after_send",  # SMTP accepted the message (250), outcome not committed
    "mid_feed_write",  # feed temp file written, not yet renamed over the feed
    "before_assign",  # pages committed, their papers' topics not assigned yet
    "after_assign_batch",  # one batch of topic assignments committed, more to do
)
_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Exit the process here when ``$PAPERBOY_FAILPOINT`` names this point (and hit count)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= (int(count) if count.isdigit() else 1):
        os._exit(EXIT_CODE)
