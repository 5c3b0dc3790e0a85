"""paperboy serve: the digests' unsubscribe links (RFC 8058 one-click) and topic changes."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from starlette.testclient import TestClient

from pipeline.addresses import unsubscribe_token
from pipeline.mail.send import message_bytes, prepare_edition, render_for
from pipeline.store.engine import read_session, write_session
from pipeline.store.outbox import due_items
from pipeline.store.subscribers import add_subscriber, select_subscribers
from tests.email_support import DAY2, SECRET, make_job, seed
from tests.web_support import (
    SITE,
    Clock,
    assert_safe_html,
    build_app,
    csrf_of,
    parse_page,
    web_config,
)


@pytest.fixture
def site(tmp_path, engine, now):
    cfg = web_config(tmp_path)
    client = TestClient(build_app(cfg, engine, Clock(now)), base_url=SITE)
    with write_session(engine) as session:
        record, _ = add_subscriber(
            session=session,
            email="ann@example.org",
            topics=["long-context"],
            secret=SECRET,
            now=now,
        )
    return engine, client, unsubscribe_token(SECRET, record.token_nonce)


def state(engine):
    with read_session(engine) as session:
        [sub] = select_subscribers(session=session)
    return sub.status, sub.topics


def digest_unsubscribe_url(engine, now):
    """The https URL a real digest carries in List-Unsubscribe (same secret as the app)."""
    seed(engine, now)
    job = make_job(site_url=SITE)
    edition, _report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    with read_session(engine) as session:
        [item] = due_items(session=session, edition=DAY2, now=now)
    data = message_bytes(item, render_for(edition, item.topics, job), job, now)
    message = message_from_bytes(data, policy=policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https = next(u.strip(" <>") for u in str(message["List-Unsubscribe"]).split(","))
    assert https.startswith(SITE + "/unsubscribe/")
    return https[len(SITE) :]


def test_digest_list_unsubscribe_url_works_with_one_click_post(site, now):
    engine, client, token = site
    path = digest_unsubscribe_url(engine, now)
    assert path == f"/unsubscribe/{token}"
    bare = TestClient(client.app, base_url=SITE, follow_redirects=False)  # no cookies, no context
    response = bare.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers
    assert state(engine)[0] == "unsubscribed"


def test_one_click_multipart_body_unsubscribes(site):
    engine, client, token = site
    response = client.post(
        f"/unsubscribe/{token}",
        files={"List-Unsubscribe": (None, "One-Click")},
    )
    assert response.status_code == 200
    assert state(engine)[0] == "unsubscribed"


def test_get_never_unsubscribes(site):
    engine, client, token = site
    for _ in range(3):
        response = client.get(f"/unsubscribe/{token}")
        assert response.status_code == 200
    assert client.head(f"/unsubscribe/{token}").status_code == 200
    assert state(engine)[0] == "active"
    page = parse_page(response.text)
    forms = [a for t, a in page.tags if t == "form" and a.get("method") == "post"]
    assert forms == [{"method": "post", "action": f"/unsubscribe/{token}"}]
    assert page.inputs("List-Unsubscribe")[0]["value"] == "One-Click"


@pytest.mark.parametrize(
    "body", [{}, {"List-Unsubscribe": "yes"}, {"List-Unsubscribe": "One-Click\r\nX: y"}]
)
def test_post_without_one_click_body_is_400(site, body):
    engine, client, token = site
    assert client.post(f"/unsubscribe/{token}", data=body).status_code == 400
    assert state(engine)[0] == "active"


@pytest.mark.parametrize("token", ["0" * 32, '"><script>alert(1)', "x" * 10_000, "ABCDEF" * 6])
def test_forged_unsubscribe_token_is_400_and_changes_nothing(site, token):
    engine, client, _token = site
    for response in (
        client.get(f"/unsubscribe/{token}"),
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}),
        client.get(f"/preferences/{token}"),
    ):
        assert response.status_code == 400
        assert_safe_html(response.text)
    assert state(engine)[0] == "active"


def test_unsubscribe_twice_is_still_200(site):
    _engine, client, token = site
    for _ in range(2):
        response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    assert "already unsubscribed" in parse_page(client.get(f"/unsubscribe/{token}").text).text


def test_unsubscribe_get_is_not_a_redirect_for_any_method(site):
    _engine, client, token = site
    response = client.put(f"/unsubscribe/{token}")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_preferences_change_topics_with_csrf(site):
    engine, client, token = site
    path = f"/preferences/{token}"
    page = parse_page(client.get(path).text)
    checked = [a["value"] for a in page.inputs("topics") if "checked" in a]
    assert checked == ["long-context"]
    csrf = page.inputs("csrf")[0]["value"]
    response = client.post(path, data={"csrf": csrf, "topics": ["retrieval-rag", "efficiency"]})
    assert response.status_code == 200
    assert "saved" in parse_page(response.text).text
    assert state(engine) == ("active", ("retrieval-rag", "efficiency"))


def test_preferences_refuse_unknown_topics_and_missing_csrf(site):
    engine, client, token = site
    path = f"/preferences/{token}"
    csrf = csrf_of(client, path)
    bad = client.post(path, data={"csrf": csrf, "topics": ["<script>x</script>", "nope"]})
    assert bad.status_code == 400
    assert "<script>x</script>" not in bad.text
    assert_safe_html(bad.text)
    none = client.post(path, data={"csrf": csrf})
    assert none.status_code == 400
    assert client.post(path, data={"topics": ["efficiency"]}).status_code == 403
    assert state(engine) == ("active", ("long-context",))


def test_preferences_offer_and_keep_everything(site):
    engine, client, token = site
    path = f"/preferences/{token}"
    assert "Everything" in client.get(path).text
    csrf = csrf_of(client, path)
    saved = client.post(path, data={"csrf": csrf, "topics": ["all", "efficiency"]})
    assert saved.status_code == 200 and "saved" in parse_page(saved.text).text
    assert [a["value"] for a in parse_page(saved.text).inputs("topics") if "checked" in a] == [
        "all"
    ]
    assert state(engine) == ("active", ("all",))


def test_preferences_change_frequency_and_keep_it_when_the_field_is_absent(site):
    engine, client, token = site
    path = f"/preferences/{token}"
    page = parse_page(client.get(path).text)
    assert [r["value"] for r in page.inputs("frequency") if "checked" in r] == ["daily"]
    csrf = page.inputs("csrf")[0]["value"]
    weekly = client.post(path, data={"csrf": csrf, "topics": ["efficiency"], "frequency": "weekly"})
    assert weekly.status_code == 200 and "saved" in parse_page(weekly.text).text
    checked = [r["value"] for r in parse_page(weekly.text).inputs("frequency") if "checked" in r]
    assert checked == ["weekly"]
    client.post(path, data={"csrf": csrf, "topics": ["long-context"]})  # an old form: no field
    bad = client.post(path, data={"csrf": csrf, "topics": ["efficiency"], "frequency": "<b>"})
    assert bad.status_code == 400 and "<b>" not in bad.text
    with read_session(engine) as session:
        [sub] = select_subscribers(session=session)
    assert (sub.topics, sub.frequency) == (("long-context",), "weekly")
