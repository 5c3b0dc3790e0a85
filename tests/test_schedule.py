from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.schedule import MISFIRE_GRACE_SECONDS, build_scheduler, build_trigger
from tests.conftest import make_config


def fire_times(trigger: object, start: datetime, end: datetime) -> list[datetime]:
    """Fire times in [start, end), stepping in UTC (wall-clock arithmetic would lose `fold`)."""
    times: list[datetime] = []
    previous, now = None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)  # type: ignore[attr-defined]
        if fire is None or fire >= end:
            return times
        times.append(fire.astimezone(UTC))
        previous, now = fire, (fire.astimezone(UTC) + timedelta(seconds=1)).astimezone(fire.tzinfo)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "cron", "start", "expected"),
    [
        # default time 07:30 Europe/Berlin across spring forward and fall back: once a day
        (
            "Europe/Berlin",
            "30 7 * * *",
            "2026-03-28",
            ["2026-03-28 06:30", "2026-03-29 05:30", "2026-03-30 05:30"],
        ),
        (
            "Europe/Berlin",
            "30 7 * * *",
            "2026-10-24",
            ["2026-10-24 05:30", "2026-10-25 06:30", "2026-10-26 06:30"],
        ),
        (
            "America/New_York",
            "30 7 * * *",
            "2026-03-07",
            ["2026-03-07 12:30", "2026-03-08 11:30", "2026-03-09 11:30"],
        ),
        (
            "America/New_York",
            "30 7 * * *",
            "2026-10-31",
            ["2026-10-31 11:30", "2026-11-01 12:30", "2026-11-02 12:30"],
        ),
        # a time inside the repeated hour fires twice on fall-back day (measured APScheduler
        # behaviour, docs/reliability.md §3.2): the job is idempotent per edition, see test_run
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-10-24",
            ["2026-10-24 00:30", "2026-10-25 00:30", "2026-10-25 01:30", "2026-10-26 01:30"],
        ),
        # a time skipped by spring forward still fires once (moved forward)
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-03-28",
            ["2026-03-28 01:30", "2026-03-29 01:30", "2026-03-30 00:30"],
        ),
    ],
)
def test_daily_trigger_across_dst(
    tmp_path: Path, zone: str, cron: str, start: str, expected: list[str]
) -> None:
    cfg = make_config(tmp_path, schedule={"cron": cron, "timezone": zone})
    begin = utc(f"{start} 00:00")
    got = fire_times(build_trigger(cfg), begin, begin + timedelta(days=3))
    assert got == [utc(t) for t in expected]


def test_scheduler_job_settings(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, schedule={"timezone": "Europe/Berlin"})
    now = utc("2026-11-23 06:00")
    scheduler = build_scheduler(cfg, lambda: None, now=now)
    [job] = scheduler.get_jobs()
    assert (job.coalesce, job.max_instances) == (True, 1)
    assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 3600
    assert job.next_run_time == now  # runs once at start-up to catch up
    hour = job.trigger.get_next_fire_time(None, now).astimezone(job.trigger.timezone).hour
    assert not 0 <= hour < 4  # default time outside the DST window


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "schedule.timezone: unknown time zone 'Mars/Olympus'"),
        ({"cron": "61 * * * *"}, "schedule.cron: minute '61' is out of range 0-59"),
    ],
)
def test_schedule_config_errors(tmp_path: Path, schedule: dict[str, str], message: str) -> None:
    """Both fail when the configuration loads, before any scheduler is built (issue 15.11)."""
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        make_config(tmp_path, schedule=schedule)


def test_schedule_runs_at_start_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import SAMPLES

    config = tmp_path / "paperboy.toml"
    config.write_text(
        f'[[sources]]\nname = "saved"\nkind = "files"\npath = "{SAMPLES}"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "schedule"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].startswith("paperboy schedule: '30 7 * * *' (UTC)")
        assert lines[1].startswith("run at ") and "3 page(s), ok" in lines[1]  # start-up run
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


CRON_CORPUS = [
    "30 7 * * *", "*/15 6-22 * * mon-fri", "0 8 1,15 * *", "0 7 * jan-mar sun", "0 7 * * 7",
    "61 7 * * *", "30 7 * *", "0 7 L * *", "0 7 * * 1-5", "0 7 last * *", "0 7 1st * *",
    "0 7 * * 5/2", "0 7 */0 * *", "0 7 3-1 * *", "0 7 * 13 *", "0 24 * * *", "0 7 0 * *",
    "0 7 * * 6-0", "0 7 * * sun-mon", "00 07 * * *", "0 7 * * MON", "0 7 * JAN *",
    "0/15 * * * *", "*/60 * * * *", "*/59 * * * *", "0-30/31 * * * *", "0-30/30 * * * *",
    "0 7 * * mon,wed", "0 7 * * mon-fri/2", "0 7 * * */2", "0 7 1-31/40 * *", "* * * * *",
    "0 7 * * 0", "0 7 * * 6", "0 7 * feb-jan *", "0,30 7 * * *", "0 7 ,1 * *", "0 7 * * mo",
    "0 7 * * * *", "", "59/1 * * * *", "5-5 * * * *", "0 7 * dec *", "0 7 31 2 *",
]  # fmt: skip


@pytest.mark.parametrize("line", CRON_CORPUS)
def test_config_crontab_check_agrees_with_apscheduler(line: str) -> None:
    """A crontab line loads from the config exactly when APScheduler takes it (issue 15.11:
    a bad line failed only when `paperboy schedule` started)."""
    from apscheduler.triggers.cron import CronTrigger

    from pipeline.config_checks import crontab_problem

    try:
        CronTrigger.from_crontab(line)
    except ValueError:
        scheduler_ok = False
    else:
        scheduler_ok = True
    assert (crontab_problem(line) is None) == scheduler_ok, crontab_problem(line)
