"""Fake platforms that speak the real APIs' shapes, on real sockets, for publisher and outbox tests.

Fixtures (registered for every test by ``pytest_plugins`` in tests/conftest.py):

- ``fake_mastodon``: ``FakeMastodon``, an instance with our account; its
  ``base_url`` and ``token`` make a ``MastodonPublisher``; ``add_remote_status(uri)``
  adds a post to answer; ``our_statuses()`` shows what was posted.
- ``fake_bluesky``: ``FakeBluesky``, a PDS; ``base_url``, ``handle``, ``password``
  make a ``BlueskyPublisher``; ``add_post(handle, text)`` returns an at:// URI
  to answer; ``our_posts()``; ``taken_key_answer``; ``expire_tokens()``.
- ``fake_relay``: ``FakeRelay``, a webhook relay at the secret ``url``; ``deliveries``.
- ``fake_smtp``: ``FakeSmtp`` on ``port``, no TLS; ``received``; ``fail_at``.

``wired(settings, mastodon=..., bluesky=..., relay=..., smtp=...)`` returns a copy
of ``settings`` whose ``[publishing]`` (and ``[notifications]``' SMTP server) point
at the given fakes, so ``responders.publishing.factory.publisher_for`` builds
clients that talk to them.

Every HTTP fake takes faults: ``fake.fail(429, {"error": ...}, {"Retry-After": "30"},
method="POST", path="/api/v1/statuses")``, a ``delay`` past the client's timeout,
and ``after=True`` to carry the request out and lose the answer. ``fake.seen()``
lists the requests received.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.server import FakeApi, Fault, Seen, serve
from tests.fakes.smtp_server import FakeSmtp, Received
from tests.fakes.webhook_server import FakeRelay
from voxwatch.settings import Settings

__all__ = [
    "FakeApi",
    "FakeBluesky",
    "FakeMastodon",
    "FakeRelay",
    "FakeSmtp",
    "Fault",
    "Received",
    "Seen",
    "serve",
    "wired",
]


def wired(
    settings: Settings,
    *,
    mastodon: FakeMastodon | None = None,
    bluesky: FakeBluesky | None = None,
    relay: FakeRelay | None = None,
    smtp: FakeSmtp | None = None,
    timeout: float = 5.0,
) -> Settings:
    """``settings`` with its publishing channels pointed at these fakes (the rest unchanged)."""
    publishing: dict[str, object] = {"timeout_seconds": timeout}
    if mastodon is not None:
        publishing |= {"mastodon_base_url": mastodon.base_url, "mastodon_token": SecretStr(mastodon.token)}
    if bluesky is not None:
        publishing |= {
            "bluesky_service_url": bluesky.base_url,
            "bluesky_identifier": bluesky.handle,
            "bluesky_app_password": SecretStr(bluesky.password),
        }
    if relay is not None:
        publishing["webhook_url"] = SecretStr(relay.url)
    update: dict[str, object] = {"publishing": settings.publishing.model_copy(update=publishing)}
    if smtp is not None:
        smtp_settings = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
        if smtp.user:
            smtp_settings |= {"smtp_user": smtp.user, "smtp_password": SecretStr(smtp.password or "")}
        update["notifications"] = settings.notifications.model_copy(update=smtp_settings)
    return settings.model_copy(update=update)


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    with serve(fake):
        yield fake


@pytest.fixture
def fake_bluesky() -> Iterator[FakeBluesky]:
    fake = FakeBluesky()
    with serve(fake):
        yield fake


@pytest.fixture
def fake_relay() -> Iterator[FakeRelay]:
    fake = FakeRelay()
    with serve(fake):
        yield fake


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    fake = FakeSmtp()
    controller = fake.controller()
    controller.start()
    try:
        yield fake
    finally:
        controller.stop()
