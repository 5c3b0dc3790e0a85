"""A real reader (F8): newsboat polls a topic feed over loopback HTTP on two days and shows
exactly the new papers as new, with no duplicate for recurring ones."""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.feeds.publish import render_all_feeds
from pipeline.ingest.saved_pages import ingest_files
from pipeline.topics import load_topics, topics_file
from tests.conftest import make_config, text_page
from tests.feed_checks import check_rss

NEWSBOAT = shutil.which("newsboat")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        NEWSBOAT is None, reason="newsboat not installed (Debian: apt-get install newsboat)"
    ),
]
LONG = "We extend the context window of language models to a million tokens."


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The output folder served over HTTP on 127.0.0.1; yields the base URL."""
    out = tmp_path / "out"
    out.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(5)


def _reload(tmp_path: Path, feed_url: str) -> list[tuple[str, int]]:
    (tmp_path / "urls").write_text(feed_url + "\n")
    (tmp_path / "newsboat.conf").write_text("")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    subprocess.run(
        [NEWSBOAT, "-x", "reload", "-u", "urls", "-c", "cache.db", "-C", "newsboat.conf"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    with sqlite3.connect(tmp_path / "cache.db") as db:
        return db.execute(
            "SELECT guid, unread FROM rss_item WHERE feedurl = ? AND deleted = 0", (feed_url,)
        ).fetchall()


def _day(tmp_path, engine, now, name, listing, titles):
    page = tmp_path / "pages" / name
    page.parent.mkdir(exist_ok=True)
    page.write_text(text_page(listing, [(t, LONG) for t in titles]), encoding="utf-8")
    assert ingest_files([page], engine=engine, now=now).ok


def test_newsboat_shows_only_new_papers_as_new(tmp_path, engine, now, served):
    cfg = make_config(tmp_path, output={"site_url": served})
    topics = load_topics(topics_file(None))
    feed_url = f"{served}feeds/long-context.xml"
    feed_file = tmp_path / "out" / "feeds" / "long-context.xml"

    _day(tmp_path, engine, now, "d1.txt", "Nov 20", ["Long Context A", "Long Context B", "KV C"])
    render_all_feeds(cfg, engine=engine, topics=topics, now=now)
    day1 = [guid for guid, _ in check_rss(feed_file.read_bytes())]
    seen = _reload(tmp_path, feed_url)
    assert sorted(seen) == sorted((guid, 1) for guid in day1)

    with sqlite3.connect(tmp_path / "cache.db") as db:  # the user reads everything
        db.execute("UPDATE rss_item SET unread = 0")

    _day(tmp_path, engine, now, "d2.txt", "Nov 21", ["Long Context D", "Long Context B", "KV E"])
    render_all_feeds(cfg, engine=engine, topics=topics, now=now)
    day2 = [guid for guid, _ in check_rss(feed_file.read_bytes())]
    new = set(day2) - set(day1)
    assert len(new) == 2
    seen = _reload(tmp_path, feed_url)
    guids = [guid for guid, _ in seen]
    assert len(guids) == len(set(guids)) == 5, "duplicate items in the reader"
    assert {guid for guid, unread in seen if unread} == new
    print(f"newsboat: day 2 unread {len(new)} of {len(new)} new papers, duplicates 0")
