"""paperboy: daily research-paper digest pages to per-topic feeds and email digests.

Use it from Python through :func:`open_paperboy` (see ``pipeline.app``); from the shell through
the ``paperboy`` command (``pipeline.cli``). Importing the package does no work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.app import Paperboy

__version__ = "0.1.0"
__all__ = ["__version__", "open_paperboy"]


def open_paperboy(config: Any = None, **options: Any) -> Paperboy:
    """A :class:`~pipeline.app.Paperboy` for ``config`` (a TOML path, a Config, or None for
    ``$PAPERBOY_CONFIG`` / the embedded defaults); use it as a context manager."""
    from pipeline.app import open_paperboy as _open

    return _open(config, **options)
