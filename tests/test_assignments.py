"""Topics assigned once and stored (issue 12): pending marks, reassignment on rule edits,
``like`` topics through the store, agreement with ``topics explain``, no-op runs.

Every test runs on a real store (SQLite file and PostgreSQL) through the facade or the CLI.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from pipeline.app import Paperboy
from pipeline.cli import cli
from pipeline.feeds import publish
from pipeline.store import tables
from pipeline.store.assignments import assign_pending, generation, reassigning
from pipeline.store.engine import make_engine, read_session, write_session
from pipeline.store.migrate import upgrade
from pipeline.store.migrations.versions import __path__ as versions_path
from pipeline.store.papers import upsert_page
from pipeline.topics import assign_topics, load_topics, topics_file
from tests.conftest import DATA, NOW, SAMPLES, make_config
from tests.email_support import page
from tests.feed_checks import check_feed_file

HF = DATA / "hf"
FIXTURES = [
    *sorted(SAMPLES.glob("*.txt")),
    *sorted((HF / "archive" / "Paper_metadata_download").glob("*.json")),
    HF / "api-2025-03-18.json",
    HF / "api-2026-08-21.json",
]
SINKS = "Efficient Streaming Language Models with Attention Sinks"  # in page-a.txt
LC_TOPICS = """
[[topics]]
slug = "lc"
title = "Long context"
include = ["long context", "KV cache"]
exclude = ["protein"]
threshold = 2

[[topics]]
slug = "moe"
title = "Mixture of experts"
include = ["mixture of experts"]
"""
LIKE_TOPIC = f"""
[[topics]]
slug = "sinks"
title = "Like attention sinks"
like = ["{SINKS}"]
"""


def _pb(tmp_path: Path, engine: Engine, topics: str, **sections: dict[str, object]) -> Paperboy:
    (tmp_path / "topics.toml").write_text(topics)
    sections.setdefault("output", {"site_url": "https://example.org/pb/"})
    cfg = make_config(tmp_path, **sections)
    cfg = dataclasses.replace(cfg, topics_file=tmp_path / "topics.toml")
    return Paperboy(cfg, engine=engine, clock=lambda: NOW)


def _stored(engine: Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT p.key, t.topic FROM paper p JOIN paper_topic t ON t.paper_id = p.id")
        )
        found: dict[str, set[str]] = {}
        for key, slug in rows:
            found.setdefault(key, set()).add(slug)
    return found


def _pending(engine: Engine) -> dict[int, bool]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT paper_id, inserted FROM topic_pending"))
        return {int(i): bool(flag) for i, flag in rows}


# --- the triggers -------------------------------------------------------------------------


def _triggers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
            return [str(row[0]) for row in conn.execute(text(query))]
        query = (
            "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c"
            " ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            " AND c.relnamespace = current_schema()::regnamespace"
            " ORDER BY t.tgname"
        )
        found = [str(row[0]) for row in conn.execute(text(query))]
        source = "SELECT prosrc FROM pg_proc WHERE proname LIKE 'topic_pending_%' ORDER BY proname"
        return found + [str(row[0]) for row in conn.execute(text(source))]


def test_both_ways_of_building_a_store_get_the_same_triggers(engine: Engine, tmp_path: Path):
    """create_all (a new store) and the migration scripts (an upgraded one) agree, and the
    migration's frozen statements are today's."""
    built = _triggers(engine)  # the engine fixture's store: create_all, stamped
    assert len(built) == (9 if engine.dialect.name == "sqlite" else 6)  # PG: 3 and 3 functions
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'scripts.db'}")
        upgrade(other, run_scripts=True)
        assert _triggers(other) == built
        other.dispose()
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "m0003", Path(versions_path[0]) / "0003_topic_assignments.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TRIGGERS == tables.PENDING_TRIGGERS


def test_every_write_to_a_paper_marks_it_pending_in_the_same_transaction(engine: Engine):
    topics = load_topics(topics_file(None))
    day = date(2026, 11, 20)
    papers = [("Ring Attention for Long Context", "near-infinite context.", "2310.01889")]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(day, papers), now=NOW)
    assert list(_pending(engine).values()) == [True]  # new: counted in the corpus statistics
    before = generation_of(engine)
    assign_pending(engine, topics)
    assert _pending(engine) == {} and generation_of(engine) > before
    assert _stored(engine) == {"arxiv:2310.01889": {"long-context"}}
    with write_session(engine) as session:  # the same page again: nothing written
        upsert_page(session=session, page=page(day, papers), now=NOW)
    assert _pending(engine) == {}
    with write_session(engine) as session:  # listed again the next day: it changed
        upsert_page(session=session, page=page(day + timedelta(days=1), papers), now=NOW)
    assert list(_pending(engine).values()) == [False]
    assign_pending(engine, topics)
    with write_session(engine) as session:  # removed (as `paperboy pages remove` may do)
        session.execute(text("DELETE FROM appearance"))
        session.execute(text("DELETE FROM paper_alias"))
        session.execute(text("DELETE FROM paper"))
    assert len(_pending(engine)) == 1 and _stored(engine) == {}  # rows gone with the paper
    before = generation_of(engine)
    assign_pending(engine, topics)
    assert _pending(engine) == {} and generation_of(engine) > before  # feeds will notice


def generation_of(engine: Engine) -> int:
    with read_session(engine) as session:
        return generation(session)


# --- what is stored agrees with the rules and with explain ----------------------------------


def test_stored_assignments_agree_with_rules_and_explain_on_every_fixture(
    engine: Engine, tmp_path: Path
):
    pb = _pb(tmp_path, engine, topics_file(None).read_text())
    report = pb.ingest(FIXTURES)
    assert len(report.pages) >= 8  # the malformed archive days fail, the rest are stored
    stored = _stored(engine)
    papers = pb.papers()
    assert len(papers) > 200
    for paper in papers:
        expected = assign_topics(
            pb.topics, title=paper.title, abstract=paper.abstract, keywords=paper.keywords
        )
        assert paper.topics == expected, paper.key  # papers() reads the stored rows
        assert set(expected) == stored.get(paper.key, set())
        found = pb.explain(paper.key)
        assert not found.pending and found.disagreements() == [], paper.key
        assert [t.slug for t, s in found.scores if s.selected] == list(expected)
    covered = sum(1 for p in papers if p.topics)
    assert covered / len(papers) > 0.85  # the shipped taxonomy covers the fixtures


def test_rule_edit_reassigns_that_topic_and_the_feeds_change(engine: Engine, tmp_path: Path):
    pb = _pb(tmp_path, engine, LC_TOPICS)
    pb.ingest([SAMPLES / "page-a.txt", SAMPLES / "page-b.txt", SAMPLES / "page-c.txt"])
    first = pb.publish_feeds()
    assert first.rendered and first.written
    lc_before = _feed(tmp_path, "lc.xml")
    moe_before = _feed(tmp_path, "moe.xml")
    assert lc_before and moe_before
    stored_before = _stored(engine)

    edited = LC_TOPICS.replace('include = ["long context", "KV cache"]', 'include = ["attention"]')
    edited = edited.replace("threshold = 2", "threshold = 3")
    pb = _pb(tmp_path, engine, edited + '\n[[topics]]\nslug = "sur"\ninclude = ["survey"]\n')
    seen: list[tuple[str, int, int]] = []
    report = pb.assign(on_progress=lambda *a: seen.append(a))
    assert report.rescanned == ("lc", "sur")  # moe is unchanged: its rows stay
    assert report.rescan_papers == len(pb.papers()) and seen[-1][0] == "rescan"
    feeds = pb.publish_feeds()
    assert feeds.rendered
    lc_after = _feed(tmp_path, "lc.xml")
    assert lc_after != lc_before and _feed(tmp_path, "moe.xml") == moe_before
    for paper in pb.papers():
        expected = assign_topics(pb.topics, title=paper.title, abstract=paper.abstract)
        assert paper.topics == expected, paper.key
    moe = {k for k, slugs in _stored(engine).items() if "moe" in slugs}
    assert moe == {k for k, slugs in stored_before.items() if "moe" in slugs}

    pb = _pb(tmp_path, engine, LC_TOPICS.split('[[topics]]\nslug = "moe"')[0])  # moe gone
    report = pb.assign()
    assert report.removed == ("moe", "sur")
    assert not any("moe" in s for s in _stored(engine).values())


def _feed(tmp_path: Path, name: str) -> dict[str, str]:
    data = (tmp_path / "out" / "feeds" / name).read_bytes()
    return dict(check_feed_file(data, atom=name.endswith(".atom")))


def test_reassign_resumes_where_a_stopped_rescan_left_off(engine: Engine, tmp_path: Path):
    pb = _pb(tmp_path, engine, LC_TOPICS)
    pb.ingest([SAMPLES / "page-a.txt", SAMPLES / "page-b.txt"])
    done = _stored(engine)
    pb = _pb(tmp_path, engine, LC_TOPICS.replace('"KV cache"', '"KV cache", "memory"'))
    calls = []

    def stop_after_two(what: str, count: int, total: int) -> None:
        calls.append(count)
        if len(calls) == 2:
            raise KeyboardInterrupt  # a stop between two committed batches

    with pytest.raises(KeyboardInterrupt):
        assign_pending(engine, pb.topics, batch=10, on_progress=stop_after_two)
    with read_session(engine) as session:
        assert reassigning(session) == {"lc"}
    report = assign_pending(engine, pb.topics, batch=10)
    assert report.rescanned == ("lc",)
    assert report.rescan_papers == len(pb.papers()) - 20  # went on after the two batches
    with read_session(engine) as session:
        assert reassigning(session) == set()
    assert _stored(engine) != done
    for paper in pb.papers():
        assert paper.topics == assign_topics(pb.topics, title=paper.title, abstract=paper.abstract)


# --- like topics through the store ----------------------------------------------------------


def test_like_topic_takes_papers_similar_to_its_example_and_not_unrelated_ones(
    engine: Engine, tmp_path: Path
):
    pb = _pb(tmp_path, engine, LC_TOPICS + LIKE_TOPIC)
    pb.ingest([SAMPLES / "page-b.txt", SAMPLES / "page-c.txt"])  # the example is not stored yet
    assert not any("sinks" in s for s in _stored(engine).values())
    pb.ingest([SAMPLES / "page-a.txt"])  # now it is: the topic is assigned over every paper
    sinks = {key for key, slugs in _stored(engine).items() if "sinks" in slugs}
    titles = {p.key: p.title for p in pb.papers()}
    chosen = {titles[k] for k in sinks}
    assert SINKS in chosen  # the example itself (cosine 1)
    # two long-context streaming papers read alike (cosines 0.20 and 0.19 on these pages)
    assert any(t.startswith("InfLLM") for t in chosen) and any(
        t.startswith("SirLLM") for t in chosen
    )
    assert not any(t.startswith("Tutor CoPilot") for t in chosen)  # unrelated (0.01)
    assert len(chosen) < 6
    found = pb.explain(next(k for k, t in titles.items() if t.startswith("InfLLM")))
    [(_topic, score)] = [(t, s) for t, s in found.scores if t.slug == "sinks"]
    assert score.selected and score.nearest is not None and score.nearest.ref == SINKS
    assert 0.18 <= score.nearest.score < 0.3 and found.disagreements() == []
    tutor = next(k for k, t in titles.items() if t.startswith("Tutor"))
    config = str(_cli_config(tmp_path))
    result = CliRunner().invoke(cli, ["--config", config, "topics", "explain", tutor])
    assert result.exit_code == 0, result.output
    assert "sinks: score 0 / threshold 3, similarity 0.0134 / 0.18 -> not selected" in result.stdout
    assert f"'like {SINKS}' in similarity" in result.stdout


def _cli_config(tmp_path: Path) -> Path:
    path = tmp_path / "pb.toml"
    path.write_text(
        f'topics_file = "topics.toml"\n[store]\ndatabase_url = "sqlite:///{tmp_path / "cli.db"}"\n'
        '[output]\nsite_url = "https://example.org/pb/"\n'
    )
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["--config", str(path), "ingest", *map(str, FIXTURES[:3])]).exit_code
        == 0
    )
    return path


# --- no-op runs -----------------------------------------------------------------------------


def test_noop_run_renders_nothing_and_writes_no_feed_file(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pb = _pb(tmp_path, engine, topics_file(None).read_text())
    first = pb.run(pages=[SAMPLES], offline=True)
    assert first.feeds is not None and first.feeds.rendered and first.topics is not None
    folder = tmp_path / "out" / "feeds"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    stamp = (tmp_path / "out" / publish.STAMP_NAME).stat().st_mtime_ns

    def must_not_render(*_a: object, **_k: object) -> None:
        raise AssertionError("a no-op run rendered feeds")

    monkeypatch.setattr(publish, "collect_feeds", must_not_render)
    for _ in range(2):
        again = pb.run(pages=[SAMPLES], offline=True)
        assert again.ok and again.feeds is not None and not again.feeds.rendered
        assert again.feeds.written == () and not again.topics.changed  # type: ignore[union-attr]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert (tmp_path / "out" / publish.STAMP_NAME).stat().st_mtime_ns == stamp
    monkeypatch.undo()

    (folder / "agents.atom").unlink()  # a file gone: render again (same bytes elsewhere)
    report = pb.publish_feeds()
    assert report.rendered and [p.name for p in report.written] == ["agents.atom"]


@pytest.mark.parametrize(
    "output",
    [
        {"site_url": "https://moved.example.net/"},
        {"site_url": "https://example.org/pb/", "feed_item_limit": 5},
        {"site_url": "https://example.org/pb/", "title": "other title"},
    ],
)
def test_feed_stamp_follows_settings(engine: Engine, tmp_path: Path, output: dict[str, object]):
    pb = _pb(tmp_path, engine, LC_TOPICS)
    pb.ingest([SAMPLES / "page-a.txt"])
    assert pb.publish_feeds().rendered
    assert not pb.publish_feeds().rendered
    moved = _pb(tmp_path, engine, LC_TOPICS, output=output)
    report = moved.publish_feeds()
    assert report.rendered and report.written


# --- crashes (subprocesses killed at failpoints) ------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_between_storing_and_assigning_leaves_papers_the_next_run_assigns(tmp_path: Path):
    from tests.test_faults import _cli

    pages = [str(SAMPLES / "page-a.txt")]
    killed = _cli(tmp_path, "ingest", *pages, failpoint_name="before_assign")
    assert killed.returncode == 137, killed.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'paperboy.db'}")
    try:
        assert _stored(engine) == {} and len(_pending(engine)) > 40  # stored, not assigned
        assert _cli(tmp_path, "feeds").returncode == 0  # any stage that reads topics assigns
        assert _pending(engine) == {} and _stored(engine)
        killed = _cli(tmp_path, "ingest", str(SAMPLES / "page-b.txt"), str(SAMPLES / "page-c.txt"),
                      failpoint_name="after_assign_batch:1")  # fmt: skip
        assert killed.returncode == 137
        assert _pending(engine)  # one batch done, the rest pending
        assert _cli(tmp_path, "run", "--offline").returncode == 0
        assert _pending(engine) == {}
        topics = load_topics(topics_file(None))
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT key, title, abstract FROM paper")).all()
        stored = _stored(engine)
        for key, title, abstract in rows:
            assert set(assign_topics(topics, title=title, abstract=abstract)) == stored.get(
                key, set()
            )
    finally:
        engine.dispose()


# --- PostgreSQL: a change made while an assigner holds a paper is not lost -----------------


@pytest.mark.postgres
def test_change_committed_during_an_assignment_stays_pending(postgres_url: str):
    engine = make_engine(postgres_url)
    from pipeline.store.engine import init_db

    init_db(engine)
    papers = [("Ring Attention for Long Context", "near-infinite context.", "2310.01889")]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(date(2026, 11, 20), papers), now=NOW)
    claimed = threading.Event()
    updated = threading.Event()

    def change_it() -> None:
        claimed.wait(10)
        with write_session(engine) as session:  # blocks on the claimed pending row
            session.execute(text("UPDATE paper SET abstract = 'changed abstract'"))
        updated.set()

    worker = threading.Thread(target=change_it)
    worker.start()
    with write_session(engine) as session:  # what an assigner's batch does
        ids = session.execute(text("SELECT paper_id FROM topic_pending FOR UPDATE")).scalars().all()
        session.execute(text("SELECT abstract FROM paper")).all()
        claimed.set()
        time.sleep(0.5)
        assert not updated.is_set()  # the writer waits for the claim
        session.execute(text("DELETE FROM topic_pending WHERE paper_id = ANY(:ids)"), {"ids": ids})
    worker.join(10)
    assert updated.is_set() and list(_pending(engine)) == ids  # pending again, not lost
    engine.dispose()


# --- subscribing to everything ---------------------------------------------------------------


def test_everything_subscriber_gets_papers_of_no_topic_under_other(engine: Engine, tmp_path: Path):
    pb = _pb(tmp_path, engine, LC_TOPICS)
    pb.ingest([SAMPLES / "page-a.txt"])
    pb.add_subscriber("all@example.org")  # no topics: everything
    pb.add_subscriber("lc@example.org", ["lc"])
    day = pb.latest_edition()
    report = pb.send_edition(day)
    assert report.outcomes == {"sent": 2}
    from tests.web_support import eml_messages

    texts = {}
    for message in eml_messages(pb.config):
        body = message.get_body(("plain",))
        assert body is not None
        texts[str(message["To"])] = body.get_content()
    everything, lc = texts["all@example.org"], texts["lc@example.org"]
    assert "Your topics: Everything" in everything and "== Other (" in everything
    assert "== Other" not in lc
    edition = [p for p in pb.papers() if p.first_seen == day]
    untaken = [p for p in edition if not p.topics]
    assert untaken and f"== Other ({len(untaken)}) ==" in everything
    other = everything.split("== Other")[1]
    shown = [p for p in untaken if p.title[:40] in other]
    assert len(shown) == min(25, len(untaken))  # [email] max_papers_per_section
    taken = [p for p in edition if "lc" in p.topics]
    assert taken and taken[0].title[:40] in lc and taken[0].title[:40] in everything


# --- the command line -----------------------------------------------------------------------


def test_cli_topics_stats_papers_json_and_subscribe_everything(tmp_path: Path):
    (tmp_path / "topics.toml").write_text(LC_TOPICS)
    config = tmp_path / "pb.toml"
    config.write_text('topics_file = "topics.toml"\n[output]\nsite_url = "https://example.org/"\n')
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result

    run("ingest", *(str(p) for p in sorted(SAMPLES.glob("*.txt"))))
    stats = run("topics", "stats").stdout.splitlines()
    total = int(stats[0].split()[0])
    counts = {line[:24].strip(): int(line[24:].split()[0]) for line in stats[1:]}
    assert set(counts) == {"lc", "moe", "(no topic)"} and 0 < counts["lc"] < total
    assert counts["(no topic)"] > total / 2  # two narrow topics leave most papers out
    recent = run("topics", "stats", "--days", "1").stdout.splitlines()
    assert "since 2026-07-" in recent[0] or "since" in recent[0]
    assert int(recent[0].split()[0]) < total

    import json

    lines = [json.loads(line) for line in run("papers", "--json").stdout.splitlines()]
    assert all(set(p["topics"]) <= {"lc", "moe"} for p in lines)
    assert sum(1 for p in lines if p["topics"]) == total - counts["(no topic)"]

    added = run("subscribers", "add", "ann@example.org").stdout
    assert added == "added: ann@example.org (all; daily)\n"
    again = run("subscribers", "add", "ann@example.org", "--topics", "moe,all")
    assert again.stdout == "unchanged: ann@example.org (all; daily)\n"
    assert "ann@example.org\tactive\tall\tdaily" in run("subscribers", "list").stdout
    assert run("topics", "reassign").stdout.startswith("0 new or changed paper(s) assigned")
    (tmp_path / "topics.toml").write_text(LC_TOPICS.replace('"KV cache"', '"KV cache", "memory"'))
    warned = run("topics", "stats")
    assert "rules changed since these topics were assigned: lc " in warned.stderr
    assert "1 topic(s) reassigned over" in run("topics", "reassign").stdout
    assert "rules changed" not in run("topics", "stats").stderr
    full = run("topics", "reassign", "--full").stdout
    assert f"2 topic(s) reassigned over {total} paper(s)" in full


# --- feed items kept between renders ------------------------------------------------------


def test_kept_feed_items_follow_their_papers(engine: Engine, tmp_path: Path):
    pb = _pb(
        tmp_path, engine, LC_TOPICS, output={"site_url": "https://x.org/", "feed_item_limit": 3}
    )
    day = date(2026, 11, 20)
    first = [("Long Context One", "long context.", "2611.00001"),
             ("Long Context Two", "long context.", "2611.00002")]  # fmt: skip
    with write_session(engine) as session:
        upsert_page(session=session, page=page(day, first), now=NOW)
    pb.publish_feeds()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feed_entry")).scalar_one() == 2
    rss = (tmp_path / "out" / "feeds" / "lc.xml").read_text()
    assert rss.count("listed on 1 day,") == 2
    later = [("Long Context One", "long context.", "2611.00001"),  # back again: its item changes
             ("Long Context Three", "long context.", "2611.00003"),
             ("Long Context Four", "long context.", "2611.00004")]  # fmt: skip
    with write_session(engine) as session:
        upsert_page(session=session, page=page(day + timedelta(days=2), later), now=NOW)
    assert pb.publish_feeds().rendered
    rss = (tmp_path / "out" / "feeds" / "lc.xml").read_text()
    assert "listed on 2 days, last on 2026-11-22" in rss  # rebuilt, not the kept item
    assert "Long Context Two" not in rss  # three newest only: Two left every feed...
    with engine.connect() as conn:  # ...so its kept item is gone too
        kept = conn.execute(text("SELECT title FROM feed_entry ORDER BY title")).scalars().all()
    assert kept == ["Long Context Four", "Long Context One", "Long Context Three"]
    forced = pb.publish_feeds(force=True)  # from the kept items: the same bytes
    assert forced.rendered and forced.written == ()


def test_check_reports_missing_topic_triggers(engine: Engine):
    """A migration that rebuilds a table (SQLite batch mode) drops its triggers: `paperboy
    check` says so."""
    from pipeline.store.integrity import check_store

    with read_session(engine) as session:
        assert check_store(session=session) == []
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER topic_pending_paper_meta_update"))
        else:
            conn.execute(text("DROP TRIGGER topic_pending_paper_meta ON paper_meta"))
    with read_session(engine) as session:
        [problem] = check_store(session=session)
    assert problem.startswith("topic triggers missing: topic_pending_paper_meta")


def test_sections_for_everything_daily_and_weekly():
    """Pure: a subscriber to everything gets each topic's papers, then "Other" for the rest."""
    from pipeline.mail.contents import sections_for
    from pipeline.records import ALL_TOPICS, Edition, StoredPaper

    def paper(key: str, *topics: str) -> StoredPaper:
        day = date(2026, 11, 20)
        return StoredPaper(key, key, "", None, (), day, day, 1, topics=topics)

    titles = {"lc": "Long context", "moe": "Mixture of experts"}
    a, b, c = paper("a", "lc"), paper("b", "moe", "lc"), paper("c")
    daily = Edition(day=date(2026, 11, 20), new=(a, c), recurring=(b,))
    found = sections_for(daily, chosen=[ALL_TOPICS], titles=titles, per_topic=10, cap=25)
    assert [(s.name, [p.key for p in s.papers]) for s in found] == [
        ("New", ["a"]),
        ("Back again", ["b"]),
        ("Other", ["c"]),
    ]
    mine = sections_for(daily.for_topics(["lc"]), chosen=["lc"], titles=titles, per_topic=10,
                        cap=25)  # fmt: skip
    assert [s.name for s in mine if s.total] == ["New", "Back again"]
    weekly = Edition(day=date(2026, 11, 16), new=(a, b, c), recurring=(), kind="weekly")
    found = sections_for(weekly, chosen=[ALL_TOPICS], titles=titles, per_topic=10, cap=25)
    assert [(s.name, [p.key for p in s.papers]) for s in found] == [
        ("Long context", ["a", "b"]),
        ("Other", ["c"]),
    ]
