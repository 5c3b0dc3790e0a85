"""Archive pages: home, editions, one edition, one topic, title search, and the feed files.

I/O edge: HTTP handlers over the store (read transactions) and the output folder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pipeline.feeds.items import ALL_SLUG
from pipeline.feeds.publish import FEED_NAME, FEEDS_DIR, INDEX_NAME
from pipeline.records import Edition, StoredPaper
from pipeline.store.archive import EditionSummary, list_editions, search_titles
from pipeline.store.editions import select_edition
from pipeline.store.engine import read_session
from pipeline.store.paper_meta import with_metadata
from pipeline.store.papers import last_listing_date
from pipeline.store.topic_papers import topic_papers, with_topics
from pipeline.web.conditional import MEDIA_TYPES, etag_for, http_date, is_not_modified
from pipeline.web.context import web_of
from pipeline.web.views import clean_query, papers_view, topic_view

TOPIC_LIMIT = 50  # newest papers shown on a topic page
FEED_CACHE_SECONDS = 900  # readers poll every few minutes to hours; feeds change once a day


async def home(request: Request) -> Response:
    """Topics with their feeds, the latest edition, the search form."""
    web = web_of(request)

    def load() -> tuple[date | None, list[EditionSummary]]:
        with read_session(web.engine) as session:
            return last_listing_date(session=session), list_editions(session=session, limit=7)

    latest, recent = await run_in_threadpool(load)
    context = {"topics": [topic_view(t) for t in web.topics], "latest": latest, "recent": recent}
    return web.page("home", context)


async def editions(request: Request) -> Response:
    """Every edition, newest first."""
    web = web_of(request)

    def load() -> list[EditionSummary]:
        with read_session(web.engine) as session:
            return list_editions(session=session)

    return web.page("editions", {"editions": await run_in_threadpool(load)})


async def edition(request: Request) -> Response:
    """One edition's new and recurring papers, labelled by topic (``?topic=`` filters)."""
    web = web_of(request)
    try:
        day = date.fromisoformat(str(request.path_params["day"]))
    except ValueError:
        return web.message("Not found", "There is no edition at this address.", status=404)
    slug = request.query_params.get("topic", "")
    chosen = web.topic(slug)

    def load() -> Edition:
        with read_session(web.engine) as session:
            return select_edition(session=session, day=day, topics=web.topics)

    found = await run_in_threadpool(load)
    shown = found.for_topics([chosen.slug]) if chosen else found
    if found.empty:
        return web.message("Not found", f"No papers were listed on {day.isoformat()}.", status=404)
    context = {
        "day": day.isoformat(),
        "day_long": day.strftime("%A %-d %B %Y"),
        "topic": topic_view(chosen) if chosen else None,
        "topics": [topic_view(t) for t in web.topics],
        "new": papers_view(shown.new, web.titles),
        "recurring": papers_view(shown.recurring, web.titles),
    }
    return web.page("edition", context)


async def topic(request: Request) -> Response:
    """A topic's newest papers and its feeds."""
    web = web_of(request)
    chosen = web.topic(str(request.path_params["slug"]))
    if chosen is None:
        return web.message("Not found", "There is no topic at this address.", status=404)

    def load() -> list[StoredPaper]:
        # The stored assignments, one index range (pipeline.store.topic_papers): no scoring.
        with read_session(web.engine) as session:
            picked = topic_papers(session=session, slug=chosen.slug, limit=TOPIC_LIMIT)
            order = [t.slug for t in web.topics]
            labelled = with_topics(session=session, papers=[p for p, _ in picked], order=order)
            return with_metadata(session=session, papers=labelled)  # current upvotes

    papers = await run_in_threadpool(load)
    context = {"topic": topic_view(chosen), "papers": papers_view(papers, web.titles)}
    return web.page("topic", context)


async def search(request: Request) -> Response:
    """Papers whose title contains ``?q=``."""
    web = web_of(request)
    query = clean_query(request.query_params.get("q"))

    def load() -> list[StoredPaper]:
        if not query:
            return []
        with read_session(web.engine) as session:
            found = search_titles(session=session, query=query, topics=web.topics)
            return with_metadata(session=session, papers=found)

    papers = await run_in_threadpool(load)
    context = {"q": query, "papers": papers_view(papers, web.titles)}
    return web.page("search", context)


def _feed_response(path: Path, request: Request) -> Response:
    data = path.read_bytes()
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    etag = etag_for(data)
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(modified),
        "Cache-Control": f"public, max-age={FEED_CACHE_SECONDS}",
    }
    if is_not_modified(request.headers, etag=etag, modified=modified):
        return Response(status_code=304, headers=headers)
    media_type = MEDIA_TYPES[path.suffix]
    body = b"" if request.method == "HEAD" else data
    response = Response(body, headers=headers, media_type=media_type)
    response.headers["Content-Length"] = str(len(data))
    return response


async def feed_file(request: Request) -> Response:
    """A file of <output>/feeds/ with its feed type, ETag and Last-Modified (304 when current)."""
    web = web_of(request)
    name = str(request.path_params.get("name", INDEX_NAME))
    path = web.cfg.output_dir / FEEDS_DIR / name
    if not FEED_NAME.match(name) or not path.is_file():
        return web.message("Not found", "There is no feed at this address.", status=404)
    slug = name.rsplit(".", 1)[0]
    if name != INDEX_NAME and slug != ALL_SLUG and web.topic(slug) is None:
        # a topic removed from the configuration: its old file is not served (issue 15.11)
        return web.message(
            "Gone", "This feed's topic was removed; unsubscribe from it in your reader.", status=410
        )
    return await run_in_threadpool(_feed_response, path, request)
