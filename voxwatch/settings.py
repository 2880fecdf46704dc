"""All settings in one place: one TOML file, environment overrides, validated.

The file holds what a team edits (sources, brand keywords, responders, routing
rules, SLA); environment variables named ``VOXWATCH_<SECTION>__<KEY>`` override it
(``VOXWATCH_STORE__PATH=/data/vw.duckdb``) and are the only place secrets may come
from. A bad file raises ``SettingsError`` naming the file, the key and the problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from voxwatch.domain import Tier
from voxwatch.errors import SettingsError
from voxwatch.permissions import Action, Role, may

CONFIG_ENV = "VOXWATCH_CONFIG"
STORE_PASSWORD_ENV = "VOXWATCH_STORE__PASSWORD"
SECRET_KEYS = (
    "notifications.smtp_password",
    "notifications.webhook_url",
    "bluesky.app_password",
    "publishing.mastodon_token",
    "publishing.bluesky_app_password",
    "publishing.webhook_url",
    "dashboard.secret_key",
    "store.password",
)
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SourceKind = Literal["rss", "jsonld", "hackernews", "mastodon", "appstore", "bluesky"]
NEEDS_QUERY = {"mastodon": "the hashtag to follow", "bluesky": "the search terms"}
# How approved replies leave; "manual": a person posts them and pastes the link.
ReplyChannel = Literal["mastodon", "bluesky", "email", "webhook", "manual"]
# Channels that answer on the platform itself, so only a source of that kind may use them.
NATIVE_CHANNELS = ("mastodon", "bluesky")


def public_url(url: str) -> str:
    """``url`` as messages may show it: any password in it replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrandSettings(_Section):
    name: str
    keywords: list[str] = Field(default_factory=list)


class StoreSettings(_Section):
    """Where the data lives: a DuckDB file (one machine, the default) or a PostgreSQL server (a team).

    ``url`` (``postgresql://user@host:5432/dbname``) switches every stage, the
    dashboard and the command line to Postgres; its password is a secret and comes
    from the environment as ``VOXWATCH_STORE__PASSWORD`` (or libpq's ``PGPASSWORD``).
    """

    path: Path = Path("voxwatch.duckdb")
    url: str | None = None
    password: SecretStr | None = None
    # Connections each process keeps to the server: enough for its threads (sources side by side).
    pool_size: int = Field(default=4, ge=1, le=100)
    lock_timeout_seconds: float = Field(default=30.0, gt=0)
    # Mentions per write transaction: small enough that a person's action never waits long.
    write_chunk: int = Field(default=100, ge=1, le=10_000)
    # Raw responses are kept this long for replay and audit, then purged by the pipeline.
    raw_retention_days: int = Field(default=30, ge=1)

    @classmethod
    def for_url(cls, url: str) -> StoreSettings:
        """The store at ``url``, its password from the environment as for ``[store] url``."""
        password = os.environ.get(STORE_PASSWORD_ENV)
        try:
            return cls(url=url, password=SecretStr(password) if password else None)
        except ValidationError as exc:
            problems = "; ".join(str(item["msg"]) for item in exc.errors())
            raise SettingsError(f"store URL {public_url(url)!r}: {problems}") from None

    @property
    def location(self) -> str:
        """Where the data is, for messages: the server's URL (never with a password) or the file."""
        return self.url or str(self.path)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL (leave it out to use the DuckDB file at path)")
        if parts.password is not None:
            raise ValueError(
                "holds a password; leave it out of the URL and set VOXWATCH_STORE__PASSWORD"
                " in the environment"
            )
        return url


class ComputeSettings(_Section):
    """Where scoring runs: in the flow's own process (the default), or fanned out to a Dask cluster.

    With ``dask_address`` (``tcp://scheduler:8786``), the score flow sends batches of
    ``dask_batch`` mentions to the cluster's workers (``pip install 'voxwatch[dask]'``);
    each worker loads the model once and keeps it.
    """

    dask_address: str | None = None
    dask_batch: int = Field(default=256, ge=1, le=10_000)


class CollectSettings(_Section):
    """How the collect stage treats sources: together, within limits, and what counts as a repeat."""

    concurrency: int = Field(default=4, ge=1, le=32)  # sources fetched at once
    fetch_deadline_seconds: float = Field(default=60.0, gt=0)  # one page, retries included
    max_pages_per_run: int = Field(default=20, ge=1)  # a longer walk continues next run
    # The same author posting the same words within this window is one complaint.
    duplicate_window_hours: float = Field(default=72.0, gt=0)
    # A Retry-After up to this long is waited out inside the run; a longer one, across runs.
    max_wait_in_run_seconds: float = Field(default=10.0, ge=0)


class ModelSettings(_Section):
    """Which sentiment model scores mentions.

    ``name`` is ``default`` (shipped, offline), a local directory, or a hub id
    (needs network). ``label_map`` maps a foreign model's labels onto
    negative / neutral / positive.
    """

    name: str = "default"
    batch_size: int = Field(default=32, ge=1, le=1024)
    label_map: dict[str, Literal["negative", "neutral", "positive"]] = Field(default_factory=dict)
    backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto", description="auto: ONNX Runtime when the model offers it, else torch"
    )
    threads: int | None = Field(default=None, ge=1, le=256, description="CPU threads for scoring")
    onnx_cache: Path | None = Field(default=None, description="where exported ONNX files are kept")


class BusinessHours(_Section):
    """When the team works; SLA clocks only run inside these hours when configured.

    Each working day (a weekday listed in ``weekdays`` that is not in ``holidays``)
    has one working span that opens at ``start`` on that day, local time in
    ``timezone``, and closes at ``end``:

    - ``end`` after ``start``: the same day (9:00 to 18:00).
    - ``end`` before ``start``: the next day, an overnight shift (22:00 to 06:00). The
      span belongs to the day it starts on, so a holiday on Friday cancels the shift
      from Friday 22:00 to Saturday 06:00, and weekday 4 (Friday) is what turns it on.
    - ``end`` equal to ``start``: a whole 24-hour day. ``start = "00:00"`` with
      ``end = "24:00"`` (or ``"00:00"``) and all seven weekdays is a 24/7 team; "24:00"
      is accepted as the midnight that ends the day.

    The clock counts real elapsed time: spans are placed on the local calendar and
    measured in UTC, so a day on which the clocks change is 23 or 25 hours long.
    A ``start`` or ``end`` that does not exist on a spring-forward day, or happens
    twice on a fall-back day, is read as Python's ``zoneinfo`` reads it with
    ``fold=0`` (PEP 495): the earlier of two, and a missing time with the offset
    from before the change.
    """

    timezone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday")
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("end", mode="before")
    @classmethod
    def _midnight_ends_the_day(cls, value: Any) -> Any:
        """Read the text "24:00", how people write the end of a day, as 00:00; ``time`` has no 24:00."""
        if isinstance(value, str) and value.strip() in {"24:00", "24:00:00"}:
            return time(0, 0)
        return value

    @model_validator(mode="after")
    def _order(self) -> BusinessHours:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("start and end are local times in `timezone`; give them without an offset")
        if not self.weekdays or any(d not in range(7) for d in self.weekdays):
            raise ValueError("weekdays must be numbers 0 (Monday) to 6 (Sunday)")
        return self

    @property
    def overnight(self) -> bool:
        """Whether a working span closes on the day after it opens (including a 24-hour day)."""
        return self.end <= self.start


class SlaSettings(_Section):
    """Service-level targets (DOMAIN.md): urgent 2 h, normal 24 h, resolved in 48 h.

    Without ``business_hours`` the clock runs around the clock.
    """

    urgent_first_response_hours: float = Field(default=2, gt=0)
    normal_first_response_hours: float = Field(default=24, gt=0)
    resolution_hours: float = Field(default=48, gt=0)
    # After a reply is posted, the author's next mention on the same source within this many
    # hours (real time) is their answer: linked to the case, it reopens or closes it.
    follow_up_window_hours: float = Field(default=72, gt=0)
    business_hours: BusinessHours | None = None


class TriageSettings(_Section):
    """Knobs for the priority signals that are not phrases (those live in responders/signals.py)."""

    strong_negative: float = Field(default=0.85, gt=0, lt=1)
    vip_authors: list[str] = Field(default_factory=list, description="author handles of high-value customers")
    high_reach_followers: int = Field(default=10_000, ge=0)


class DashboardSettings(_Section):
    """How the dashboard is served and how long a sign-in lasts.

    ``secret_key`` signs the session cookie: environment only
    (``VOXWATCH_DASHBOARD__SECRET_KEY``); without it one is generated once and kept
    in the store, so every dashboard process on that store accepts the same cookies.
    """

    session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    # Failed sign-ins allowed per account and per client address before a lockout.
    sign_in_attempts: int = Field(default=5, ge=1, le=100)
    sign_in_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Where Streamlit listens: loopback unless a reverse proxy on another host needs more.
    address: str = "127.0.0.1"
    secret_key: SecretStr | None = Field(default=None, min_length=32)


class LibrarySettings(_Section):
    """Files that add to the shipped template library and linter rules."""

    templates: Path | None = None
    lint_rules: Path | None = None
    themes: Path | None = None  # replaces the shipped theme definition


class NotificationSettings(_Section):
    """Where alerts go. The webhook URL and SMTP password are secrets: environment only."""

    webhook_url: SecretStr | None = None  # it carries the channel's token
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    email_from: str = "voxwatch@localhost"
    retries: int = Field(default=3, ge=1, le=10)
    timeout_seconds: float = Field(default=10, gt=0)


class BlueskySettings(_Section):
    """The Bluesky account that searches (searchPosts needs a login). Environment only."""

    identifier: str | None = None
    app_password: SecretStr | None = None


class PublishingSettings(_Section):
    """How approved replies reach the platforms (``responders.publishing``).

    Each source picks its channel with ``reply_via``. Unset URLs default to the
    source's own (its Mastodon instance, its Bluesky service); the Bluesky account
    defaults to ``[bluesky]``'s, email goes through ``[notifications]``' SMTP server.
    The Mastodon token, the Bluesky app password and the webhook URL are secrets:
    environment only (``VOXWATCH_PUBLISHING__MASTODON_TOKEN`` and so on).
    """

    timeout_seconds: float = Field(default=15, gt=0)
    mastodon_base_url: str | None = None
    mastodon_token: SecretStr | None = None
    mastodon_visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    bluesky_service_url: str | None = None
    bluesky_identifier: str | None = None
    bluesky_app_password: SecretStr | None = None
    email_from: str | None = None  # default: [notifications] email_from
    webhook_url: SecretStr | None = None  # it carries the relay's token

    @field_validator("mastodon_base_url", "bluesky_service_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class SourceSettings(_Section):
    name: str
    kind: SourceKind
    url: str
    query: str | None = None
    interval_minutes: int = Field(default=15, ge=1)
    enabled: bool = True
    # For broad searches and feeds: a mention that names none of the brand keywords is off-topic.
    require_brand_keyword: bool = False
    # Pace per host (Reddit's feeds allow about 10 requests a minute: use 6).
    min_request_interval_seconds: float = Field(default=1.0, ge=0)
    reply_via: ReplyChannel = "manual"

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' only")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _query_when_needed(self) -> SourceSettings:
        if self.kind in NEEDS_QUERY and not (self.query or "").strip("# "):
            raise ValueError(f"a {self.kind} source needs query = {NEEDS_QUERY[self.kind]}")
        return self

    @model_validator(mode="after")
    def _reply_where_it_came_from(self) -> SourceSettings:
        """A Mastodon reply answers a Mastodon status: the channel must match the source."""
        if self.reply_via in NATIVE_CHANNELS and self.reply_via != self.kind:
            raise ValueError(
                f"reply_via = {self.reply_via!r} answers {self.reply_via} posts; a {self.kind} source "
                "can reply via email, webhook or manual"
            )
        return self


def _default_roles() -> list[Role]:
    return [Role.RESPONDER]


class ResponderSettings(_Section):
    """A person on the team; what each role may do is ``voxwatch.permissions``' table."""

    name: str
    display_name: str
    team: str
    roles: list[Role] = Field(default_factory=_default_roles)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    capacity: int = Field(default=20, ge=0)
    email: str | None = None
    shift: BusinessHours | None = None  # when set, only routed to while on shift
    # For dashboard sign-in: a hash from `voxwatch users hash-password`, never the password.
    password_hash: str | None = None
    # The dashboard's language for this person (voxwatch.i18n.LANGUAGES); the sidebar switches it.
    interface_language: Literal["en", "zh"] = "en"


class RoutingRule(_Section):
    """First matching rule wins; an empty condition list matches anything."""

    name: str
    team: str
    sources: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)


class SpikeSettings(_Section):
    """The spike rule: negative mentions in the last 24 h above the 7-day mean + k sigma.

    ``min_mentions`` keeps a quiet brand from "spiking" on two complaints.
    """

    k: float = Field(default=3.0, gt=0, le=10)
    min_mentions: int = Field(default=5, ge=1)
    examples: int = Field(default=3, ge=0, le=10)


class RoutingSettings(_Section):
    default_team: str
    negative_threshold: float = Field(default=0.5, gt=0, lt=1)
    rules: list[RoutingRule] = Field(default_factory=list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOXWATCH_", env_nested_delimiter="__", extra="forbid")

    brand: BrandSettings
    store: StoreSettings = Field(default_factory=StoreSettings)
    collect: CollectSettings = Field(default_factory=CollectSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    sources: list[SourceSettings] = Field(default_factory=list)
    responders: list[ResponderSettings] = Field(default_factory=list)
    routing: RoutingSettings
    triage: TriageSettings = Field(default_factory=TriageSettings)
    spikes: SpikeSettings = Field(default_factory=SpikeSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    bluesky: BlueskySettings = Field(default_factory=BlueskySettings)
    publishing: PublishingSettings = Field(default_factory=PublishingSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init values; the environment wins over it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: duplicate name(s) {', '.join(dupes)}")
        teams = {r.team for r in self.responders}
        wanted = [("routing.default_team", self.routing.default_team)] + [
            (f"routing.rules[{r.name}].team", r.team) for r in self.routing.rules
        ]
        for key, team in wanted:
            if team not in teams:
                known = ", ".join(sorted(teams)) or "none defined"
                raise ValueError(f"{key}: team {team!r} has no responders (teams: {known})")
        return self

    def people_who_may(self, action: Action) -> list[ResponderSettings]:
        """Everyone whose roles allow ``action`` (voxwatch.permissions), in settings order."""
        return [p for p in self.responders if may(p.roles, action)]

    def person(self, name: str) -> ResponderSettings:
        for person in self.responders:
            if person.name == name:
                return person
        raise SettingsError(f"no responder named {name!r} in settings")

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        raise SettingsError(f"no source named {name!r} in settings")


def _format_errors(path: Path, error: ValidationError) -> str:
    lines = [f"invalid settings in {path}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read, validate and return the settings.

    ``path`` defaults to ``$VOXWATCH_CONFIG`` then ``./voxwatch.toml``. A relative
    store path is taken relative to the settings file, so a config and its
    database travel together.
    """
    path = Path(path or os.environ.get(CONFIG_ENV) or "voxwatch.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    for key in SECRET_KEYS:
        section, name = key.split(".")
        if name in data.get(section, {}):
            env = f"VOXWATCH_{section.upper()}__{name.upper()}"
            raise SettingsError(
                f"{path}: {key} is a secret; set it in the environment as {env}, not in the file"
            )
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise SettingsError(_format_errors(path, exc)) from None
    if not settings.store.path.is_absolute():
        settings.store.path = (path.parent / settings.store.path).resolve()
    for field_name in ("templates", "lint_rules", "themes"):
        value = getattr(settings.library, field_name)
        if value is not None and not value.is_absolute():
            setattr(settings.library, field_name, (path.parent / value).resolve())
    return settings
