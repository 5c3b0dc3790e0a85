"""GET /health: the status of ``paperboy status --json`` for monitoring.

I/O edge: an HTTP handler over the facade's health check (a read transaction). 200 when nothing
needs a person, 503 when something does (the rules: :mod:`pipeline.health`), so an uptime
checker pages someone. The body holds no secret and no subscriber address: counts, dates, source
names and their last fetch errors.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pipeline.health import health_json
from pipeline.web.context import web_of


async def health(request: Request) -> Response:
    """The health report as JSON: 200 healthy, 503 needs a person."""
    web = web_of(request)
    report = await run_in_threadpool(web.pb.status)
    return JSONResponse(
        health_json(report, web.cfg.health),
        status_code=200 if report.ok else 503,
        headers={"Cache-Control": "no-store"},
    )
