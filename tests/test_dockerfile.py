"""The container runs as a non-root user with an exec-form entrypoint.

docs/reliability.md X8, §3.5.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def test_dockerfile_user_is_non_root_and_entrypoint_exec_form() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].isdigit() and int(users[-1]) != 0
    assert 'ENTRYPOINT ["python", "-m", "pipeline"]' in lines  # Python is PID 1: gets SIGTERM
    assert 'CMD ["schedule"]' in lines


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed")
def test_hadolint_reports_nothing() -> None:
    result = subprocess.run(
        ["hadolint", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")
