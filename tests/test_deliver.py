"""Atomic feed writes: replace, skip identical bytes, mode 0644, errors."""

from __future__ import annotations

import os
import stat

import pytest

from pipeline.errors import DeliveryError
from pipeline.feeds.write import write_feed


def test_write_feed_writes_then_skips_identical_bytes(tmp_path):
    path = tmp_path / "feeds" / "all.xml"
    os.umask(0o077)  # even a strict umask must give a world-readable feed
    try:
        assert write_feed(path, b"<rss>1</rss>") is True
    finally:
        os.umask(0o022)
    assert path.read_bytes() == b"<rss>1</rss>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert write_feed(path, b"<rss>1</rss>") is False
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert write_feed(path, b"<rss>2</rss>") is True
    assert path.read_bytes() == b"<rss>2</rss>"
    assert sorted(p.name for p in path.parent.iterdir()) == ["all.xml"]  # no temp left


def test_write_feed_reports_unwritable_folder(tmp_path):
    blocker = tmp_path / "feeds"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match=r"feeds/all.xml: cannot write feed file"):
        write_feed(blocker / "all.xml", b"<rss/>")
