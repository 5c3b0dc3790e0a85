"""`paperboy status` and GET /health on a real store (SQLite and PostgreSQL): a healthy store, a
failing source (MockTransport 503), an empty weekday, runs that stopped; exit codes (issue 13)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from pipeline.cli import cli
from pipeline.config import Secrets
from pipeline.health import health_json
from pipeline.store.engine import make_engine
from pipeline.web.app import create_app
from tests.health_support import (
    PEOPLE,
    SITE,
    WEEK,
    Api,
    at,
    health_config,
    installation,
    run_at,
)


def status_cli(tmp_path: Path, engine: Engine, when: str, *args: str, **sections: dict):
    """``paperboy status ARGS`` in a process-like CLI call on the same store, clock pinned."""
    lines = [f'[store]\ndatabase_url = "{engine.url.render_as_string(hide_password=False)}"']
    lines += [f'[output]\nsite_url = "{SITE}"', "[ingest]\ncatch_up_max_days = 3"]
    for name, table in sections.items():
        lines.append(f"[{name}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items()))
    config = tmp_path / "status.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {"PAPERBOY_CONFIG": str(config), "PAPERBOY_NOW": f"{when}+00:00",
           "PAPERBOY_SECRET": "a-secret-that-must-not-leak"}  # fmt: skip
    return CliRunner().invoke(cli, ["status", *args], env=env, catch_exceptions=False)


def web_health(pb):  # type: ignore[no-untyped-def]
    """GET and HEAD /health of ``paperboy serve`` over ``pb``."""
    client = TestClient(create_app(pb), base_url=SITE.rstrip("/"))
    return client.get("/health"), client.head("/health")


def test_status_of_a_healthy_store(tmp_path: Path, engine: Engine) -> None:
    cfg = health_config(tmp_path, engine)
    pb, clock = installation(cfg, engine, at("2026-08-18"))
    api = Api()
    for day in ("2026-08-18", "2026-08-19", "2026-08-20"):
        assert run_at(pb, clock, api, at(day)).ok
    clock.at = at("2026-08-20", "09:00")
    report = pb.status()
    assert report.ok, report.problems
    (source,) = report.snapshot.sources
    assert (source.name, source.kind, source.consecutive_failures) == ("hf-daily", "hf-api", 0)
    assert source.last_success_at == at("2026-08-20") and source.last_error is None
    assert (source.last_day, source.last_day_papers) == (
        date(2026, 8, 20),
        len(WEEK[date(2026, 8, 20)]),
    )
    assert source.recent_days == (  # the window: the three days before today
        (date(2026, 8, 17), 23), (date(2026, 8, 18), 29), (date(2026, 8, 19), 26),
    )  # fmt: skip
    # each run mails the edition that settled before it (the day before); today's is not
    # planned yet (settling), which needs no person
    assert [(e.day, e.states["sent"], e.marked) for e in report.snapshot.editions] == [
        (date(2026, 8, 20), 0, True), (date(2026, 8, 19), 2, False),
        (date(2026, 8, 18), 2, False), (date(2026, 8, 17), 2, False),
    ]  # fmt: skip
    last = report.snapshot.last_finished
    assert last is not None and last.ok and last.finished_at == at("2026-08-20")

    result = status_cli(tmp_path, engine, "2026-08-20T09:00:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "paperboy status at 2026-08-20 09:00 UTC: ok"
    assert "    last day stored 2026-08-20 Thu: 15 paper(s)" in result.stdout
    as_json = status_cli(tmp_path, engine, "2026-08-20T09:00:00", "--json")
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data == health_json(report, cfg.health)

    got, head = web_health(pb)
    assert got.status_code == 200 and head.status_code == 200 and head.content == b""
    assert got.json() == data
    assert got.headers["cache-control"] == "no-store"
    for secret in (*PEOPLE, "a-secret-that-must-not-leak", "s" * 32):
        assert (
            secret not in got.text and secret not in result.stdout and secret not in as_json.stdout
        )


def test_failing_source_needs_a_person_after_n_runs_and_heals(
    tmp_path: Path, engine: Engine
) -> None:
    cfg = health_config(tmp_path, engine)
    pb, clock = installation(cfg, engine, at("2026-08-18"))
    api = Api()
    assert run_at(pb, clock, api, at("2026-08-18")).ok
    api.down = True
    for number, day in enumerate(("2026-08-19", "2026-08-20"), 1):
        report = run_at(pb, clock, api, at(day))
        assert not report.ok
        status = pb.status()
        assert status.ok, status.problems  # two failed runs, last success 48 h ago: not yet
        assert status.snapshot.sources[0].consecutive_failures == number
    run_at(pb, clock, api, at("2026-08-21"))
    clock.at = at("2026-08-21", "09:00")
    status = pb.status()
    assert [p.key for p in status.problems] == ["source:hf-daily"]
    message = status.problems[0].message
    assert message.startswith("source hf-daily: failed on the last 3 runs in a row and its last ")
    assert "HTTP 503 Service Unavailable" in message
    assert status.snapshot.last_finished is not None and not status.snapshot.last_finished.ok

    result = status_cli(tmp_path, engine, "2026-08-21T09:00:00")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "paperboy status at 2026-08-21 09:00 UTC: NEEDS A PERSON (1 problem)",
        f"  ! {message}",
    ]
    got, head = web_health(pb)
    assert got.status_code == 503 and head.status_code == 503
    assert got.json()["status"] == "needs-person"
    assert [p["key"] for p in got.json()["problems"]] == ["source:hf-daily"]

    api.down = False  # the source answers again: the next run catches up and all is well
    healed = run_at(pb, clock, api, at("2026-08-22"))
    assert healed.ok, healed.failures
    clock.at = at("2026-08-22", "09:00")
    assert pb.status().ok
    assert pb.status().snapshot.sources[0].consecutive_failures == 0
    assert status_cli(tmp_path, engine, "2026-08-22T09:00:00").exit_code == 0


def test_an_empty_weekday_needs_a_person_an_empty_weekend_does_not(
    tmp_path: Path, engine: Engine
) -> None:
    cfg = health_config(tmp_path, engine)
    pb, clock = installation(cfg, engine, at("2026-08-14"))
    api = Api()
    for day in ("2026-08-14", "2026-08-17"):  # Friday, then Monday: the weekend is empty
        assert run_at(pb, clock, api, at(day)).ok
    clock.at = at("2026-08-17", "09:00")
    report = pb.status()
    assert report.ok, report.problems
    assert report.snapshot.sources[0].recent_days == (
        (date(2026, 8, 14), 23), (date(2026, 8, 15), 0), (date(2026, 8, 16), 0),
    )  # fmt: skip

    api.empty = {date(2026, 8, 18)}  # Tuesday lists nothing (a changed format, say)
    assert run_at(pb, clock, api, at("2026-08-18")).ok
    clock.at = at("2026-08-18", "09:00")
    assert pb.status().ok  # today's list is still growing: not judged yet
    assert run_at(pb, clock, api, at("2026-08-19")).ok
    clock.at = at("2026-08-19", "09:00")
    report = pb.status()
    assert [(p.key, p.message) for p in report.problems] == [
        (
            "empty-weekday:hf-daily:2026-08-18",
            "source hf-daily listed no paper on Tuesday 2026-08-18",
        )
    ]
    result = status_cli(tmp_path, engine, "2026-08-19T09:00:00", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["kind"] == "empty-weekday"
    # the window moves on: three days later the Tuesday no longer counts
    api.empty = set()
    for day in ("2026-08-20", "2026-08-21", "2026-08-22"):
        run_at(pb, clock, api, at(day))
    assert pb.status().ok


def test_runs_that_stopped_need_a_person_after_36_hours(tmp_path: Path, engine: Engine) -> None:
    cfg = health_config(tmp_path, engine)
    pb, clock = installation(cfg, engine, at("2026-08-19"))
    before = status_cli(tmp_path, engine, "2026-08-19T07:00:00")
    assert before.exit_code == 1 and "! no `paperboy run` recorded yet" in before.stdout
    assert run_at(pb, clock, Api(), at("2026-08-19")).ok
    assert status_cli(tmp_path, engine, "2026-08-20T19:30:00").exit_code == 0  # 36 h: fine
    late = status_cli(tmp_path, engine, "2026-08-20T19:31:00")
    assert late.exit_code == 1
    assert (
        "! no run finished in the last 36 h (the last finished 2026-08-19 07:30 UTC" in late.stdout
    )
    # a run that dies leaves its row unfinished: status says so
    insert = "INSERT INTO run_log (started_at, pages, new_papers, failures) VALUES (:t, 0, 0, 0)"
    with engine.begin() as conn:
        conn.execute(text(insert), {"t": at("2026-08-21").replace(tzinfo=None)})
    died = status_cli(tmp_path, engine, "2026-08-21T09:00:00")
    assert "  last run: started 2026-08-21 07:30 UTC (1 h 30 min ago), not finished" in died.stdout
    # thresholds come from [health]; with runs judged fine, the source's age is judged
    relaxed = status_cli(tmp_path, engine, "2026-08-21T09:00:00", health={"max_run_age_hours": 72})
    assert relaxed.exit_code == 1 and "! source hf-daily: its last successful run" in relaxed.stdout
    both = {"max_run_age_hours": 72, "max_source_age_days": 3}
    assert status_cli(tmp_path, engine, "2026-08-21T09:00:00", health=both).exit_code == 0


def test_offline_runs_and_files_sources(tmp_path: Path, engine: Engine) -> None:
    """`run --offline` does not judge the live source it skips; a files source whose folder is
    missing counts as failed."""
    cfg = health_config(tmp_path, engine)
    cfg = dataclasses.replace(
        cfg,
        sources=(
            *cfg.sources,
            dataclasses.replace(cfg.sources[0], name="inbox", kind="files", path=tmp_path / "no"),
        ),
        health=dataclasses.replace(cfg.health, failed_runs=1),
    )
    pb, clock = installation(cfg, engine, at("2026-08-19"))
    clock.at = at("2026-08-19")
    pb.run(offline=True)
    clock.at = at("2026-08-19", "09:00")
    report = pb.status()
    assert [p.key for p in report.problems] == ["source:inbox"]
    assert f"folder {tmp_path / 'no'} not found" in report.problems[0].message
    hf = report.snapshot.sources[0]
    assert (hf.name, hf.last_attempt_at, hf.consecutive_failures) == ("hf-daily", None, 0)


@pytest.mark.parametrize(
    ("section", "table", "message"),
    [
        ("alerts", {"to": "not an address"}, "alerts.to: 'not an address' is not an email address"),
        ("health", {"failed_runs": 0}, "health.failed_runs: expected a whole number of 1 or more"),
        ("health", {"window": 3}, "health.window: unknown key"),
    ],
)
def test_bad_health_settings_are_refused(
    tmp_path: Path, section: str, table: dict, message: str
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")  # the configuration fails first
    bad = status_cli(tmp_path, engine, "2026-08-19T09:00:00", **{section: table})
    assert bad.exit_code == 1
    assert message in bad.stderr


def test_status_alert_needs_an_address(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    result = status_cli(tmp_path, engine, "2026-08-19T09:00:00", "--alert")
    assert result.exit_code == 1
    assert "alerts.to: no operator address: set [alerts] to" in result.stderr


def test_health_endpoint_keeps_secrets(tmp_path: Path, engine: Engine) -> None:
    """No secret, subscriber address or SMTP login in the body, even with everything set."""
    cfg = health_config(tmp_path, engine, email={"smtp_url": "smtp://digest@127.0.0.1:1"})
    cfg = dataclasses.replace(cfg, secrets=Secrets(secret="hmac-key-xyz", smtp_password="pw-xyz"))
    pb, _clock = installation(cfg, engine, at("2026-08-19"))
    got, _head = web_health(pb)
    assert got.status_code == 503  # no run yet
    for secret in ("hmac-key-xyz", "pw-xyz", "digest@", *PEOPLE):
        assert secret not in got.text
