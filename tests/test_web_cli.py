"""``paperboy serve`` as a real process: it listens where told and serves pages and feeds."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from pipeline.store.engine import init_db, make_engine
from tests.email_support import free_port
from tests.web_support import seeded, web_config


@pytest.mark.slow
def test_serve_command_serves_pages_and_feeds(tmp_path, now):
    port = free_port()
    (tmp_path / "paperboy.toml").write_text(
        f'[output]\nsite_url = "http://127.0.0.1:{port}/"\ndir = "out"\n'
        '[store]\ndatabase_url = "sqlite:///data/paperboy.db"\n'
    )
    cfg = web_config(tmp_path, site_url=f"http://127.0.0.1:{port}/")
    engine = make_engine(cfg.database_url)
    init_db(engine)
    seeded(cfg, engine, now)
    engine.dispose()
    env = {**os.environ, "PAPERBOY_SECRET": "cli-test"}
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "--config",
        str(tmp_path / "paperboy.toml"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                home = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.ConnectError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert home.status_code == 200
        assert "Long context" in home.text
        feed = httpx.get(f"http://127.0.0.1:{port}/feeds/all.xml")
        assert feed.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert "server" not in feed.headers
    finally:
        proc.terminate()
        proc.wait(timeout=10)
