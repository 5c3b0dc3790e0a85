"""Undo a wrong page: ``paperboy pages list|remove`` (issue 15.8), and refusing future dates.

Removing a page must leave the store as if the page had never been ingested, as far as identity
and history go (appearances, first/last seen, times seen, digests), keep every ``paperboy check``
invariant, refuse an edition that was mailed unless forced, and say what it changed.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from pipeline.app import Paperboy
from pipeline.cli import cli
from pipeline.clock import fixed_clock
from pipeline.errors import ConfigError
from pipeline.ingest.saved_pages import ingest_files
from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.integrity import check_store
from pipeline.store.papers import upsert_page
from pipeline.store.tables import FetchState
from pipeline.topics import load_topics, topics_file
from tests.conftest import DATA, NOW, SAMPLES, make_config
from tests.hf_support import mock_client
from tests.test_store import PROPERTY_PAGES, dump

TOPICS = load_topics(topics_file(None))
MAR_14 = date(2026, 3, 14)


def history(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """The store's identity and history: keys with first/last/times seen, digests, appearances."""
    got = dump(engine)
    got["papers"] = [(row[0], *row[6:]) for row in got["papers"]]  # text stays what it was
    got.pop("aliases")  # a removed page's title variants stay known aliases of a paper
    return got


def pb_for(tmp_path: Path, engine: Engine) -> Paperboy:
    cfg = make_config(tmp_path, output={"site_url": "https://papers.example.org/"})
    return Paperboy(cfg, engine=engine, clock=fixed_clock(NOW), topics=TOPICS)


def test_remove_page_leaves_the_history_of_the_other_pages(tmp_path: Path, engine: Engine) -> None:
    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES])
    removed = pb.remove_page("saved-pages", MAR_14)
    assert (removed.appearances, removed.papers_deleted) == (
        60,
        41,
    )  # hand-checked: 10 on page-c, 14 on page-b, 5 on both
    assert removed.papers_changed == 19  # every survivor: last seen, first seen or times seen moved
    assert not removed.mailed and removed.feeds_written > 0
    with read_session(engine) as session:
        assert check_store(session=session) == []
    expected_engine = make_engine(f"sqlite:///{tmp_path / 'expected.db'}")
    init_db(expected_engine)
    ingest_files([SAMPLES / "page-c.txt", SAMPLES / "page-b.txt"], engine=expected_engine, now=NOW)
    assert history(engine) == history(expected_engine)
    expected_engine.dispose()
    assert [p.listing_date for p in pb.pages()] == [date(2026, 9, 3), date(2026, 3, 11)]


def test_remove_unknown_page_names_the_stored_ones(tmp_path: Path, engine: Engine) -> None:
    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES / "page-a.txt"])
    with pytest.raises(ConfigError, match=r"no page saved-pages 2026-03-15 .*paperboy pages list"):
        pb.remove_page("saved-pages", date(2026, 3, 15))


def test_mailed_edition_is_refused_unless_forced(tmp_path: Path, engine: Engine) -> None:
    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES / "page-a.txt"])
    pb.add_subscriber("ann@example.org", ["long-context"])
    assert pb.send_edition(MAR_14).outcomes == {"sent": 1}
    with pytest.raises(ConfigError, match=r"1 message\(s\) of edition 2026-03-14 were sent"):
        pb.remove_page("saved-pages", MAR_14)
    assert len(pb.pages()) == 1  # nothing changed
    removed = pb.remove_page("saved-pages", MAR_14, force=True)
    assert removed.mailed == 1 and removed.papers_deleted == 60
    with read_session(engine) as session:
        assert check_store(session=session) == []
        # the record of what was sent stays: the edition is never mailed twice
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1


def test_removing_the_last_page_of_a_date_cancels_its_pending_mail_and_validators(
    tmp_path: Path, engine: Engine
) -> None:
    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES / "page-a.txt"])
    pb.add_subscriber("ann@example.org", ["long-context"])
    origin = str(SAMPLES / "page-a.txt")
    with write_session(engine) as session:
        session.add(FetchState(url=origin, etag='"v1"'))
        session.execute(  # the edition was frozen (planned), its messages not sent yet
            text(
                "INSERT INTO mail_edition (kind, day, last_day, frozen_at)"
                " VALUES ('daily', :d, :d, :t)"
            ),
            {"d": MAR_14, "t": NOW},
        )
        session.execute(
            text(
                "INSERT INTO mail_edition_paper (edition_id, kind, listing_date, paper_id, rank,"
                " recurring, late, topics) SELECT e.id, 'daily', a.listing_date, a.paper_id,"
                " a.rank, false, false, '[]' FROM appearance a, mail_edition e"
            )
        )
        session.execute(
            text(
                "INSERT INTO outbox (subscriber_id, edition, state, message_id, attempts,"
                " next_attempt_at, created_at) SELECT id, :d, 'pending', '<x@y>', 0, :t, :t"
                " FROM subscriber"
            ),
            {"d": MAR_14, "t": NOW},
        )
    removed = pb.remove_page("saved-pages", MAR_14)
    assert removed.cancelled == 1 and removed.edition_gone
    with read_session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM fetch_state")).scalar_one() == 0
        frozen = session.execute(text("SELECT count(*) FROM mail_edition_paper"))
        assert frozen.scalar_one() == 0  # the frozen listings went with the page
        assert check_store(session=session) == []


def test_dry_run_changes_nothing(tmp_path: Path, engine: Engine) -> None:
    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES])
    before = dump(engine)
    preview = pb.remove_page("saved-pages", MAR_14, dry_run=True)
    assert (preview.appearances, preview.papers_deleted, preview.feeds_written) == (60, 41, 0)
    assert dump(engine) == before


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty SQLite file to copy (migrating ~80 stores would take most of the time)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    return path


def _copy(template: Path, target: str) -> Engine:
    shutil.copyfile(template, target)
    return make_engine(f"sqlite:///{target}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(removed=st.sets(st.integers(0, len(PROPERTY_PAGES) - 1), min_size=1))
def test_removing_pages_equals_never_ingesting_them(empty_store: Path, removed: set[int]) -> None:
    # a stored page is a (source, date): removing it takes out every page read for that date
    gone = {(PROPERTY_PAGES[i].source, PROPERTY_PAGES[i].listing_date) for i in removed}
    kept = [p for p in PROPERTY_PAGES if (p.source, p.listing_date) not in gone]
    with tempfile.TemporaryDirectory() as folder:
        full = _copy(empty_store, f"{folder}/full.db")
        for page in PROPERTY_PAGES:
            with write_session(full) as session:
                upsert_page(session=session, page=page, now=NOW)
        pb = Paperboy(make_config(Path(folder)), engine=full, clock=fixed_clock(NOW), topics=())
        for source, day in sorted(gone):
            pb.remove_page(source, day)
        partial = _copy(empty_store, f"{folder}/partial.db")
        for page in kept:
            with write_session(partial) as session:
                upsert_page(session=session, page=page, now=NOW)
        assert history(full) == history(partial)
        with read_session(full) as session:
            assert check_store(session=session) == []
        full.dispose()
        partial.dispose()


def test_cli_pages_list_and_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERBOY_CONFIG", "PAPERBOY_DATABASE_URL", "PAPERBOY_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERBOY_NOW", NOW.isoformat())
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(SAMPLES)]).exit_code == 0
    listed = runner.invoke(cli, ["pages", "list"])
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        f"saved-pages\t2026-09-03\t47 papers\tnot mailed\t{SAMPLES / 'page-b.txt'}",
        f"saved-pages\t2026-03-14\t60 papers\tnot mailed\t{SAMPLES / 'page-a.txt'}",
        f"saved-pages\t2026-03-11\t78 papers\tnot mailed\t{SAMPLES / 'page-c.txt'}",
    ]
    dry = runner.invoke(cli, ["pages", "remove", "saved-pages", "2026-03-14", "--dry-run"])
    assert dry.exit_code == 0
    assert dry.stdout.startswith("would remove page saved-pages 2026-03-14: 60 appearance(s), ")
    done = runner.invoke(cli, ["pages", "remove", "saved-pages", "2026-03-14"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[0] == (
        "removed page saved-pages 2026-03-14: 60 appearance(s), 41 paper(s) deleted (listed on "
        "no other page), 19 paper(s) with new first/last seen; edition 2026-03-14 gone"
    )
    assert runner.invoke(cli, ["check"]).exit_code == 0
    again = runner.invoke(cli, ["pages", "remove", "saved-pages", "2026-03-14"])
    assert again.exit_code == 1 and "no page saved-pages 2026-03-14" in again.stderr


def test_future_dates_are_refused_before_any_request(tmp_path: Path, engine: Engine) -> None:
    """Issue 15.8: ``fetch --date 2030-01-01`` became the web's latest edition."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=[])

    pb = pb_for(tmp_path, engine)
    with mock_client(handler) as client, pytest.raises(ConfigError, match="in the future"):
        pb.fetch("hf-api", date(2030, 1, 1), client=client)
    assert requests == []
    tomorrow = date(2026, 11, 24)  # a reader east of UTC: allowed
    with mock_client(handler) as client:
        assert pb.fetch("hf-api", tomorrow, client=client).listing_date == tomorrow
    with pytest.raises(ConfigError, match="--date 2030-01-01 is in the future"):
        pb.ingest([SAMPLES / "page-a.txt"], listing_date=date(2030, 1, 1))
    saved = tmp_path / "2030-01-01.json"
    saved.write_text("[]", encoding="utf-8")
    report = pb.ingest([saved])
    assert [f.message for f in report.failures] == [
        "listing date 2030-01-01 is in the future (today is 2026-11-23 UTC; a page may be at "
        "most one day ahead)"
    ]


def test_remove_waits_for_no_run(tmp_path: Path, engine: Engine) -> None:
    """A removal takes the run lock: it never interleaves with a run's ingest of the same rows."""
    from pipeline.errors import LockedError
    from pipeline.store.lock import run_lock

    pb = pb_for(tmp_path, engine)
    pb.ingest([SAMPLES / "page-a.txt"])
    with run_lock(engine), pytest.raises(LockedError):
        pb.remove_page("saved-pages", MAR_14)
    assert pb.remove_page("saved-pages", MAR_14, dry_run=True).appearances == 60


def test_removing_a_real_api_day_deletes_its_papers_metadata(
    tmp_path: Path, engine: Engine
) -> None:
    """A removed page's orphan papers take their upvotes, summary and vote history with them."""
    pb = pb_for(tmp_path, engine)
    day = DATA / "hf" / "archive" / "Paper_metadata_download" / "2026-07-09.json"
    assert pb.ingest([day]).ok
    with read_session(engine) as session:
        before = session.execute(text("SELECT count(*) FROM paper_meta")).scalar_one()
    assert before > 0
    removed = pb.remove_page("saved-pages", date(2026, 7, 9))
    assert removed.papers_deleted == before
    with read_session(engine) as session:
        for table in ("paper", "paper_alias", "paper_meta", "paper_votes"):
            assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
        assert check_store(session=session) == []
