"""Which publisher carries a reply: chosen by the channel a source's ``reply_via`` names.

``responders.delivery`` calls ``publisher_for(channel, settings)`` for every reply
in the outbox, and ``secrets_of(settings)`` for what to redact from errors.

Settings (``[publishing]``, secrets from the environment only):

- mastodon: ``mastodon_token`` (``VOXWATCH_PUBLISHING__MASTODON_TOKEN``) on
  ``mastodon_base_url``, which defaults to the instance of the Mastodon
  source(s) that reply via Mastodon (a token belongs to one instance);
- bluesky: ``bluesky_identifier`` / ``bluesky_app_password``
  (``VOXWATCH_PUBLISHING__BLUESKY_APP_PASSWORD``), defaulting to ``[bluesky]``'s
  account, on ``bluesky_service_url``, defaulting to the Bluesky source's URL;
- email: ``[notifications]``' SMTP server, from ``email_from`` (or the
  notifications' sender);
- webhook: ``webhook_url`` (``VOXWATCH_PUBLISHING__WEBHOOK_URL``);
- manual: nothing to configure.

A channel that is not configured raises ``PublishError`` naming the missing
setting and its environment variable: the outbox records it as a failed reply
with words a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable

from responders.publishing.base import Publisher
from responders.publishing.bluesky import BlueskyPublisher
from responders.publishing.email import EmailPublisher
from responders.publishing.manual import ManualPublisher
from responders.publishing.mastodon import MastodonPublisher
from responders.publishing.webhook import WebhookPublisher
from voxwatch.errors import PublishError
from voxwatch.settings import Settings, SourceSettings


def _env(key: str) -> str:
    return f"VOXWATCH_PUBLISHING__{key.upper()}"


def _source_url(channel: str, settings: Settings, source: SourceSettings | None) -> str | None:
    """The instance or service the replying sources read from, when they agree on one."""
    if source is not None and source.kind == channel:
        return source.url
    urls = {s.url.rstrip("/") for s in settings.sources if s.kind == channel and s.reply_via == channel}
    return urls.pop() if len(urls) == 1 else None


def _mastodon(settings: Settings, source: SourceSettings | None) -> Publisher:
    config = settings.publishing
    base_url = config.mastodon_base_url or _source_url("mastodon", settings, source)
    if config.mastodon_token is None:
        raise PublishError(f"replying on Mastodon needs an access token: set {_env('mastodon_token')}")
    if not base_url:
        raise PublishError("replying on Mastodon needs the instance: set [publishing] mastodon_base_url")
    return MastodonPublisher(
        base_url, config.mastodon_token, config.timeout_seconds, config.mastodon_visibility
    )


def _bluesky(settings: Settings, source: SourceSettings | None) -> Publisher:
    config = settings.publishing
    service = config.bluesky_service_url or _source_url("bluesky", settings, source)
    identifier = config.bluesky_identifier or settings.bluesky.identifier
    password = config.bluesky_app_password or settings.bluesky.app_password
    if not identifier or password is None:
        raise PublishError(
            "replying on Bluesky needs an account: set VOXWATCH_BLUESKY__IDENTIFIER and "
            f"VOXWATCH_BLUESKY__APP_PASSWORD (or {_env('bluesky_identifier')} and "
            f"{_env('bluesky_app_password')} for a separate one)"
        )
    if not service:
        raise PublishError("replying on Bluesky needs the service: set [publishing] bluesky_service_url")
    return BlueskyPublisher(service, identifier, password, config.timeout_seconds)


def _email(settings: Settings, source: SourceSettings | None) -> Publisher:
    smtp = settings.notifications
    if not smtp.smtp_host:
        raise PublishError("replying by email needs an SMTP server: set [notifications] smtp_host")
    return EmailPublisher(
        smtp.smtp_host,
        smtp.smtp_port,
        smtp.smtp_user,
        smtp.smtp_password,
        smtp.smtp_starttls,
        settings.publishing.email_from or smtp.email_from,
        settings.publishing.timeout_seconds,
    )


def _webhook(settings: Settings, source: SourceSettings | None) -> Publisher:
    config = settings.publishing
    if config.webhook_url is None:
        raise PublishError(f"replying through a webhook needs its URL: set {_env('webhook_url')}")
    return WebhookPublisher(config.webhook_url, config.timeout_seconds)


def _manual(settings: Settings, source: SourceSettings | None) -> Publisher:
    return ManualPublisher()


BUILDERS: dict[str, Callable[[Settings, SourceSettings | None], Publisher]] = {
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "email": _email,
    "webhook": _webhook,
    "manual": _manual,
}


def publisher_for(channel: str, settings: Settings, source: SourceSettings | None = None) -> Publisher:
    """The client for ``channel``, configured from settings; PublishError when it cannot be.

    ``source`` (the mention's source) settles which instance or service a native
    channel posts to when ``[publishing]`` does not say.
    """
    build = BUILDERS.get(channel)
    if build is None:
        raise PublishError(f"no publisher for channel {channel!r} (known: {', '.join(BUILDERS)})")
    return build(settings, source)


def publisher_for_source(source: SourceSettings, settings: Settings) -> Publisher:
    """The client that answers mentions from ``source``, by its ``reply_via``."""
    return publisher_for(source.reply_via, settings, source)


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """The publishing secrets in settings (tokens, passwords, secret URLs), for redaction."""
    config = settings.publishing
    values = (
        config.mastodon_token,
        config.bluesky_app_password,
        config.webhook_url,
        settings.bluesky.app_password,
        settings.notifications.smtp_password,
    )
    return tuple(v.get_secret_value() for v in values if v is not None and v.get_secret_value())
