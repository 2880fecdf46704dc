"""``voxwatch demo``: serve the sample week and point a settings file at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from voxwatch.demo.mastodon import DEMO_MASTODON_TOKEN
from voxwatch.demo.server import DEMO_BLUESKY_ACCOUNT, DemoServer

IDENTIFIER_ENV = "VOXWATCH_BLUESKY__IDENTIFIER"
PASSWORD_ENV = "VOXWATCH_BLUESKY__APP_PASSWORD"
MASTODON_TOKEN_ENV = "VOXWATCH_PUBLISHING__MASTODON_TOKEN"


def write_demo_settings(data_dir: Path, server_url: str) -> Path:
    """Write the demo's settings file, pointing its sources at ``server_url``."""
    template = resources.files("voxwatch.demo").joinpath("voxwatch.toml").read_text(encoding="utf-8")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "voxwatch.toml"
    path.write_text(template.replace("{server}", server_url), encoding="utf-8")
    return path


@contextmanager
def demo_sources(data_dir: Path, port: int = 0) -> Iterator[Path]:
    """Serve the sample sources for as long as the block runs; yield the settings path.

    The demo's Bluesky account and Mastodon token are put in the environment for
    the block, as a real user's secrets would be, and taken out again afterwards.
    """
    identifier, password = DEMO_BLUESKY_ACCOUNT
    saved = {key: os.environ.get(key) for key in (IDENTIFIER_ENV, PASSWORD_ENV, MASTODON_TOKEN_ENV)}
    os.environ[IDENTIFIER_ENV], os.environ[PASSWORD_ENV] = identifier, password
    os.environ[MASTODON_TOKEN_ENV] = DEMO_MASTODON_TOKEN
    try:
        with DemoServer(port) as server:
            yield write_demo_settings(data_dir, server.base_url)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
