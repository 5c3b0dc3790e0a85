"""paperboy serve, write side: double opt-in, tokens, CSRF, honeypot, limits, hostile input."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from pipeline.mail.send import prepare_edition
from pipeline.store.engine import read_session, write_session
from pipeline.store.subscribe_requests import RateLimits
from pipeline.store.subscribers import remove_subscriber, select_subscribers
from pipeline.store.tables import SubscribeRequest
from pipeline.web.tokens import Tokens
from tests.conftest import NOW
from tests.email_support import DAY2, make_job, seed
from tests.web_support import (
    SITE,
    Clock,
    assert_safe_html,
    build_app,
    confirm_link,
    csrf_of,
    eml_messages,
    parse_page,
    subscribe_form,
    web_config,
)


@pytest.fixture
def clock(now):
    return Clock(now)


@pytest.fixture
def site(tmp_path, engine, clock):
    cfg = web_config(tmp_path)
    client = TestClient(build_app(cfg, engine, clock), base_url=SITE)
    return cfg, engine, client


def subscribers(engine):
    with read_session(engine) as session:
        return {s.email: (s.status, s.topics) for s in select_subscribers(session=session)}


def post_subscribe(client, email, *topics, **extra):
    csrf = csrf_of(client, "/subscribe")
    return client.post("/subscribe", data=subscribe_form(csrf, email, *topics, **extra))


def local(url):
    assert url.startswith(SITE + "/"), url
    return url[len(SITE) :]


def test_subscribe_mails_a_confirmation_and_subscribes_nobody(site):
    cfg, engine, client = site
    response = post_subscribe(client, "Ann@Example.org", "long-context", "retrieval-rag")
    assert response.status_code == 200
    assert "Check your inbox" in parse_page(response.text).text
    [message] = eml_messages(cfg)
    assert message["To"] == "Ann@example.org"
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    assert message["Subject"] == "Confirm your paperboy subscription"
    assert "Long context" in message.get_body(("plain",)).get_content()
    assert confirm_link(message).startswith(SITE + "/confirm/")
    assert "ann@example.org" not in confirm_link(message).lower()
    assert subscribers(engine) == {}


def test_pending_request_gets_no_digest(site, now):
    _cfg, engine, client = site
    seed(engine, now)
    post_subscribe(client, "ann@example.org", "long-context")
    _edition, report = prepare_edition(engine=engine, day=DAY2, job=make_job(), now=now)
    assert report.planned == 0


def test_confirm_get_changes_nothing_post_subscribes_once(site):
    cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    path = local(confirm_link(eml_messages(cfg)[0]))
    page = client.get(path)
    assert page.status_code == 200
    assert subscribers(engine) == {}
    forms = [a for t, a in parse_page(page.text).tags if t == "form" and a["method"] == "post"]
    assert [f["action"] for f in forms] == [path]
    done = client.post(path)
    assert done.status_code == 200
    assert subscribers(engine) == {"ann@example.org": ("active", ("long-context",))}
    manage = [a["href"] for t, a in parse_page(done.text).tags if t == "a" and "href" in a]
    assert any(h.startswith("/unsubscribe/") for h in manage)


def test_replayed_confirmation_changes_nothing(site, clock):
    cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    path = local(confirm_link(eml_messages(cfg)[0]))
    assert client.post(path).status_code == 200
    with write_session(engine) as session:
        remove_subscriber(session=session, email="ann@example.org", now=clock())
    replay = client.post(path)
    assert replay.status_code == 410
    assert "already used" in parse_page(replay.text).text
    assert subscribers(engine)["ann@example.org"][0] == "unsubscribed"


def test_expired_confirmation_is_410_and_changes_nothing(site, clock):
    cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    path = local(confirm_link(eml_messages(cfg)[0]))
    clock.advance(hours=47)
    assert client.get(path).status_code == 200
    clock.advance(hours=2)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "expired" in parse_page(response.text).text
    assert subscribers(engine) == {}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "WzEsImFiYyJd" + t[t.index(".") :],  # payload swapped
        lambda _t: "x" * 5000,
        lambda _t: "<script>alert(1)</script>",
        lambda _t: "",
    ],
)
def test_forged_confirmation_is_400(site, mangle):
    cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    token = confirm_link(eml_messages(cfg)[0]).rsplit("/", 1)[1]
    path = "/confirm/" + mangle(token)
    for response in (client.get(path), client.post(path)):
        assert response.status_code in (400, 404)
        assert_safe_html(response.text)
    assert subscribers(engine) == {}


def test_confirmation_signed_with_another_secret_is_400(site, clock):
    _cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    forged = Tokens(secret=b"guess", clock=clock).confirm_token(1, "ann@example.org")
    assert client.post(f"/confirm/{forged}").status_code == 400
    assert subscribers(engine) == {}


def test_confirmation_for_another_request_id_is_400(site, clock):
    _cfg, engine, client = site
    post_subscribe(client, "ann@example.org", "long-context")
    tokens = client.app.state.web.tokens
    assert client.post(f"/confirm/{tokens.confirm_token(1, 'eve@example.org')}").status_code == 400
    assert client.post(f"/confirm/{tokens.confirm_token(99, 'ann@example.org')}").status_code == 400
    assert subscribers(engine) == {}


def test_csrf_missing_foreign_or_stale_token_is_403(site, clock, tmp_path, engine):
    cfg, _engine, client = site
    no_token = client.post("/subscribe", data=subscribe_form("", "ann@example.org", "long-context"))
    assert no_token.status_code == 403
    other = TestClient(client.app, base_url=SITE)
    foreign = csrf_of(other, "/subscribe")  # signed by us, bound to another browser's cookie
    client.get("/subscribe")
    response = client.post(
        "/subscribe", data=subscribe_form(foreign, "ann@example.org", "long-context")
    )
    assert response.status_code == 403
    stale = csrf_of(client, "/subscribe")
    clock.advance(hours=13)
    response = client.post(
        "/subscribe", data=subscribe_form(stale, "ann@example.org", "long-context")
    )
    assert response.status_code == 403
    assert "expired" in parse_page(response.text).text
    assert eml_messages(cfg) == []


def test_honeypot_pretends_success_and_sends_nothing(site):
    cfg, engine, client = site
    response = post_subscribe(client, "ann@example.org", "long-context", website="http://spam")
    assert response.status_code == 200
    assert "Check your inbox" in parse_page(response.text).text
    assert eml_messages(cfg) == []
    with read_session(engine) as session:
        assert session.exec(select(SubscribeRequest)).all() == []


HOSTILE = [
    "<script>alert(1)</script>",
    '" onfocus="alert(1)" autofocus="',
    "'><img src=x onerror=alert(1)>",
    "ann@example.org\r\nBcc: eve@example.org",
    "ann@example.org\nSubject: hi",
    "javascript:alert(1)",
    "a" * 10_000,
    "ann@" + "a" * 10_000 + ".org",
    "=?UTF-8?Q?=0A?=Bcc: eve@example.org",
    "=?UTF-8?Q?a=0A?=@example.org",  # issue 15.2: was a bare 500, stored as mailed
    "\x00\x1b[31m",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_email_field_is_refused_and_escaped(site, value):
    cfg, engine, client = site
    response = post_subscribe(client, value, "long-context")
    assert response.status_code == 400
    page = assert_safe_html(response.text)
    assert "valid email address" in page.text
    [email_input] = page.inputs("email")
    assert set(email_input) <= {
        "id",
        "name",
        "type",
        "autocomplete",
        "required",
        "maxlength",
        "value",
        "aria-describedby",
    }
    assert eml_messages(cfg) == []
    assert subscribers(engine) == {}
    assert response.headers["X-Frame-Options"] == "DENY"
    with read_session(engine) as session:
        assert [row.mailed for row in session.exec(select(SubscribeRequest))] == []


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_topics_are_refused_and_escaped(site, value):
    cfg, _engine, client = site
    response = post_subscribe(client, "ann@example.org", value)
    assert response.status_code == 400
    page = assert_safe_html(response.text)
    assert "choose one or more of the topics" in page.text
    assert value not in response.text  # unknown topics are not echoed
    assert eml_messages(cfg) == []


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_csrf_and_honeypot_fields(site, value):
    cfg, _engine, client = site
    bad_csrf = client.post(
        "/subscribe", data=subscribe_form(value, "ann@example.org", "long-context")
    )
    assert bad_csrf.status_code == 403
    assert_safe_html(bad_csrf.text)
    assert (
        post_subscribe(client, "ann@example.org", "long-context", website=value).status_code == 200
    )
    assert eml_messages(cfg) == []


def test_address_with_trailing_crlf_is_normalised_no_header_injected(site):
    cfg, _engine, client = site
    assert post_subscribe(client, " ann@example.org\r\n", "long-context").status_code == 200
    [message] = eml_messages(cfg)
    assert message["To"] == "ann@example.org"
    assert message["Bcc"] is None
    assert sorted(message.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )


def test_oversized_body_is_413_and_files_are_refused(site):
    cfg, _engine, client = site
    csrf = csrf_of(client, "/subscribe")
    big = client.post("/subscribe", data={"csrf": csrf, "email": "a" * 100_000})
    assert big.status_code == 413
    files = client.post(
        "/subscribe",
        data={"csrf": csrf, "email": "ann@example.org", "topics": "long-context"},
        files={"upload": ("x.txt", b"data")},
    )
    assert files.status_code == 400
    assert eml_messages(cfg) == []


def test_address_limit_one_per_ten_minutes_and_three_a_day(site, clock):
    cfg, _engine, client = site
    assert post_subscribe(client, "ann@example.org", "long-context").status_code == 200
    again = post_subscribe(client, "ANN@example.org", "long-context")
    assert again.status_code == 429
    assert len(eml_messages(cfg)) == 1
    for expected in (200, 200, 429):
        clock.advance(minutes=11)
        assert post_subscribe(client, "ann@example.org", "long-context").status_code == expected
    assert len(eml_messages(cfg)) == 3
    clock.advance(hours=24)
    assert post_subscribe(client, "ann@example.org", "long-context").status_code == 200


def test_ip_limit_survives_a_restart(tmp_path, engine, clock):
    cfg = web_config(tmp_path)
    limits = RateLimits(ip_per_hour=3)
    client = TestClient(build_app(cfg, engine, clock, limits=limits), base_url=SITE)
    for n in range(3):
        assert post_subscribe(client, f"p{n}@example.org", "long-context").status_code == 200
    restarted = TestClient(build_app(cfg, engine, clock, limits=limits), base_url=SITE)
    response = post_subscribe(restarted, "p9@example.org", "long-context")
    assert response.status_code == 429
    assert "Too many" in parse_page(response.text).text
    assert len(eml_messages(cfg)) == 3
    clock.advance(minutes=61)
    assert post_subscribe(restarted, "p9@example.org", "long-context").status_code == 200


def test_failed_delivery_is_503_and_does_not_count(tmp_path, engine, clock):
    cfg = web_config(tmp_path, smtp_url="smtp://127.0.0.1:9")  # nothing listens on port 9
    client = TestClient(build_app(cfg, engine, clock), base_url=SITE)
    assert post_subscribe(client, "ann@example.org", "long-context").status_code == 503
    with read_session(engine) as session:
        mailed = [row.mailed for row in session.exec(select(SubscribeRequest))]
    assert mailed == [False]


def test_subscribe_to_everything_from_the_form(site):
    """The form offers "Everything" (all): confirmed, it is the subscription to every paper."""
    cfg, engine, client = site
    form = parse_page(client.get("/subscribe").text)
    boxes = [a for t, a in form.tags if t == "input" and a.get("name") == "topics"]
    assert boxes[0]["value"] == "all" and "Everything" in form.text
    post_subscribe(client, "ann@example.org", "all", "long-context")  # all stands alone
    [message] = eml_messages(cfg)
    assert "Everything" in message.get_body(("plain",)).get_content()
    done = client.post(local(confirm_link(message)))
    assert "Everything" in parse_page(done.text).text
    assert subscribers(engine) == {"ann@example.org": ("active", ("all",))}


def test_unexpected_error_is_a_500_page_with_security_headers_and_nothing_counts_as_mailed(
    site, monkeypatch
):
    """Issue 15.2: an exception while mailing gave a bare 500 (no CSP) and left the request
    recorded as mailed although nothing was sent."""
    cfg, engine, _client = site

    def broken(*_args, **_kwargs):
        raise ValueError("invalid arguments; address parts cannot contain CR or LF")

    monkeypatch.setattr("pipeline.web.subscription.confirmation_message", broken)
    client = TestClient(build_app(cfg, engine, Clock(NOW)), base_url=SITE)
    response = post_subscribe(client, "ann@example.org", "long-context")
    assert response.status_code == 500
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"
    assert "did not work" in parse_page(response.text).text
    with read_session(engine) as session:
        assert [row.mailed for row in session.exec(select(SubscribeRequest))] == [False]
    assert eml_messages(cfg) == []


def frequencies(engine):
    with read_session(engine) as session:
        return {s.email: s.frequency for s in select_subscribers(session=session)}


def test_subscribe_form_offers_daily_or_weekly_and_confirming_applies_it(site):
    cfg, engine, client = site
    page = parse_page(client.get("/subscribe").text)
    radios = page.inputs("frequency")
    assert [(r["value"], "checked" in r) for r in radios] == [("daily", True), ("weekly", False)]
    post_subscribe(client, "ann@example.org", "long-context", frequency="weekly")
    [message] = eml_messages(cfg)
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "at this\naddress, weekly, for these topics" in body
    done = client.post(local(confirm_link(message)))
    assert "each Monday" in parse_page(done.text).text
    assert frequencies(engine) == {"ann@example.org": "weekly"}


@pytest.mark.parametrize("value", ["monthly", *HOSTILE])
def test_unknown_or_hostile_frequency_is_refused_and_not_echoed(site, value):
    cfg, engine, client = site
    response = post_subscribe(client, "ann@example.org", "long-context", frequency=value)
    assert response.status_code == 400
    page = assert_safe_html(response.text)
    assert "choose daily or weekly" in page.text
    assert value not in response.text
    assert eml_messages(cfg) == [] and subscribers(engine) == {}
