"""paperboy serve, read side: feed files (types, ETag/304, F10), archive pages, search."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from starlette.testclient import TestClient

from pipeline.feeds.publish import render_all_feeds
from pipeline.store.assignments import assign_pending
from pipeline.store.engine import write_session
from pipeline.store.papers import upsert_page
from pipeline.topics import load_topics, topics_file
from pipeline.web.conditional import etag_for, is_not_modified
from tests.email_support import DAY2, page
from tests.web_support import (
    SITE,
    Clock,
    assert_safe_html,
    build_app,
    parse_page,
    seeded,
    web_config,
)

HOSTILE_TITLE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> long context'


@pytest.fixture
def site(tmp_path, engine, now):
    cfg = web_config(tmp_path)
    seeded(cfg, engine, now)
    client = TestClient(build_app(cfg, engine, Clock(now)), base_url=SITE)
    return cfg, engine, client


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/all.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/long-context.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/index.opml", "text/x-opml; charset=utf-8"),
        ("/index.opml", "text/x-opml; charset=utf-8"),
    ],
)
def test_feed_file_types_and_validators(site, path, media_type):
    cfg, _engine, client = site
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    name = path.rsplit("/", 1)[1]
    data = (cfg.output_dir / "feeds" / name).read_bytes()
    assert response.content == data
    assert response.headers["etag"] == etag_for(data)
    modified = parsedate_to_datetime(response.headers["last-modified"])
    mtime = os.stat(cfg.output_dir / "feeds" / name).st_mtime
    assert abs(modified.timestamp() - mtime) < 1


def test_feed_if_none_match_gets_304_with_same_etag(site):
    _cfg, _engine, client = site
    first = client.get("/feeds/all.atom")
    again = client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]


def test_feed_stale_etag_with_future_if_modified_since_gets_200(site):
    _cfg, _engine, client = site
    future = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
    response = client.get(
        "/feeds/all.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": future}
    )
    assert response.status_code == 200  # RFC 9110 13.1.3: If-None-Match wins
    assert response.content


def test_feed_if_modified_since_alone(site):
    _cfg, _engine, client = site
    last = client.get("/feeds/all.xml").headers["last-modified"]
    assert client.get("/feeds/all.xml", headers={"If-Modified-Since": last}).status_code == 304
    older = format_datetime(parsedate_to_datetime(last) - timedelta(hours=1), usegmt=True)
    assert client.get("/feeds/all.xml", headers={"If-Modified-Since": older}).status_code == 200
    bad = client.get("/feeds/all.xml", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 200


def test_feed_etag_unchanged_after_noop_rerun(site, now):
    cfg, engine, client = site
    before = client.get("/feeds/long-context.xml").headers["etag"]
    topics = load_topics(topics_file(None))
    report = render_all_feeds(cfg, engine=engine, topics=topics, now=now + timedelta(hours=1))
    assert report.written == ()
    after = client.get("/feeds/long-context.xml", headers={"If-None-Match": before})
    assert after.status_code == 304
    assert after.headers["etag"] == before


def test_feed_head_has_headers_and_no_body(site):
    _cfg, _engine, client = site
    response = client.head("/feeds/all.xml")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 100
    assert response.headers["etag"]


@pytest.mark.parametrize(
    "path",
    ["/feeds/../paperboy.db", "/feeds/%2e%2e%2fpaperboy.db", "/feeds/all.db", "/feeds/nope.xml"],
)
def test_feed_outside_folder_or_unknown_is_404(site, path):
    _cfg, _engine, client = site
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"if-none-match": '"abc"'}, True),
        ({"if-none-match": 'W/"abc"'}, True),
        ({"if-none-match": '"x", "abc"'}, True),
        ({"if-none-match": "*"}, True),
        ({"if-none-match": '"x"', "if-modified-since": "Sun, 01 Jan 2045 00:00:00 GMT"}, False),
        ({"if-modified-since": "Sun, 01 Jan 2045 00:00:00 GMT"}, True),
        ({"if-modified-since": "Sun, 01 Jan 2006 00:00:00 GMT"}, False),
        ({}, False),
    ],
)
def test_is_not_modified(headers, expected):
    modified = datetime(2026, 11, 23, 6, 0, 0, 500_000, tzinfo=UTC)
    assert is_not_modified(headers, etag='"abc"', modified=modified) is expected


def test_home_lists_topics_feeds_and_latest_edition(site):
    _cfg, _engine, client = site
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = parse_page(response.text)
    hrefs = {a.get("href") for tag, a in page.tags if tag == "a"}
    for topic in load_topics(topics_file(None)):
        assert f"/feeds/{topic.slug}.xml" in hrefs
        assert f"/feeds/{topic.slug}.atom" in hrefs
        assert f"/topics/{topic.slug}" in hrefs
    assert f"/editions/{DAY2.isoformat()}" in hrefs
    assert "Monday 23 November 2026" in page.text


def test_pages_are_accessible_basics(site):
    _cfg, _engine, client = site
    for path in ("/", "/editions", f"/editions/{DAY2}", "/topics/long-context", "/subscribe"):
        page = parse_page(client.get(path).text)
        html_tag = next(a for t, a in page.tags if t == "html")
        assert html_tag.get("lang") == "en"
        assert any(t == "meta" and a.get("name") == "viewport" for t, a in page.tags)
        assert any(t == "a" and a.get("href") == "#main" for t, a in page.tags), path
        assert any(t == "main" and a.get("id") == "main" for t, a in page.tags)
        labelled = {a.get("for") for t, a in page.tags if t == "label"}
        for tag, attrs in page.tags:
            if tag == "input" and attrs.get("type") not in ("hidden",):
                assert attrs.get("id") in labelled, (path, attrs)


def test_security_headers(site):
    _cfg, _engine, client = site
    headers = client.get("/").headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"


def test_edition_page_new_and_recurring_labelled_by_topic(site):
    _cfg, _engine, client = site
    page = parse_page(client.get(f"/editions/{DAY2}").text)
    text = page.text
    assert text.index("New") < text.index("LongLoRA") < text.index("Back again")
    assert text.index("Back again") < text.index("Efficient Streaming Language Models")
    assert "seen 2 times since 2026-11-20" in text
    tags = [a.get("href") for t, a in page.tags if t == "a" and a.get("class") == "tag"]
    assert "/topics/long-context" in tags


def test_edition_page_topic_filter(site):
    _cfg, _engine, client = site
    text = parse_page(client.get(f"/editions/{DAY2}?topic=retrieval-rag").text).text
    assert "Retrieval-Augmented Generation for Multilingual QA" in text
    assert "Mixture-of-Experts Routing" not in text


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026-11-21"])
def test_edition_page_unknown_is_404(site, day):
    _cfg, _engine, client = site
    assert client.get(f"/editions/{day}").status_code == 404


def test_editions_list_newest_first(site):
    _cfg, _engine, client = site
    text = parse_page(client.get("/editions").text).text
    assert text.index("Mon 23 Nov 2026") < text.index("Fri 20 Nov 2026")
    assert "3 new, 1 back again" in text


def test_topic_page(site):
    _cfg, _engine, client = site
    text = parse_page(client.get("/topics/long-context").text).text
    assert "LongLoRA" in text and "Efficient Streaming" in text
    assert "Dense Passage Retrieval" not in text
    assert client.get("/topics/no-such-topic").status_code == 404


def test_search_by_title(site):
    _cfg, _engine, client = site
    text = parse_page(client.get("/search", params={"q": "longlora"}).text).text
    assert "LongLoRA: Long-Context Fine-Tuning" in text
    assert "Dense Passage" not in text
    wildcard = parse_page(client.get("/search", params={"q": "%"}).text).text
    assert "No paper title contains" in wildcard  # LIKE wildcards are literal


def test_search_reflects_hostile_query_escaped(site):
    _cfg, _engine, client = site
    query = '"><script>alert(1)</script><input onfocus=alert(1) autofocus x="\r\n' + "x" * 10_000
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200
    page = assert_safe_html(response.text)
    value = page.inputs("q")[0]["value"] or ""
    assert value.startswith('"><script>alert(1)</script>')  # shown back as text, cut
    assert len(value) <= 200


def test_hostile_titles_are_escaped_on_every_page(site, now):
    _cfg, engine, client = site
    papers = [(HOSTILE_TITLE, "a long context <b onclick=x>abstract</b> javascript:alert(3)", None)]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(DAY2, papers, source="evil"), now=now)
    assign_pending(engine, load_topics(topics_file(None)))  # as an ingest does
    for path in (f"/editions/{DAY2}", "/topics/long-context", "/search?q=script"):
        response = client.get(path)
        assert response.status_code == 200
        page_ = assert_safe_html(response.text)
        assert "<script>alert(1)</script>" in page_.text, path


def test_topic_page_follows_new_ingests(site, now):
    """The page reads the stored assignments: what an ingest assigned shows at once."""
    _cfg, engine, client = site
    assert "Ring Attention" not in client.get("/topics/long-context").text
    later = DAY2 + timedelta(days=1)
    papers = [("Ring Attention for Long Context", "near-infinite context.", "2310.01889")]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(later, papers), now=now)
    assert "Ring Attention" not in client.get("/topics/long-context").text  # not assigned yet
    assign_pending(engine, load_topics(topics_file(None)))  # what every ingest does next
    assert "Ring Attention for Long Context" in client.get("/topics/long-context").text


def test_feed_of_a_topic_no_longer_configured_is_gone(site, tmp_path):
    """Issue 15.11: feed files of a removed topic were served forever."""
    cfg, _engine, client = site
    stale = cfg.output_dir / "feeds" / "removed-topic.xml"
    stale.write_bytes((cfg.output_dir / "feeds" / "all.xml").read_bytes())
    response = client.get("/feeds/removed-topic.xml")
    assert response.status_code == 410
    assert response.headers["X-Frame-Options"] == "DENY"
