"""The real pages in headless chromium: subscribe, confirm from the mail an aiosmtpd server got,
change topics, unsubscribe by the page's button and by an RFC 8058 one-click POST.

Skipped (with the reason) when playwright or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import time

import httpx
import pytest

from pipeline.addresses import unsubscribe_token
from pipeline.store.engine import read_session, write_session
from pipeline.store.subscribers import add_subscriber, select_subscribers
from tests.email_support import SECRET, Sink, free_port, smtp_sink
from tests.live_server import chromium, chromium_missing, live_server
from tests.web_support import CONFIRM_LINK, Clock, build_app, seeded, web_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing())),
]


def statuses(engine):
    with read_session(engine) as session:
        return {s.email: (s.status, s.topics) for s in select_subscribers(session=session)}


def wait_for_mail(sink, count=1, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.05)
    return sink.messages[count - 1]


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def live(tmp_path, engine, now, browser):
    port = free_port()
    sink = Sink()
    with smtp_sink(sink) as smtp_port:
        cfg = web_config(
            tmp_path, site_url=f"http://127.0.0.1:{port}/", smtp_url=f"smtp://127.0.0.1:{smtp_port}"
        )
        seeded(cfg, engine, now)
        app = build_app(cfg, engine, Clock(now))
        with live_server(app, port) as base:
            page = browser.new_page()
            yield base, page, sink, engine
            page.close()


def test_browser_subscribe_confirm_change_topics_unsubscribe(live):
    base, page, sink, engine = live
    page.goto(base + "/")
    page.get_by_role("link", name="Subscribe", exact=True).first.click()
    page.get_by_label("Email address").fill("ann@example.org")
    page.get_by_label("Long context").check()
    assert page.get_by_label("Daily").is_checked()
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Send me a confirmation link").click()
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert statuses(engine) == {}

    message = wait_for_mail(sink)
    assert message["To"] == "ann@example.org"
    link = CONFIRM_LINK.search(message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(base + "/confirm/")
    page.goto(link)
    assert statuses(engine) == {}  # opening the link (as a scanner would) confirms nothing
    page.get_by_role("button", name="Confirm subscription").click()
    assert page.get_by_role("heading", name="You are subscribed").is_visible()
    assert page.get_by_text("A digest will arrive each Monday").is_visible()
    assert statuses(engine) == {"ann@example.org": ("active", ("long-context",))}

    page.get_by_role("link", name="Change your topics").click()
    page.get_by_label("Long context").uncheck()
    page.get_by_label("Retrieval & RAG").check()
    assert page.get_by_label("Weekly").is_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("Your choices are saved.").is_visible()
    assert statuses(engine) == {"ann@example.org": ("active", ("retrieval-rag",))}

    page.get_by_role("link", name="Unsubscribe", exact=True).last.click()
    assert statuses(engine)["ann@example.org"][0] == "active"  # the GET page only asks
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", name="Unsubscribed").is_visible()
    assert statuses(engine)["ann@example.org"][0] == "unsubscribed"


def test_browser_one_click_post_over_http(live, now):
    base, _page, _sink, engine = live
    with write_session(engine) as session:
        record, _ = add_subscriber(
            session=session, email="bob@example.org", topics=["efficiency"], secret=SECRET, now=now
        )
    url = f"{base}/unsubscribe/{unsubscribe_token(SECRET, record.token_nonce)}"
    assert httpx.get(url).status_code == 200
    assert statuses(engine)["bob@example.org"][0] == "active"
    response = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
    assert response.status_code == 200
    assert statuses(engine)["bob@example.org"][0] == "unsubscribed"


def test_browser_keyboard_skip_link_and_search(live):
    base, page, _sink, _engine = live
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search paper titles").fill("longlora")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=longlora")
    assert page.get_by_role("link", name="LongLoRA: Long-Context Fine-Tuning").is_visible()
    page.goto(base + "/editions/2026-11-23")
    assert page.get_by_role("heading", name="Back again").is_visible()
    assert page.locator("script").count() == 0
