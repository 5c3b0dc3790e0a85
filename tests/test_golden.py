"""The golden-file helper: a diff on mismatch, a failure when the file is missing, UPDATE_GOLDEN."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import assert_golden


@pytest.fixture(autouse=True)
def _no_update(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)


def test_matching_file_passes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"one\ntwo\n")
    assert_golden("a.txt", "one\ntwo\n", directory=tmp_path)
    assert_golden("a.txt", b"one\ntwo\n", directory=tmp_path)


def test_missing_file_fails_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"golden file .*/new\.xml is missing"):
        assert_golden("new.xml", "<x/>", directory=tmp_path)
    assert not (tmp_path / "new.xml").exists()


def test_mismatch_shows_a_unified_diff(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    with pytest.raises(pytest.fail.Exception) as info:
        assert_golden("a.txt", "one\n2\nthree\n", directory=tmp_path)
    message = str(info.value)
    assert "a.txt differs" in message
    assert "\n-two\n+2\n" in message
    assert (tmp_path / "a.txt").read_text() == "one\ntwo\nthree\n"  # left alone


def test_update_golden_writes_and_passes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    assert_golden("sub/new.txt", "fresh\n", directory=tmp_path)  # missing: written
    assert (tmp_path / "sub" / "new.txt").read_text() == "fresh\n"
    assert_golden("sub/new.txt", "changed\n", directory=tmp_path)  # differs: rewritten
    assert (tmp_path / "sub" / "new.txt").read_text() == "changed\n"
    monkeypatch.setenv("UPDATE_GOLDEN", "0")
    with pytest.raises(pytest.fail.Exception):
        assert_golden("sub/new.txt", "other\n", directory=tmp_path)
