"""README.md's examples run as written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.topics import load_topics, topics_file

REPO = Path(__file__).resolve().parents[1]


def python_section(title: str) -> str:
    """The first ```python block under the README heading ``title``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, f"no python block under '## {title}'"
    return found.group(1)


def test_use_it_from_python_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "examples" / "pages", tmp_path / "examples" / "pages")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "PAPERBOY_NOW": "2026-11-23T06:00Z"}
    done = subprocess.run(
        [sys.executable, "-c", python_section("Use it from Python")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "3 page(s), 157 paper(s) added"
    topics = len(load_topics(topics_file(None)))
    assert lines[1] == f"{topics + 1} feeds in {tmp_path / 'out' / 'feeds'}"  # and "all"
    assert len(lines) == 5 and lines[2].startswith("2026-09-03 ")  # newest first
    assert (tmp_path / "data" / "paperboy.db").is_file()
