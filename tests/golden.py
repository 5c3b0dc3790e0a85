"""Golden files: compare rendered output with ``tests/golden/<name>``.

``assert_golden(name, actual)`` fails with a unified diff when the bytes differ, and fails when
the golden file is missing (a new golden file is written only on request, then reviewed).
``UPDATE_GOLDEN=1 python3 -m pytest tests/test_render_feeds.py ...`` rewrites the files the
tests compare with (and those tests pass); review the result with ``git diff tests/golden``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def updating() -> bool:
    """True when the run was asked to rewrite golden files (``UPDATE_GOLDEN=1``)."""
    return os.environ.get("UPDATE_GOLDEN", "") not in ("", "0")


def assert_golden(name: str, actual: str | bytes, *, directory: Path = GOLDEN_DIR) -> None:
    """Fail unless ``actual`` (text is UTF-8 encoded) equals the bytes of ``directory/name``."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    path = directory / name
    shown = f"{directory.name}/{name}"
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        return
    if not path.exists():
        pytest.fail(
            f"golden file {shown} is missing: run the test with UPDATE_GOLDEN=1 to write it, "
            "then review it",
            pytrace=False,
        )
    expected = path.read_bytes()
    if data == expected:
        return
    diff = "".join(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            data.decode("utf-8", "replace").splitlines(keepends=True),
            shown,
            "actual",
        )
    )
    pytest.fail(
        f"{name} differs from {shown} (UPDATE_GOLDEN=1 rewrites it):\n{diff or '(bytes differ)'}",
        pytrace=False,
    )
