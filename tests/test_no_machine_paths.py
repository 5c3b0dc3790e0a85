"""No file of tests/, bench/, scripts/, examples/ or docs/ names an absolute path of a machine.

Data, archives and tools are found through the repository (``Path(__file__)``), an environment
variable (``PAPERBOY_HF_ARCHIVE``) or a command-line option, so the suite means the same on every
machine (a test that skips wherever one machine's folder is missing hides what it checks).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("tests", "bench", "scripts", "examples", "docs")
# a path starting at / (or ~) in a home or workspace folder; URLs (https://x.org/home/...) and
# relative paths (../work/) are not matched: the slash must follow a line start, a space,
# a quote, a bracket, '=', ':' or '~'
ROOTS = "|".join(["work", "root", "home", "Users", "mnt/data"])
MACHINE_PATH = re.compile(r"(?:^|[\s\"'`(\[=:~])/(?:" + ROOTS + r")/", re.MULTILINE)
SKIP_PARTS = {"__pycache__", ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def _text_files() -> list[Path]:
    files = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and not SKIP_PARTS & set(path.relative_to(REPO).parts):
                files.append(path)
    return files


def test_no_absolute_machine_paths() -> None:
    found = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (images)
        for match in MACHINE_PATH.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(REPO)}:{line}: {match.group().strip()}...")
    assert not found, "absolute paths of a machine (use the repo, an env var or an option):\n" + (
        "\n".join(found)
    )


def test_the_pattern_finds_paths_and_spares_urls() -> None:
    home = "/" + "home"  # spelled in two pieces so this file passes its own test
    assert MACHINE_PATH.search(f'ARCHIVE = Path("{home}/me/data")')
    assert MACHINE_PATH.search(f"needs {home}/me/archive")
    assert MACHINE_PATH.search(f"/{'work'}/shared/x")
    assert not MACHINE_PATH.search(f"https://example.org{home}/page")
    assert not MACHINE_PATH.search(f"..{home}/x")
    assert len(_text_files()) > 50
