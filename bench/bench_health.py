"""Cost of the health check (`paperboy status`, GET /health) on a store after a long service.

Usage: python bench/bench_health.py [DAYS] [SUBSCRIBERS] [--postgres URL]
(default 365 days x 5,000 subscribers = 1.8M outbox rows, SQLite file)

Seeds DAYS daily digests, one run_log row per day, one source_state row and SUBSCRIBERS outbox
rows per edition (all sent, a few failed) through DB-API executemany, then prints the median
milliseconds of ``Paperboy.status()`` (snapshot + judgement) next to two baselines measured on
the same store: ``outbox_counts`` of one edition (an indexed look-up, what the email stage reads
per edition) and ``SELECT count(*) FROM outbox`` (one full scan of the biggest table).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text

from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import config_from_mapping
from pipeline.store.engine import init_db, make_engine, read_session
from pipeline.store.outbox import outbox_counts
from pipeline.topics import load_topics, topics_file

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CHUNK = 50_000


def _stamp(engine: Engine, moment: datetime) -> object:
    return moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment


def seed(engine: Engine, days: int, subscribers: int) -> None:
    """Digests, runs, subscribers and their outbox rows, written with raw executemany."""
    first = NOW.date() - timedelta(days=days - 1)
    dates = [first + timedelta(days=n) for n in range(days)]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO digest (source, listing_date, origin, content_hash, paper_count,"
                 " ingested_at) VALUES ('hf-daily', :d, 'bench', :h, :n, :t)"),
            [{"d": d, "h": f"h{d}", "n": 0 if d.weekday() > 4 else 25,
              "t": _stamp(engine, NOW)} for d in dates],
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO run_log (started_at, finished_at, ok, pages, new_papers, failures)"
                 " VALUES (:s, :f, true, 2, 25, 0)"),
            [{"s": _stamp(engine, datetime.combine(d, datetime.min.time(), UTC)),
              "f": _stamp(engine, datetime.combine(d, datetime.min.time(), UTC))} for d in dates],
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO source_state (source, last_attempt_at, last_success_at,"
                 " consecutive_failures) VALUES ('hf-daily', :t, :t, 0)"),
            {"t": _stamp(engine, NOW - timedelta(hours=2))},
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO subscriber (email, email_key, topics, status, token_nonce,"
                 " token_hash, created_at, updated_at) VALUES (:e, :e, '[]', 'active', :n, :n,"
                 " :t, :t)"),
            [{"e": f"s{i}@example.org", "n": f"n{i}", "t": _stamp(engine, NOW)}
             for i in range(subscribers)],
        )  # fmt: skip
        ids = [row[0] for row in conn.execute(text("SELECT id FROM subscriber"))]
    insert = text(
        "INSERT INTO outbox (subscriber_id, edition, state, message_id, attempts,"
        " next_attempt_at, claimed_at, sent_at, created_at)"
        " VALUES (:s, :d, :state, :m, 1, :t, :t, :t, :t)"
    )
    rows = []
    for d in dates:
        claimed = _stamp(engine, datetime.combine(d, datetime.min.time(), UTC))
        for n, sid in enumerate(ids):
            state = "failed" if n % 997 == 0 else "sent"
            rows.append({"s": sid, "d": d, "state": state, "m": f"<{sid}.{d}@b>", "t": claimed})
    for start in range(0, len(rows), CHUNK):
        with engine.begin() as conn:
            conn.execute(insert, rows[start : start + CHUNK])


def median_ms(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def explain(engine: Engine, pb: Paperboy) -> None:
    """Print each statement of one health check with its plan (PostgreSQL: EXPLAIN ANALYZE)."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    pb.status()
    event.remove(engine, "before_cursor_execute", keep)
    prefix = "EXPLAIN ANALYZE " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()  # type: ignore[arg-type]
            took = (time.perf_counter() - started) * 1000
            print(f"-- {took:.1f} ms: {' '.join(statement.split())[:160]}")
            for line in plan:
                print("   ", line[-1] if len(line) > 1 else line[0])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    days = int(args[0]) if args else 365
    subscribers = int(args[1]) if len(args) > 1 else 5000
    postgres = sys.argv[sys.argv.index("--postgres") + 1] if "--postgres" in sys.argv else None
    with tempfile.TemporaryDirectory() as tmp:
        url = postgres or f"sqlite:///{Path(tmp) / 'health.db'}"
        engine = make_engine(url)
        init_db(engine)
        started = time.perf_counter()
        seed(engine, days, subscribers)
        if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        seeded = time.perf_counter() - started
        cfg = config_from_mapping({"store": {"database_url": url}}, base_dir=Path(tmp), env={})
        pb = Paperboy(cfg, engine=engine, clock=fixed_clock(NOW),
                      topics=load_topics(topics_file(None)))  # fmt: skip
        report = pb.status()
        runs = 15

        def one_edition() -> None:
            with read_session(engine) as session:
                outbox_counts(session=session, edition=NOW.date())

        def full_scan() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()

        if "--explain" in sys.argv:
            explain(engine, pb)
        status = median_ms(pb.status, runs)
        edition = median_ms(one_edition, runs)
        scan = median_ms(full_scan, runs)
        print(f"store: {engine.dialect.name}, {days} days x {subscribers} subscribers = "
              f"{days * subscribers:,} outbox rows (seeded in {seeded:.1f} s)")  # fmt: skip
        print(f"problems found: {[p.key for p in report.problems]}")
        print(f"Paperboy.status()                      median {status:8.1f} ms")
        print(f"baseline outbox_counts(one edition)    median {edition:8.1f} ms "
              f"(status = {status / edition:.1f}x)")  # fmt: skip
        print(f"baseline SELECT count(*) FROM outbox   median {scan:8.1f} ms "
              f"(status = {status / scan:.2f}x)")  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
