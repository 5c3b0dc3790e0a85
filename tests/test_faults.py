"""Crash and stop points of the daily job: failpoints, editions never emailed, stale claims.

The in-process tests pin the two bugs the fault harness found (docs/reliability.md E6, E7,
E9): a run that stopped early (SMTP drop) or died after committing pages used to leave later
editions without outbox rows, and a row left ``sending`` by a dead run was never reported. The
subprocess tests crash ``python -m pipeline`` at a failpoint (D1, F9).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, text

from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import Config
from pipeline.failpoints import EXIT_CODE, failpoint
from pipeline.run import run_once
from pipeline.store.engine import read_session, write_session
from pipeline.store.integrity import check_store
from pipeline.store.subscribers import add_subscriber
from pipeline.topics import load_topics, topics_file
from tests.conftest import SAMPLES, make_config
from tests.email_support import Sink, smtp_sink
from tests.hf_support import FakeClock, mock_client
from tests.test_run import Api

REPO = Path(__file__).resolve().parent.parent
TOPICS = load_topics(topics_file(None))
RUN_AT = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
SUBSCRIBED = RUN_AT - timedelta(days=7)  # before the editions settle: they are theirs
# the editions settled at RUN_AT within the 3-day window (the 21st settles on the 22nd, 06:00)
EDITIONS = {date(2026, 8, 19), date(2026, 8, 20)}
PEOPLE = ("ada@example.org", "bob@example.org")
ENV = {"PAPERBOY_SECRET": "fault-secret"}


def test_failpoint_is_a_no_op_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERBOY_FAILPOINT", raising=False)
    failpoint("after_claim")
    monkeypatch.setenv("PAPERBOY_FAILPOINT", "after_send:1")
    failpoint("after_claim")  # another point: still running


def test_failpoint_exits_137_at_the_nth_hit() -> None:
    code = "from pipeline.failpoints import failpoint\nfor i in range(5):\n"
    code += "    failpoint('after_claim')\n    print(i, flush=True)\n"
    env = {**os.environ, "PAPERBOY_FAILPOINT": "after_claim:3", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=30, check=False)  # fmt: skip
    assert done.returncode == EXIT_CODE
    assert done.stdout.split() == ["0", "1"]


def _config(tmp_path: Path, port: int) -> Config:
    return make_config(
        tmp_path,
        ingest={"catch_up_max_days": 3},
        output={"site_url": "https://papers.example.org/"},
        http={"retries": 1},
        email={"smtp_url": f"smtp://127.0.0.1:{port}", "sender": "pb <pb@example.org>"},
        env=ENV,
    )


def _subscribe(engine: Engine) -> None:
    with write_session(engine) as session:
        for person in PEOPLE:
            add_subscriber(session=session, email=person, topics=[t.slug for t in TOPICS],
                           secret=b"s", now=SUBSCRIBED)  # fmt: skip


def _run(cfg: Config, engine: Engine, now: datetime):  # type: ignore[no-untyped-def]
    with mock_client(Api(), cfg.http) as client:
        pb = Paperboy(cfg, engine=engine, clock=fixed_clock(now), topics=TOPICS)
        return run_once(pb, client=client, sleep=FakeClock().sleep)


def _outbox(engine: Engine) -> dict[str, tuple[date, str]]:
    with read_session(engine) as session:
        rows = session.execute(text("SELECT message_id, edition, state FROM outbox"))
        return {m: (date.fromisoformat(str(e)), s) for m, e, s in rows}


@pytest.mark.timeout(60)
def test_run_stopped_by_smtp_drop_emails_every_edition_on_rerun(
    tmp_path: Path, engine: Engine
) -> None:  # E6, E7: the batch stops; later editions must not be forgotten
    sink = Sink(drop_after_storing={1})
    with smtp_sink(sink) as port:
        cfg = _config(tmp_path, port)
        _subscribe(engine)
        first = _run(cfg, engine, RUN_AT)
        assert not first.ok and any("uncertain" in f.message for f in first.failures)
        sink.drop_after_storing.clear()
        second = _run(cfg, engine, RUN_AT + timedelta(minutes=40))
    rows = _outbox(engine)
    assert {edition for edition, _state in rows.values()} == EDITIONS
    states = sorted(state for _edition, state in rows.values())
    assert states == ["sent"] * (len(rows) - 1) + ["uncertain"]
    received = sink.message_ids()
    assert len(received) == len(set(received)) == len(rows)  # the uncertain one reached it once
    assert not second.ok  # the uncertain row is still reported, never resent blindly


@pytest.mark.timeout(60)
def test_row_left_sending_by_a_dead_run_is_reported_on_the_next_run(
    tmp_path: Path, engine: Engine
) -> None:  # E9: a kill after the claim; the lease expires; the row is 'uncertain', reported
    sink = Sink()
    with smtp_sink(sink) as port:
        cfg = _config(tmp_path, port)
        _subscribe(engine)
        assert _run(cfg, engine, RUN_AT).ok
        with write_session(engine) as session:  # what a kill right after claim() leaves behind
            session.execute(text(
                "UPDATE outbox SET state = 'sending', claimed_at = :at WHERE id = "
                "(SELECT min(id) FROM outbox WHERE edition = '2026-08-19')"
            ), {"at": RUN_AT.replace(tzinfo=None)})  # fmt: skip
        sent = len(sink.messages)
        rerun = _run(cfg, engine, RUN_AT + timedelta(minutes=40))
    assert len(sink.messages) == sent  # not resent
    assert [s for _e, s in _outbox(engine).values()].count("uncertain") == 1
    assert any(f.origin == "emails 2026-08-19" and "uncertain" in f.message
               for f in rerun.failures)  # fmt: skip


def _cli(tmp_path: Path, *args: str, failpoint_name: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update(PYTHONPATH=str(REPO), PAPERBOY_NOW="2026-11-23T06:00:00+00:00",
               PAPERBOY_SITE_URL="https://papers.example.org/")  # fmt: skip
    if failpoint_name:
        env["PAPERBOY_FAILPOINT"] = failpoint_name
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def _digests(tmp_path: Path) -> list[tuple[str, int]]:
    from pipeline.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'paperboy.db'}")
    try:
        with read_session(engine) as session:
            assert check_store(session=session) == []
            rows = session.execute(text("SELECT listing_date, paper_count FROM digest"))
            return sorted((str(d), n) for d, n in rows)
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill_before_ingest_commit_leaves_whole_pages_only(tmp_path: Path) -> None:  # D1
    pages = [str(SAMPLES / name) for name in ("page-a.txt", "page-b.txt", "page-c.txt")]
    killed = _cli(tmp_path, "ingest", *pages, failpoint_name="before_ingest_commit:2")
    assert killed.returncode == EXIT_CODE, killed.stderr
    after_kill = _digests(tmp_path)
    assert len(after_kill) == 1  # page 1 committed, page 2 rolled back entirely
    assert _cli(tmp_path, "ingest", *pages).returncode == 0
    complete = _digests(tmp_path)
    assert len(complete) == 3 and after_kill[0] in complete


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill_mid_feed_write_leaves_old_or_new_files(tmp_path: Path) -> None:  # F9
    assert _cli(tmp_path, "ingest", str(SAMPLES / "page-a.txt")).returncode == 0
    assert _cli(tmp_path, "feeds").returncode == 0
    folder = tmp_path / "out" / "feeds"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert _cli(tmp_path, "ingest", str(SAMPLES / "page-b.txt")).returncode == 0
    killed = _cli(tmp_path, "feeds", failpoint_name="mid_feed_write:3")
    assert killed.returncode == EXIT_CODE
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
    changed = [p for p in visible if before.get(p.name) != p.read_bytes()]
    assert len(changed) == 2  # two files replaced whole, the third left as it was
    for path in visible:
        etree.fromstring(path.read_bytes())  # every visible file parses
    assert ".paperboy-" not in (folder / "index.opml").read_text()
    assert _cli(tmp_path, "feeds").returncode == 0
