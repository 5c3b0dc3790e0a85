"""The rules of "needs a person" (pipeline.health) on literal snapshots, and the JSON/text forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.config import HealthConfig
from pipeline.health import ago, assess, health_json, status_lines
from pipeline.records import EditionHealth, HealthSnapshot, RunRecord, SourceHealth
from pipeline.store.outbox import STATES

NOW = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)  # a Thursday
TODAY = NOW.date()
CFG = HealthConfig()  # 36 h, 2 days, 3 runs, 3 days


def run(finished: datetime | None, *, started: datetime | None = None) -> RunRecord:
    begun = started or (finished - timedelta(minutes=2) if finished else NOW)
    return RunRecord(begun, finished, True if finished else None, 1, 10, 0)


def source(**values: object) -> SourceHealth:
    fields: dict[str, object] = {
        "name": "hf-daily",
        "kind": "hf-api",
        "configured": True,
        "last_attempt_at": NOW - timedelta(hours=1),
        "last_success_at": NOW - timedelta(hours=1),
    }
    fields.update(values)
    return SourceHealth(**fields)  # type: ignore[arg-type]


def edition(day: date, *, recent: dict[str, int] | None = None, **states: int) -> EditionHealth:
    counts = dict.fromkeys(STATES, 0) | states
    return EditionHealth(
        day, False, counts, dict.fromkeys(STATES, 0) | (states if recent is None else recent)
    )


def snapshot(**values: object) -> HealthSnapshot:
    fields: dict[str, object] = {
        "today": TODAY,
        "window_start": TODAY - timedelta(days=CFG.window_days),
        "last_run": run(NOW - timedelta(hours=1)),
        "last_finished": run(NOW - timedelta(hours=1)),
        "sources": (source(),),
        "editions": (),
        "bouncing": 0,
    }
    fields.update(values)
    return HealthSnapshot(**fields)  # type: ignore[arg-type]


def keys(snap: HealthSnapshot, now: datetime = NOW, cfg: HealthConfig = CFG) -> list[str]:
    return [p.key for p in assess(snap, now=now, cfg=cfg).problems]


def test_healthy_snapshot_has_no_problem() -> None:
    report = assess(snapshot(), now=NOW, cfg=CFG)
    assert report.ok and report.problems == ()
    assert status_lines(report)[0] == "paperboy status at 2026-08-20 09:00 UTC: ok"


@pytest.mark.parametrize(
    ("hours", "expected"), [(35, []), (36, []), (36.02, ["run"]), (80, ["run"])]
)
def test_a_run_older_than_max_run_age_needs_a_person(hours: float, expected: list[str]) -> None:
    last = run(NOW - timedelta(hours=hours))
    fresh = source(last_success_at=NOW - timedelta(hours=1))
    assert keys(snapshot(last_run=last, last_finished=last, sources=(fresh,))) == expected


def test_no_run_recorded_and_runs_that_never_finish() -> None:
    none = assess(snapshot(last_run=None, last_finished=None), now=NOW, cfg=CFG)
    assert [(p.key, p.message) for p in none.problems] == [
        ("run", "no `paperboy run` recorded yet")
    ]
    died = run(None, started=NOW - timedelta(hours=3))
    report = assess(snapshot(last_run=died, last_finished=None), now=NOW, cfg=CFG)
    assert report.problems[0].message == (
        "no run ever finished; the last one started 2026-08-20 06:00 UTC "
        "(still running, or it died)"
    )
    # an unfinished run after a recent finished one is no problem (it may be running now)
    assert keys(snapshot(last_run=died)) == []


@pytest.mark.parametrize(("failures", "expected"), [(2, []), (3, ["source:hf-daily"])])
def test_a_source_failing_n_runs_in_a_row_needs_a_person(
    failures: int, expected: list[str]
) -> None:
    failing = source(consecutive_failures=failures, last_error="https://x/: HTTP 503")
    assert keys(snapshot(sources=(failing,))) == expected


def test_a_source_whose_last_success_is_too_old_needs_a_person() -> None:
    just = source(last_success_at=NOW - timedelta(days=2))
    old = source(last_success_at=NOW - timedelta(days=2, minutes=1), consecutive_failures=1)
    assert keys(snapshot(sources=(just,))) == []
    report = assess(snapshot(sources=(old,)), now=NOW, cfg=CFG)
    assert [p.key for p in report.problems] == ["source:hf-daily"]
    assert "more than 2 day(s)" in report.problems[0].message
    assert report.problems[0].daily  # a lasting condition: mailed again each day


def test_when_runs_stopped_only_the_run_problem_is_said() -> None:
    """Every source ages when nothing runs: one problem names the cause."""
    last = run(NOW - timedelta(days=4))
    old = source(last_success_at=NOW - timedelta(days=4))
    assert keys(snapshot(last_run=last, last_finished=last, sources=(old,))) == ["run"]


def test_unconfigured_or_never_run_sources_are_not_judged() -> None:
    manual = source(name="saved-pages", kind="", configured=False, consecutive_failures=9,
                    last_success_at=NOW - timedelta(days=30))  # fmt: skip
    offline = source(last_attempt_at=None, last_success_at=None)  # only `run --offline` so far
    assert keys(snapshot(sources=(manual, offline))) == []


def test_zero_paper_weekdays_in_the_window_need_a_person_weekends_and_today_do_not() -> None:
    days = (
        (date(2026, 8, 15), 0),  # Saturday
        (date(2026, 8, 16), 0),  # Sunday
        (date(2026, 8, 17), 0),  # Monday: the first day of the window
        (date(2026, 8, 18), 0),  # Tuesday
        (date(2026, 8, 19), 12),
    )
    found = keys(snapshot(sources=(source(recent_days=days),)))
    assert found == ["empty-weekday:hf-daily:2026-08-17", "empty-weekday:hf-daily:2026-08-18"]
    narrow = HealthConfig(window_days=2)
    start = TODAY - timedelta(days=2)
    assert keys(snapshot(window_start=start, sources=(source(recent_days=days),)), cfg=narrow) == [
        "empty-weekday:hf-daily:2026-08-18"
    ]


def test_delivery_problems_are_keyed_by_count() -> None:
    day = date(2026, 8, 19)
    report = assess(
        snapshot(editions=(edition(day, sent=5, failed=1, uncertain=2),)), now=NOW, cfg=CFG
    )
    assert [p.key for p in report.problems] == [
        "deliveries:2026-08-19:uncertain:2",
        "deliveries:2026-08-19:failed:1",
    ]
    assert not any(p.daily for p in report.problems)  # events: mailed once per count
    assert "--edition 2026-08-19 --resend-uncertain" in report.problems[0].hint


def test_old_failures_drop_out_unless_recent_stuck_and_old_retries_count() -> None:
    old = date(2026, 8, 1)
    quiet = edition(old, recent={}, sent=3, failed=1, uncertain=1)  # failed weeks ago
    caught_up = edition(old, recent={"failed": 1}, sent=3, failed=1)  # a catch-up run, today
    stuck = EditionHealth(date(2026, 8, 19), False, dict.fromkeys(STATES, 0) | {"sending": 1},
                          dict.fromkeys(STATES, 0), stuck=1)  # fmt: skip
    retrying = edition(old, recent={"retry": 2}, retry=2)
    assert keys(snapshot(editions=(quiet,))) == []
    assert keys(snapshot(editions=(caught_up,))) == ["deliveries:2026-08-01:failed:1"]
    assert keys(snapshot(editions=(stuck,))) == ["deliveries:2026-08-19:stuck:1"]
    assert keys(snapshot(editions=(retrying,))) == ["deliveries:2026-08-01:retrying:2"]
    recent_retry = edition(date(2026, 8, 19), retry=2)
    assert keys(snapshot(editions=(recent_retry,))) == []  # 4xx now and then is normal


def test_json_form_is_complete_and_serialisable() -> None:
    snap = snapshot(
        sources=(
            source(
                consecutive_failures=3,
                last_error="HTTP 503",
                recent_days=((date(2026, 8, 19), 26),),
            ),
        ),
        editions=(edition(date(2026, 8, 19), sent=2),),
        bouncing=1,
    )
    data = health_json(assess(snap, now=NOW, cfg=CFG), CFG)
    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "needs-person"
    assert [p["key"] for p in data["problems"]] == ["source:hf-daily"]
    assert data["sources"][0]["recent_days"] == [{"day": "2026-08-19", "papers": 26}]
    assert data["outbox"]["sent"] == 2 and data["outbox"]["stuck_sending"] == 0
    assert data["bouncing_subscribers"] == 1
    assert data["thresholds"] == {
        "max_run_age_hours": 36, "max_source_age_days": 2, "failed_runs": 3, "window_days": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2, minutes=3), "2 h 3 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
        (timedelta(minutes=-5), "0 min"),  # a clock that went back
    ],
)
def test_ago(delta: timedelta, text: str) -> None:
    assert ago(NOW, NOW - delta) == text
