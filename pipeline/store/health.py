"""The run log, per-source state and alert claims; the health snapshot read from them.

I/O edge: a database ``Session``; returns records. ``paperboy run`` writes a run row when it
starts and completes it when it ends (a row never completed is a run that died), and records
per source whether every date fetched; ``paperboy status``, GET /health and the alert mail read
:func:`health_snapshot`. Alert claims are committed before the mail is sent, like outbox claims
(docs/reliability.md §2.2): a problem is mailed at most once per day, even across a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, case, delete, func, or_, update
from sqlmodel import Session, col, select

from pipeline.config import SourceConfig
from pipeline.records import EditionHealth, HealthSnapshot, RunRecord, SourceHealth
from pipeline.store.engine import insert_for, write_session
from pipeline.store.outbox import STATES
from pipeline.store.tables import (
    AlertLog,
    Digest,
    MailEdition,
    OutboxMessage,
    RunLog,
    SourceState,
    Subscriber,
)

ERROR_CHARS = 500  # a source's last error, as stored
OPEN = ("pending", "retry", "sending")  # outbox rows not settled yet
PROBLEMS = ("failed", "uncertain")  # settled rows that need a person when recent


def begin_run(engine: Engine, *, now: datetime) -> int:
    """Record that a run started (its own transaction); returns its id for :func:`finish_run`."""
    with write_session(engine) as session:
        row = RunLog(started_at=now)
        session.add(row)
        session.flush()
        if row.id is None:  # flushed rows always have an id
            raise AssertionError("run_log row without id")
        return row.id


def finish_run(
    engine: Engine, run_id: int, *, now: datetime, pages: int, new_papers: int, failures: int
) -> None:
    """Record that run ``run_id`` ended, with what it did (again: the newer counts win)."""
    with write_session(engine) as session:
        session.execute(
            update(RunLog)
            .where(col(RunLog.id) == run_id)
            .values(finished_at=now, ok=not failures, pages=pages, new_papers=new_papers,
                    failures=failures)
        )  # fmt: skip


def note_sources(engine: Engine, outcomes: Mapping[str, str | None], *, now: datetime) -> None:
    """Record each source's outcome in a run: None when every date fetched, else the first
    error (the failures in a row grow by one; a success resets them)."""
    if not outcomes:
        return
    with write_session(engine) as session:
        for source, error in sorted(outcomes.items()):
            values: dict[str, object] = {"last_attempt_at": now}
            if error is None:
                values.update(last_success_at=now, last_error=None)
            else:
                values.update(last_error=error[:ERROR_CHARS])
            insert = insert_for(session, SourceState).values(
                source=source, consecutive_failures=0 if error is None else 1, **values
            )
            values["consecutive_failures"] = (
                0 if error is None else col(SourceState.consecutive_failures) + 1
            )
            session.execute(insert.on_conflict_do_update(index_elements=["source"], set_=values))


def _run(row: RunLog | None) -> RunRecord | None:
    if row is None:
        return None
    return RunRecord(row.started_at, row.finished_at, row.ok, row.pages, row.new_papers,
                     row.failures)  # fmt: skip


def _sources(
    session: Session, configured: Sequence[SourceConfig], start: date, today: date
) -> tuple[SourceHealth, ...]:
    states = {row.source: row for row in session.exec(select(SourceState))}
    last = dict(
        session.execute(
            select(col(Digest.source), func.max(col(Digest.listing_date))).group_by(
                col(Digest.source)
            )
        ).all()
    )
    with_papers = dict(
        session.execute(
            select(col(Digest.source), func.max(col(Digest.listing_date)))
            .where(col(Digest.paper_count) > 0)
            .group_by(col(Digest.source))
        ).all()
    )
    recent: dict[str, list[tuple[date, int]]] = {}
    counts: dict[tuple[str, date], int] = {}
    for source, day, papers in session.execute(
        select(col(Digest.source), col(Digest.listing_date), col(Digest.paper_count)).where(
            or_(col(Digest.listing_date) >= start, col(Digest.listing_date).in_(last.values()))
        )
    ):
        counts[(source, day)] = papers
        if start <= day < today:
            recent.setdefault(source, []).append((day, papers))
    kinds = {s.name: s.kind for s in configured}
    names = [*kinds, *sorted((set(states) | set(last)) - set(kinds))]
    found = []
    for name in names:
        state = states.get(name)
        day = last.get(name)
        found.append(
            SourceHealth(
                name=name,
                kind=kinds.get(name, ""),
                configured=name in kinds,
                last_attempt_at=state.last_attempt_at if state else None,
                last_success_at=state.last_success_at if state else None,
                consecutive_failures=state.consecutive_failures if state else 0,
                last_error=state.last_error if state else None,
                last_day=day,
                last_day_papers=counts.get((name, day), 0) if day else 0,
                last_day_with_papers=with_papers.get(name),
                recent_days=tuple(sorted(recent.get(name, []))),
            )
        )
    return tuple(found)


def _editions(
    session: Session, start: date, now: datetime, lease: timedelta
) -> tuple[EditionHealth, ...]:
    """Editions of the window, editions with rows still open or with failed/uncertain rows of
    the window (edition or last claim in it), and editions marked for planning; each with all
    its rows by state. Two indexed reads: rows by state (``ix_outbox_state_edition``: open,
    failed and uncertain rows are few), then the shown editions' counts (``edition, state``)."""
    window_start = datetime.combine(start, time(), tzinfo=UTC)
    row = OutboxMessage
    recent = or_(col(row.edition) >= start, col(row.claimed_at) >= window_start)
    late = (col(row.state) == "sending") & (col(row.claimed_at) < now - lease)
    troubled = col(row.state).in_(PROBLEMS) & recent
    in_window: dict[date, dict[str, int]] = {}
    stuck: dict[date, int] = {}
    for edition, state, n, n_stuck in session.execute(
        select(col(row.edition), col(row.state), func.count(), func.sum(case((late, 1), else_=0)))
        .where(col(row.state).in_((*OPEN, *PROBLEMS)), or_(col(row.state).in_(OPEN), troubled))
        .group_by(col(row.edition), col(row.state))
    ):
        if state in PROBLEMS:
            in_window.setdefault(edition, dict.fromkeys(STATES, 0))[state] = int(n)
        stuck[edition] = stuck.get(edition, 0) + int(n_stuck or 0)
    recent_days = session.execute(
        select(col(row.edition)).where(col(row.edition) >= start).distinct()
    ).scalars()
    marked = _unplanned_days(session, start)
    days = sorted(set(recent_days) | set(stuck) | marked, reverse=True)
    states: dict[date, dict[str, int]] = {day: dict.fromkeys(STATES, 0) for day in days}
    for chunk in (days[i : i + 500] for i in range(0, len(days), 500)):
        for edition, state, n in session.execute(
            select(col(row.edition), col(row.state), func.count())
            .where(col(row.edition).in_(chunk))
            .group_by(col(row.edition), col(row.state))
        ):
            states[edition][state] = int(n)
    return tuple(
        EditionHealth(
            day=day,
            marked=day in marked,
            states=states[day],
            recent=in_window.get(day, dict.fromkeys(STATES, 0)),
            stuck=stuck.get(day, 0),
        )
        for day in days
    )


def _unplanned_days(session: Session, start: date) -> set[date]:
    """Listing dates since ``start`` with papers whose daily edition is not frozen (planned) yet:
    still settling, or waiting for the next run (:mod:`pipeline.mail.due` decides when)."""
    frozen = select(col(MailEdition.day)).where(col(MailEdition.kind) == "daily")
    query = (
        select(col(Digest.listing_date))
        .where(col(Digest.listing_date) >= start, col(Digest.paper_count) > 0)
        .where(col(Digest.listing_date).not_in(frozen))
        .distinct()
    )
    return set(session.execute(query).scalars())


def health_snapshot(
    *,
    session: Session,
    sources: Sequence[SourceConfig],
    now: datetime,
    window_days: int,
    lease: timedelta,
) -> HealthSnapshot:
    """Runs, sources (``sources``: the configured, enabled ones first) and recent editions."""
    today = now.astimezone(UTC).date()
    start = today - timedelta(days=window_days)
    last_run = session.exec(select(RunLog).order_by(col(RunLog.id).desc()).limit(1)).first()
    finished = session.exec(
        select(RunLog)
        .where(col(RunLog.finished_at).is_not(None))
        .order_by(col(RunLog.id).desc())
        .limit(1)
    ).first()
    bouncing = session.execute(
        select(func.count()).select_from(Subscriber).where(col(Subscriber.status) == "bouncing")
    ).scalar_one()
    return HealthSnapshot(
        today=today,
        window_start=start,
        last_run=_run(last_run),
        last_finished=_run(finished),
        sources=_sources(session, sources, start, today),
        editions=_editions(session, start, now, lease),
        bouncing=int(bouncing),
    )


def claim_alerts(
    *, session: Session, problems: Iterable[tuple[str, str]], message_id: str, now: datetime
) -> list[str]:
    """Claim ``(key, summary)`` alerts not claimed before; returns the keys claimed now."""
    claimed = []
    for key, summary in problems:
        # RETURNING, not rowcount: through the ORM session psycopg reports -1 for a conflict
        inserted = session.execute(
            insert_for(session, AlertLog)
            .values(key=key, summary=summary, state="sending", message_id=message_id,
                    created_at=now)
            .on_conflict_do_nothing()
            .returning(col(AlertLog.key))
        ).first()  # fmt: skip
        if inserted is not None:
            claimed.append(key)
    return claimed


def settle_alerts(*, session: Session, keys: Sequence[str], state: str | None) -> None:
    """Record how the alert mail of ``keys`` went; ``None`` releases the claims (not sent:
    the next check may mail them again)."""
    if not keys:
        return
    where = col(AlertLog.key).in_(list(keys))
    if state is None:
        session.execute(delete(AlertLog).where(where))
    else:
        session.execute(update(AlertLog).where(where).values(state=state))
