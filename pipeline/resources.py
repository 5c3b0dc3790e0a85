"""Files shipped with paperboy (config/, templates/). I/O edge: the file system (lookups only).

In a source checkout they sit at the repository root; an installed wheel carries them as
``pipeline/_resources/<name>`` (pyproject force-includes ``config`` and ``templates`` there).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

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


def code_digest(*modules: ModuleType, salt: str = "") -> str:
    """A short digest of ``salt`` and the source files of ``modules``: what a stored result
    derived by that code is stamped with, so a change to the code invalidates it. Without
    sources (a zipped install) the package version stands for them."""
    digest = hashlib.sha256(salt.encode())
    for module in modules:
        try:
            digest.update(Path(str(module.__file__)).read_bytes())
        except OSError:
            from pipeline import __version__

            digest.update(__version__.encode())
    return digest.hexdigest()[:16]
