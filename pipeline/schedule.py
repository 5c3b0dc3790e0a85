"""``paperboy schedule``: APScheduler 3.x wiring only. The job is the same as ``paperboy run``.

- A cron trigger in the configured time zone. On the DST fall-back day a time inside the
  repeated hour fires twice (measured on APScheduler 3.11.3, docs/reliability.md §0.3): harmless,
  because a run is idempotent per edition (same feeds bytes, outbox rows unique); the default
  time (07:30) lies outside 00:00-04:00 anyway.
- ``coalesce=True`` and ``max_instances=1``: late or piled-up runs become one run.
- ``misfire_grace_time`` set on purpose (APScheduler's default is 1 second): a run up to an
  hour late (host suspended, busy executor) still happens.
- The job runs once at start-up, so a restarted container catches up at once.
- SIGTERM/SIGINT shut the scheduler down after the running job finishes.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from pipeline.config import Config
from pipeline.errors import ConfigError

MISFIRE_GRACE_SECONDS = 3600
log = logging.getLogger(__name__)


def schedule_zone(cfg: Config) -> ZoneInfo:
    """The configured time zone."""
    try:
        return ZoneInfo(cfg.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {cfg.schedule.timezone!r} (use an IANA name like Europe/Berlin)",
            path=str(cfg.path or "<defaults>"),
            key="schedule.timezone",
        ) from None


def build_trigger(cfg: Config) -> CronTrigger:
    """The cron trigger of the daily job."""
    try:
        return CronTrigger.from_crontab(cfg.schedule.cron, timezone=schedule_zone(cfg))
    except ValueError as exc:
        raise ConfigError(
            f"invalid crontab line {cfg.schedule.cron!r}: {exc}",
            path=str(cfg.path or "<defaults>"),
            key="schedule.cron",
        ) from exc


def build_scheduler(cfg: Config, job: Callable[[], object], *, now: datetime) -> BlockingScheduler:
    """A scheduler with the daily job, first run at ``now`` (start-up catch-up)."""
    zone = schedule_zone(cfg)
    scheduler = BlockingScheduler(timezone=zone)
    scheduler.add_job(
        job,
        build_trigger(cfg),
        id="daily",
        name="paperboy daily job",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        next_run_time=now.astimezone(zone),
    )
    return scheduler


def run_until_signalled(scheduler: BlockingScheduler) -> None:
    """Start the scheduler; SIGTERM/SIGINT stop it after the running job finishes."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %s: stopping after the current job", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
