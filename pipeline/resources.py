"""Files shipped with paperboy (config/, templates/). I/O edge: the file system (lookups only).

In a source checkout they sit at the repository root; an installed wheel carries them as
``pipeline/_resources/<name>`` (pyproject force-includes ``config`` and ``templates`` there).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
# Installed wheel first, then the source checkout (repository root next to pipeline/).
_ROOTS = (_PACKAGE / "_resources", _PACKAGE.parent)


def resource_path(relative: str) -> Path:
    """The shipped file or folder ``relative`` (e.g. ``config/topics.toml``, ``templates``)."""
    for root in _ROOTS:
        candidate = root / relative
        if candidate.exists():
            return candidate
    looked = ", ".join(str(root / relative) for root in _ROOTS)
    raise ConfigError(f"shipped resource {relative!r} is missing (looked in {looked})")
