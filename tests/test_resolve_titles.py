"""Text pages give titles only: arXiv ids from the Hugging Face papers search (issue 13 part 3).

MockTransport stands in for ``/api/papers/search``; the store is real (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from pipeline.app import Paperboy
from pipeline.config import HttpConfig
from pipeline.errors import ParseError
from pipeline.feeds.items import feed_entry
from pipeline.ingest.parse.hf_search import exact_match, parse_search_results
from pipeline.ingest.resolve import MISS_RETRY, TitleResolver, search_endpoint, search_url
from pipeline.ingest.saved_pages import ingest_files
from pipeline.store.engine import read_session
from pipeline.store.fetch_state import load_fetch_state
from pipeline.store.papers import select_paper, select_papers, store_counts
from pipeline.store.title_lookups import cached_lookups
from pipeline.topics import load_topics, topics_file
from tests.conftest import NOW, make_config, text_page
from tests.hf_support import FakeClock, Recorder, mock_client

BASE = "https://huggingface.co"
SINKS = "Efficient Streaming Language Models with Attention Sinks"
LORA = "LongLoRA: Efficient Fine-tuning of Long-Context Large Language Models"
PAGE = text_page(
    "Mar 14",
    [(SINKS, "We keep attention sinks."), (LORA, "We extend the context cheaply.")],
)


def hits(*pairs: tuple[str, str]) -> httpx.Response:
    """A search answer: entries shaped like daily papers ones (docs/hf-formats.md §1)."""
    body = [{"paper": {"id": arxiv_id, "title": title, "upvotes": 3}, "title": title}
            for title, arxiv_id in pairs]  # fmt: skip
    return httpx.Response(200, json=body)


def by_query(answers: dict[str, httpx.Response]):  # type: ignore[no-untyped-def]
    """A handler answering by the ``q`` parameter, recording every request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.get(request.url.params["q"], hits())

    handler.requests = seen  # type: ignore[attr-defined]
    return handler


def resolver(engine: Engine, handler, *, now=NOW, clock: FakeClock | None = None, **kw):  # type: ignore[no-untyped-def]
    clock = clock or FakeClock()
    http = HttpConfig(hf_base_url=BASE)
    return TitleResolver(http, mock_client(handler, http), engine, now, clock.sleep, clock, **kw)


def ingest(tmp_path: Path, engine: Engine, res: TitleResolver | None, text: str = PAGE) -> None:
    path = tmp_path / "page-mar14.txt"
    path.write_text(text, encoding="utf-8")
    report = ingest_files([path], engine=engine, now=NOW,
                          resolve=res.resolve_page if res else None)  # fmt: skip
    assert report.ok, report.failures


def test_exact_match_resolves_and_merges_keeping_the_first_key(tmp_path, engine) -> None:
    ingest(tmp_path, engine, None)  # first seen by title only
    with read_session(engine) as session:
        before = select_paper(session=session, ref=SINKS)
    assert before is not None and before.arxiv_id is None
    guid = feed_entry(before, 1, tagging_entity="example.org,2026-01-01").guid

    handler = by_query(
        {SINKS: hits((SINKS, "2309.17453"), ("Attention Sinks in VLMs", "2410.00001"))}
    )
    res = resolver(engine, handler)
    ingest(tmp_path, engine, res)
    with read_session(engine) as session:
        after = select_paper(session=session, ref="2309.17453")
        lora = select_paper(session=session, ref=LORA)
        counts = store_counts(session=session)
    assert after is not None and after.key == before.key  # one paper, first key kept
    assert feed_entry(after, 1, tagging_entity="example.org,2026-01-01").guid == guid
    assert after.url == "https://huggingface.co/papers/2309.17453"
    assert lora is not None and lora.arxiv_id is None  # the search had no exact hit
    assert counts["papers"] == 2
    assert (res.asked, res.resolved) == (2, 1)

    # the same paper seen later by id (API) is still the same paper
    api = tmp_path / "2026-03-16.json"
    api.write_text(json.dumps([{"paper": {"id": "2309.17453", "title": SINKS, "summary": "S.",
                                          "upvotes": 9}, "numComments": 0}]))  # fmt: skip
    assert ingest_files([api], engine=engine, now=NOW).ok
    with read_session(engine) as session:
        again = select_paper(session=session, ref="2309.17453")
        assert store_counts(session=session)["papers"] == 2
    assert again is not None and again.key == before.key and again.times_seen == 2


def test_near_miss_does_not_resolve_and_is_cached_as_a_miss(tmp_path, engine) -> None:
    near = hits((SINKS + " (extended)", "2309.17453"), ("Efficient Streaming LMs", "2309.17454"))
    handler = by_query({SINKS: near})
    ingest(tmp_path, engine, resolver(engine, handler))
    with read_session(engine) as session:
        paper = select_paper(session=session, ref=SINKS)
        cached = cached_lookups(session=session, keys=[paper.key if paper else ""])
    assert paper is not None and paper.arxiv_id is None
    miss = cached[paper.key]
    assert miss.arxiv_id is None and miss.retry_after == NOW + MISS_RETRY


def test_cache_hit_makes_no_request(tmp_path, engine) -> None:
    first = by_query({SINKS: hits((SINKS, "2309.17453"))})
    ingest(tmp_path, engine, resolver(engine, first))
    assert len(first.requests) == 2  # both titles asked once: one hit, one miss

    again = by_query({})
    res = resolver(engine, again, now=NOW + timedelta(days=1))
    ingest(tmp_path, engine, res)
    assert again.requests == []  # the hit and the fresh miss both come from the cache
    assert (res.asked, res.from_cache) == (0, 1)

    later = by_query({LORA: hits((LORA, "2309.12307"))})
    res = resolver(engine, later, now=NOW + MISS_RETRY + timedelta(days=1))
    ingest(tmp_path, engine, res)
    assert [r.url.params["q"] for r in later.requests] == [LORA]  # only the stale miss
    with read_session(engine) as session:
        assert {p.arxiv_id for p in select_papers(session=session)} == {"2309.17453", "2309.12307"}


def test_429_backs_off_then_resolves(tmp_path, engine) -> None:
    recorder = Recorder([httpx.Response(429, headers={"Retry-After": "3"}),
                         hits((SINKS, "2309.17453")), hits()])  # fmt: skip
    clock = FakeClock()
    res = resolver(engine, recorder, clock=clock)
    ingest(tmp_path, engine, res)
    assert clock.sleeps == [3.0]  # waited what the server asked, then asked again
    assert len(recorder.requests) == 3 and res.resolved == 1 and not res.stopped


def test_rate_limit_past_the_cap_defers_the_search(tmp_path, engine) -> None:
    limited = Recorder([httpx.Response(429, headers={"RateLimit": '"api";r=0;t=600'})])
    res = resolver(engine, limited)
    ingest(tmp_path, engine, res)
    assert len(limited.requests) == 1 and "deferred until" in res.stopped
    with read_session(engine) as session:
        _validators, until = load_fetch_state(session=session, url=search_endpoint(BASE))
        assert all(p.arxiv_id is None for p in select_papers(session=session))
    assert until == NOW + timedelta(seconds=600)
    quiet = by_query({})
    later = resolver(engine, quiet, now=NOW + timedelta(minutes=5))
    ingest(tmp_path, engine, later)
    assert quiet.requests == [] and later.stopped.startswith("search deferred until")


def test_server_error_stops_lookups_for_the_run_and_caches_nothing(tmp_path, engine) -> None:
    broken = Recorder([httpx.Response(503)])
    res = resolver(engine, broken)
    ingest(tmp_path, engine, res)
    assert res.asked == 1 and "HTTP 503" in res.stopped  # the second title is not asked
    with read_session(engine) as session:
        assert cached_lookups(session=session, keys=["title:x"]) == {}
        assert len(select_papers(session=session)) == 2  # the page is stored all the same


def test_at_most_max_lookups_per_run(tmp_path, engine) -> None:
    handler = by_query({})
    res = resolver(engine, handler, max_lookups=1)
    ingest(tmp_path, engine, res)
    assert len(handler.requests) == 1 and res.stopped == "at most 1 look-ups per run"


def test_offline_run_never_looks_titles_up(tmp_path, engine) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "page-mar14.txt").write_text(PAGE, encoding="utf-8")
    cfg = make_config(tmp_path, ingest={"resolve_titles": True}, http={"hf_base_url": BASE},
                      sources=[{"name": "pages", "kind": "files", "path": "pages"}])  # fmt: skip
    handler = by_query({SINKS: hits((SINKS, "2309.17453"))})
    pb = Paperboy(cfg, engine=engine, clock=lambda: NOW, topics=load_topics(topics_file(None)))
    offline = pb.run(offline=True, client=mock_client(handler, cfg.http), sleep=FakeClock().sleep)
    assert offline.ok and handler.requests == []
    report = pb.ingest([tmp_path / "pages"], offline=True, client=mock_client(handler, cfg.http))
    assert report.ok and report.notes == () and handler.requests == []
    online = pb.run(client=mock_client(handler, cfg.http), sleep=FakeClock().sleep)
    assert len(handler.requests) == 2
    assert "title look-ups: 2 asked, 1 resolved, 0 from the cache" in online.notes


def test_resolution_is_off_by_default(tmp_path) -> None:
    assert make_config(tmp_path).ingest.resolve_titles is False


def test_search_url_encodes_the_title() -> None:
    url = search_url(BASE + "/", 'A & B: "C"? #1 /x')
    assert url == (
        "https://huggingface.co/api/papers/search?q=A%20%26%20B%3A%20%22C%22%3F%20%231%20%2Fx"
        "&limit=5"
    )


def test_parse_search_results_shapes_and_garbage() -> None:
    text = json.dumps([
        {"paper": {"id": "2309.17453", "title": "T One"}, "title": "T  One"},
        {"id": "2309.17454", "title": "Bare\n paper"},  # a paper object without the wrapper
        {"paper": {"id": "not-arxiv", "title": "No Id"}},
        {"paper": {"id": 2309.1745, "title": "Numeric Id"}},
        "junk", None, {"paper": "x"},
    ])  # fmt: skip
    assert parse_search_results(text, origin="s") == (
        ("T One", "2309.17453"),
        ("Bare paper", "2309.17454"),
    )
    for bad in ("{}", "<html>", "[", ""):
        with pytest.raises(ParseError):
            parse_search_results(bad, origin="s")


def test_exact_match_folds_case_and_punctuation_but_refuses_ambiguity() -> None:
    found = (("Multi-Head Attention!", "2401.00001"), ("Other", "2401.00002"))
    assert exact_match("multihead attention", found) == "2401.00001"
    assert exact_match("Multi Head Attentions", found) is None  # near miss
    twice = (*found, ("Multi-head attention", "2401.00003"))
    assert exact_match("Multi-Head Attention", twice) is None  # two papers, one title
