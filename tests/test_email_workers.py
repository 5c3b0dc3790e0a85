"""Several `paperboy emails --worker` processes share an edition's outbox.

docs/reliability.md §2.2, E10.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from pipeline.clock import fixed_clock
from pipeline.config import parse_smtp_url
from pipeline.mail.send import prepare_edition, send_due
from pipeline.mail.transports import SmtpTransport
from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.outbox import claim_due, outbox_counts
from pipeline.store.tables import Subscriber
from tests.conftest import NOW
from tests.email_support import DAY2, SECRET, make_job, seed, smtp_sink

TOPICS = (["long-context"], ["retrieval-rag"], ["mixture-of-experts", "long-context"])
ROOT = Path(__file__).resolve().parents[1]


def add_subscribers(engine: Engine, count: int, now: datetime) -> None:
    """``count`` active subscribers in one bulk insert (add_subscriber costs a query each)."""
    rows = [
        {
            "email": f"reader{n}@example.org",
            "email_key": f"reader{n}@example.org",
            "topics": TOPICS[n % len(TOPICS)],
            "status": "active",
            "token_nonce": f"{n:032x}",
            "token_hash": hashlib.sha256(f"token-{n}".encode()).hexdigest(),
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with write_session(engine) as session:
        for start in range(0, count, 5000):
            session.execute(insert(Subscriber), rows[start : start + 5000])


@dataclass
class CountingSink:
    """An SMTP sink that keeps only (Message-ID, recipients): cheap enough for 10k messages."""

    received: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002
        found = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.received.append(
                (found.group(1).decode() if found else "", tuple(envelope.rcpt_tos))
            )
        return "250 OK queued"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def test_claim_due_takes_rows_once_in_id_order(engine: Engine) -> None:
    seed(engine, NOW)
    add_subscribers(engine, 7, NOW)
    job = make_job()
    prepare_edition(engine=engine, day=DAY2, job=job, now=NOW)
    with write_session(engine) as session:
        first = claim_due(session=session, edition=DAY2, now=NOW, limit=3)
    with write_session(engine) as session:
        second = claim_due(session=session, edition=DAY2, now=NOW, limit=10)
    with write_session(engine) as session:
        third = claim_due(session=session, edition=DAY2, now=NOW, limit=10)
    ids = [item.id for item in first + second]
    assert ids == sorted(ids) and len(set(ids)) == 7
    assert [len(first), len(second), third] == [3, 4, []]
    assert {item.attempts for item in first + second} == {0}  # as before the claim
    with read_session(engine) as session:
        assert outbox_counts(session=session, edition=DAY2)["sending"] == 7


@pytest.mark.postgres
def test_concurrent_claims_skip_locked_rows_without_waiting(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    init_db(engine)
    seed(engine, NOW)
    add_subscribers(engine, 6, NOW)
    prepare_edition(engine=engine, day=DAY2, job=make_job(), now=NOW)
    with write_session(engine) as holder:  # claims 3 and keeps its transaction open
        held = claim_due(session=holder, edition=DAY2, now=NOW, limit=3)
        started = time.monotonic()
        with write_session(engine) as other:
            got = claim_due(session=other, edition=DAY2, now=NOW, limit=10)
        assert time.monotonic() - started < 1  # skipped, did not wait for the lock
    assert len(held) == 3 and len(got) == 3
    assert not {i.id for i in held} & {i.id for i in got}
    engine.dispose()


def test_two_worker_threads_deliver_each_message_once(engine: Engine) -> None:
    seed(engine, NOW)
    add_subscribers(engine, 60, NOW)
    job = make_job()
    sink = CountingSink()
    with smtp_sink(sink) as port:  # type: ignore[arg-type]
        target = parse_smtp_url(f"smtp://127.0.0.1:{port}")

        def work() -> None:
            edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=NOW)
            send_due(engine=engine, edition=edition, report=report, job=job,
                     transport=SmtpTransport(target), clock=fixed_clock(NOW), batch=4)  # fmt: skip

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    ids = [msgid for msgid, _ in sink.received]
    assert len(ids) == 60 and len(set(ids)) == 60
    with read_session(engine) as session:
        assert outbox_counts(session=session, edition=DAY2)["sent"] == 60


def _worker_config(tmp_path: Path, url: str, port: int) -> dict[str, str]:
    config = tmp_path / "paperboy.toml"
    config.write_text(
        f'[store]\ndatabase_url = "{url}"\n[output]\ndir = "out"\n'
        'site_url = "https://digest.example.org"\n[email]\n'
        f'sender = "paperboy <digest@example.org>"\nsmtp_url = "smtp://127.0.0.1:{port}"\n'
    )
    return {**os.environ, "PAPERBOY_CONFIG": str(config), "PAPERBOY_SECRET": SECRET.decode()}


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
@pytest.mark.parametrize("kill_one", [False, True], ids=["all-finish", "one-killed"])
def test_four_worker_processes_deliver_10k_without_duplicates(  # E10
    postgres_url: str, tmp_path: Path, kill_one: bool
) -> None:
    total = int(os.environ.get("PAPERBOY_E10_MESSAGES", "10000"))
    engine = make_engine(postgres_url)
    init_db(engine)
    seed(engine, NOW)
    add_subscribers(engine, total, NOW)
    sink = CountingSink()
    started = time.monotonic()
    with smtp_sink(sink) as port:  # type: ignore[arg-type]
        env = _worker_config(tmp_path, postgres_url, port)
        command = [sys.executable, "-m", "pipeline", "emails", "--worker", "--edition", str(DAY2)]
        # Worker 0 (the one killed) claims one row at a time, so at most one row is in doubt.
        batches = ["1", "20", "20", "20"]
        logs = [open(tmp_path / f"worker{n}.log", "w") for n in range(4)]
        workers = [
            subprocess.Popen([*command, "--batch", batch], env=env, cwd=ROOT, stdout=log,
                             stderr=subprocess.STDOUT)
            for batch, log in zip(batches, logs, strict=True)
        ]  # fmt: skip
        try:
            if kill_one:
                while sink.count() < total // 4 and workers[0].poll() is None:
                    time.sleep(0.05)
                workers[0].send_signal(signal.SIGKILL)
            codes = [worker.wait(timeout=600) for worker in workers]
        finally:
            for worker, log in zip(workers, logs, strict=True):
                worker.kill()
                worker.wait()
                log.close()
    elapsed = time.monotonic() - started
    output = "".join((tmp_path / f"worker{n}.log").read_text() for n in range(4))
    survivors = codes[1:] if kill_one else codes
    assert survivors == [0] * len(survivors), output
    with read_session(engine) as session:
        counts = outbox_counts(session=session, edition=DAY2)
    engine.dispose()
    ids = [msgid for msgid, _ in sink.received]
    duplicates = len(ids) - len(set(ids))
    in_doubt = counts["sending"]  # the killed worker's claim: uncertain once the lease expires
    rate = len(ids) / elapsed
    print(f"\nE10 kill_one={kill_one}: {len(ids)} delivered in {elapsed:.1f} s ({rate:.0f}/s), "
          f"duplicates {duplicates}, in doubt {in_doubt}")  # fmt: skip
    assert duplicates == 0
    assert counts["sent"] + in_doubt == total
    assert in_doubt <= (1 if kill_one else 0)
    assert len(ids) in (counts["sent"], counts["sent"] + in_doubt)  # none missing
    recipients = [rcpts for _, rcpts in sink.received]
    assert all(len(rcpts) == 1 for rcpts in recipients)
    assert len(set(recipients)) == len(recipients)  # nobody got two digests


def test_cli_worker_sends_everything_then_finds_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    init_db(engine)
    seed(engine, NOW)
    add_subscribers(engine, 5, NOW)
    engine.dispose()
    sink = CountingSink()
    with smtp_sink(sink) as port:  # type: ignore[arg-type]
        env = _worker_config(tmp_path, url, port)
        args = ["emails", "--worker", "--batch", "2", "--edition", str(DAY2)]
        first = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        again = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert (first.exit_code, again.exit_code) == (0, 0)
    assert "this run: sent 5, retry 0, failed 0, uncertain 0" in first.stdout
    assert "this run: sent 0," in again.stdout
    assert sorted(r for _, (r,) in sink.received) == [f"reader{n}@example.org" for n in range(5)]
