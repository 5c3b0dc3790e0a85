from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from pipeline.config import config_from_mapping, describe_settings, load_config, parse_smtp_url
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_shipped_config_states_the_embedded_defaults() -> None:
    """config/paperboy.toml lists every setting with exactly the value the code uses."""
    shipped = tomllib.loads((REPO / "config" / "paperboy.toml").read_text(encoding="utf-8"))
    for key, default, _help in describe_settings():
        section, name = key.split(".")
        assert name in shipped[section], f"{key} missing from config/paperboy.toml"
        value = shipped[section][name]
        assert value == (str(default) if isinstance(default, Path) else default), key
    sections = {key.split(".")[0] for key, _, _ in describe_settings()}
    assert set(shipped) == sections | {"sources"}  # nothing unknown, topics_file left default
    defaults = load_config(None, env={}, cwd=REPO)
    assert [(s["name"], s["kind"]) for s in shipped["sources"]] == [
        (s.name, s.kind) for s in defaults.sources
    ]
    # loaded from the repository root, the file and the embedded defaults are the same config
    as_file = config_from_mapping(shipped, base_dir=REPO, env={})
    assert as_file == dataclasses.replace(defaults, path=None)


def test_deploy_example_loads() -> None:
    cfg = load_config(REPO / "config" / "deploy.example.toml", env={})
    assert cfg.site_url == "https://papers.example.org/"
    assert cfg.smtp is not None and cfg.smtp.starttls


def test_relative_paths_resolve_against_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "p.toml"
    path.write_text(
        '[store]\ndatabase_url = "sqlite:///db/x.db"\n[output]\ndir = "site"\n'
        '[[sources]]\nkind = "files"\npath = "inbox"\n',
        encoding="utf-8",
    )
    cfg = load_config(path, env={})
    assert cfg.database_url == f"sqlite:///{folder}/db/x.db"
    assert cfg.output_dir == folder / "site"
    assert cfg.sources[0].path == folder / "inbox"
    assert cfg.sources[0].name == "files"


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "PAPERBOY_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "PAPERBOY_OUTPUT_DIR": "/srv/out",
        "PAPERBOY_SMTP_URL": "smtp://mail:587",
        "PAPERBOY_HF_BASE_URL": "http://127.0.0.1:9999",
    }
    cfg = load_config(None, env=env, cwd=tmp_path)
    assert cfg.database_url == "postgresql+psycopg://u@h/db"
    assert cfg.output_dir == Path("/srv/out")
    assert cfg.email.smtp_url == "smtp://mail:587"
    assert cfg.http.hf_base_url == "http://127.0.0.1:9999"


def test_config_env_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[output]\ntitle = 'Mine'\n", encoding="utf-8")
    assert load_config(None, env={"PAPERBOY_CONFIG": str(path)}).output.title == "Mine"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[output]\ntitel = 'x'\n", "<f>: output.titel: unknown key (known: dir, feed_item_limit,"),
        ("[outptu]\n", "<f>: outptu: unknown section"),
        ("[output]\nfeed_item_limit = 'many'\n", "<f>: output.feed_item_limit: expected int, got"),
        ("[email]\nsend_empty = 1\n", "<f>: email.send_empty: expected bool, got 1"),
        ("[[sources]]\nkind = 'ftp'\n", "<f>: sources[0]: kind must be one of"),
        ("[[sources]]\nkind = 'files'\n", "<f>: sources[0]: a files source needs a path"),
        ("[store\n", "<f>: invalid TOML: "),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(message.replace("<f>", str(path)))


def test_every_setting_is_documented() -> None:
    rows = describe_settings()
    assert len(rows) >= 15
    assert all(text for _, _, text in rows)


def test_float_setting_accepts_int() -> None:
    cfg = config_from_mapping({"http": {"timeout": 5}}, base_dir=Path("/x"), env={})
    assert cfg.http.timeout == 5.0


@pytest.mark.parametrize(
    ("url", "starttls", "plaintext_auth"),
    [
        # issue 15.4: TLS before AUTH to any host but loopback, unless explicitly refused
        ("smtp://digest@mail.example.org:587", True, False),
        ("smtp://mail.example.org", True, False),
        ("smtp://relay.example.org:25?starttls=false", False, False),  # no password: allowed
        (
            "smtp://digest@mail.example.org:587?starttls=false&allow_plaintext_auth=true",
            False,
            True,
        ),
        ("smtp://robot@127.0.0.1:2525", False, True),  # loopback: nothing crosses a network
        ("smtp://robot@[::1]:2525", False, True),
        ("smtp://robot@localhost:2525?starttls=true", True, True),
        ("smtps://digest@mail.example.org", False, False),  # implicit TLS
    ],
)
def test_smtp_url_is_safe_by_default(url: str, starttls: bool, plaintext_auth: bool) -> None:
    target = parse_smtp_url(url)
    assert (target.starttls, target.allow_plaintext_auth) == (starttls, plaintext_auth)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "smtp://digest@mail.example.org:587?starttls=false",
            "would send the password unencrypted to mail.example.org",
        ),
        ("smtp://digest@mail.example.org:587?starttls=ture", "starttls='ture': expected true"),
        ("smtp://digest@mail.example.org:587?starttls=", "starttls='': expected true or false"),
        ("smtp://mail.example.org:0", "invalid port"),
        ("smtp://mail.example.org:99999", "invalid port"),
        ("smtp://mail.example.org?STARTTLS=true", "unknown options ['STARTTLS']"),
    ],
)
def test_unsafe_or_unknown_smtp_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_smtp_url(url)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[store]\ndatabase_url = 'mysql://u@h/db'\n", "store.database_url: 'mysql' is not a"),
        ("[store]\ndatabase_url = 'paperboy.db'\n", "store.database_url: 'paperboy.db' is not"),
        ("[output]\nfeed_item_limit = 0\n", "output.feed_item_limit: must be at least 1, got 0"),
        ("[output]\ntitle = '  '\n", "output.title: must not be empty"),
        ("[ingest]\nmax_page_bytes = 0\n", "ingest.max_page_bytes: must be at least 1"),
        ("[ingest]\ncatch_up_max_days = -3\n", "ingest.catch_up_max_days: must be at least 1"),
        ("[http]\ntimeout = 0\n", "http.timeout: must be above 0, got 0.0"),
        ("[http]\ndeadline = -1.5\n", "http.deadline: must be above 0"),
        ("[http]\nmax_response_bytes = 0\n", "http.max_response_bytes: must be at least 1"),
        ("[http]\nretries = -1\n", "http.retries: must be at least 0"),
        ("[http]\nhf_base_url = 'ftp://hf'\n", "http.hf_base_url: 'ftp://hf' is not an absolute"),
        ("[http]\nhf_base_url = 'huggingface.co'\n", "http.hf_base_url: 'huggingface.co' is"),
        ("[email]\nsender = 'nobody'\n", "email.sender: 'nobody' is not 'Name <address@domain>'"),
        ("[email]\nunsubscribe_address = 'x y'\n", "email.unsubscribe_address: 'x y' is not"),
        ("[email]\nmax_papers_per_section = 0\n", "email.max_papers_per_section: must be at"),
        ("[email]\nabstract_chars = 0\n", "email.abstract_chars: must be at least 1"),
        ("[email]\nlease_minutes = 0\n", "email.lease_minutes: must be at least 1"),
        ("[email]\nretry_minutes = -5\n", "email.retry_minutes: must be at least 0"),
        ("[schedule]\ncron = '30 7 * *'\n", "schedule.cron: expected 5 fields"),
        ("[schedule]\ncron = '61 7 * * *'\n", "schedule.cron: minute '61' is out of range 0-59"),
        ("[schedule]\ncron = '30 7 * * mon-xyz'\n", "schedule.cron: day of week 'mon-xyz': "),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", "schedule.timezone: unknown time zone"),
        ("[web]\ntrusted_proxies = 'proxy.local'\n", "web.trusted_proxies: 'proxy.local' is"),
        ("[[sources]]\nname = 'my source!'\nkind = 'hf-api'\n", "sources: 'my source!' is not"),
        ("[[sources]]\nname = '" + "x" * 101 + "'\nkind = 'hf-api'\n", "sources: 'xxxxxxxx"),
        ("[email]\ntemplates_dir = 'nope'\n", "email.templates_dir: <d>/nope lacks email/"),
        (
            "[email]\nsmtp_url = 'smtps://mail.example.org?ca_file=/nope.pem'\n",
            "email.smtp_url: ca_file /nope.pem is not a file",
        ),
    ],
)
def test_invalid_values_are_errors_at_load(tmp_path: Path, toml: str, message: str) -> None:
    """Issue 15.11: unknown or impossible values failed late (a zero limit, a crontab line
    at `schedule` start, a sender at the first digest) or never."""
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    expected = f"{path}: " + message.replace("<d>", str(tmp_path))
    assert str(info.value).startswith(expected), str(info.value)


def test_environment_values_are_checked_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"store.database_url: 'mysql' is not a supported"):
        load_config(None, env={"PAPERBOY_DATABASE_URL": "mysql://u@h/db"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"web.trusted_proxies: '10.0.0.0/33' is not"):
        load_config(None, env={"PAPERBOY_TRUSTED_PROXIES": "10.0.0.0/33"}, cwd=tmp_path)
