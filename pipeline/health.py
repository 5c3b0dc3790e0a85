"""Whether paperboy needs a person: the judgement of a health snapshot. Pure; no I/O.

Users of digest tools notice a broken job only by the silence (zotero-arxiv-daily #272 and #293,
OpenPaperDigest #12), so ``paperboy status``, GET /health and the alert mail say it out loud.
Something *needs a person* when, and only when (thresholds in ``[health]``, docs/health.md):

1. **run**: no ``paperboy run`` finished within ``max_run_age_hours`` (none recorded yet, the
   scheduler stopped, or the runs die before their end);
2. **source**: a configured source failed on ``failed_runs`` runs in a row, or its last
   successful run is older than ``max_source_age_days`` (not said while 1. holds: with no
   runs every source ages, and one problem names the cause);
3. **empty-weekday**: a configured source stored a Monday-to-Friday listing date with zero
   papers, among the ``window_days`` days before today (today's list still grows; Hugging Face
   lists no papers on weekends);
4. **deliveries**: an edition of the last ``window_days`` days has digests ``uncertain`` (the
   server may or may not have them) or ``failed`` (refused; bounces included), or any edition
   has rows left ``sending`` past the lease or still retrying after the window.

Every problem has a stable key, so the alert mail can say each one at most once a day: a
lasting condition (1, 2) again each day it lasts, an event (3, 4: the count is in the key) once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pipeline.config import HealthConfig
from pipeline.records import (
    EditionHealth,
    HealthReport,
    HealthSnapshot,
    Problem,
    RunRecord,
    SourceHealth,
)

WEEKEND = (5, 6)  # Saturday, Sunday: empty days are valid (docs/reliability.md §4.4)
OPEN_STATES = ("pending", "retry", "sending")


def when(moment: datetime | None) -> str:
    """``2026-08-21 07:30 UTC`` (or ``never``)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "never"


def ago(now: datetime, moment: datetime) -> str:
    """How long before ``now``, coarsely: ``3 d 4 h``, ``5 h 10 min``, ``12 min``."""
    minutes = max(0, int((now - moment).total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _day(day: date) -> str:
    return f"{day.isoformat()} {day:%a}"


def _run_problem(snap: HealthSnapshot, now: datetime, limit: timedelta) -> Problem | None:
    last = snap.last_finished
    if last is not None and last.finished_at is not None and now - last.finished_at <= limit:
        return None
    if snap.last_run is None:
        return Problem(
            "run", "run", "no run yet", "no `paperboy run` recorded yet",
            "run `paperboy run` once, then schedule it (cron or `paperboy schedule`, README "
            "§Scheduling)", daily=True,
        )  # fmt: skip
    hint = (
        "check that cron, `paperboy schedule` or the container still runs `paperboy run`, "
        "and read its log; then run `paperboy run` by hand"
    )
    if last is None or last.finished_at is None:
        started = snap.last_run.started_at
        text = (
            f"no run ever finished; the last one started {when(started)} "
            "(still running, or it died)"
        )
        return Problem("run", "run", "no run finished", text, hint, daily=True)
    hours = int(limit.total_seconds() // 3600)
    since = ago(now, last.finished_at)
    text = (
        f"no run finished in the last {hours} h (the last finished {when(last.finished_at)}, "
        f"{since} ago)"
    )
    return Problem("run", "run", f"no run for {since}", text, hint, daily=True)


def _source_problems(
    source: SourceHealth, now: datetime, cfg: HealthConfig, window_start: date, *, runs: bool
) -> list[Problem]:
    """``runs``: the runs happen (else every source ages: the run problem says it once)."""
    found = []
    reasons = []
    if source.consecutive_failures >= cfg.failed_runs:
        reasons.append(f"failed on the last {source.consecutive_failures} runs in a row")
    stale = timedelta(days=cfg.max_source_age_days)
    last = source.last_success_at
    if runs and last is not None and now - last > stale:
        reasons.append(
            f"its last successful run was {when(last)} ({ago(now, last)} ago, more than "
            f"{cfg.max_source_age_days} day(s))"
        )
    if reasons:
        error = f"; last error: {source.last_error}" if source.last_error else ""
        found.append(
            Problem(
                f"source:{source.name}",
                "source",
                f"source {source.name} failing",
                f"source {source.name}: {' and '.join(reasons)}{error}",
                "fix what the error names (the network, the source URL, a changed page format); "
                f"`paperboy fetch {source.name} --date YYYY-MM-DD` tries one day; once the source "
                "answers, the next run catches up the missed days (up to [ingest] "
                "catch_up_max_days)",
                daily=True,
            )
        )
    for day, papers in source.recent_days:
        if papers == 0 and day.weekday() not in WEEKEND and day >= window_start:
            found.append(
                Problem(
                    f"empty-weekday:{source.name}:{day.isoformat()}",
                    "empty-weekday",
                    f"{source.name}: no papers on {day:%a} {day.isoformat()}",
                    f"source {source.name} listed no paper on {day:%A} {day.isoformat()}",
                    "compare with the source (Hugging Face: https://huggingface.co/papers/date/"
                    f"{day.isoformat()}); if it lists papers, its format changed: `paperboy "
                    f"fetch {source.name} --date {day.isoformat()}` shows what paperboy reads. "
                    "A holiday can be empty for real: this goes away after [health] window_days",
                )
            )
    return found


def _delivery_problems(edition: EditionHealth, window_start: date) -> list[Problem]:
    """One problem per kind of trouble; the count is part of the key, so a mail goes out once
    per new count (a second failure of the edition is news, the same one is not)."""
    day = edition.day.isoformat()
    found: list[tuple[str, int, str, str]] = []
    if edition.recent.get("uncertain"):
        found.append((
            "uncertain", edition.recent["uncertain"],
            "uncertain: the server may or may not have them",
            "check in the mail server's log whether it took them (around the time of the "
            f"last run); if not, `paperboy emails --edition {day} --resend-uncertain` sends "
            "them again (same Message-ID, so a copy that did arrive is dropped by most clients)",
        ))  # fmt: skip
    if edition.recent.get("failed"):
        found.append((
            "failed", edition.recent["failed"],
            "failed: refused by the mail server (bounces included)",
            "a refused address is flagged bouncing and not mailed again (`paperboy "
            "subscribers list --status bouncing`); a policy refusal (5.7.x) or a refused "
            "sender needs the sender address or the server fixed",
        ))  # fmt: skip
    if edition.stuck:
        found.append((
            "stuck", edition.stuck, "stuck 'sending' past the lease (a process died?)",
            "the next `paperboy run` (or `paperboy emails --edition "
            f"{day}`) reports them as uncertain",
        ))  # fmt: skip
    if edition.day < window_start and edition.states.get("retry"):
        found.append((
            "retrying", edition.states["retry"], "still retrying (4xx) after the window",
            "the mail server keeps deferring them: read its log",
        ))  # fmt: skip
    return [
        Problem(
            f"deliveries:{day}:{what}:{count}",
            "deliveries",
            f"{count} digest(s) of {day} {what}",
            f"edition {day}: {count} digest(s) {text}",
            hint,
        )
        for what, count, text, hint in found
    ]


def assess(snapshot: HealthSnapshot, *, now: datetime, cfg: HealthConfig) -> HealthReport:
    """The problems of ``snapshot`` at ``now`` (see the module docstring for the rules)."""
    problems: list[Problem] = []
    run = _run_problem(snapshot, now, timedelta(hours=cfg.max_run_age_hours))
    if run is not None:
        problems.append(run)
    for source in snapshot.sources:
        if source.configured:
            problems.extend(
                _source_problems(source, now, cfg, snapshot.window_start, runs=run is None)
            )
    for edition in sorted(snapshot.editions, key=lambda e: e.day):
        problems.extend(_delivery_problems(edition, snapshot.window_start))
    return HealthReport(checked_at=now, snapshot=snapshot, problems=tuple(problems))


# ---- the report as JSON (``paperboy status --json``, GET /health) and as text ----------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _run_json(run: RunRecord | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "ok": run.ok,
        "pages": run.pages,
        "new_papers": run.new_papers,
        "failures": run.failures,
    }


def _source_json(source: SourceHealth) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind or None,
        "configured": source.configured,
        "last_attempt_at": _iso(source.last_attempt_at),
        "last_success_at": _iso(source.last_success_at),
        "consecutive_failures": source.consecutive_failures,
        "last_error": source.last_error,
        "last_day": source.last_day.isoformat() if source.last_day else None,
        "last_day_papers": source.last_day_papers,
        "last_day_with_papers": (
            source.last_day_with_papers.isoformat() if source.last_day_with_papers else None
        ),
        "recent_days": [{"day": d.isoformat(), "papers": n} for d, n in source.recent_days],
    }


def _edition_json(edition: EditionHealth) -> dict[str, Any]:
    return {
        "day": edition.day.isoformat(),
        "marked": edition.marked,
        "outbox": dict(edition.states),
        "stuck_sending": edition.stuck,
    }


def outbox_totals(editions: tuple[EditionHealth, ...]) -> dict[str, int]:
    """Rows by state over the editions listed, plus ``stuck_sending``."""
    totals: dict[str, int] = {}
    for edition in editions:
        for state, n in edition.states.items():
            totals[state] = totals.get(state, 0) + n
    totals["stuck_sending"] = sum(e.stuck for e in editions)
    return totals


def health_json(report: HealthReport, cfg: HealthConfig) -> dict[str, Any]:
    """The report as JSON-ready data: no secrets, no subscriber addresses."""
    snap = report.snapshot
    return {
        "status": "ok" if report.ok else "needs-person",
        "checked_at": report.checked_at.isoformat(),
        "problems": [
            {"key": p.key, "kind": p.kind, "title": p.title, "message": p.message, "hint": p.hint}
            for p in report.problems
        ],
        "runs": {"last": _run_json(snap.last_run), "last_finished": _run_json(snap.last_finished)},
        "sources": [_source_json(s) for s in snap.sources],
        "window_start": snap.window_start.isoformat(),
        "editions": [_edition_json(e) for e in snap.editions],
        "outbox": outbox_totals(snap.editions),
        "bouncing_subscribers": snap.bouncing,
        "thresholds": {
            "max_run_age_hours": cfg.max_run_age_hours,
            "max_source_age_days": cfg.max_source_age_days,
            "failed_runs": cfg.failed_runs,
            "window_days": cfg.window_days,
        },
    }


def _run_line(label: str, run: RunRecord, now: datetime) -> str:
    if run.finished_at is None:
        started = f"{when(run.started_at)} ({ago(now, run.started_at)} ago)"
        return f"{label}: started {started}, not finished (running, or it died)"
    verdict = "ok" if run.ok else f"{run.failures} failure(s)"
    return (
        f"{label}: {when(run.started_at)} to {run.finished_at:%H:%M} UTC "
        f"({ago(now, run.finished_at)} ago): {run.pages} page(s), {run.new_papers} new paper(s), "
        f"{verdict}"
    )


def _source_lines(source: SourceHealth, now: datetime) -> list[str]:
    head = f"{source.name} ({source.kind})" if source.kind else f"{source.name} (not configured)"
    lines = [f"  {head}"]
    if source.last_attempt_at is not None:
        success = (
            f"{when(source.last_success_at)} ({ago(now, source.last_success_at)} ago)"
            if source.last_success_at
            else "never"
        )
        lines.append(
            f"    last successful run {success}; failed runs in a row: "
            f"{source.consecutive_failures}"
        )
        if source.last_error:
            lines.append(f"    last error: {source.last_error}")
    elif source.configured:
        lines.append("    not fetched by a run yet")
    if source.last_day is not None:
        with_papers = (
            f"; last day with papers {_day(source.last_day_with_papers)}"
            if source.last_day_with_papers and source.last_day_with_papers != source.last_day
            else ""
        )
        lines.append(
            f"    last day stored {_day(source.last_day)}: {source.last_day_papers} paper(s)"
            f"{with_papers}"
        )
    if source.recent_days:
        days = ", ".join(f"{d:%a} {d:%m-%d} {n}" for d, n in source.recent_days)
        lines.append(f"    papers per day: {days}")
    return lines


def status_lines(report: HealthReport, *, problems: bool = True) -> list[str]:
    """``paperboy status`` as text: the verdict, the problems (unless ``problems`` is False),
    then runs, sources, editions."""
    snap, now = report.snapshot, report.checked_at
    count = len(report.problems)
    verdict = "ok" if report.ok else f"NEEDS A PERSON ({count} problem{'s' * (count != 1)})"
    lines = [f"paperboy status at {when(now)}: {verdict}"]
    for problem in report.problems if problems else ():
        lines += [f"  ! {problem.message}", f"    what to do: {problem.hint}"]
    lines.append("runs")
    if snap.last_run is None:
        lines.append("  none recorded yet")
    else:
        lines.append(_run_line("  last run", snap.last_run, now))
        if snap.last_finished is not None and snap.last_finished != snap.last_run:
            lines.append(_run_line("  last finished run", snap.last_finished, now))
    lines.append("sources")
    for source in snap.sources:
        lines += _source_lines(source, now)
    lines.append(f"editions (since {snap.window_start.isoformat()}, or with digests still due)")
    if not snap.editions:
        lines.append("  none")
    for edition in snap.editions:
        shown = ", ".join(f"{s} {n}" for s, n in edition.states.items() if n) or "no digests"
        extra = "; new content, digests not planned yet" if edition.marked else ""
        stuck = f"; {edition.stuck} stuck 'sending'" if edition.stuck else ""
        lines.append(f"  {_day(edition.day)}: {shown}{stuck}{extra}")
    totals = outbox_totals(snap.editions)
    lines.append(
        f"outbox: uncertain {totals.get('uncertain', 0)}, failed {totals.get('failed', 0)}, "
        f"retrying {totals.get('retry', 0)}, stuck 'sending' {totals['stuck_sending']}; "
        f"bouncing subscribers {snap.bouncing}"
    )
    return lines
