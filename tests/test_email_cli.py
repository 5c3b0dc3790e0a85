"""CLI: `paperboy subscribers ...` and `paperboy emails` end to end; TLS and secrets (X6, X7)."""

from __future__ import annotations

import logging
import re
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import SmtpTarget, parse_smtp_url
from pipeline.errors import DeliveryError
from pipeline.mail.smtp import open_smtp
from pipeline.store.engine import init_db, make_engine
from tests.conftest import NOW
from tests.email_support import DAY2, Sink, seed, smtp_sink


def _setup(tmp_path: Path, **email: object) -> tuple[Path, dict[str, str]]:
    lines = [
        "[store]",
        f'database_url = "sqlite:///{tmp_path / "p.db"}"',
        "[output]",
        'dir = "out"',
        'site_url = "https://digest.example.org"',
        "[email]",
        'sender = "paperboy <digest@example.org>"',
        "retry_minutes = 0",
    ]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in email.items()]
    config = tmp_path / "paperboy.toml"
    config.write_text("\n".join(lines) + "\n")
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    init_db(engine)
    seed(engine, NOW)
    engine.dispose()
    env = {"PAPERBOY_CONFIG": str(config), "PAPERBOY_SECRET": "cli-secret"}
    return config, env | {"PAPERBOY_NOW": NOW.isoformat()}


def _invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_subscribers_add_is_idempotent_and_lists(tmp_path):
    _config, env = _setup(tmp_path)
    first = _invoke(
        env, "subscribers", "add", "  Ann@Example.ORG ", "--topics", "long-context,retrieval-rag"
    )
    again = _invoke(
        env, "subscribers", "add", "ann@example.org", "--topics", "retrieval-rag,long-context"
    )
    changed = _invoke(env, "subscribers", "add", "ANN@example.org", "--topics", "long-context")
    listed = _invoke(env, "subscribers", "list")
    weekly = _invoke(
        env, "subscribers", "add", "ann@example.org", "--topics", "long-context",
        "--frequency", "WEEKLY",
    )  # fmt: skip
    listed = _invoke(env, "subscribers", "list")
    assert first.output == "added: Ann@example.org (long-context, retrieval-rag; daily)\n"
    assert again.output == "unchanged: Ann@example.org (long-context, retrieval-rag; daily)\n"
    assert changed.output == "updated: Ann@example.org (long-context; daily)\n"
    # NOW is Monday 2026-11-23: this week stays daily, weekly digests start next Monday
    switch = "daily until 2026-11-29, then weekly"
    assert weekly.output == f"updated: Ann@example.org (long-context; {switch})\n"
    assert listed.stdout == f"Ann@example.org\tactive\tlong-context\t{switch}\n"
    keeps = _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    assert keeps.output == f"unchanged: Ann@example.org (long-context; {switch})\n"
    env["PAPERBOY_NOW"] = "2026-11-30T07:30:00+00:00"
    later = _invoke(env, "subscribers", "list")
    assert later.stdout == "Ann@example.org\tactive\tlong-context\tweekly\n"
    back = _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context",
                   "--frequency", "daily")  # fmt: skip
    assert back.output == (
        "updated: Ann@example.org (long-context; weekly until 2026-12-06, then daily)\n"
    )


def test_subscribers_add_rejects_unknown_topic_and_bad_address(tmp_path):
    _config, env = _setup(tmp_path)
    for email, topics, message in (
        (
            "ann@example.org",
            "nope,long-context",
            "unknown topic(s) nope; valid: all, long-context, ",
        ),
        ("not an address", "long-context", "'not an address' is not an email address"),
        ("a@b.org", ",", "choose at least one topic; valid: all, long-context"),
        # issue 15.2: the email package decodes an encoded word into a line feed
        ("=?UTF-8?Q?a=0A?=@example.org", "long-context", "RFC 2047 encoded word"),
    ):
        result = CliRunner().invoke(cli, ["subscribers", "add", email, "--topics", topics], env=env)
        assert result.exit_code == 1
        assert message in result.stderr


def test_subscribers_import_and_remove(tmp_path):
    _config, env = _setup(tmp_path)
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "email,topics,frequency\nann@example.org,long-context,\n"
        'bob@example.org,"retrieval-rag,mixture-of-experts",Weekly\n'
        "bad address,long-context,daily\ncy@example.org,unknown,\n"
        "dee@example.org,long-context,monthly\n"
    )
    result = _invoke(env, "subscribers", "import", str(csv_file))
    assert result.exit_code == 1
    assert "2 added, 0 updated, 0 unchanged, 3 errors" in result.stdout
    assert (
        f"Error: {csv_file}:4:" in result.output
        and f"Error: {csv_file}:5: unknown topic" in result.output
        and f"Error: {csv_file}:6: unknown frequency 'monthly'; valid: daily, weekly"
        in result.output
    )
    removed = _invoke(env, "subscribers", "remove", "ANN@example.org")
    assert removed.output == "unsubscribed: ANN@example.org\n"
    assert _invoke(
        env, "subscribers", "add", "ann@example.org", "--topics", "long-context"
    ).output == ("updated: ann@example.org (long-context; daily)\n")  # re-subscribing re-activates
    _invoke(env, "subscribers", "remove", "ann@example.org")
    assert _invoke(env, "subscribers", "list", "--status", "active").stdout == (
        "bob@example.org\tactive\tretrieval-rag,mixture-of-experts\tweekly\n"
    )


def test_emails_writes_eml_once_without_smtp(tmp_path):
    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    _invoke(env, "subscribers", "add", "bob@example.org", "--topics", "interpretability")
    env["PAPERBOY_NOW"] = "2026-11-24T07:30:00+00:00"  # DAY2 (the 23rd) settled at 06:00
    dry = _invoke(env, "emails", "--dry-run")
    assert re.sub(r"HTML \d+ bytes", "HTML N bytes", dry.stdout).splitlines() == [
        # settled (on the 21st) before they subscribed (NOW, the 23rd): not theirs
        "dry run: edition 2026-11-20: 0 of 2 daily subscriber(s) would get a digest, "
        "2 paper(s), 0 topic set(s), largest HTML N bytes; settled",
        "dry run: edition 2026-11-23: 1 of 2 daily subscriber(s) would get a digest, "
        "4 paper(s), 1 topic set(s), largest HTML N bytes; settled",
    ]
    first = _invoke(env, "emails")  # every settled edition of the catch-up window
    second = _invoke(env, "emails", "--edition", "2026-11-23")
    again = _invoke(env, "emails")
    assert first.exit_code == 0, first.output
    assert [line.split(":")[0] for line in first.stdout.splitlines()] == [
        "edition 2026-11-20",
        "edition 2026-11-23",
    ]
    assert first.stdout.count("this run: sent 1, retry 0, failed 0, uncertain 0") == 1
    assert "this run: sent 0, retry 0, failed 0, uncertain 0" in second.stdout
    assert again.stdout.startswith("nothing due: every edition of the last 14 day(s)")
    files = list((tmp_path / "out" / "outbox" / DAY2.isoformat()).glob("*.eml"))
    assert len(files) == 1
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["To"] == "ann@example.org" and "LongLoRA" in msg.get_body(("plain",)).get_content()


def test_emails_waits_for_the_edition_to_settle_and_says_when(tmp_path):
    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    env["PAPERBOY_NOW"] = "2026-11-23T20:00:00+00:00"  # the 23rd's list is still growing
    _invoke(env, "emails", "--edition", "2026-11-20")
    dry = _invoke(env, "emails", "--dry-run")
    nothing = _invoke(env, "emails")
    assert dry.stdout == ("dry run: edition 2026-11-23: waits, settles at 2026-11-24 06:00 UTC\n")
    assert nothing.stdout == "nothing due: edition 2026-11-23 settles at 2026-11-24 06:00 UTC\n"
    early = _invoke(env, "emails", "--dry-run", "--edition", "2026-11-23")
    assert early.stdout.endswith("; settles at 2026-11-24 06:00 UTC\n")
    assert not (tmp_path / "out" / "outbox" / DAY2.isoformat()).exists()


def test_emails_over_smtp_reports_uncertain_with_exit_1(tmp_path):
    sink = Sink(drop_after_storing={1})
    with smtp_sink(sink) as port:
        _config, env = _setup(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        subscribed = env | {"PAPERBOY_NOW": "2026-11-19T12:00:00+00:00"}  # before the editions
        _invoke(subscribed, "subscribers", "add", "ann@example.org", "--topics", "long-context")
        _invoke(subscribed, "subscribers", "add", "bob@example.org", "--topics", "retrieval-rag")
        first = _invoke(env, "emails")
        second = _invoke(env, "emails")
        third = _invoke(env, "emails", "--resend-uncertain")
    assert first.exit_code == 1 and "1 message(s) uncertain" in first.output
    assert second.exit_code == 1 and "this run: sent 1" in second.stdout
    assert third.exit_code == 0 and "uncertain total 0" in third.stdout
    assert len(sink.messages) == 3 and len(set(sink.message_ids())) == 2


def test_emails_login_failure_never_shows_password(tmp_path, caplog):
    secret = "S3cr3t-do-not-print"

    def refuse(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)

    sink = Sink()
    with smtp_sink(sink, authenticator=refuse, auth_require_tls=False) as port:
        _config, env = _setup(tmp_path, smtp_url=f"smtp://robot@127.0.0.1:{port}")
        subscribed = env | {"PAPERBOY_NOW": "2026-11-19T12:00:00+00:00"}  # before the editions
        _invoke(subscribed, "subscribers", "add", "ann@example.org", "--topics", "long-context")
        env["PAPERBOY_SMTP_PASSWORD"] = secret
        with caplog.at_level(logging.DEBUG):
            result = CliRunner().invoke(cli, ["-vv", "emails"], env=env)
    assert result.exit_code != 0
    assert "login refused (535)" in result.stderr
    everything = result.output + caplog.text + result.stderr
    everything += "".join(
        p.read_text(errors="replace")
        for p in tmp_path.rglob("*")
        if p.is_file() and p.suffix != ".db"
    )
    assert secret not in everything
    assert not sink.messages


@pytest.fixture
def tls_server():
    trustme = pytest.importorskip("trustme", reason="trustme (PyPI) makes the throwaway CA (X7)")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    sink = Sink()
    with smtp_sink(sink, tls_context=server_ctx, require_starttls=True) as port:
        yield ca, port, sink


def test_starttls_refuses_untrusted_certificate(tls_server):
    _ca, port, _sink = tls_server
    with pytest.raises(DeliveryError, match="TLS failed"):
        open_smtp(parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true"), timeout=5)


def test_starttls_sends_when_ca_is_trusted_via_config(tls_server, tmp_path):
    ca, port, _sink = tls_server
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    conn = open_smtp(
        parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true&ca_file={ca_file}"), timeout=5
    )
    try:
        assert conn.sock is not None and isinstance(conn.sock, ssl.SSLSocket)
    finally:
        conn.quit()


def test_every_email_command_has_help():
    group = cli.commands["subscribers"]
    for command in [cli.commands["emails"], group, *group.commands.values()]:
        assert command.help and command.help.strip()


def test_starttls_without_verification_only_with_warning(tls_server, caplog):
    _ca, port, _sink = tls_server
    with caplog.at_level(logging.WARNING):
        conn = open_smtp(
            parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true&tls_verify=false"), timeout=5
        )
    conn.quit()
    assert "TLS certificate verification is OFF" in caplog.text


def test_no_password_goes_out_unencrypted_to_a_target_that_does_not_allow_it():
    """Issue 15.4, at the wire: a target that must not AUTH in clear never sends AUTH without
    TLS, whatever built it (the URL parser already refuses such a URL for non-loopback hosts)."""
    seen: list[str] = []

    def record(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        seen.append(mechanism)
        return AuthResult(success=True)

    with smtp_sink(Sink(), authenticator=record, auth_require_tls=False) as port:
        target = SmtpTarget(
            host="127.0.0.1", port=port, user="robot", password="S3cr3t",
            starttls=False, implicit_tls=False, allow_plaintext_auth=False,
        )  # fmt: skip
        with pytest.raises(DeliveryError, match="refusing to send the password unencrypted"):
            open_smtp(target, timeout=5)
    assert seen == []


def test_starttls_on_a_server_without_it_says_how_to_fix():
    with (
        smtp_sink(Sink()) as port,
        pytest.raises(DeliveryError, match=r"does not offer STARTTLS.*smtps://"),
    ):
        open_smtp(parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true"), timeout=5)


def test_emails_prints_no_bare_progress_label_when_not_a_terminal(tmp_path):
    """Issue 15.10: a bare "sending 2026-11-23" landed on stderr (cron mail) every run."""
    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    result = CliRunner().invoke(cli, ["emails"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("dry_run", [False, True])
def test_emails_for_an_edition_that_does_not_exist_is_an_error(tmp_path, dry_run):
    """Issue 15.10: said "0 of 2 would get a digest" and exited 0."""
    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    args = ["emails", "--edition", "2026-11-30", *(["--dry-run"] if dry_run else [])]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no edition 2026-11-30 in the store (no page lists that date; the latest is "
        "2026-11-23): see `paperboy pages list`\n"
    )
    assert not (tmp_path / "out" / "outbox").exists()


def test_row_left_sending_by_a_killed_run_is_reported_not_hidden(tmp_path):
    """Issue 15.10: a killed `emails` left a row 'sending' that the rerun reported as
    "uncertain 0"."""
    from pipeline.mail.send import prepare_edition
    from pipeline.store.engine import write_session
    from pipeline.store.outbox import claim_due
    from tests.email_support import make_job

    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    prepare_edition(engine=engine, day=DAY2, job=make_job(), now=NOW)
    with write_session(engine) as session:  # what a process killed after its claim leaves
        assert len(claim_due(session=session, edition=DAY2, now=NOW, limit=1)) == 1
    engine.dispose()
    result = CliRunner().invoke(cli, ["emails"], env={**env, "PAPERBOY_NOW": NOW.isoformat()})
    assert "still sending 1" in result.stdout
    assert result.stderr == (
        "Note: 1 message(s) of edition 2026-11-23 still 'sending': another process is sending "
        "it, or one that died may have; it turns 'uncertain' (and is reported) once its "
        "15-minute lease ends\n"
    )


@pytest.mark.parametrize(
    ("encoding", "ok"), [("utf-16", True), ("utf-8-sig", True), ("latin-1", False)]
)
def test_subscribers_import_encodings(tmp_path, encoding, ok):
    """Issue 15.11: a UTF-16 or Latin-1 CSV (what spreadsheets export) ended in a traceback."""
    _config, env = _setup(tmp_path)
    csv_file = tmp_path / "subs.csv"
    text = "email,topics,name\nrene@example.org,long-context,René\n"  # a name column, ignored
    csv_file.write_text(text, encoding=encoding)
    result = CliRunner().invoke(cli, ["subscribers", "import", str(csv_file)], env=env)
    if ok:
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 added, 0 updated, 0 unchanged, 0 errors\n"
    else:
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr == (
            f"Error: {csv_file}: not UTF-8 text (byte 0xe9 on line 2, at offset 51; Latin-1 or "
            "Windows-1252?): save the file as UTF-8\n"
        )


def test_subscribers_of_a_removed_topic_are_reported(tmp_path):
    """Issue 15.11: a removed topic's subscribers silently got nothing."""
    _config, env = _setup(tmp_path)
    _invoke(env, "subscribers", "add", "ann@example.org", "--topics", "long-context")
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topics]]\nslug = "other"\ntitle = "Other"\ninclude = ["x"]\n')
    config = Path(env["PAPERBOY_CONFIG"])
    config.write_text(f'topics_file = "{topics}"\n' + config.read_text())
    listed = _invoke(env, "subscribers", "list")
    assert listed.stdout == "ann@example.org\tactive\tlong-context (not configured)\tdaily\n"
    result = CliRunner().invoke(cli, ["emails"], env=env)
    assert (
        "Note: 1 subscriber(s) chose topics that are no longer configured (long-context) and get "
        "nothing for them: change their topics with `paperboy subscribers add EMAIL --topics ...`"
    ) in result.stderr


def test_config_shows_site_smtp_and_topics_file(tmp_path):
    """Issue 15.11: `paperboy config` hid the site URL, SMTP and the topics file."""
    _config, env = _setup(tmp_path, smtp_url="smtp://digest@mail.example.org:587")
    env["PAPERBOY_SMTP_PASSWORD"] = "S3cr3t-never-shown"
    result = CliRunner().invoke(cli, ["config"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "site URL: https://digest.example.org/" in lines
    assert "SMTP: smtp://digest@mail.example.org:587, STARTTLS, password set" in lines
    assert any(line.startswith("topics file: ") and "topics.toml" in line for line in lines)
    assert "S3cr3t" not in result.output
