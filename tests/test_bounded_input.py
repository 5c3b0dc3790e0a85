"""Every byte paperboy reads from a local path is bounded, and only regular files are read.

Issue 15.6: the 20 MB limit was checked on the file size only, so ``paperboy ingest /dev/zero``
grew to 7.6 GB in 12 s and a FIFO hung forever. The commands run in a child process with an
address-space limit and a timeout, so the code before the fix fails these tests instead of
taking the machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, text_page

MEMORY_LIMIT = 1_500_000_000  # bytes of address space for the child (paperboy needs ~150 MB)
TIMEOUT = 60  # seconds; the fixed code answers in about one


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def paperboy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pipeline ARGS`` in tmp_path on the embedded defaults, memory- and time-bound."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "PAPERBOY_NOW": "2026-11-23T08:00:00+00:00",
        "HOME": str(tmp_path),
    }
    try:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT,
            preexec_fn=_limited,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"paperboy {' '.join(args)} still running after {TIMEOUT} s")


def test_ingest_of_a_character_device_is_refused_at_once(tmp_path: Path) -> None:
    done = paperboy(tmp_path, "ingest", "/dev/zero")
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.splitlines()[0] == (
        "Error: /dev/zero: not a regular file (a character device): give a saved page file"
    )


def test_ingest_of_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "page.txt"
    os.mkfifo(fifo)
    done = paperboy(tmp_path, "ingest", str(fifo))
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"Error: {fifo}: not a regular file (a FIFO)" in done.stderr


def test_special_files_inside_a_folder_are_reported_not_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    os.mkfifo(folder / "a-fifo.txt")
    (folder / "b-zero.txt").symlink_to("/dev/zero")
    (folder / "c-good.txt").write_text(text_page("Mar 13", [("Fine paper", "Fine")]))
    done = paperboy(tmp_path, "ingest", str(folder))
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        f"Error: {folder / 'a-fifo.txt'}: not a regular file (a FIFO): give a saved page file",
        f"Error: {folder / 'b-zero.txt'}: not a regular file (a character device): "
        "give a saved page file",
    ]
    assert "c-good.txt" in done.stdout


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_config_topics_and_csv_from_special_files_are_refused(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    done = paperboy(tmp_path, "--config", special, "papers")
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {special}: cannot read config file: not a regular")
    config = tmp_path / "paperboy.toml"
    config.write_text(f'topics_file = "{special}"\n')
    done = paperboy(tmp_path, "--config", str(config), "topics", "list")
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {special}: cannot read topics file: not a regular")
    done = paperboy(tmp_path, "subscribers", "import", special)
    assert done.returncode in (1, 2)
    assert "not a regular file" in done.stderr or "is not a file" in done.stderr


def test_csv_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "subs.csv"
    with big.open("wb") as handle:
        handle.write(b"email,topics\n")
        handle.truncate(60_000_000)  # sparse
    done = paperboy(tmp_path, "subscribers", "import", str(big))
    assert done.returncode == 1
    assert f"Error: {big}: file is 60.0 MB, over the 20 MB limit" in done.stderr
