"""The one error family of paperboy.

Every error a user can meet derives from :class:`PipelineError`; the CLI turns it into
``Error: <message>`` and a non-zero exit status. Context lives in attributes, not only in
the message, so callers (reports, JSON output) can use it::

    PipelineError
    ├── ConfigError      a config file or environment value is wrong (names file and key)
    ├── ParseError       a page could not be read or parsed (names the file/URL and the problem)
    ├── FetchError       a URL could not be fetched (names the URL and the status)
    ├── StoreError       the database refused or is in a state we cannot use
    │   └── LockedError  another paperboy run holds the job lock
    ├── RenderError      a template or feed could not be rendered (names the template)
    └── DeliveryError    a feed could not be written or a message not sent (names the host/path)
"""

from __future__ import annotations

from datetime import datetime


class PipelineError(Exception):
    """Base of every error paperboy reports to its user."""


class ConfigError(PipelineError):
    """A configuration file, key or environment value is invalid."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ParseError(PipelineError):
    """A page could not be parsed; ``source`` names the file or URL."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


class FetchError(PipelineError):
    """A URL could not be fetched."""

    def __init__(
        self,
        url: str,
        detail: str,
        *,
        status: int | None = None,
        deferred_until: datetime | None = None,
        source_unreachable: bool = False,
    ) -> None:
        self.url = url
        self.status = status
        self.detail = detail
        # set when the server asked us to wait longer than we will: try again after this time
        self.deferred_until = deferred_until
        # the deadline passed or no connection could be made: the other dates of this source
        # would fail the same way, so a run skips them (issue 15.7)
        self.source_unreachable = source_unreachable
        super().__init__(f"{url}: {detail}")


class StoreError(PipelineError):
    """The store could not be opened, read or written."""


class LockedError(StoreError):
    """Another paperboy run holds the job lock (not a failure: the other run does the work)."""


class RenderError(PipelineError):
    """A template or a feed could not be rendered."""

    def __init__(self, template: str, detail: str) -> None:
        self.template = template
        self.detail = detail
        super().__init__(f"{template}: {detail}")


class DeliveryError(PipelineError):
    """A feed file could not be written or a message could not be sent."""

    def __init__(self, target: str, detail: str) -> None:
        self.target = target
        self.detail = detail
        super().__init__(f"{target}: {detail}")
