"""The shape every source module has.

A source is two functions, like an httpx transport is one:

* ``build_request(source, state) -> FetchRequest``: what to ask for next, from the
  settings and the saved cursor;
* ``parse(raw) -> ParsedPage``: pure; turns one saved response into mentions and
  the cursor to save once they are stored;
* optionally ``auth_headers(source, settings, client) -> headers``, for a source
  that needs a login with credentials from the environment.

Fetching is shared (``flows.http``), so any saved ``RawResponse`` can be replayed
through ``parse`` with no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["FetchRequest", "ParsedPage", "RawResponse", "SourceModule"]

from voxwatch.domain import Mention, RawResponse
from voxwatch.settings import SourceSettings
from voxwatch.store.queries import SourceState


@dataclass(frozen=True)
class FetchRequest:
    url: str
    params: dict[str, str] = field(default_factory=dict)
    expect: str = "any"  # "json", "xml", "html" or "any": what a healthy answer looks like
    min_interval: float | None = None  # seconds between requests to this host (None: default)


@dataclass(frozen=True)
class ParsedPage:
    mentions: list[Mention]
    next_cursor: str | None = None


class SourceModule(Protocol):
    build_request: Callable[[SourceSettings, SourceState], FetchRequest]
    parse: Callable[[RawResponse], ParsedPage]
