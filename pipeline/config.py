"""Configuration: TOML files and PAPERBOY_* environment -> one frozen :class:`Config`.

I/O edge (reads the config file and the environment once, in :func:`load_config`); the result
is passed down explicitly. Defaults and help live next to each field (``_help``), which is also
what ``paperboy config`` prints. Relative paths resolve against the config file's folder, or the
current folder when running on the embedded defaults. Secrets (SMTP password) come only from the
environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.addresses import normalize_email
from pipeline.bounded import FileRefused, read_regular_file
from pipeline.config_checks import CHECKS, source_name_problem
from pipeline.errors import ConfigError

CONFIG_ENV = "PAPERBOY_CONFIG"
# Environment overrides for deployment: variable -> (section, key).
ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "PAPERBOY_DATABASE_URL": ("store", "database_url"),
    "PAPERBOY_OUTPUT_DIR": ("output", "dir"),
    "PAPERBOY_SITE_URL": ("output", "site_url"),
    "PAPERBOY_SMTP_URL": ("email", "smtp_url"),
    "PAPERBOY_HF_BASE_URL": ("http", "hf_base_url"),
    "PAPERBOY_TRUSTED_PROXIES": ("web", "trusted_proxies"),
}
SOURCE_KINDS = ("files", "hf-api", "hf-html")
DEFAULT_SOURCE = "saved-pages"  # the source name of pages ingested by path
SECRET_ENV = "PAPERBOY_SECRET"  # HMAC key of Message-IDs and tokens; else one kept in the store
SMTP_PASSWORD_ENV = "PAPERBOY_SMTP_PASSWORD"
TOML_MAX_BYTES = 1_000_000  # config and topics files: a few KB in practice
TEMPLATE_NAMES = ("email/digest.html", "email/digest.txt")  # what [email] templates_dir holds
# http(s)://host[:port][/path]: no query, fragment or user info (links are built by appending).
_SITE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?$")
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}  # fmt: skip


def _help(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class StoreConfig:
    database_url: str = _help(
        "sqlite:///data/paperboy.db",
        "SQLAlchemy URL; sqlite:///relative/path.db or postgresql+psycopg://user@host/db",
    )


@dataclass(frozen=True)
class OutputConfig:
    dir: Path = _help(Path("out"), "folder for feeds/, outbox/ and other outputs")
    site_url: str = _help(
        "http://localhost:8080/",
        "public URL where the output folder is served (feed self links, unsubscribe links)",
    )
    title: str = _help("paperboy", "name shown in feed titles and emails")
    feed_item_limit: int = _help(100, "most recent papers per feed")


@dataclass(frozen=True)
class IngestConfig:
    max_page_bytes: int = _help(20_000_000, "pages larger than this are refused")
    catch_up_max_days: int = _help(14, "most days `paperboy run` fetches to catch up")
    resolve_titles: bool = _help(
        False,
        "look up the arXiv id of text-page titles with the Hugging Face papers search "
        "(exact title match only, cached; never with --offline)",
    )


@dataclass(frozen=True)
class HttpConfig:
    hf_base_url: str = _help("https://huggingface.co", "base URL of the Hugging Face site/API")
    timeout: float = _help(30.0, "per-operation timeout, seconds")
    deadline: float = _help(120.0, "total time budget per fetch, seconds")
    max_response_bytes: int = _help(20_000_000, "responses larger than this are refused")
    retries: int = _help(3, "retries on 408/429/5xx and connection errors")
    allow_private_hosts: bool = _help(
        False, "allow http:// and loopback/private hosts (tests, local mirrors; SSRF guard off)"
    )


@dataclass(frozen=True)
class EmailConfig:
    smtp_url: str = _help(
        "",
        "smtp://user@host:587 (STARTTLS unless the host is loopback) or smtps://user@host; "
        "empty: write .eml to outbox/",
    )
    sender: str = _help("paperboy <paperboy@localhost>", "From: header of digests")
    send_empty: bool = _help(False, "send a digest even when an edition has no papers for it")
    unsubscribe_address: str = _help("", "mailto: target of List-Unsubscribe; empty: the sender")
    templates_dir: str = _help("", "folder holding email/digest.html|txt; empty: shipped ones")
    max_papers_per_section: int = _help(25, "papers listed per section before 'view all'")
    abstract_chars: int = _help(320, "abstract excerpt length in emails, characters")
    retry_minutes: int = _help(30, "first retry delay after a 4xx reply; doubles, max 1 day")
    lease_minutes: int = _help(15, "a row left 'sending' longer than this becomes 'uncertain'")
    batch: int = _help(
        1,
        "messages claimed, sent, then recorded together (two commits per batch); a crash "
        "leaves at most this many 'uncertain'; e.g. 20 sends about twice as fast to a local relay",
    )
    settle_hours: int = _help(
        6,
        "a day's edition is mailed this long after the day ends (UTC), once its list is complete; "
        "a week's edition this long after its Sunday",
    )
    weekly_papers_per_topic: int = _help(10, "papers listed per topic in the weekly edition")


@dataclass(frozen=True)
class WebConfig:
    trusted_proxies: str = _help(
        "",
        "comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is "
        "believed (e.g. 127.0.0.1 when nginx runs on this host); empty: the peer is the client",
    )


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = _help("30 7 * * *", "crontab line for `paperboy schedule` (outside 00-04 local)")
    timezone: str = _help("UTC", "IANA time zone of the cron line")


@dataclass(frozen=True)
class HealthConfig:
    max_run_age_hours: int = _help(
        36, "`paperboy status` needs a person when no run finished within this many hours"
    )
    max_source_age_days: int = _help(
        2, "... when a source's last successful run is older than this many days"
    )
    failed_runs: int = _help(3, "... when a source failed on this many runs in a row")
    window_days: int = _help(
        3, "zero-paper weekdays and delivery problems of editions this recent count (days)"
    )


@dataclass(frozen=True)
class AlertsConfig:
    to: str = _help("", "operator address(es), comma-separated: at most one mail per problem a day")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str  # one of SOURCE_KINDS
    path: Path | None = None  # for kind "files"
    enabled: bool = True


@dataclass(frozen=True)
class Secrets:
    """Secrets from the environment; ``repr`` says only whether each is set."""

    secret: str = ""  # PAPERBOY_SECRET
    smtp_password: str = ""  # PAPERBOY_SMTP_PASSWORD

    def __repr__(self) -> str:
        state = {
            name: "set" if getattr(self, name) else "unset" for name in ("secret", "smtp_password")
        }
        return f"Secrets({', '.join(f'{k}=<{v}>' for k, v in state.items())})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        """Read both variables once."""
        return cls(secret=env.get(SECRET_ENV, ""), smtp_password=env.get(SMTP_PASSWORD_ENV, ""))


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect; ``password`` is never printed (repr hides it)."""

    host: str
    port: int
    user: str
    password: str
    starttls: bool
    implicit_tls: bool
    tls_verify: bool = True
    ca_file: str = ""  # extra CA bundle to trust (a private relay's CA)
    # AUTH without TLS: only to a loopback host, or when the URL says allow_plaintext_auth=true
    allow_plaintext_auth: bool = False

    def __repr__(self) -> str:
        return f"SmtpTarget({self.describe()})"

    def describe(self) -> str:
        """``smtp://user@host:port`` for messages, without the password."""
        user = f"{self.user}@" if self.user else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{user}{self.host}:{self.port}"


def _flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    value = query.get(name)
    if value is None:
        return default
    if value.lower() not in _BOOLEANS:
        raise ConfigError(f"{name}={value!r}: expected true or false", key="email.smtp_url")
    return _BOOLEANS[value.lower()]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback address literals (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str, *, password: str = "") -> SmtpTarget:
    """Parse ``smtp://user@host:587[?starttls=false][&ca_file=PATH]`` or ``smtps://host``.

    Safe by default (issue 15.4): STARTTLS unless the host is loopback; a login without TLS to
    any other host needs ``starttls=false&allow_plaintext_auth=true``. A password in the URL is
    refused (it comes from ``PAPERBOY_SMTP_PASSWORD``); ``tls_verify=false`` exists for tests
    only (the transport logs a warning).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "expected smtp://[user@]host[:port][?starttls=false]", key="email.smtp_url"
        )
    if parts.password:
        raise ConfigError(
            f"put the password in {SMTP_PASSWORD_ENV}, not in the URL", key="email.smtp_url"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is not None and not 0 < port < 65536):
        raise ConfigError("invalid port", key="email.smtp_url")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"starttls", "tls_verify", "ca_file", "allow_plaintext_auth"}
    if unknown:
        raise ConfigError(f"unknown options {sorted(unknown)}", key="email.smtp_url")
    implicit = parts.scheme == "smtps"
    host = parts.hostname
    loopback = is_loopback_host(host)
    starttls = _flag(query, "starttls", not loopback) and not implicit
    plaintext = loopback or _flag(query, "allow_plaintext_auth", False)
    user = unquote(parts.username or "")
    if user and not (implicit or starttls or plaintext):
        raise ConfigError(
            f"starttls=false would send the password unencrypted to {host}: drop starttls=false "
            "(STARTTLS is the default), use smtps://, or add allow_plaintext_auth=true if the "
            "network to the relay is trusted",
            key="email.smtp_url",
        )
    return SmtpTarget(
        host=host,
        port=port or (465 if implicit else 587),
        user=user,
        password=password,
        starttls=starttls,
        implicit_tls=implicit,
        tls_verify=_flag(query, "tls_verify", True),
        ca_file=query.get("ca_file", ""),
        allow_plaintext_auth=plaintext,
    )


def parse_networks(
    text: str, *, where: str = "<settings>"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or networks (``127.0.0.1, 10.0.0.0/8, ::1``)."""
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{item!r} is not an IP address or network (like 127.0.0.1 or 10.0.0.0/8)",
                path=where,
                key="web.trusted_proxies",
            ) from None
    return tuple(found)


def normalize_site_url(url: str, *, where: str) -> str:
    """``url`` stripped and ending in ``/``; a ConfigError saying how to set it otherwise."""
    text = url.strip()
    if not _SITE_URL.match(text.rstrip("/") or "-"):
        raise ConfigError(
            f"{text!r} is not an absolute http(s) URL; feeds and emails need absolute links: set "
            "[output] site_url to the public URL of the output folder, e.g. "
            "https://example.org/paperboy/ (no query or fragment)",
            path=where,
            key="output.site_url",
        )
    return text.rstrip("/") + "/"


def join_url(base: str, path: str) -> str:
    """``path`` (relative, no leading slash needed) under ``base`` (which ends in ``/``)."""
    return base + path.lstrip("/")


@dataclass(frozen=True)
class Config:
    """Everything paperboy reads from config files and the environment."""

    base_dir: Path
    path: Path | None  # the main config file, or None for the embedded defaults
    store: StoreConfig = StoreConfig()
    output: OutputConfig = OutputConfig()
    ingest: IngestConfig = IngestConfig()
    http: HttpConfig = HttpConfig()
    email: EmailConfig = EmailConfig()
    web: WebConfig = WebConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    health: HealthConfig = HealthConfig()
    alerts: AlertsConfig = AlertsConfig()
    sources: tuple[SourceConfig, ...] = (SourceConfig(name="hf-daily", kind="hf-api"),)
    topics_file: Path | None = None  # None: the shipped default topics
    smtp: SmtpTarget | None = None  # email.smtp_url parsed; None: .eml files in the outbox folder
    secrets: Secrets = Secrets()

    @property
    def database_url(self) -> str:
        """The store URL with a relative SQLite path made absolute."""
        return resolve_database_url(self.store.database_url, self.base_dir)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite store's file, or None (PostgreSQL, in-memory)."""
        return sqlite_file(self.database_url)

    @property
    def site_url(self) -> str:
        """The public URL of the output folder, ending in ``/``."""
        return self.output.site_url

    def url_for(self, path: str) -> str:
        """The public URL of ``path`` under the site (``feeds/all.xml``, ``unsubscribe/T``)."""
        return join_url(self.output.site_url, path)

    @property
    def where(self) -> str:
        """The config file for messages (``<defaults>`` when none)."""
        return str(self.path) if self.path else "<defaults>"

    @property
    def alert_recipients(self) -> tuple[str, ...]:
        """The operator addresses of ``[alerts] to`` (validated at load); empty: no alerts."""
        return tuple(a for a in self.alerts.to.split(",") if a)

    @property
    def output_dir(self) -> Path:
        """The output folder, absolute."""
        return self.base_dir / self.output.dir


_SECTIONS: Mapping[str, type[Any]] = {
    "store": StoreConfig,
    "output": OutputConfig,
    "ingest": IngestConfig,
    "http": HttpConfig,
    "email": EmailConfig,
    "web": WebConfig,
    "schedule": ScheduleConfig,
    "health": HealthConfig,
    "alerts": AlertsConfig,
}
_TYPES: Mapping[str, type[Any]] = {"str": str, "int": int, "float": float, "bool": bool}


def resolve_database_url(url: str, base_dir: Path) -> str:
    """Make a relative ``sqlite:///path`` absolute against ``base_dir``."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite://" and not url.startswith(prefix + "/"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:":
            return prefix + str((base_dir / rest).resolve())
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (None for other databases and in-memory SQLite)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.endswith(":memory:") or url == prefix:
        return None
    return Path(url.removeprefix(prefix).partition("?")[0])


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if not password:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return parts._replace(netloc=f"{name}:***@{host}").geturl()


def _coerce(value: Any, annotation: str, *, path: str, key: str) -> Any:
    if annotation == "Path":
        if not isinstance(value, str):
            raise ConfigError(f"expected a path string, got {value!r}", path=path, key=key)
        return Path(value)
    wanted = _TYPES[annotation]
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if wanted is int and isinstance(value, bool):
        raise ConfigError(f"expected an integer, got {value!r}", path=path, key=key)
    if not isinstance(value, wanted):
        raise ConfigError(f"expected {annotation}, got {value!r}", path=path, key=key)
    return value


def _section(cls: type[Any], table: Mapping[str, Any], *, path: str, name: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown key (known: {known})", path=path, key=f"{name}.{key}")
        annotation = str(fields[key].type)
        values[key] = _coerce(value, annotation, path=path, key=f"{name}.{key}")
    return cls(**values)


def _sources(items: Any, *, path: str) -> tuple[SourceConfig, ...]:
    if not isinstance(items, list):
        raise ConfigError("expected [[sources]] tables", path=path, key="sources")
    sources = []
    for index, item in enumerate(items):
        key = f"sources[{index}]"
        if not isinstance(item, dict):
            raise ConfigError("expected a table", path=path, key=key)
        unknown = set(item) - {"name", "kind", "path", "enabled"}
        if unknown:
            raise ConfigError(f"unknown keys {sorted(unknown)}", path=path, key=key)
        kind = item.get("kind")
        if kind not in SOURCE_KINDS:
            raise ConfigError(
                f"kind must be one of {SOURCE_KINDS}, got {kind!r}", path=path, key=key
            )
        name = item.get("name", kind)
        if kind == "files" and "path" not in item:
            raise ConfigError("a files source needs a path", path=path, key=key)
        folder = _coerce(item["path"], "Path", path=path, key=key) if "path" in item else None
        enabled = _coerce(item.get("enabled", True), "bool", path=path, key=f"{key}.enabled")
        sources.append(SourceConfig(name=str(name), kind=kind, path=folder, enabled=enabled))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"source names must be unique, got {names}", path=path, key="sources")
    return tuple(sources)


def _check_health(health: HealthConfig, *, where: str) -> HealthConfig:
    for f in dataclasses.fields(health):
        if getattr(health, f.name) < 1:
            raise ConfigError("expected a whole number of 1 or more", path=where,
                              key=f"health.{f.name}")  # fmt: skip
    return health


def _check_alerts(alerts: AlertsConfig, *, where: str) -> AlertsConfig:
    """``to`` normalised to ``a@x,b@y`` (addresses checked like subscribers', one-label domains
    allowed: ``root@localhost`` on a single host)."""
    found: list[str] = []
    for raw in alerts.to.split(","):
        if not raw.strip():
            continue
        try:
            address, _key = normalize_email(raw, local_domain_ok=True)
        except ConfigError as exc:
            raise ConfigError(str(exc), path=where, key="alerts.to") from None
        if address not in found:
            found.append(address)
    return dataclasses.replace(alerts, to=",".join(found))


def _check_values(sections: Mapping[str, Any], *, where: str) -> None:
    """Every value with a check in :data:`pipeline.config_checks.CHECKS` (issue 15.11)."""
    for key, check in CHECKS.items():
        section, name = key.split(".")
        problem = check(getattr(sections[section], name))
        if problem is not None:
            raise ConfigError(problem, path=where, key=key)


def check_files(cfg: Config) -> None:
    """The files a configuration names exist: the email templates folder and an SMTP CA file.

    Done by :func:`load_config` (the I/O edge), so a typo fails at start-up, not at the first
    digest.
    """
    if cfg.email.templates_dir:
        folder = cfg.base_dir / cfg.email.templates_dir
        missing = [n for n in TEMPLATE_NAMES if not (folder / n).is_file()]
        if missing:
            raise ConfigError(
                f"{folder} lacks {', '.join(missing)} (copy templates/email/ from paperboy)",
                path=cfg.where,
                key="email.templates_dir",
            )
    if cfg.smtp is not None and cfg.smtp.ca_file and not Path(cfg.smtp.ca_file).is_file():
        raise ConfigError(
            f"ca_file {cfg.smtp.ca_file} is not a file", path=cfg.where, key="email.smtp_url"
        )


def config_from_mapping(
    data: Mapping[str, Any],
    *,
    base_dir: Path,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Build a :class:`Config` from parsed TOML plus environment overrides. Pure."""
    where = str(path) if path else "<defaults>"
    tables: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        if name in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError("expected a table", path=where, key=name)
            tables[name] = dict(value)
        elif name not in ("sources", "topics_file"):
            known = ", ".join([*_SECTIONS, "sources", "topics_file"])
            raise ConfigError(f"unknown section (known: {known})", path=where, key=name)
    for variable, (section, key) in ENV_OVERRIDES.items():
        if env and env.get(variable):
            tables.setdefault(section, {})[key] = env[variable]
    sections = {
        name: _section(cls, tables.get(name, {}), path=where, name=name)
        for name, cls in _SECTIONS.items()
    }
    sources = _sources(data["sources"], path=where) if "sources" in data else Config.sources
    sources = tuple(
        dataclasses.replace(s, path=base_dir / s.path) if s.path is not None else s for s in sources
    )
    topics = data.get("topics_file")
    if topics is not None and not isinstance(topics, str):
        raise ConfigError("expected a path string", path=where, key="topics_file")
    secrets = Secrets.from_env(env or {})
    _check_ranges(sections, where=where)
    output: OutputConfig = sections.pop("output")
    output = dataclasses.replace(output, site_url=normalize_site_url(output.site_url, where=where))
    parse_networks(sections["web"].trusted_proxies, where=where)  # validated here, used by web/
    _check_values({**sections, "output": output}, where=where)
    for source in sources:
        problem = source_name_problem(source.name)
        if problem is not None:
            raise ConfigError(problem, path=where, key="sources")
    smtp_url = sections["email"].smtp_url.strip()
    try:
        smtp = parse_smtp_url(smtp_url, password=secrets.smtp_password) if smtp_url else None
    except ConfigError as exc:
        raise ConfigError(str(exc), path=where) from None
    sections["health"] = _check_health(sections["health"], where=where)
    sections["alerts"] = _check_alerts(sections["alerts"], where=where)
    return Config(
        base_dir=base_dir,
        path=path,
        sources=sources,
        topics_file=base_dir / topics if topics else None,
        output=output,
        smtp=smtp,
        secrets=secrets,
        **sections,
    )


# (section, key, lowest, highest): numbers whose meaning breaks outside a range.
_RANGES = (
    ("email", "settle_hours", 0, 168),
    ("email", "weekly_papers_per_topic", 1, 100),
)


def _check_ranges(sections: Mapping[str, Any], *, where: str) -> None:
    for section, key, low, high in _RANGES:
        value = getattr(sections[section], key)
        if not low <= value <= high:
            raise ConfigError(
                f"{value} is out of range: use {low} to {high}", path=where, key=f"{section}.{key}"
            )


def load_config(
    path: Path | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Config:
    """Load ``path`` (or ``$PAPERBOY_CONFIG``), else the embedded defaults rooted at ``cwd``."""
    env = os.environ if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is None:
        cfg = config_from_mapping({}, base_dir=(cwd or Path.cwd()).resolve(), env=env)
        check_files(cfg)
        return cfg
    data = read_toml(path, what="config file")
    cfg = config_from_mapping(data, base_dir=path.resolve().parent, path=path, env=env)
    check_files(cfg)
    return cfg


def read_toml(path: Path, *, what: str) -> dict[str, Any]:
    """A small TOML file (config, topics): a regular file of at most 1 MB, UTF-8."""
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{what} not found", path=str(path))
    try:
        raw = read_regular_file(path, max_bytes=TOML_MAX_BYTES)
        return tomllib.loads(raw.decode("utf-8"))
    except FileRefused as exc:
        raise ConfigError(f"cannot read {what}: {exc.detail}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {what}: not UTF-8 ({exc.reason})", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from exc


def describe_settings() -> list[tuple[str, object, str]]:
    """(section.key, default, help) for every setting, for docs and ``paperboy config``."""
    rows = []
    for name, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            rows.append((f"{name}.{f.name}", f.default, str(f.metadata.get("help", ""))))
    return rows
